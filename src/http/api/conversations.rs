//! Reading conversations, and the organisers' operations on them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{conversation, path_uuid};
use crate::domain::conversation::clean_word_list;
use crate::domain::text::{clean, INTRODUCTION_MAX, TITLE_MAX};
use crate::domain::{
    DisplayKind, DisplayMode, Invalid, ItemKind, Millis, Moderation, NewConversation, SignupMode,
};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::AppState;
use crate::store::{Outcome, Write};

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let now = Millis::now();
    let conversations: Vec<Value> = state
        .store
        .conversations()
        .await?
        .iter()
        .map(|c| {
            json!({"slug": c.slug, "title": c.title, "state": c.state(now),
                   "opens_at": c.opens_at, "closes_at": c.closes_at})
        })
        .collect();
    Ok(Json(json!({ "conversations": conversations })))
}

/// Everything a page needs, consistent with sequence number `seq`.
pub async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let staff = caller.user().is_some();
    let snapshot = state.store.snapshot(conversation.id, staff).await?;
    let participant = match &caller.session {
        Some(session) => state.store.participant(conversation.id, session.id).await?,
        None => None,
    };
    let (votes, comment_votes) = match &participant {
        Some(p) => state.store.votes_of(p.id).await?,
        None => (Vec::new(), Vec::new()),
    };
    let votes: serde_json::Map<String, Value> = votes
        .into_iter()
        .map(|(id, choice)| (id.to_string(), json!(choice)))
        .collect();
    Ok(Json(json!({
        "conversation": conversation.view(Millis::now()),
        "items": snapshot.items,
        "me": {
            "participant": participant,
            "user": caller.user(),
            "votes": votes,
            "comment_votes": comment_votes,
        },
        "seq": snapshot.seq,
        "word_list": staff.then_some(&conversation.word_list),
        "access_code": if staff { conversation.access_code.as_deref() } else { None },
    })))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewConversation>,
) -> Result<impl IntoResponse, ApiError> {
    caller.admin()?;
    let conversation = new.into_conversation()?;
    let written = state
        .commit(Write::CreateConversation { conversation })
        .await?;
    match written.outcome {
        Outcome::Conversation(c) => Ok((
            StatusCode::CREATED,
            Json(json!({"conversation": c.view(Millis::now())})),
        )),
        _ => Err(ApiError::Internal("unexpected outcome".into())),
    }
}

/// `closes_at` may be a time or `"now"` (close early).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationPatch {
    title: Option<String>,
    introduction: Option<String>,
    opens_at: Option<Millis>,
    closes_at: Option<String>,
    moderation: Option<Moderation>,
    ideas_need_approval: Option<bool>,
    access_code: Option<String>,
    results_visible: Option<bool>,
    word_list: Option<Vec<String>>,
    display: Option<DisplayMode>,
    signup_mode: Option<SignupMode>,
}

impl ConversationPatch {
    /// Facilitators may switch the display and edit the word list from the
    /// desk; everything else is the organisers' (admins').
    fn admin_only(&self) -> bool {
        self.title.is_some()
            || self.introduction.is_some()
            || self.opens_at.is_some()
            || self.closes_at.is_some()
            || self.moderation.is_some()
            || self.ideas_need_approval.is_some()
            || self.access_code.is_some()
            || self.results_visible.is_some()
            || self.signup_mode.is_some()
    }
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(patch): ApiJson<ConversationPatch>,
) -> Result<Json<Value>, ApiError> {
    let user = if patch.admin_only() {
        caller.admin()?
    } else {
        caller.staff()?
    };
    let before = conversation(&state, &slug).await?;
    let mut after = before.clone();
    let now = Millis::now();
    if let Some(title) = patch.title {
        after.title = clean("title", &title, 1, TITLE_MAX)?;
    }
    if let Some(introduction) = patch.introduction {
        after.introduction = clean("introduction", &introduction, 0, INTRODUCTION_MAX)?;
    }
    if let Some(opens_at) = patch.opens_at {
        after.opens_at = opens_at;
    }
    if let Some(closes_at) = patch.closes_at {
        after.closes_at = if closes_at == "now" {
            now
        } else {
            Millis::parse_rfc3339(&closes_at).ok_or_else(|| {
                Invalid::field(
                    "closes_at",
                    "must be an RFC 3339 time such as 2026-12-04T17:00:00Z, or \"now\"",
                )
            })?
        };
    }
    if let Some(moderation) = patch.moderation {
        after.moderation = moderation;
    }
    if let Some(flag) = patch.ideas_need_approval {
        after.ideas_need_approval = flag;
    }
    if let Some(code) = patch.access_code {
        after.access_code = Some(clean("access_code", &code, 4, 64)?);
    }
    if let Some(flag) = patch.results_visible {
        after.results_visible = flag;
    }
    if let Some(mode) = patch.signup_mode {
        after.signup_mode = mode;
        if mode == SignupMode::Open {
            after.access_code = None;
        }
    }
    if after.signup_mode == SignupMode::Code && after.access_code.is_none() {
        return Err(
            Invalid::field("access_code", "is required when signup_mode is \"code\"").into(),
        );
    }
    if let Some(words) = patch.word_list {
        after.word_list = clean_word_list(&words)?;
    }
    if let Some(display) = patch.display {
        if display.mode == DisplayKind::Focus {
            let item = display.item_id.ok_or_else(|| {
                Invalid::field("display.item_id", "is required to focus on a pledge")
            })?;
            state
                .store
                .item(before.id, item)
                .await?
                .ok_or_else(|| ApiError::NotFound("item".into()))?;
        }
        after.display = display;
    }
    if after.closes_at <= after.opens_at {
        return Err(Invalid::field("closes_at", "must be after opens_at").into());
    }
    let action = if after.display != before.display {
        "display"
    } else if after.closes_at > before.closes_at {
        "extend"
    } else if after.closes_at < before.closes_at && after.closes_at <= now {
        "close"
    } else {
        "update"
    };
    state.conversations.remove(&slug);
    let written = state
        .commit(Write::UpdateConversation {
            conversation: after,
            actor: user.name.clone(),
            action: action.into(),
        })
        .await?;
    state.conversations.remove(&slug);
    match written.outcome {
        Outcome::Conversation(c) => Ok(Json(json!({"conversation": c.view(now)}))),
        _ => Err(ApiError::Internal("unexpected outcome".into())),
    }
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
    let title = clean("title", &pledge.title, 1, TITLE_MAX)?;
    let body = clean("body", &pledge.body, 0, INTRODUCTION_MAX)?;
    let written = state
        .commit(Write::UpsertPledge {
            conversation_id: conversation.id,
            item_id: pledge.id,
            title,
            body,
            position: pledge.position,
            actor: user.name.clone(),
        })
        .await?;
    match written.outcome {
        Outcome::Item(item) => Ok((StatusCode::CREATED, Json(json!({"item": item})))),
        _ => Err(ApiError::Internal("unexpected outcome".into())),
    }
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
) -> Result<Json<Value>, ApiError> {
    let user = caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let item_id = path_uuid("item", &item)?;
    let item = state
        .store
        .item(conversation.id, item_id)
        .await?
        .filter(|i| i.kind == ItemKind::Pledge)
        .ok_or_else(|| ApiError::NotFound("pledge".into()))?;
    let title = match patch.title {
        Some(t) => clean("title", &t, 1, TITLE_MAX)?,
        None => item.title,
    };
    let body = match patch.body {
        Some(b) => clean("body", &b, 0, INTRODUCTION_MAX)?,
        None => item.body,
    };
    let written = state
        .commit(Write::UpsertPledge {
            conversation_id: conversation.id,
            item_id,
            title,
            body,
            position: patch.position.unwrap_or(item.position),
            actor: user.name.clone(),
        })
        .await?;
    match written.outcome {
        Outcome::Item(item) => Ok(Json(json!({"item": item}))),
        _ => Err(ApiError::Internal("unexpected outcome".into())),
    }
}
