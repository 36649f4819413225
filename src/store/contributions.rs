//! One participant's own contributions, read for "My contributions" and
//! for the download of their data: everything they did in one
//! conversation and nothing of anyone else's.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Pool;
use uuid::Uuid;

use super::backend::Backend;
use super::rows::{column, CommentRow, ItemRow, COMMENT_COLUMNS, ITEM_COLUMNS};
use super::StoreError;
use crate::domain::{Choice, Comment, Item, ItemKind, Millis};

/// Everything one participant contributed to one conversation.
#[derive(Debug, Clone, Serialize)]
pub struct Contributions {
    pub handle: String,
    /// Their answers to the conversation's profile questions.
    pub profile: BTreeMap<String, String>,
    pub joined_at: Millis,
    pub votes: Vec<OwnVote>,
    /// The comments they agreed with (up-voted).
    pub comment_votes: Vec<OwnUpVote>,
    /// Comments and replies, oldest first; ones they deleted are gone.
    pub comments: Vec<OwnComment>,
    pub ideas: Vec<OwnIdea>,
    /// The comments they flagged for the facilitators, and why.
    pub flags: Vec<OwnFlag>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnVote {
    pub item_id: Uuid,
    pub kind: ItemKind,
    pub title: String,
    pub choice: Choice,
    pub at: Millis,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnUpVote {
    pub comment_id: Uuid,
    pub at: Millis,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnComment {
    pub comment: Comment,
    /// The title of the pledge or idea it is on.
    pub item_title: String,
    /// How many replies hang off it (an answered comment can no longer be edited).
    pub replies: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnIdea {
    pub item: Item,
    /// Comments on it and votes by others (an answered idea can no longer be edited).
    pub responses: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnFlag {
    pub comment_id: Uuid,
    pub reason: String,
    pub at: Millis,
}

/// Reads one participant's contributions in one read transaction, or
/// `None` when there is no such participant in the conversation.
pub async fn read<DB>(
    pool: &Pool<DB>,
    conversation_id: Uuid,
    participant_id: Uuid,
) -> Result<Option<Contributions>, StoreError>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let mut tx = pool.begin().await?;
    let who: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT handle, profile, created_at FROM participants \
         WHERE id = $1 AND conversation_id = $2 AND left_at IS NULL",
    )
    .bind(participant_id)
    .bind(conversation_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((handle, profile, joined_at)) = who else {
        return Ok(None);
    };
    let profile: BTreeMap<String, String> = serde_json::from_str(&profile)
        .map_err(|e| StoreError::Corrupt(format!("participants.profile: {e}")))?;

    let votes: Vec<(Uuid, String, String, String, i64)> = sqlx::query_as(
        "SELECT v.item_id, i.kind, i.title, v.choice, v.updated_at FROM votes v \
         JOIN items i ON i.id = v.item_id WHERE v.participant_id = $1 \
         ORDER BY v.updated_at, v.item_id",
    )
    .bind(participant_id)
    .fetch_all(&mut *tx)
    .await?;
    let votes = votes
        .into_iter()
        .map(|(item_id, kind, title, choice, at)| {
            Ok(OwnVote {
                item_id,
                kind: column("items.kind", &kind)?,
                title,
                choice: column("votes.choice", &choice)?,
                at: Millis(at),
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let comment_votes: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT comment_id, created_at FROM comment_votes WHERE participant_id = $1 \
         ORDER BY created_at, comment_id",
    )
    .bind(participant_id)
    .fetch_all(&mut *tx)
    .await?;

    let comments: Vec<CommentRow> = sqlx::query_as(&format!(
        "SELECT {COMMENT_COLUMNS} FROM comments WHERE conversation_id = $1 \
         AND participant_id = $2 AND deleted = $3 ORDER BY seq"
    ))
    .bind(conversation_id)
    .bind(participant_id)
    .bind(false)
    .fetch_all(&mut *tx)
    .await?;
    let replies: HashMap<Uuid, i64> = sqlx::query_as::<_, (Uuid, i64)>(
        "SELECT r.parent_id, COUNT(*) FROM comments r JOIN comments c ON c.id = r.parent_id \
         WHERE c.participant_id = $1 GROUP BY r.parent_id",
    )
    .bind(participant_id)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let titles: HashMap<Uuid, String> = sqlx::query_as::<_, (Uuid, String)>(
        "SELECT DISTINCT i.id, i.title FROM items i JOIN comments c ON c.item_id = i.id \
         WHERE c.participant_id = $1",
    )
    .bind(participant_id)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let comments = comments
        .into_iter()
        .map(|row| {
            let comment = Comment::try_from(row)?;
            Ok(OwnComment {
                item_title: titles.get(&comment.item_id).cloned().unwrap_or_default(),
                replies: replies.get(&comment.id).copied().unwrap_or(0),
                comment,
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let ideas: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE conversation_id = $1 AND participant_id = $2 \
         AND deleted = $3 ORDER BY created_at, id"
    ))
    .bind(conversation_id)
    .bind(participant_id)
    .bind(false)
    .fetch_all(&mut *tx)
    .await?;
    let mut responses: HashMap<Uuid, i64> = HashMap::new();
    for sql in [
        "SELECT c.item_id, COUNT(*) FROM comments c JOIN items i ON i.id = c.item_id \
         WHERE i.participant_id = $1 AND c.participant_id <> $1 GROUP BY c.item_id",
        "SELECT v.item_id, COUNT(*) FROM votes v JOIN items i ON i.id = v.item_id \
         WHERE i.participant_id = $1 AND v.participant_id <> $1 GROUP BY v.item_id",
    ] {
        let counts: Vec<(Uuid, i64)> = sqlx::query_as(sql)
            .bind(participant_id)
            .fetch_all(&mut *tx)
            .await?;
        for (id, n) in counts {
            *responses.entry(id).or_default() += n;
        }
    }
    let ideas = ideas
        .into_iter()
        .map(|row| {
            let item = Item::try_from(row)?;
            Ok(OwnIdea {
                responses: responses.get(&item.id).copied().unwrap_or(0),
                item,
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let flags: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT comment_id, reason, created_at FROM flags WHERE participant_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(participant_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    Ok(Some(Contributions {
        handle,
        profile,
        joined_at: Millis(joined_at),
        votes,
        comment_votes: comment_votes
            .into_iter()
            .map(|(comment_id, at)| OwnUpVote {
                comment_id,
                at: Millis(at),
            })
            .collect(),
        comments,
        ideas,
        flags: flags
            .into_iter()
            .map(|(comment_id, reason, at)| OwnFlag {
                comment_id,
                reason,
                at: Millis(at),
            })
            .collect(),
    }))
}
