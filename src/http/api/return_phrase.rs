//! Return phrases: five words shown once after sign-up, by every way in,
//! that bring the same participant back on another device. Stored only as
//! a keyed hash; re-issuing one makes the old one useless.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::conversation;
use super::participation::ParticipantBody;
use crate::domain::Invalid;
use crate::http::auth::{start_participant_session, Caller};
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::rate::check;
use crate::http::AppState;
use crate::identity::secrets::ReturnPhrase;
use crate::store::write;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComingBack {
    phrase: String,
}

/// `POST …/return`: signs this browser in as the participant whose
/// return phrase this is.
pub async fn come_back(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<ComingBack>,
) -> Result<Response, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    check(&state.limits.sign_in_ip, &caller.ip, "sign_in_ip")?;
    check(
        &state.limits.sign_in_conversation,
        &conversation.id,
        "sign_in_conversation",
    )?;
    let phrase = ReturnPhrase::parse(&body.phrase)?;
    let hash = state.identity.phrase_hash(conversation.id, &phrase);
    let participant = state
        .store
        .participant_by_return_phrase(conversation.id, &hash)
        .await?
        .ok_or_else(|| {
            Invalid::field(
                "phrase",
                "this return phrase is not one of this conversation's: check the words, or use the newest phrase you were given",
            )
        })?;
    let cookie = start_participant_session(&state, &conversation, participant.id).await?;
    let mut response = Json(ParticipantBody { participant }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `{"return_phrase": "…"}`: a new phrase, shown once.
#[derive(Debug, Serialize, Deserialize)]
pub struct PhraseBody {
    pub return_phrase: String,
}

/// `POST …/me/return-phrase`: a new return phrase for the caller; the old
/// one stops working.
pub async fn reissue(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<PhraseBody>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let phrase = ReturnPhrase::generate();
    state
        .store
        .write(write::SetReturnPhrase {
            conversation_id: conversation.id,
            participant_id: participant.id,
            return_phrase_hash: state.identity.phrase_hash(conversation.id, &phrase),
        })
        .await?;
    Ok(Json(PhraseBody {
        return_phrase: phrase.reveal().to_string(),
    }))
}
