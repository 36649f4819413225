//! What facilitators do: moderate comments and ideas, read the queues and
//! the audit trail, and create display tokens for screens.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{conversation, path_uuid};
use crate::domain::text::{clean, FLAG_REASON_MAX};
use crate::domain::{Invalid, ModerationAction};
use crate::http::auth::{new_token, Caller};
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::AppState;
use crate::store::{Outcome, QueueFilter, Write};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moderate {
    request_id: Uuid,
    action: ModerationAction,
    #[serde(default)]
    reason: Option<String>,
}

fn reason(moderate: &Moderate) -> Result<Option<String>, ApiError> {
    match (&moderate.action, &moderate.reason) {
        (ModerationAction::Hide, None) => {
            Err(Invalid::field("reason", "is required to hide").into())
        }
        (_, Some(reason)) => Ok(Some(clean("reason", reason, 1, FLAG_REASON_MAX)?)),
        (_, None) => Ok(None),
    }
}

pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(moderate): ApiJson<Moderate>,
) -> Result<Json<Value>, ApiError> {
    let user = caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let reason = reason(&moderate)?;
    let written = state
        .commit(Write::ModerateComment {
            conversation_id: conversation.id,
            comment_id,
            request_id: moderate.request_id,
            actor: user.name.clone(),
            action: moderate.action,
            reason,
        })
        .await?;
    let Outcome::Comment(comment) = written.outcome else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    Ok(Json(json!({"comment": comment})))
}

pub async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(moderate): ApiJson<Moderate>,
) -> Result<Json<Value>, ApiError> {
    let user = caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let item_id = path_uuid("item", &item)?;
    let reason = reason(&moderate)?;
    let written = state
        .commit(Write::ModerateItem {
            conversation_id: conversation.id,
            item_id,
            request_id: moderate.request_id,
            actor: user.name.clone(),
            action: moderate.action,
            reason,
        })
        .await?;
    let Outcome::Item(item) = written.outcome else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    Ok(Json(json!({"item": item})))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
}

pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Query(query): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let filter = match query.status.as_deref().unwrap_or("all") {
        "pending" => QueueFilter::Pending,
        "hidden" => QueueFilter::Hidden,
        "flagged" => QueueFilter::Flagged,
        "all" => QueueFilter::All,
        other => {
            return Err(Invalid::field(
                "status",
                format!("{other:?} is not one of pending, hidden, flagged, all"),
            )
            .into())
        }
    };
    let comments = state
        .store
        .moderation_queue(conversation.id, filter)
        .await?;
    Ok(Json(json!({"comments": comments})))
}

#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let events = state
        .store
        .events(
            conversation.id,
            query.after.unwrap_or(0),
            query.limit.unwrap_or(500).clamp(1, 5000),
        )
        .await?;
    Ok(Json(json!({"events": events})))
}

pub async fn display_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let user = caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let (token, token_hash) = new_token();
    state
        .commit(Write::CreateDisplayToken {
            conversation_id: conversation.id,
            token_hash,
            actor: user.name.clone(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"token": token, "url": format!("/display/{}?token={token}", conversation.slug)}),
        ),
    ))
}
