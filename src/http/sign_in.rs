//! Signing a browser in as a participant who already exists: after an
//! emailed code for an address that has one, or a return phrase. This is
//! the one place that knows how a participant and a browser session are
//! joined, so the session model can change behind it.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use uuid::Uuid;

use super::auth::{session_cookie, Caller};
use super::error::ApiError;
use super::AppState;
use crate::store::write;

/// Signs the caller's browser in as `participant_id` of `conversation_id`,
/// and answers the `Set-Cookie` to send when the browser had no session.
///
/// Today's model: a participant has one session, so this moves the
/// participant to this browser's session (creating one if needed); the
/// browser it was on before is no longer signed in to this conversation.
pub async fn sign_in_as(
    state: &AppState,
    caller: &Caller,
    conversation_id: Uuid,
    participant_id: Uuid,
) -> Result<Option<HeaderValue>, ApiError> {
    let (session_id, new_token) = caller.ensure_session(state).await?;
    state
        .store
        .write(write::AttachSession {
            conversation_id,
            participant_id,
            session_id,
        })
        .await?;
    state.participants.remove(&(conversation_id, session_id));
    Ok(new_token.map(|token| session_cookie(&token, state.settings.secure_cookies)))
}

/// Adds the cookie, if any, to a response.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}
