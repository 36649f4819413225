//! The `email` way in: a work address from the allowed domains gets a
//! 6-digit code and a link; the code (or the link) creates the participant
//! of that address, or signs in as it when it has one. The address is used
//! for its keyed hash and the message, then dropped; answers never say
//! whether it had signed up before.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::conversation;
use super::participation::SignedUpBody;
use crate::domain::{Conversation, ConversationState, Invalid, Millis, WayIn, WorkEmail};
use crate::http::auth::{start_participant_session, Caller};
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::rate::check;
use crate::http::AppState;
use crate::identity::secrets::{EmailCode, ReturnPhrase};
use crate::mail::SignInMessage;
use crate::store::write::{self, EmailVerified, NewParticipant};

/// How long an emailed code works.
pub const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    address: String,
}

/// `202`: the same answer whether or not the address had signed up.
#[derive(Debug, Serialize, Deserialize)]
pub struct CodeSent {
    /// This request's attempt: verify with it and the code instead of the
    /// address (the link in the message carries both).
    pub attempt: Uuid,
    pub expires_at: Millis,
    pub detail: String,
}

/// Refuses email sign-in where the conversation does not take it, or the
/// server cannot send mail, or the conversation has closed.
fn email_way_open(state: &AppState, conversation: &Conversation) -> Result<(), ApiError> {
    if conversation.state(Millis::now()) == ConversationState::Closed {
        return Err(ApiError::NotOpen(ConversationState::Closed));
    }
    if !conversation.ways_in.allows(WayIn::Email) {
        return Err(
            Invalid::field("address", "this conversation does not take part by email").into(),
        );
    }
    if state.mailer.is_none() {
        return Err(ApiError::Unavailable(
            "this server cannot send email at the moment; ask the organisers for another way in"
                .into(),
        ));
    }
    Ok(())
}

/// The address as typed, if it is an address the conversation takes.
fn allowed_address(conversation: &Conversation, typed: &str) -> Result<WorkEmail, ApiError> {
    let email = WorkEmail::parse(typed)?;
    if !email.allowed_by(&conversation.email_domains) {
        let domains: Vec<String> = conversation
            .email_domains
            .iter()
            .map(|d| d.to_string())
            .collect();
        return Err(Invalid::field(
            "address",
            format!(
                "addresses at {} cannot take part in this conversation; use a work address at {}",
                email.domain(),
                domains.join(", ")
            ),
        )
        .into());
    }
    Ok(email)
}

fn check_sign_in_rate(
    state: &AppState,
    caller: &Caller,
    conversation: &Conversation,
) -> Result<(), ApiError> {
    check(&state.limits.sign_in_ip, &caller.ip, "sign_in_ip")?;
    check(
        &state.limits.sign_in_conversation,
        &conversation.id,
        "sign_in_conversation",
    )
}

pub async fn request_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    email_way_open(&state, &conversation)?;
    let email = allowed_address(&conversation, &body.address)?;
    check_sign_in_rate(&state, &caller, &conversation)?;
    let mailer = state.mailer.clone().expect("checked by email_way_open");
    let identity_hash = state.identity.address_hash(conversation.id, &email);
    mailer
        .admit(&identity_hash)
        .map_err(ApiError::RateLimited)?;
    let attempt = Uuid::new_v4();
    let code = EmailCode::generate();
    let expires_at = Millis(Millis::now().0 + CODE_LIFETIME_MS);
    state
        .store
        .write(write::RequestEmailCode {
            conversation_id: conversation.id,
            attempt_id: attempt,
            identity_hash,
            code_hash: state.identity.email_code_hash(attempt, &code),
            expires_at,
        })
        .await?;
    // Sent in the background: the answer does not wait for the mail
    // server, so neither its speed nor its verdict shows in the answer.
    let link = format!(
        "{}/c/{}#signin={}.{}",
        mailer.base_url,
        conversation.slug,
        attempt.simple(),
        code.digits()
    );
    tokio::spawn(async move {
        let message = SignInMessage {
            to: &email,
            code: &code,
            title: &conversation.title,
            link,
        };
        if let Err(error) = mailer.send(message).await {
            tracing::warn!(conversation = %conversation.slug, %error, "a sign-in message was not sent");
        }
    });
    let body = CodeSent {
        attempt,
        expires_at,
        detail:
            "If this address can take part, we have sent a code to it. It works for 15 minutes."
                .into(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeCheck {
    /// The address the code was sent to, or...
    #[serde(default)]
    address: Option<String>,
    /// ...the attempt from the answer or the link.
    #[serde(default)]
    attempt: Option<Uuid>,
    code: String,
    #[serde(default)]
    profile: BTreeMap<String, String>,
}

pub async fn verify_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CodeCheck>,
) -> Result<Response, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    email_way_open(&state, &conversation)?;
    let code = EmailCode::parse(&body.code)?;
    conversation.check_signup(WayIn::Email, None, &body.profile)?;
    check_sign_in_rate(&state, &caller, &conversation)?;
    let attempt = match (body.attempt, &body.address) {
        (Some(attempt), _) => Some(attempt),
        (None, Some(address)) => {
            let email = allowed_address(&conversation, address)?;
            let hash = state.identity.address_hash(conversation.id, &email);
            state
                .store
                .email_code_attempt(conversation.id, &hash)
                .await?
        }
        (None, None) => {
            return Err(Invalid::field("address", "send the address the code was sent to").into())
        }
    };
    let Some(attempt) = attempt else {
        return Err(refused(&EmailVerified::Unknown));
    };
    let phrase = ReturnPhrase::generate();
    let outcome = state
        .commit(write::VerifyEmailCode {
            conversation_id: conversation.id,
            attempt_id: attempt,
            code_hash: state.identity.email_code_hash(attempt, &code),
            new_participant: NewParticipant {
                profile: body.profile,
                way_in: WayIn::Email,
                identity_hash: None,
                return_phrase_hash: state.identity.phrase_hash(conversation.id, &phrase),
            },
        })
        .await?
        .answer;
    let EmailVerified::Participant {
        participant,
        created,
    } = outcome
    else {
        return Err(refused(&outcome));
    };
    let cookie = start_participant_session(&state, &conversation, participant.id).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = SignedUpBody {
        participant,
        return_phrase: created.then(|| phrase.reveal().to_string()),
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Why a code did not sign anyone in, in the words of the form.
fn refused(outcome: &EmailVerified) -> ApiError {
    let message = match outcome {
        EmailVerified::Wrong { tries_left: 0 } => {
            "this code is not right, and that was the last try: ask for a new code".to_string()
        }
        EmailVerified::Wrong { tries_left: 1 } => {
            "this code is not right: 1 try left".to_string()
        }
        EmailVerified::Wrong { tries_left } => {
            format!("this code is not right: {tries_left} tries left")
        }
        EmailVerified::Locked => {
            "too many wrong codes: this code no longer works; ask for a new one".to_string()
        }
        EmailVerified::Expired => {
            "this code has expired (codes work for 15 minutes): ask for a new one".to_string()
        }
        EmailVerified::Unknown | EmailVerified::Participant { .. } => {
            "no code is waiting for this sign-in (it was used, or a newer one was sent): ask for a new one"
                .to_string()
        }
    };
    Invalid::field("code", message).into()
}
