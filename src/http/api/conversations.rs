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
    Choice, ConversationState, Invalid, Item, ItemKind, ItemStatus, Millis, NewConversation,
    Participant, TallyView, User, WayIn, WaysIn,
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
    /// Listed to staff only.
    pub archived: bool,
    /// The addresses of the earlier conversations it names in its series.
    pub series: Vec<String>,
    /// Those earlier conversations whose results the caller may read now.
    pub earlier_reports: Vec<EarlierReport>,
}

#[derive(Debug, Serialize)]
pub struct EarlierReport {
    pub slug: String,
    pub title: String,
}

/// Open and upcoming conversations first (soonest to close or open
/// first), then closed ones (most recently closed first). Archived ones
/// are left out, except for staff, who see them last-but-marked.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ConversationList>, ApiError> {
    let now = Millis::now();
    let staff = caller.user().is_some();
    let all = state.store.conversations().await?;
    let mut conversations = Vec::new();
    for c in all.iter().filter(|c| staff || !c.archived) {
        let mut earlier_reports = Vec::new();
        for slug in &c.series {
            let Some(earlier) = all.iter().find(|e| &e.slug == slug) else {
                continue;
            };
            if super::results::readable(&state, &caller, earlier, now).await? {
                earlier_reports.push(EarlierReport {
                    slug: earlier.slug.clone(),
                    title: earlier.title.clone(),
                });
            }
        }
        conversations.push(ConversationSummary {
            state: c.state(now),
            slug: c.slug.clone(),
            title: c.title.clone(),
            opens_at: c.opens_at,
            closes_at: c.closes_at,
            archived: c.archived,
            series: c.series.clone(),
            earlier_reports,
        });
    }
    conversations.sort_by_key(landing_order);
    Ok(Json(ConversationList { conversations }))
}

/// The list's order: open (closing soonest first), upcoming (opening
/// soonest first), closed (most recently closed first); archived last.
fn landing_order(c: &ConversationSummary) -> (bool, u8, i64) {
    match c.state {
        ConversationState::Open => (c.archived, 0, c.closes_at.0),
        ConversationState::Upcoming => (c.archived, 1, c.opens_at.0),
        ConversationState::Closed => (c.archived, 2, -c.closes_at.0),
    }
}

/// Everything a page needs, consistent with sequence number `seq`.
#[derive(Debug, Serialize)]
pub struct SnapshotBody<'a> {
    pub conversation: ConversationView<'a>,
    /// Items; a tally the caller may not see has `null` counts.
    pub items: Vec<serde_json::Value>,
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
    let now = Millis::now();
    let view = if staff {
        TallyView::All
    } else {
        conversation.participant_tallies(now)
    };
    let shows = |item: &Item| match view {
        TallyView::All => true,
        TallyView::Voted => votes.iter().any(|(id, _)| *id == item.id),
        TallyView::None => false,
    };
    let mut all = snapshot.items;
    // Their own ideas awaiting approval are theirs to see ("waiting for a
    // facilitator"), not "No ideas yet"; staff see every item already.
    if let (Some(p), false) = (&participant, staff) {
        all.extend(state.store.pending_ideas_of(conversation.id, p.id).await?);
    }
    let items = all.iter().map(|item| veiled(item, shows(item))).collect();
    let body = SnapshotBody {
        conversation: conversation.view(now),
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

/// An item as JSON, its counts `null` when its tally is hidden from the
/// caller (`tallies_visible`, docs/api.md).
pub fn veiled(item: &Item, shows_tally: bool) -> serde_json::Value {
    let mut value = serde_json::to_value(item).expect("items serialise");
    if !shows_tally {
        hide_counts(&mut value);
    }
    value
}

/// Sets `strong`, `wrong` and `version` to `null`.
pub fn hide_counts(value: &mut serde_json::Value) {
    for field in ["strong", "wrong", "version"] {
        value[field] = serde_json::Value::Null;
    }
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
    email_needs_mail(&state, &conversation.ways_in)?;
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
    if let Some(ways) = &patch.ways_in {
        email_needs_mail(&state, ways)?;
    }
    if let Some(way) = patch.signup_mode {
        email_needs_mail(&state, &WaysIn::only(way))?;
    }
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

/// The `email` way in needs a way to send mail: refused at create and
/// patch time when this server has none.
fn email_needs_mail(state: &AppState, ways: &WaysIn) -> Result<(), ApiError> {
    if ways.allows(WayIn::Email) && state.mailer.is_none() {
        return Err(Invalid::field("ways_in", EMAIL_UNAVAILABLE).into());
    }
    Ok(())
}

/// Why `email` cannot be chosen, for the 422 and the admin page.
pub const EMAIL_UNAVAILABLE: &str = "\"email\" needs this server to send mail, and it has no mail settings: set mail.smtp_url (or mail.outbox_dir for development) in its configuration";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    id: Uuid,
    /// `pledge` (the default) or `topic`.
    #[serde(default)]
    kind: Option<ItemKind>,
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
    let kind = pledge.kind.unwrap_or(ItemKind::Pledge);
    if !kind.is_organisers() {
        return Err(Invalid::field(
            "kind",
            "must be \"pledge\" or \"topic\" (participants suggest ideas)",
        )
        .into());
    }
    let (title, body) = clean_pledge(&pledge.title, &pledge.body)?;
    let item = state
        .commit(write::UpsertPledge {
            conversation_id: conversation.id,
            item_id: pledge.id,
            kind,
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
        .filter(|i| i.kind.is_organisers() && i.status != ItemStatus::Removed)
        .ok_or_else(|| ApiError::NotFound("pledge or topic".into()))?;
    let (title, body) = clean_pledge(
        patch.title.as_deref().unwrap_or(&item.title),
        patch.body.as_deref().unwrap_or(&item.body),
    )?;
    let item = state
        .commit(write::UpsertPledge {
            conversation_id: conversation.id,
            item_id,
            kind: item.kind,
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
