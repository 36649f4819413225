//! Who may read a conversation's results (docs/report.md, "Who sees
//! what"): the rule is `domain::results`; this finds out who the caller
//! is to it, and turns a refusal into the answer a reader can act on.

use crate::domain::results::{self, Access, Reader};
use crate::domain::{Conversation, Millis, ResultsVisibility};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::report::View;

/// The caller as the results see them. Participants are looked up only
/// when the results are for participants: of this conversation, or of a
/// later one that names it in its series.
pub async fn reader(
    state: &AppState,
    caller: &Caller,
    conversation: &Conversation,
) -> Result<Reader, ApiError> {
    if caller.user().is_some() {
        return Ok(Reader::Staff);
    }
    if conversation.results_visibility != ResultsVisibility::Participants
        || !caller.has_participant_cookie()
    {
        return Ok(Reader::Anyone);
    }
    if signed_in(state, caller, conversation).await? {
        return Ok(Reader::Participant);
    }
    for later in state.store.conversations().await? {
        if results::names_in_series(&later, conversation)
            && signed_in(state, caller, &later).await?
        {
            return Ok(Reader::Participant);
        }
    }
    Ok(Reader::Anyone)
}

async fn signed_in(
    state: &AppState,
    caller: &Caller,
    conversation: &Conversation,
) -> Result<bool, ApiError> {
    match caller.participant(state, conversation).await {
        Ok(_) => Ok(true),
        Err(ApiError::Unauthenticated(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The report view the caller gets now, or why not (401 or 403).
pub async fn view(
    state: &AppState,
    caller: &Caller,
    conversation: &Conversation,
    now: Millis,
) -> Result<View, ApiError> {
    let reader = reader(state, caller, conversation).await?;
    match results::access(conversation, reader, now) {
        Access::Organisers => Ok(View::Organisers),
        Access::Results => Ok(View::Public),
        Access::NotYet => Err(ApiError::Forbidden(
            "the results of this conversation are published when it closes".into(),
        )),
        Access::SignIn => Err(ApiError::Unauthenticated(
            "the results of this conversation are for its participants: sign in to it, \
             or to a later conversation in its series, to read them"
                .into(),
        )),
        Access::StaffOnly => Err(ApiError::Forbidden(
            "the results of this conversation are for its organisers only".into(),
        )),
    }
}

/// Whether the caller may read the results now (for links on the list).
pub async fn readable(
    state: &AppState,
    caller: &Caller,
    conversation: &Conversation,
    now: Millis,
) -> Result<bool, ApiError> {
    match view(state, caller, conversation, now).await {
        Ok(_) => Ok(true),
        Err(ApiError::Forbidden(_) | ApiError::Unauthenticated(_)) => Ok(false),
        Err(other) => Err(other),
    }
}
