//! What participants do: sign up, vote, comment, reply, up-vote, flag and
//! suggest ideas. Each write carries a client UUID so retries are harmless.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{conversation, path_uuid, require_open};
use crate::domain::conversation::matching_word;
use crate::domain::text::{clean, COMMENT_MAX, FLAG_REASON_MAX, IDEA_BODY_MAX, IDEA_TITLE_MAX};
use crate::domain::{Choice, CommentStatus, ConversationState, ItemStatus, Millis, Moderation};
use crate::http::auth::{session_cookie, Caller};
use crate::http::error::ApiError;
use crate::http::json::{ApiJson, ApiJsonOrEmpty};
use crate::http::query::ApiQuery;
use crate::http::rate::check;
use crate::http::AppState;
use crate::store::{Outcome, Write};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    #[serde(default)]
    access_code: Option<String>,
    #[serde(default)]
    profile: BTreeMap<String, String>,
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
    if let Some(session) = &caller.session {
        if let Some(participant) = state.store.participant(conversation.id, session.id).await? {
            return Ok((StatusCode::OK, Json(json!({"participant": participant}))).into_response());
        }
    }
    check(&state.limits.signup, &caller.ip, "signup")?;
    conversation.check_signup(body.access_code.as_deref(), &body.profile)?;
    let (session_id, new_token) = caller.ensure_session(&state).await?;
    let written = state
        .commit(Write::SignUp {
            conversation_id: conversation.id,
            session_id,
            profile: body.profile,
        })
        .await?;
    let Outcome::Participant {
        participant,
        created,
    } = written.outcome
    else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(json!({"participant": participant}))).into_response();
    if let Some(token) = new_token {
        response.headers_mut().insert(
            header::SET_COOKIE,
            session_cookie(&token, state.settings.secure_cookies),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    request_id: Uuid,
    choice: Option<Choice>,
}

pub async fn vote(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<VoteBody>,
) -> Result<Json<Value>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let item_id = path_uuid("item", &item)?;
    require_open(&conversation)?;
    check(&state.limits.vote, &participant.id, "vote")?;
    let written = state
        .commit(Write::Vote {
            conversation_id: conversation.id,
            item_id,
            participant_id: participant.id,
            request_id: body.request_id,
            choice: body.choice,
        })
        .await?;
    let Outcome::Vote {
        item_id,
        choice,
        tally,
    } = written.outcome
    else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    Ok(Json(
        json!({"item_id": item_id, "choice": choice, "tally": tally}),
    ))
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
) -> Result<Json<Value>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let comment_id = path_uuid("comment", &comment)?;
    require_open(&conversation)?;
    check(&state.limits.vote, &participant.id, "comment_vote")?;
    let written = state
        .commit(Write::CommentVote {
            conversation_id: conversation.id,
            comment_id,
            participant_id: participant.id,
            request_id: body.request_id,
            up: body.up,
        })
        .await?;
    let Outcome::CommentVote {
        comment_id,
        up,
        tally,
    } = written.outcome
    else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    Ok(Json(
        json!({"comment_id": comment_id, "up": up, "tally": tally}),
    ))
}

#[derive(Deserialize)]
pub struct Page {
    after: Option<i64>,
    limit: Option<i64>,
}

pub async fn comments(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Value>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let item_id = path_uuid("item", &item)?;
    let staff = caller.user().is_some();
    state
        .store
        .item(conversation.id, item_id)
        .await?
        .filter(|i| staff || i.status == ItemStatus::Visible)
        .ok_or_else(|| ApiError::NotFound("item".into()))?;
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let comments = state
        .store
        .comments(
            conversation.id,
            item_id,
            page.after.unwrap_or(0),
            limit,
            staff,
        )
        .await?;
    let next = (comments.len() as i64 == limit)
        .then(|| comments.last().map(|c| c.seq))
        .flatten();
    let comments: Vec<_> = if staff {
        comments
    } else {
        comments.iter().map(|c| c.public()).collect()
    };
    Ok(Json(json!({"comments": comments, "next": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    id: Uuid,
    body: String,
    #[serde(default)]
    parent_id: Option<Uuid>,
}

pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(new): ApiJson<NewComment>,
) -> Result<impl IntoResponse, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let item_id = path_uuid("item", &item)?;
    require_open(&conversation)?;
    let body = clean("body", &new.body, 1, COMMENT_MAX)?;
    check(&state.limits.comment, &participant.id, "comment")?;
    // Pre-moderation for everything, or just for what the word list catches.
    let review = conversation.moderation == Moderation::Pre
        || matching_word(&body, &conversation.word_list).is_some();
    let status = if review {
        CommentStatus::Pending
    } else {
        CommentStatus::Visible
    };
    let written = state
        .commit(Write::Comment {
            conversation_id: conversation.id,
            item_id,
            comment_id: new.id,
            parent_id: new.parent_id,
            participant_id: participant.id,
            body,
            status,
        })
        .await?;
    let Outcome::Comment(comment) = written.outcome else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    let status = if !written.events.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"comment": comment.public()}))))
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
) -> Result<impl IntoResponse, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let reason = clean("reason", &new.reason, 1, FLAG_REASON_MAX)?;
    check(&state.limits.flag, &participant.id, "flag")?;
    let written = state
        .commit(Write::Flag {
            conversation_id: conversation.id,
            comment_id,
            flag_id: new.id,
            participant_id: participant.id,
            reason,
        })
        .await?;
    let Outcome::Flags(flags) = written.outcome else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    Ok((StatusCode::CREATED, Json(json!({"flags": flags}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIdea {
    id: Uuid,
    title: String,
    #[serde(default)]
    body: String,
}

pub async fn idea(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(new): ApiJson<NewIdea>,
) -> Result<impl IntoResponse, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    require_open(&conversation)?;
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
    let status = if conversation.ideas_need_approval {
        ItemStatus::Pending
    } else {
        ItemStatus::Visible
    };
    let written = state
        .commit(Write::Idea {
            conversation_id: conversation.id,
            item_id: new.id,
            participant_id: participant.id,
            title,
            body,
            status,
        })
        .await?;
    let Outcome::Item(item) = written.outcome else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    let status = if !written.events.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"item": item}))))
}
