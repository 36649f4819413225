//! What participants do: sign up, vote, comment, reply, up-vote, flag and
//! suggest ideas. Each write carries a client UUID so retries are harmless.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{conversation, path_uuid};
use crate::domain::text::{clean, COMMENT_MAX, FLAG_REASON_MAX, IDEA_BODY_MAX, IDEA_TITLE_MAX};
use crate::domain::{
    Choice, Comment, ConversationState, Item, Millis, Participant, TallyView, WayIn,
};
use crate::http::auth::{start_participant_session, Caller};
use crate::http::error::ApiError;
use crate::http::json::{ApiJson, ApiJsonOrEmpty};
use crate::http::rate::check;
use crate::http::AppState;
use crate::identity::secrets::{InviteCode, ReturnPhrase};
use crate::store::write::{self, Flagged, NewParticipant, UpVoted};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    #[serde(default)]
    access_code: Option<String>,
    #[serde(default)]
    invite_code: Option<String>,
    #[serde(default)]
    profile: BTreeMap<String, String>,
}

/// `{"participant": ...}`: who the caller is in this conversation.
#[derive(Debug, Serialize, Deserialize)]
pub struct ParticipantBody {
    pub participant: Participant,
}

/// A sign-up's answer: the participant and, when it is new, its return
/// phrase, shown this once.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedUpBody {
    pub participant: Participant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_phrase: Option<String>,
}

pub async fn sign_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<SignUp>,
) -> Result<Response, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    if conversation.state(Millis::now()) == ConversationState::Closed {
        return Err(ApiError::NotOpen(ConversationState::Closed));
    }
    // A browser already signed in to this conversation gets its
    // participant back rather than a second one.
    if let Some(session) = caller.participant_session(&state, &conversation).await? {
        let participant = session.participant;
        return Ok((StatusCode::OK, Json(ParticipantBody { participant })).into_response());
    }
    check(&state.limits.signup, &caller.ip, "signup")?;
    // The way in is what the body carries: an invite code, an access code,
    // or nothing (the open link).
    let typed = |field: &Option<String>| {
        field
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let (access_code, invite_code) = (typed(&body.access_code), typed(&body.invite_code));
    let way = if invite_code.is_some() {
        WayIn::Invite
    } else if access_code.is_some() {
        WayIn::Code
    } else {
        WayIn::Open
    };
    conversation.check_signup(way, access_code.as_deref(), &body.profile)?;
    let invite_hash = match &invite_code {
        Some(code) => {
            let code = InviteCode::parse(code)?;
            Some(state.identity.invite_hash(conversation.id, &code))
        }
        None => None,
    };
    let phrase = ReturnPhrase::generate();
    let signed = state
        .commit(write::SignUp {
            conversation_id: conversation.id,
            new: NewParticipant {
                profile: body.profile,
                way_in: way,
                identity_hash: None,
                return_phrase_hash: state.identity.phrase_hash(conversation.id, &phrase),
            },
            invite_hash,
        })
        .await?
        .answer;
    let cookie = start_participant_session(&state, &conversation, signed.participant.id).await?;
    let body = SignedUpBody {
        participant: signed.participant,
        return_phrase: signed.created.then(|| phrase.reveal().to_string()),
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    request_id: Uuid,
    /// Required: `null` withdraws, and must be said (a missing field is a
    /// mistake, not a withdrawal).
    #[serde(default, deserialize_with = "present")]
    choice: Option<Option<Choice>>,
}

/// Tells a field sent as `null` (`Some(None)`) from a missing one (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

pub async fn vote(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<VoteBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let item_id = path_uuid("item", &item)?;
    let choice = body.choice.ok_or_else(|| {
        ApiError::Malformed(
            "choice: missing field; send \"strong\", \"wrong\", or null to withdraw".into(),
        )
    })?;
    check(&state.limits.vote, &participant.id, "vote")?;
    let command = write::CastVote {
        conversation_id: conversation.id,
        item_id,
        participant_id: participant.id,
        request_id: body.request_id,
        choice,
    };
    let voted = state.commit_open(&conversation, command).await?.answer;
    let mut body = serde_json::to_value(voted).expect("answers serialise");
    // The participant's own vote reveals the pledge's tally under
    // "after_voting"; "after_close" keeps it until the conversation closes.
    if conversation.participant_tallies(Millis::now()) == TallyView::None {
        super::conversations::hide_counts(&mut body["tally"]);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentVoteBody {
    request_id: Uuid,
    up: bool,
}

pub async fn comment_vote(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(body): ApiJson<CommentVoteBody>,
) -> Result<Json<UpVoted>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let comment_id = path_uuid("comment", &comment)?;
    check(&state.limits.vote, &participant.id, "comment_vote")?;
    let command = write::UpVote {
        conversation_id: conversation.id,
        comment_id,
        participant_id: participant.id,
        request_id: body.request_id,
        up: body.up,
    };
    Ok(Json(
        state.commit_open(&conversation, command).await?.answer,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    id: Uuid,
    body: String,
    #[serde(default)]
    parent_id: Option<Uuid>,
}

/// `{"comment": {...}}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommentBody {
    pub comment: Comment,
}

pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(new): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<CommentBody>), ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let item_id = path_uuid("item", &item)?;
    let body = clean("body", &new.body, 1, COMMENT_MAX)?;
    check(&state.limits.comment, &participant.id, "comment")?;
    let command = write::PostComment {
        conversation_id: conversation.id,
        item_id,
        comment_id: new.id,
        parent_id: new.parent_id,
        participant_id: participant.id,
        status: conversation.comment_status(&body),
        body,
    };
    let comment = state.commit_open(&conversation, command).await?.answer;
    let body = CommentBody {
        comment: comment.public(),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFlag {
    id: Uuid,
    reason: String,
}

pub async fn flag(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(new): ApiJson<NewFlag>,
) -> Result<(StatusCode, Json<Flagged>), ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let reason = clean("reason", &new.reason, 1, FLAG_REASON_MAX)?;
    check(&state.limits.flag, &participant.id, "flag")?;
    let flagged = state
        .commit(write::FlagComment {
            conversation_id: conversation.id,
            comment_id,
            flag_id: new.id,
            participant_id: participant.id,
            reason,
        })
        .await?
        .answer;
    Ok((StatusCode::CREATED, Json(flagged)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIdea {
    id: Uuid,
    title: String,
    #[serde(default)]
    body: String,
}

/// `{"item": {...}}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ItemBody {
    pub item: Item,
}

pub async fn idea(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(new): ApiJson<NewIdea>,
) -> Result<(StatusCode, Json<ItemBody>), ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let title = clean("title", &new.title, 1, IDEA_TITLE_MAX);
    let body = clean("body", &new.body, 0, IDEA_BODY_MAX);
    let (title, body) = match (title, body) {
        (Ok(t), Ok(b)) => (t, b),
        (t, b) => {
            let mut errors = Vec::new();
            errors.extend(t.err().map(|e| e.0).unwrap_or_default());
            errors.extend(b.err().map(|e| e.0).unwrap_or_default());
            return Err(crate::domain::Invalid(errors).into());
        }
    };
    check(&state.limits.idea, &participant.id, "idea")?;
    let command = write::SuggestIdea {
        conversation_id: conversation.id,
        item_id: new.id,
        participant_id: participant.id,
        title,
        body,
        status: conversation.idea_status(),
    };
    let item = state.commit_open(&conversation, command).await?.answer;
    Ok((StatusCode::CREATED, Json(ItemBody { item })))
}
