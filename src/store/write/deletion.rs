//! Deleting a conversation for good, after its organisers exported it:
//! every row that belongs to it, in one transaction, children first so
//! the foreign keys hold at every step.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request};
use super::super::StoreError;
use super::Tx;

#[derive(Debug, Clone)]
pub struct DeleteConversation {
    pub conversation_id: Uuid,
}

/// Every table holding rows of a conversation, as `(table, condition)`,
/// in the order they are emptied: rows that point at others go first.
/// A table added later that refers to a conversation must be added here;
/// if it is not, its foreign key makes the deletion fail (and change
/// nothing) rather than leave orphans.
const TABLES: &[(&str, &str)] = &[
    (
        "comment_votes",
        "comment_id IN (SELECT id FROM comments WHERE conversation_id = $1)",
    ),
    (
        "flags",
        "comment_id IN (SELECT id FROM comments WHERE conversation_id = $1)",
    ),
    ("comments", "conversation_id = $1"),
    ("votes", "conversation_id = $1"),
    ("items", "conversation_id = $1"),
    (
        "sessions",
        "participant_id IN (SELECT id FROM participants WHERE conversation_id = $1)",
    ),
    ("participants", "conversation_id = $1"),
    ("events", "conversation_id = $1"),
    ("display_tokens", "conversation_id = $1"),
    ("display_sessions", "conversation_id = $1"),
    ("email_codes", "conversation_id = $1"),
    ("invites", "conversation_id = $1"),
    ("conversations", "id = $1"),
];

impl Command for DeleteConversation {
    /// Rows deleted, by table.
    type Answer = BTreeMap<String, u64>;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::DeleteConversation(request)
    }
}

impl<DB> Tx<'_, DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    pub async fn delete_conversation(
        &mut self,
        command: &DeleteConversation,
    ) -> Answer<DeleteConversation> {
        let slug: Option<String> =
            sqlx::query_scalar("SELECT slug FROM conversations WHERE id = $1")
                .bind(command.conversation_id)
                .fetch_optional(&mut *self.c)
                .await?;
        let slug = slug.ok_or(StoreError::NotFound("conversation"))?;
        let mut deleted = BTreeMap::new();
        for (table, condition) in TABLES {
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE {condition}"))
                .bind(command.conversation_id)
                .execute(&mut *self.c)
                .await?;
            deleted.insert(table.to_string(), DB::rows_affected(&done));
        }
        // Later conversations that named it in their series no longer do.
        let later: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, series FROM conversations WHERE series LIKE $1")
                .bind(format!("%\"{slug}\"%"))
                .fetch_all(&mut *self.c)
                .await?;
        for (id, series) in later {
            let mut series: Vec<String> = serde_json::from_str(&series)
                .map_err(|e| StoreError::Corrupt(format!("series: {e}")))?;
            series.retain(|s| s != &slug);
            let series =
                serde_json::to_string(&series).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE conversations SET series = $1 WHERE id = $2")
                .bind(series)
                .bind(id)
                .execute(&mut *self.c)
                .await?;
        }
        Ok(Committed::quiet(deleted))
    }
}
