//! Reading an item's comments a page at a time: in the order they were
//! made (comments and replies together, as the desk and the report read
//! them), or the participant page's top-level orders (newest, most agreed,
//! agreed across groups) with each comment's number of replies, and the
//! replies of one comment.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{conversation, path_uuid};
use crate::domain::{Comment, Conversation, Invalid, ItemStatus};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::AppState;
use crate::store::TopOrder;

#[derive(Deserialize)]
pub struct Page {
    after: Option<i64>,
    limit: Option<i64>,
    sort: Option<String>,
    parent: Option<String>,
}

/// The orders an item's comments can be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// Comments and replies in the order they were made (`after` is a seq).
    Oldest,
    /// Top-level visible comments, newest first (`after` is a seq).
    Newest,
    /// Top-level visible comments, most up-voted first (`after` is how
    /// many were already read).
    MostAgreed,
    /// Top-level visible comments, those agreed with across opinion groups
    /// first (`after` is how many were already read).
    AcrossGroups,
}

impl Sort {
    fn parse(text: Option<&str>) -> Result<Sort, Invalid> {
        match text.unwrap_or("oldest") {
            "oldest" => Ok(Sort::Oldest),
            "newest" => Ok(Sort::Newest),
            "most_agreed" => Ok(Sort::MostAgreed),
            "across_groups" => Ok(Sort::AcrossGroups),
            other => Err(Invalid::field(
                "sort",
                format!("{other:?} is not one of oldest, newest, most_agreed, across_groups"),
            )),
        }
    }
}

/// `{"comments": [...], "next": 812}`: a page of an item's comments, and
/// for the top-level orders each one's number of visible replies.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommentsPage {
    pub comments: Vec<Comment>,
    /// The `after` for the next page; `null` at the end.
    pub next: Option<i64>,
    /// How many visible replies each comment of the page has (top-level
    /// orders only; absent for `oldest`, which lists the replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<BTreeMap<Uuid, i64>>,
}

pub async fn comments(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, item)): Path<(String, String)>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<CommentsPage>, ApiError> {
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
    let after = page.after.unwrap_or(0);
    let sort = Sort::parse(page.sort.as_deref())?;
    if let Some(parent) = page.parent.as_deref() {
        if sort != Sort::Oldest {
            return Err(Invalid::field(
                "sort",
                "replies are read in the order they were made: leave out sort, or send oldest",
            )
            .into());
        }
        let parent = Uuid::parse_str(parent)
            .map_err(|_| Invalid::field("parent", "must be a comment id (a UUID)"))?;
        let replies = state
            .store
            .replies(conversation.id, item_id, parent, after, limit, staff)
            .await?;
        return Ok(Json(in_order(replies, limit, staff)));
    }
    let order = match sort {
        Sort::Oldest => {
            let comments = state
                .store
                .comments(conversation.id, item_id, after, limit, staff)
                .await?;
            return Ok(Json(in_order(comments, limit, staff)));
        }
        Sort::AcrossGroups => {
            return across_groups(&state, &conversation, item_id, after, limit)
                .await
                .map(Json)
        }
        Sort::Newest => TopOrder::Newest,
        Sort::MostAgreed => TopOrder::MostAgreed,
    };
    let top = state
        .store
        .top_comments(conversation.id, item_id, order, after, limit)
        .await?;
    let next = (top.len() as i64 == limit)
        .then(|| match order {
            TopOrder::Newest => top.last().map(|t| t.comment.seq),
            TopOrder::MostAgreed => Some(after.max(0) + limit),
        })
        .flatten();
    let replies = top.iter().map(|t| (t.comment.id, t.replies)).collect();
    Ok(Json(CommentsPage {
        comments: top.into_iter().map(|t| t.comment.public()).collect(),
        next,
        replies: Some(replies),
    }))
}

/// A page in sequence order: `next` is the last one's `seq` when the page
/// is full. Participants get each comment's public projection.
fn in_order(comments: Vec<Comment>, limit: i64, staff: bool) -> CommentsPage {
    let next = (comments.len() as i64 == limit)
        .then(|| comments.last().map(|c| c.seq))
        .flatten();
    let comments = if staff {
        comments
    } else {
        comments.iter().map(|c| c.public()).collect()
    };
    CommentsPage {
        comments,
        next,
        replies: None,
    }
}

/// An item's visible top-level comments, best bridging score first (the
/// latest opinion analysis, at most a minute old); comments without a
/// score follow, most up-voted first, then oldest first.
async fn across_groups(
    state: &AppState,
    conversation: &Conversation,
    item_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<CommentsPage, ApiError> {
    let latest = state.opinions.get(state, conversation).await?;
    let all = state
        .store
        .comments(conversation.id, item_id, 0, i64::MAX, false)
        .await?;
    let mut replies: BTreeMap<Uuid, i64> = BTreeMap::new();
    for parent in all.iter().filter_map(|c| c.parent_id) {
        *replies.entry(parent).or_default() += 1;
    }
    let mut comments: Vec<Comment> = all
        .into_iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| c.public())
        .collect();
    let score = |c: &Comment| latest.bridging.get(&c.id).copied();
    comments.sort_by(|a, b| {
        match (score(a), score(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then(b.up.cmp(&a.up))
        .then(a.seq.cmp(&b.seq))
    });
    let start = offset.clamp(0, comments.len() as i64) as usize;
    let end = (start + limit as usize).min(comments.len());
    let next = (end < comments.len()).then_some(end as i64);
    let page: Vec<Comment> = comments.drain(start..end).collect();
    let replies = page
        .iter()
        .map(|c| (c.id, replies.get(&c.id).copied().unwrap_or(0)))
        .collect();
    Ok(CommentsPage {
        comments: page,
        next,
        replies: Some(replies),
    })
}
