//! Reading conversations, and the organisers' operations on them.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::participation::ItemBody;
use super::{conversation, path_uuid};
use crate::domain::conversation::{ConversationPatch, ConversationView};
use crate::domain::item::clean_pledge;
use crate::domain::{
    Choice, ConversationState, Item, ItemKind, Millis, NewConversation, Participant, User,
};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::AppState;
use crate::store::write;

/// `{"conversations": [...]}`: what the landing page lists.
#[derive(Debug, Serialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}

#[derive(Debug, Serialize)]
pub struct ConversationSummary {
    pub slug: String,
    pub title: String,
    pub state: ConversationState,
    pub opens_at: Millis,
    pub closes_at: Millis,
}

pub async fn list(State(state): State<AppState>) -> Result<Json<ConversationList>, ApiError> {
    let now = Millis::now();
    let conversations = state
        .store
        .conversations()
        .await?
        .into_iter()
        .map(|c| ConversationSummary {
            state: c.state(now),
            slug: c.slug,
            title: c.title,
            opens_at: c.opens_at,
            closes_at: c.closes_at,
        })
        .collect();
    Ok(Json(ConversationList { conversations }))
}

/// Everything a page needs, consistent with sequence number `seq`.
#[derive(Debug, Serialize)]
pub struct SnapshotBody<'a> {
    pub conversation: ConversationView<'a>,
    pub items: Vec<Item>,
    pub me: Me<'a>,
    /// The sequence number the items correspond to (subscribe after it).
    pub seq: i64,
    /// Staff only.
    pub word_list: Option<&'a [String]>,
    /// Staff only.
    pub access_code: Option<&'a str>,
}

/// Who the caller is here, and what they have voted.
#[derive(Debug, Serialize)]
pub struct Me<'a> {
    pub participant: Option<Participant>,
    pub user: Option<&'a User>,
    /// Item id to choice.
    pub votes: BTreeMap<Uuid, Choice>,
    /// Comments this participant has up-voted.
    pub comment_votes: Vec<Uuid>,
}

pub async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let staff = caller.user().is_some();
    let snapshot = state.store.snapshot(conversation.id, staff).await?;
    let participant = caller
        .participant_session(&state, &conversation)
        .await?
        .map(|session| session.participant);
    let (votes, comment_votes) = match &participant {
        Some(p) => state.store.votes_of(p.id).await?,
        None => (Vec::new(), Vec::new()),
    };
    let mut items = snapshot.items;
    // Their own ideas awaiting approval are theirs to see ("waiting for a
    // facilitator"), not "No ideas yet"; staff see every item already.
    if let (Some(p), false) = (&participant, staff) {
        items.extend(state.store.pending_ideas_of(conversation.id, p.id).await?);
    }
    let body = SnapshotBody {
        conversation: conversation.view(Millis::now()),
        items,
        me: Me {
            participant,
            user: caller.user(),
            votes: votes.into_iter().collect(),
            comment_votes,
        },
        seq: snapshot.seq,
        word_list: staff.then_some(conversation.word_list.as_slice()),
        access_code: if staff {
            conversation.access_code.as_deref()
        } else {
            None
        },
    };
    Ok(Json(body).into_response())
}

/// `{"conversation": {...}}`: a conversation as its organisers see it.
#[derive(Debug, Serialize)]
pub struct ConversationBody<'a> {
    pub conversation: ConversationView<'a>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewConversation>,
) -> Result<impl IntoResponse, ApiError> {
    caller.admin()?;
    let conversation = new.into_conversation()?;
    let created = state
        .commit(write::CreateConversation { conversation })
        .await?
        .answer;
    let body = ConversationBody {
        conversation: created.view(Millis::now()),
    };
    Ok((StatusCode::CREATED, Json(body).into_response()))
}

/// Changes only the fields sent, to the conversation as it is when the
/// writer applies them: two people changing different fields in the same
/// second both keep their change.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(patch): ApiJson<ConversationPatch>,
) -> Result<Response, ApiError> {
    let user = if patch.admin_only() {
        caller.admin()?
    } else {
        caller.staff()?
    };
    let before = conversation(&state, &slug).await?;
    state.conversations.remove(&slug);
    let changed = state
        .commit(write::ChangeConversation {
            conversation_id: before.id,
            patch,
            actor: user.name.clone(),
        })
        .await;
    state.conversations.remove(&slug);
    let changed = changed?.answer;
    let body = ConversationBody {
        conversation: changed.view(Millis::now()),
    };
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    id: Uuid,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    position: i64,
}

pub async fn add_pledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(pledge): ApiJson<NewPledge>,
) -> Result<impl IntoResponse, ApiError> {
    let user = caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let (title, body) = clean_pledge(&pledge.title, &pledge.body)?;
    let item = state
        .commit(write::UpsertPledge {
            conversation_id: conversation.id,
            item_id: pledge.id,
            adding: true,
            title,
            body,
            position: pledge.position,
            actor: user.name.clone(),
        })
        .await?
        .answer;
    Ok((StatusCode::CREATED, Json(ItemBody { item })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgePatch {
    title: Option<String>,
    body: Option<String>,
    position: Option<i64>,
}

pub async fn edit_pledge(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(patch): ApiJson<PledgePatch>,
) -> Result<Json<ItemBody>, ApiError> {
    let user = caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let item_id = path_uuid("item", &item)?;
    let item = state
        .store
        .item(conversation.id, item_id)
        .await?
        .filter(|i| i.kind == ItemKind::Pledge)
        .ok_or_else(|| ApiError::NotFound("pledge".into()))?;
    let (title, body) = clean_pledge(
        patch.title.as_deref().unwrap_or(&item.title),
        patch.body.as_deref().unwrap_or(&item.body),
    )?;
    let item = state
        .commit(write::UpsertPledge {
            conversation_id: conversation.id,
            item_id,
            adding: false,
            title,
            body,
            position: patch.position.unwrap_or(item.position),
            actor: user.name.clone(),
        })
        .await?
        .answer;
    Ok(Json(ItemBody { item }))
}
