//! What facilitators do: moderate comments and ideas, read the queues and
//! the audit trail, and create display tokens for screens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::participation::{CommentBody, ItemBody};
use super::{conversation, path_uuid};
use crate::domain::text::COMMENT_MAX;
use crate::domain::text::{clean, FLAG_REASON_MAX};
use crate::domain::{AuthorAction, Event, Invalid, ModerationAction};
use crate::http::auth::{new_token, Caller};
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::query::ApiQuery;
use crate::http::AppState;
use crate::report::export::spreadsheet_safe;
use crate::store::write::{self, AuthorModerated};
use crate::store::{Command, QueueEntry, QueueFilter, QueuePage};

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

/// What moderating a comment and an idea share: the role check, the
/// target, the reason rule, the commit. `command` builds the store command from
/// (conversation, target, actor, reason).
async fn moderate<C: Command>(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    kind: &str,
    target: &str,
    moderate: &Moderate,
    command: impl FnOnce(Uuid, Uuid, String, Option<String>) -> C,
) -> Result<C::Answer, ApiError> {
    let user = caller.staff()?;
    let conversation = conversation(state, slug).await?;
    let target = path_uuid(kind, target)?;
    let reason = reason(moderate)?;
    let committed = state
        .commit(command(conversation.id, target, user.name.clone(), reason))
        .await?;
    Ok(committed.answer)
}

pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(m): ApiJson<Moderate>,
) -> Result<Json<CommentBody>, ApiError> {
    let comment = moderate(
        &state,
        &caller,
        &slug,
        "comment",
        &comment,
        &m,
        |conversation_id, comment_id, actor, reason| write::ModerateComment {
            conversation_id,
            comment_id,
            request_id: m.request_id,
            actor,
            action: m.action,
            reason,
        },
    )
    .await?;
    Ok(Json(CommentBody { comment }))
}

pub async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiJson(m): ApiJson<Moderate>,
) -> Result<Json<ItemBody>, ApiError> {
    let item = moderate(
        &state,
        &caller,
        &slug,
        "item",
        &item,
        &m,
        |conversation_id, item_id, actor, _reason| write::ModerateItem {
            conversation_id,
            item_id,
            request_id: m.request_id,
            actor,
            action: m.action,
        },
    )
    .await?;
    Ok(Json(ItemBody { item }))
}

/// `{"comments": [...], "next": 812}`: a page of a moderation queue.
#[derive(Debug, Serialize)]
pub struct QueueBody {
    pub comments: Vec<QueueEntry>,
    /// The `after` for the next page; `null` at the end.
    pub next: Option<i64>,
}

/// `{"events": [...]}`: the audit trail.
#[derive(Debug, Serialize)]
pub struct EventsBody {
    pub events: Vec<Event>,
}

/// A display screen's token and the address that carries it.
#[derive(Debug, Serialize)]
pub struct DisplayToken {
    pub token: String,
    pub url: String,
}

/// `{"original": "..." | null}`: a comment's text before its first edit.
#[derive(Debug, Serialize)]
pub struct OriginalBody {
    pub original: Option<String>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    item_id: Option<String>,
    q: Option<String>,
    order: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// The longest text search the queue takes, in characters.
pub const QUEUE_SEARCH_MAX: usize = 200;
/// The most comments one page of a queue holds.
pub const QUEUE_LIMIT_MAX: i64 = 500;

impl QueueQuery {
    fn page(&self) -> Result<QueuePage, Invalid> {
        let filter = match self.status.as_deref().unwrap_or("all") {
            "pending" => QueueFilter::Pending,
            "hidden" => QueueFilter::Hidden,
            "flagged" => QueueFilter::Flagged,
            "review" => QueueFilter::Review,
            "all" => QueueFilter::All,
            other => {
                return Err(Invalid::field(
                    "status",
                    format!("{other:?} is not one of pending, hidden, flagged, review, all"),
                ))
            }
        };
        let newest_first = match self.order.as_deref().unwrap_or("oldest") {
            "oldest" => false,
            "newest" => true,
            other => {
                return Err(Invalid::field(
                    "order",
                    format!("{other:?} is not one of oldest, newest"),
                ))
            }
        };
        let item_id = match self.item_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) => Some(
                id.parse::<Uuid>()
                    .map_err(|_| Invalid::field("item_id", format!("{id:?} is not a UUID")))?,
            ),
        };
        // An empty search box searches nothing: the whole queue.
        let text = match self.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) => Some(clean("q", q, 1, QUEUE_SEARCH_MAX)?),
        };
        let limit = self.limit.unwrap_or(100);
        if !(1..=QUEUE_LIMIT_MAX).contains(&limit) {
            return Err(Invalid::field(
                "limit",
                format!("must be between 1 and {QUEUE_LIMIT_MAX} (got {limit})"),
            ));
        }
        if let Some(after) = self.after.filter(|a| *a < 0) {
            return Err(Invalid::field(
                "after",
                format!("must be a sequence number, 0 or more (got {after})"),
            ));
        }
        Ok(QueuePage {
            filter,
            item_id,
            text,
            newest_first,
            after: self.after,
            limit,
        })
    }
}

/// A page of a moderation queue: oldest first unless asked otherwise,
/// filtered by item and text, with each comment's open flags' reasons.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Json<QueueBody>, ApiError> {
    caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let page = query.page()?;
    let comments = state.store.moderation_queue(conversation.id, &page).await?;
    let next = (comments.len() as i64 == page.limit)
        .then(|| comments.last().map(|c| c.comment.seq))
        .flatten();
    Ok(Json(QueueBody { comments, next }))
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
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventsBody>, ApiError> {
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
    Ok(Json(EventsBody { events }))
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
        .commit(write::CreateDisplayToken {
            conversation_id: conversation.id,
            token_hash,
            actor: user.name.clone(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DisplayToken {
            url: format!("/display/{}?token={token}", conversation.slug),
            token,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    request_id: Uuid,
    body: String,
}

/// Edits a comment to remove identifying details; the original is kept
/// for admins and the edit is in the audit trail.
pub async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(edit): ApiJson<Edit>,
) -> Result<Json<CommentBody>, ApiError> {
    let user = caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let body = clean("body", &edit.body, 1, COMMENT_MAX)?;
    let comment = state
        .commit(write::EditComment {
            conversation_id: conversation.id,
            comment_id,
            request_id: edit.request_id,
            actor: user.name.clone(),
            body,
        })
        .await?
        .answer;
    Ok(Json(CommentBody { comment }))
}

/// The text a comment had before its first edit (admins only).
pub async fn original(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
) -> Result<Json<OriginalBody>, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let original = state
        .store
        .original_body(conversation.id, comment_id)
        .await?;
    Ok(Json(OriginalBody { original }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerateAuthor {
    request_id: Uuid,
    action: AuthorAction,
    #[serde(default)]
    reason: Option<String>,
}

/// Acts on a comment's author (suspend, reinstate, hide everything) without
/// anyone learning who they are.
pub async fn author(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(moderate): ApiJson<ModerateAuthor>,
) -> Result<Json<AuthorModerated>, ApiError> {
    let user = caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let reason = match (&moderate.action, &moderate.reason) {
        (AuthorAction::HideAll, None) => {
            return Err(Invalid::field("reason", "is required to hide").into())
        }
        (_, Some(reason)) => Some(clean("reason", reason, 1, FLAG_REASON_MAX)?),
        (_, None) => None,
    };
    let moderated = state
        .commit(write::ModerateAuthor {
            conversation_id: conversation.id,
            comment_id,
            request_id: moderate.request_id,
            actor: user.name.clone(),
            action: moderate.action,
            reason,
        })
        .await?
        .answer;
    Ok(Json(moderated))
}

/// The audit trail as CSV: who did what, when, why.
pub async fn audit_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.staff()?;
    let conversation = conversation(&state, &slug).await?;
    let internal = |e: csv::Error| ApiError::Internal(e.to_string());
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "seq", "time", "actor", "kind", "action", "target", "status", "reason",
    ])
    .map_err(internal)?;
    let mut after = 0;
    loop {
        let events = state.store.events(conversation.id, after, 5000).await?;
        let Some(last) = events.last() else { break };
        after = last.seq;
        for event in &events {
            let (action, target, status, reason) = audit_fields(&event.data);
            let row = [
                event.seq.to_string(),
                event.created_at.to_rfc3339(),
                event.actor.clone(),
                event.data.kind().to_string(),
                action,
                target,
                status,
                reason,
            ];
            let row: Vec<_> = row.iter().map(|f| spreadsheet_safe(f)).collect();
            csv.write_record(row.iter().map(|f| f.as_bytes()))
                .map_err(internal)?;
        }
    }
    let csv = csv
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let csv = String::from_utf8(csv).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-audit.csv\"", conversation.slug),
            ),
        ],
        csv,
    ))
}

fn audit_fields(data: &crate::domain::EventData) -> (String, String, String, String) {
    use crate::domain::EventData;
    match data {
        EventData::Comment {
            action, comment, ..
        } => (
            action.clone(),
            format!("comment {}", comment.id),
            comment.status.as_str().to_string(),
            comment.hidden_reason.clone().unwrap_or_default(),
        ),
        EventData::Item { action, item, .. } => (
            action.clone(),
            format!("{} {}", item.kind.as_str(), item.id),
            item.status.as_str().to_string(),
            String::new(),
        ),
        EventData::Conversation {
            action,
            conversation,
        } => (
            action.clone(),
            format!("conversation {}", conversation.slug),
            String::new(),
            format!("closes_at {}", conversation.closes_at.to_rfc3339()),
        ),
        EventData::Flag {
            comment_id, reason, ..
        } => (
            "flag".into(),
            format!("comment {comment_id}"),
            String::new(),
            reason.clone(),
        ),
        EventData::Participant { action, handle, .. } => (
            action.clone(),
            format!("participant {handle}"),
            String::new(),
            String::new(),
        ),
    }
}

#[derive(Deserialize)]
pub struct QrQuery {
    token: Option<String>,
}

/// The join link as a QR code (SVG), with the access code in the link.
/// For staff and display screens only, since it carries the code.
pub async fn qr(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(slug): Path<String>,
    ApiQuery(query): ApiQuery<QrQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let allowed = caller.user().is_some()
        || match &query.token {
            Some(token) => {
                state
                    .store
                    .display_token_valid(conversation.id, &crate::http::auth::hash_token(token))
                    .await?
            }
            None => conversation.access_code.is_none(),
        };
    if !allowed {
        return Err(ApiError::Forbidden(
            "the QR code needs a display token or a facilitator login".into(),
        ));
    }
    let link = join_link(&state, &headers, &conversation);
    let svg = qrcode::QrCode::new(link.as_bytes())
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "image/svg+xml".to_string(),
            ),
            (
                axum::http::header::HeaderName::from_static("x-join-link"),
                link,
            ),
        ],
        svg,
    ))
}

/// The link people follow to join: the first public origin (or this host),
/// `/c/{slug}`, and the access code when there is one.
pub fn join_link(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    conversation: &crate::domain::Conversation,
) -> String {
    let origin = state
        .settings
        .public_origins
        .first()
        .cloned()
        .unwrap_or_else(|| {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        });
    match &conversation.access_code {
        Some(code) => format!("{origin}/c/{}?code={}", conversation.slug, code),
        None => format!("{origin}/c/{}", conversation.slug),
    }
}
