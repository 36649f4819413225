//! "My contributions": what a participant does with their own
//! contributions. They see everything they contributed (with its status,
//! and the facilitators' reason when something was hidden), edit a comment
//! or idea while nobody has answered it, delete one, download all their
//! data, and leave. Every change is an event every screen sees live.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::participation::{CommentBody, ItemBody};
use super::{conversation, path_uuid};
use crate::domain::text::{clean, COMMENT_MAX, IDEA_BODY_MAX, IDEA_TITLE_MAX};
use crate::domain::{
    Comment, CommentStatus, Conversation, Invalid, Item, LeaveComments, Millis, Participant,
};
use crate::http::auth::{clear_participant_cookie, Caller};
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::rate::check;
use crate::http::AppState;
use crate::store::contributions::{Contributions, OwnFlag, OwnUpVote, OwnVote};
use crate::store::{write, Command, Committed};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations/{slug}/me/contributions", get(contributions))
        .route("/conversations/{slug}/me/export", get(export))
        .route("/conversations/{slug}/me/leave", post(leave))
        .route(
            "/conversations/{slug}/comments/{comment}",
            patch(edit_comment).delete(delete_comment),
        )
        .route(
            "/conversations/{slug}/ideas/{idea}",
            patch(edit_idea).delete(delete_idea),
        )
        .route(
            "/conversations/{slug}/items/{item}/original",
            get(original_idea),
        )
}

/// The caller as a participant of the slug's conversation, rate-limited.
async fn me(
    state: &AppState,
    caller: &Caller,
    slug: &str,
) -> Result<(Conversation, Participant), ApiError> {
    let conversation = conversation(state, slug).await?;
    let participant = caller.participant(state, &conversation).await?;
    check(&state.limits.self_service, &participant.id, "self_service")?;
    Ok((conversation, participant))
}

async fn read_own(
    state: &AppState,
    conversation: &Conversation,
    participant: &Participant,
) -> Result<Contributions, ApiError> {
    state
        .store
        .contributions(conversation.id, participant.id)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("sign up to this conversation first".into()))
}

/// Until when the author may still edit something, or `None` when they
/// no longer may (answered, too old, deleted).
fn editable_until(state: &AppState, created_at: Millis, answered: i64) -> Option<Millis> {
    let until = Millis(created_at.0 + window_ms(state));
    (answered == 0 && Millis::now() <= until).then_some(until)
}

fn window_ms(state: &AppState) -> i64 {
    (state.settings.participation.edit_window_s.get() as i64).saturating_mul(1000)
}

/// What the author sees of their own comment: its status and the
/// facilitators' reason, not how many times it was flagged.
fn own(comment: Comment) -> Comment {
    Comment {
        flags: 0,
        ..comment
    }
}

/// `{"participant": ..., "votes": [...], "comments": [...], "ideas": [...]}`.
#[derive(Debug, Serialize)]
pub struct ContributionsBody {
    pub participant: Me,
    /// `participation.edit_window_s`.
    pub edit_window_s: u64,
    pub votes: Vec<OwnVote>,
    pub comments: Vec<MyComment>,
    pub ideas: Vec<MyIdea>,
}

#[derive(Debug, Serialize)]
pub struct Me {
    pub handle: String,
    pub joined_at: Millis,
}

#[derive(Debug, Serialize)]
pub struct MyComment {
    pub comment: Comment,
    pub item_title: String,
    pub replies: i64,
    /// When editing stops being possible; `null` when it already has.
    pub editable_until: Option<Millis>,
}

#[derive(Debug, Serialize)]
pub struct MyIdea {
    pub item: Item,
    /// Comments on it and votes by others.
    pub responses: i64,
    pub editable_until: Option<Millis>,
}

pub async fn contributions(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<ContributionsBody>, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = caller.participant(&state, &conversation).await?;
    let own_data = read_own(&state, &conversation, &participant).await?;
    Ok(Json(ContributionsBody {
        participant: Me {
            handle: own_data.handle,
            joined_at: own_data.joined_at,
        },
        edit_window_s: state.settings.participation.edit_window_s.get(),
        votes: own_data.votes,
        comments: own_data
            .comments
            .into_iter()
            .map(|c| MyComment {
                editable_until: editable_until(&state, c.comment.created_at, c.replies),
                comment: own(c.comment),
                item_title: c.item_title,
                replies: c.replies,
            })
            .collect(),
        ideas: own_data
            .ideas
            .into_iter()
            .map(|i| MyIdea {
                editable_until: editable_until(&state, i.item.created_at, i.responses),
                item: i.item,
                responses: i.responses,
            })
            .collect(),
    }))
}

/// The download of everything a participant gave this conversation.
#[derive(Debug, Serialize)]
pub struct ExportBody {
    pub conversation: ExportConversation,
    pub exported_at: Millis,
    pub participant: ExportParticipant,
    pub votes: Vec<OwnVote>,
    pub comment_votes: Vec<OwnUpVote>,
    pub comments: Vec<ExportComment>,
    pub ideas: Vec<Item>,
    pub flags: Vec<OwnFlag>,
}

#[derive(Debug, Serialize)]
pub struct ExportConversation {
    pub slug: String,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct ExportParticipant {
    pub handle: String,
    pub profile: std::collections::BTreeMap<String, String>,
    pub joined_at: Millis,
}

#[derive(Debug, Serialize)]
pub struct ExportComment {
    #[serde(flatten)]
    pub comment: Comment,
    pub item_title: String,
}

pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let (conversation, participant) = me(&state, &caller, &slug).await?;
    let own_data = read_own(&state, &conversation, &participant).await?;
    let body = ExportBody {
        conversation: ExportConversation {
            slug: conversation.slug.clone(),
            title: conversation.title.clone(),
        },
        exported_at: Millis::now(),
        participant: ExportParticipant {
            handle: own_data.handle,
            profile: own_data.profile,
            joined_at: own_data.joined_at,
        },
        votes: own_data.votes,
        comment_votes: own_data.comment_votes,
        comments: own_data
            .comments
            .into_iter()
            .map(|c| ExportComment {
                comment: own(c.comment),
                item_title: c.item_title,
            })
            .collect(),
        ideas: own_data.ideas.into_iter().map(|i| i.item).collect(),
        flags: own_data.flags,
    };
    let mut response = Json(body).into_response();
    // The slug is [a-z0-9-] (see domain::conversation), safe in a header.
    let disposition = format!(
        "attachment; filename=\"chorus-{}-my-data.json\"",
        conversation.slug
    );
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentEdit {
    request_id: Uuid,
    body: String,
}

pub async fn edit_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(edit): ApiJson<CommentEdit>,
) -> Result<Json<CommentBody>, ApiError> {
    let (conversation, participant) = me(&state, &caller, &slug).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let body = clean("body", &edit.body, 1, COMMENT_MAX)?;
    let command = write::AuthorEditComment {
        conversation_id: conversation.id,
        comment_id,
        participant_id: participant.id,
        request_id: edit.request_id,
        needs_review: conversation.comment_status(&body) == CommentStatus::Pending,
        body,
        window_ms: window_ms(&state),
    };
    let comment = state.commit_open(&conversation, command).await?.answer;
    Ok(Json(CommentBody {
        comment: comment.public(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdeaEdit {
    request_id: Uuid,
    title: String,
    #[serde(default)]
    body: String,
}

pub async fn edit_idea(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, idea)): Path<(String, String)>,
    ApiJson(edit): ApiJson<IdeaEdit>,
) -> Result<Json<ItemBody>, ApiError> {
    let (conversation, participant) = me(&state, &caller, &slug).await?;
    let item_id = path_uuid("idea", &idea)?;
    let title = clean("title", &edit.title, 1, IDEA_TITLE_MAX);
    let body = clean("body", &edit.body, 0, IDEA_BODY_MAX);
    let (title, body) = match (title, body) {
        (Ok(t), Ok(b)) => (t, b),
        (t, b) => {
            let mut errors = t.err().map(|e| e.0).unwrap_or_default();
            errors.extend(b.err().map(|e| e.0).unwrap_or_default());
            return Err(Invalid(errors).into());
        }
    };
    let command = write::AuthorEditIdea {
        conversation_id: conversation.id,
        item_id,
        participant_id: participant.id,
        request_id: edit.request_id,
        title,
        body,
        needs_approval: conversation.ideas_need_approval,
        window_ms: window_ms(&state),
    };
    let item = state.commit_open(&conversation, command).await?.answer;
    Ok(Json(ItemBody { item }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    request_id: Uuid,
}

/// Deleting is allowed after the close too: taking back what you said is
/// not a contribution.
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, comment)): Path<(String, String)>,
    ApiJson(deletion): ApiJson<Deletion>,
) -> Result<Json<CommentBody>, ApiError> {
    let (conversation, participant) = me(&state, &caller, &slug).await?;
    let comment_id = path_uuid("comment", &comment)?;
    let command = write::AuthorDeleteComment {
        conversation_id: conversation.id,
        comment_id,
        participant_id: participant.id,
        request_id: deletion.request_id,
    };
    let comment = state.commit(command).await?.answer;
    Ok(Json(CommentBody {
        comment: comment.public(),
    }))
}

pub async fn delete_idea(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, idea)): Path<(String, String)>,
    ApiJson(deletion): ApiJson<Deletion>,
) -> Result<Json<ItemBody>, ApiError> {
    let (conversation, participant) = me(&state, &caller, &slug).await?;
    let item_id = path_uuid("idea", &idea)?;
    let command = write::AuthorDeleteIdea {
        conversation_id: conversation.id,
        item_id,
        participant_id: participant.id,
        request_id: deletion.request_id,
    };
    let item = state.commit(command).await?.answer;
    Ok(Json(ItemBody { item }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leaving {
    request_id: Uuid,
    comments: LeaveComments,
}

/// `{"left": {...}}`: what leaving did.
#[derive(Debug, Serialize, Deserialize)]
pub struct LeftBody {
    pub left: LeftCounts,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LeftCounts {
    pub votes_withdrawn: i64,
    pub comment_votes_withdrawn: i64,
    pub comments_deleted: i64,
    pub comments_kept: i64,
    pub ideas_deleted: i64,
    pub ideas_kept: i64,
}

/// Leaves the conversation: final. A retry (same `request_id`) gets the
/// first answer, even though the caller is no longer a participant.
pub async fn leave(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(leaving): ApiJson<Leaving>,
) -> Result<Response, ApiError> {
    let conversation = conversation(&state, &slug).await?;
    let participant = match caller.participant(&state, &conversation).await {
        Ok(participant) => participant,
        Err(refused) => {
            // The session is gone after leaving; a retry still gets its answer.
            let command = write::Leave {
                conversation_id: conversation.id,
                participant_id: Uuid::nil(),
                request_id: leaving.request_id,
                comments: leaving.comments,
            };
            let key = command.request().expect("a leave carries a request id");
            return match state.store.request(key.id).await? {
                Some(recorded) => {
                    let left = write::replay::<write::Leave>(&key, &recorded)?.answer;
                    Ok(Json(body(&left)).into_response())
                }
                None => Err(refused),
            };
        }
    };
    check(&state.limits.self_service, &participant.id, "self_service")?;
    let command = write::Leave {
        conversation_id: conversation.id,
        participant_id: participant.id,
        request_id: leaving.request_id,
        comments: leaving.comments,
    };
    let left = commit_with_tallies(&state, command).await?.answer;
    for hash in caller.participant_token_hashes(&conversation) {
        state.participants.remove(&hash);
    }
    let mut response = Json(body(&left)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        clear_participant_cookie(&conversation, state.settings.secure_cookies),
    );
    Ok(response)
}

fn body(left: &write::Left) -> LeftBody {
    LeftBody {
        left: LeftCounts {
            votes_withdrawn: left.votes_withdrawn,
            comment_votes_withdrawn: left.comment_votes_withdrawn,
            comments_deleted: left.comments_deleted,
            comments_kept: left.comments_kept,
            ideas_deleted: left.ideas_deleted,
            ideas_kept: left.ideas_kept,
        },
    }
}

/// Commits a leave and publishes the tallies it moved, in the same task as
/// the commit (see `AppState::commit`), so a hang-up cannot lose them.
async fn commit_with_tallies(
    state: &AppState,
    command: write::Leave,
) -> Result<Committed<write::Left>, ApiError> {
    let conversation_id = command.conversation_id;
    let store = state.store.clone();
    let hub = state.hub.clone();
    tokio::spawn(async move {
        let committed = store.write(command).await?;
        hub.publish(&committed);
        for change in &committed.answer.tallies {
            hub.publish(&Committed {
                answer: (),
                events: Vec::new(),
                tally: Some((conversation_id, *change)),
            });
        }
        Ok::<_, ApiError>(committed)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// `{"original": {"title": ..., "body": ...}}`: an idea before its author
/// first edited it, `null` when they never did (admins only, as for a
/// comment's original).
#[derive(Debug, Serialize)]
pub struct OriginalIdeaBody {
    pub original: Option<OriginalIdea>,
}

#[derive(Debug, Serialize)]
pub struct OriginalIdea {
    pub title: String,
    pub body: String,
}

pub async fn original_idea(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
) -> Result<Json<OriginalIdeaBody>, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let item_id = path_uuid("item", &item)?;
    let original = state
        .store
        .original_idea(conversation.id, item_id)
        .await?
        .map(|(title, body)| OriginalIdea { title, body });
    Ok(Json(OriginalIdeaBody { original }))
}
