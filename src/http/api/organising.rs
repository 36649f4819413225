//! What organisers (admins) do to a conversation's shape: remove and
//! reorder its pledges and topics, and delete it for good.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::participation::ItemBody;
use super::{conversation, path_uuid};
use crate::domain::{Invalid, Item};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::AppState;
use crate::store::write;

/// `DELETE /api/conversations/{slug}/items/{id}`: the pledge or topic
/// leaves every page; its votes and comments stay for the organisers'
/// report and the audit trail.
pub async fn remove_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
) -> Result<Json<ItemBody>, ApiError> {
    let user = caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let item_id = path_uuid("item", &item)?;
    let item = state
        .commit(write::RemoveItem {
            conversation_id: conversation.id,
            item_id,
            actor: user.name.clone(),
        })
        .await?
        .answer;
    Ok(Json(ItemBody { item }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    request_id: Uuid,
    order: Vec<Uuid>,
}

/// `{"items": [...]}`: the pledges and topics in their new order.
#[derive(Debug, Serialize)]
pub struct ItemsBody {
    pub items: Vec<Item>,
}

/// `PUT /api/conversations/{slug}/order`.
pub async fn reorder(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<OrderBody>,
) -> Result<Json<ItemsBody>, ApiError> {
    let user = caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let items = state
        .commit(write::ReorderItems {
            conversation_id: conversation.id,
            request_id: body.request_id,
            order: body.order,
            actor: user.name.clone(),
        })
        .await?
        .answer;
    Ok(Json(ItemsBody { items }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    /// The conversation's address, typed again: a deletion cannot be undone.
    confirm: String,
}

/// `{"deleted": "slug", "rows": {"comments": 12, ...}}`.
#[derive(Debug, Serialize)]
pub struct DeletedBody {
    pub deleted: String,
    pub rows: BTreeMap<String, u64>,
}

/// `DELETE /api/conversations/{slug}` with `{"confirm": "slug"}`.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<DeleteBody>,
) -> Result<Json<DeletedBody>, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    if body.confirm.trim() != conversation.slug {
        return Err(Invalid::field(
            "confirm",
            "type the conversation's address exactly to confirm; deleting it cannot be undone",
        )
        .into());
    }
    let deleted = state
        .commit(write::DeleteConversation {
            conversation_id: conversation.id,
        })
        .await;
    state.conversations.remove(&slug);
    let rows = deleted?.answer;
    // The audit line that outlives the conversation's own audit trail:
    // which conversation and how much went, never who took part.
    tracing::info!(
        target: "chorus::audit",
        conversation = %conversation.slug,
        id = %conversation.id,
        rows = ?rows,
        "conversation deleted by an admin"
    );
    Ok(Json(DeletedBody {
        deleted: conversation.slug,
        rows,
    }))
}
