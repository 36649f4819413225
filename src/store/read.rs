//! Reads, beside the writer: a small pool of connections that WAL
//! (SQLite) or MVCC (PostgreSQL) lets run while the writer commits.

use async_trait::async_trait;
use sqlx::Pool;
use uuid::Uuid;

use super::backend::Backend;
use super::command::Pending;
use super::rows::{
    column, CommentRow, ConversationRow, EventRow, ItemRow, ParticipantRow, TopCommentRow,
    COMMENT_COLUMNS, CONVERSATION_COLUMNS, ITEM_COLUMNS, ITEM_ORDER,
};
use super::write::vote::Recorded;
use super::writer::Writer;
use super::{
    DataVersion, ParticipantSession, QueueEntry, QueueFilter, QueuePage, ReportData,
    ReportParticipant, ReportVote, Snapshot, StaffSession, Store, StoreError, Tallies, TopComment,
    TopOrder,
};
use crate::domain::{
    Choice, Comment, CommentTally, Conversation, Event, Item, Millis, Participant, Role, Tally,
    User,
};

/// A store on one database: its read pool and its writer.
pub struct SqlStore<DB: Backend> {
    /// Reads run here, never on the writer's connection.
    pub(super) reads: Pool<DB>,
    /// The single writer (group commit on its own thread).
    pub(super) writer: Writer,
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    fn backend(&self) -> &'static str {
        DB::LABEL
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reads).await?;
        Ok(())
    }

    fn submit(&self, pending: Pending) -> Result<(), StoreError> {
        self.writer.submit(pending)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reads.close().await;
    }

    async fn conversation_by_slug(&self, slug: &str) -> Result<Option<Conversation>, StoreError> {
        let row: Option<ConversationRow> = sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(&self.reads)
        .await?;
        row.map(Conversation::try_from).transpose()
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let rows: Vec<ConversationRow> = sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY opens_at DESC, slug"
        ))
        .fetch_all(&self.reads)
        .await?;
        rows.into_iter().map(Conversation::try_from).collect()
    }

    async fn snapshot(
        &self,
        conversation_id: Uuid,
        include_hidden: bool,
    ) -> Result<Snapshot, StoreError> {
        // One read transaction, so the items and the sequence number agree.
        let mut tx = self.reads.begin().await?;
        let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
            .bind(conversation_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let rows: Vec<ItemRow> = sqlx::query_as(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE conversation_id = $1 AND (status = 'visible' OR ($2 AND status <> 'removed')) ORDER BY {ITEM_ORDER}"))
            .bind(conversation_id).bind(include_hidden)
            .fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let items = rows
            .into_iter()
            .map(Item::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Snapshot { items, seq })
    }

    async fn item(&self, conversation_id: Uuid, item_id: Uuid) -> Result<Option<Item>, StoreError> {
        let row: Option<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE id = $1 AND conversation_id = $2"
        ))
        .bind(item_id)
        .bind(conversation_id)
        .fetch_optional(&self.reads)
        .await?;
        row.map(Item::try_from).transpose()
    }

    async fn votes_of(
        &self,
        participant_id: Uuid,
    ) -> Result<(Vec<(Uuid, Choice)>, Vec<Uuid>), StoreError> {
        let votes: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT item_id, choice FROM votes WHERE participant_id = $1")
                .bind(participant_id)
                .fetch_all(&self.reads)
                .await?;
        let up: Vec<Uuid> =
            sqlx::query_scalar("SELECT comment_id FROM comment_votes WHERE participant_id = $1")
                .bind(participant_id)
                .fetch_all(&self.reads)
                .await?;
        let votes = votes
            .into_iter()
            .map(|(id, c)| column::<Choice>("votes.choice", &c).map(|c| (id, c)))
            .collect::<Result<_, _>>()?;
        Ok((votes, up))
    }

    async fn comments(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
        after: i64,
        limit: i64,
        include_all: bool,
    ) -> Result<Vec<Comment>, StoreError> {
        let rows: Vec<CommentRow> = sqlx::query_as(&format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE conversation_id = $1 AND item_id = $2 AND seq > $3 AND (status = 'visible' OR $4) ORDER BY seq LIMIT $5"))
            .bind(conversation_id).bind(item_id).bind(after).bind(include_all).bind(limit)
            .fetch_all(&self.reads).await?;
        rows.into_iter().map(Comment::try_from).collect()
    }

    async fn top_comments(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
        order: TopOrder,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TopComment>, StoreError> {
        // Both orders read the partial indexes of migration 0009 (visible
        // top-level comments by item), so a page costs `limit` rows (plus
        // `after` skipped index entries for most agreed) and one index
        // probe each for its replies, however large the conversation.
        let (condition, order_by, skip) = match order {
            TopOrder::Newest => ("seq < $3", "seq DESC", 0),
            TopOrder::MostAgreed => ("$3 = $3", "up DESC, seq", after.max(0)),
        };
        let cursor = match order {
            TopOrder::Newest if after <= 0 => i64::MAX,
            _ => after,
        };
        let sql = format!(
            "SELECT {COMMENT_COLUMNS}, (SELECT COUNT(*) FROM comments r WHERE r.parent_id = comments.id AND r.status = 'visible') AS replies \
             FROM comments WHERE conversation_id = $1 AND item_id = $2 AND parent_id IS NULL AND status = 'visible' AND {condition} \
             ORDER BY {order_by} LIMIT $4 OFFSET $5"
        );
        let rows: Vec<TopCommentRow> = sqlx::query_as(&sql)
            .bind(conversation_id)
            .bind(item_id)
            .bind(cursor)
            .bind(limit)
            .bind(skip)
            .fetch_all(&self.reads)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TopComment {
                    comment: Comment::try_from(r.comment)?,
                    replies: r.replies,
                })
            })
            .collect()
    }

    async fn replies(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
        parent_id: Uuid,
        after: i64,
        limit: i64,
        include_all: bool,
    ) -> Result<Vec<Comment>, StoreError> {
        let rows: Vec<CommentRow> = sqlx::query_as(&format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE parent_id = $1 AND conversation_id = $2 AND item_id = $3 AND seq > $4 AND (status = 'visible' OR $5) ORDER BY seq LIMIT $6"))
            .bind(parent_id).bind(conversation_id).bind(item_id).bind(after).bind(include_all).bind(limit)
            .fetch_all(&self.reads).await?;
        rows.into_iter().map(Comment::try_from).collect()
    }

    async fn moderation_queue(
        &self,
        conversation_id: Uuid,
        page: &QueuePage,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        // One statement text for both databases: `lower(..) LIKE` with an
        // escaped pattern (SQLite's `lower` folds ASCII letters only).
        let mut sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE conversation_id = $1 AND ({})",
            queue_condition(page.filter)
        );
        let (cmp, order) = if page.newest_first {
            ("<", "DESC")
        } else {
            (">", "")
        };
        let mut n = 1;
        let mut param = || {
            n += 1;
            n
        };
        if page.after.is_some() {
            sql += &format!(" AND seq {cmp} ${}", param());
        }
        if page.item_id.is_some() {
            sql += &format!(" AND item_id = ${}", param());
        }
        if page.text.is_some() {
            sql += &format!(" AND lower(body) LIKE ${} ESCAPE '\\'", param());
        }
        sql += &format!(" ORDER BY seq {order} LIMIT ${}", param());
        let mut query = sqlx::query_as::<DB, CommentRow>(&sql).bind(conversation_id);
        if let Some(after) = page.after {
            query = query.bind(after);
        }
        if let Some(item_id) = page.item_id {
            query = query.bind(item_id);
        }
        if let Some(text) = &page.text {
            query = query.bind(like_pattern(text));
        }
        query = query.bind(page.limit);
        // The page and its flags in one read transaction, so they agree.
        let mut tx = self.reads.begin().await?;
        let rows: Vec<CommentRow> = query.fetch_all(&mut *tx).await?;
        let comments: Vec<Comment> = rows
            .into_iter()
            .map(Comment::try_from)
            .collect::<Result<_, _>>()?;
        let flagged: Vec<(Uuid, i64)> = comments
            .iter()
            .filter(|c| c.flags > 0)
            .map(|c| (c.id, c.flags))
            .collect();
        let mut reasons: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
        if !flagged.is_empty() {
            // Approving settles flags by setting the count back to 0 and
            // keeps their rows for the audit trail; every flag after that
            // adds one. So a comment's open flags are its newest `flags`.
            let list = (0..flagged.len())
                .map(|i| format!("${}", i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT comment_id, reason FROM flags WHERE comment_id IN ({list}) ORDER BY comment_id, created_at DESC, id DESC");
            let mut query = sqlx::query_as::<DB, (Uuid, String)>(&sql);
            for (id, _) in &flagged {
                query = query.bind(*id);
            }
            for (id, reason) in query.fetch_all(&mut *tx).await? {
                reasons.entry(id).or_default().push(reason);
            }
            for (id, open) in &flagged {
                if let Some(list) = reasons.get_mut(id) {
                    list.truncate(usize::try_from(*open).unwrap_or(0));
                }
            }
        }
        tx.commit().await?;
        Ok(comments
            .into_iter()
            .map(|comment| QueueEntry {
                flag_reasons: reasons.remove(&comment.id).unwrap_or_default(),
                comment,
            })
            .collect())
    }

    async fn events(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT conversation_id, seq, actor, data, created_at FROM events WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(conversation_id).bind(after).bind(limit)
            .fetch_all(&self.reads).await?;
        rows.into_iter().map(Event::try_from).collect()
    }

    async fn last_seq(&self, conversation_id: Uuid) -> Result<i64, StoreError> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
                .bind(conversation_id)
                .fetch_optional(&self.reads)
                .await?;
        seq.ok_or(StoreError::NotFound("conversation"))
    }

    async fn data_version(&self, conversation_id: Uuid) -> Result<DataVersion, StoreError> {
        // Sums cast back to BIGINT: PostgreSQL sums BIGINTs as NUMERIC.
        let row: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT last_seq, \
               (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM items WHERE conversation_id = $1), \
               (SELECT CAST(COALESCE(SUM(up_version), 0) AS BIGINT) FROM comments WHERE conversation_id = $1), \
               (SELECT COUNT(*) FROM participants WHERE conversation_id = $1), \
               (SELECT COUNT(*) FROM display_sessions WHERE conversation_id = $1) \
             FROM conversations WHERE id = $1",
        )
        .bind(conversation_id)
        .fetch_optional(&self.reads)
        .await?;
        let (last_seq, items, comments, participants, display_days) =
            row.ok_or(StoreError::NotFound("conversation"))?;
        Ok(DataVersion {
            last_seq,
            tally_versions: items + comments,
            participants,
            display_days,
        })
    }

    async fn tallies(&self, conversation_id: Uuid) -> Result<Tallies, StoreError> {
        let items: Vec<(Uuid, i64, i64, i64)> = sqlx::query_as("SELECT id, strong, wrong, version FROM items WHERE conversation_id = $1 AND status = 'visible'")
            .bind(conversation_id).fetch_all(&self.reads).await?;
        let comments: Vec<(Uuid, i64, i64)> = sqlx::query_as(
            "SELECT id, up, up_version FROM comments WHERE conversation_id = $1 AND up_version > 0 AND status = 'visible'")
            .bind(conversation_id).fetch_all(&self.reads).await?;
        Ok(Tallies {
            items: items
                .into_iter()
                .map(|(id, strong, wrong, version)| {
                    (
                        id,
                        Tally {
                            strong,
                            wrong,
                            version,
                        },
                    )
                })
                .collect(),
            comments: comments
                .into_iter()
                .map(|(id, up, version)| (id, CommentTally { up, version }))
                .collect(),
        })
    }

    async fn staff_session(&self, token_hash: &[u8]) -> Result<Option<StaffSession>, StoreError> {
        let row: Option<(Uuid, i64, Uuid, String, String)> = sqlx::query_as(
            "SELECT s.id, s.expires_at, u.id, u.name, u.role FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.reads)
        .await?;
        let Some((id, expires_at, user_id, name, role)) = row else {
            return Ok(None);
        };
        let role = column::<Role>("users.role", &role)?;
        Ok(Some(StaffSession {
            id,
            user: User {
                id: user_id,
                name,
                role,
            },
            expires_at: Millis(expires_at),
        }))
    }

    async fn participant_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<ParticipantSession>, StoreError> {
        let row: Option<(Uuid, i64, i64, Uuid, Uuid, String, bool)> = sqlx::query_as(
            "SELECT s.id, s.expires_at, s.refreshed_at, p.id, p.conversation_id, p.handle, p.suspended \
             FROM sessions s JOIN participants p ON p.id = s.participant_id WHERE s.token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(
            |(id, expires_at, refreshed_at, participant_id, conversation_id, handle, suspended)| {
                ParticipantSession {
                    id,
                    participant: Participant {
                        id: participant_id,
                        conversation_id,
                        handle,
                        suspended,
                    },
                    expires_at: Millis(expires_at),
                    refreshed_at: Millis(refreshed_at),
                }
            },
        ))
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<(Uuid, String, String, String)> =
            sqlx::query_as("SELECT id, name, role, password_hash FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.reads)
                .await?;
        row.map(|(id, name, role, hash)| {
            column::<Role>("users.role", &role).map(|role| (User { id, name, role }, hash))
        })
        .transpose()
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<(Uuid, String, String)> =
            sqlx::query_as("SELECT id, name, role FROM users ORDER BY name")
                .fetch_all(&self.reads)
                .await?;
        rows.into_iter()
            .map(|(id, name, role)| {
                column::<Role>("users.role", &role).map(|role| User { id, name, role })
            })
            .collect()
    }

    async fn original_body(
        &self,
        conversation_id: Uuid,
        comment_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT original_body FROM comments WHERE id = $1 AND conversation_id = $2",
        )
        .bind(comment_id)
        .bind(conversation_id)
        .fetch_optional(&self.reads)
        .await?;
        let (original,) = row.ok_or(StoreError::NotFound("comment"))?;
        Ok(original)
    }

    async fn contributions(
        &self,
        conversation_id: Uuid,
        participant_id: Uuid,
    ) -> Result<Option<super::contributions::Contributions>, StoreError> {
        super::contributions::read(&self.reads, conversation_id, participant_id).await
    }

    async fn pending_ideas_of(
        &self,
        conversation_id: Uuid,
        participant_id: Uuid,
    ) -> Result<Vec<Item>, StoreError> {
        let rows: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE conversation_id = $1 AND participant_id = $2 \
             AND status = 'pending' ORDER BY created_at, id"
        ))
        .bind(conversation_id)
        .bind(participant_id)
        .fetch_all(&self.reads)
        .await?;
        rows.into_iter().map(Item::try_from).collect()
    }

    async fn original_idea(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT original_title, original_body FROM items WHERE id = $1 AND conversation_id = $2",
        )
        .bind(item_id)
        .bind(conversation_id)
        .fetch_optional(&self.reads)
        .await?;
        let (title, body) = row.ok_or(StoreError::NotFound("item"))?;
        Ok(title.zip(body))
    }

    async fn report_data(&self, conversation_id: Uuid) -> Result<ReportData, StoreError> {
        let mut tx = self.reads.begin().await?;
        let conversation: ConversationRow = sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
        ))
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
        let participants: Vec<(Uuid, String, i64, String)> = sqlx::query_as(
            "SELECT id, profile, created_at, way_in FROM participants WHERE conversation_id = $1 AND left_at IS NULL",
        )
        .bind(conversation_id)
        .fetch_all(&mut *tx)
        .await?;
        let items: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE conversation_id = $1 ORDER BY {ITEM_ORDER}"
        ))
        .bind(conversation_id)
        .fetch_all(&mut *tx)
        .await?;
        let votes: Vec<(Uuid, Uuid, String, i64)> = sqlx::query_as("SELECT participant_id, item_id, choice, updated_at FROM votes WHERE conversation_id = $1")
            .bind(conversation_id).fetch_all(&mut *tx).await?;
        let comments: Vec<CommentRow> = sqlx::query_as(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE conversation_id = $1 AND deleted = $2 ORDER BY seq"
        ))
        .bind(conversation_id)
        .bind(false)
        .fetch_all(&mut *tx)
        .await?;
        let authors: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT participant_id FROM comments WHERE conversation_id = $1 AND deleted = $2 ORDER BY seq",
        )
        .bind(conversation_id)
        .bind(false)
        .fetch_all(&mut *tx)
        .await?;
        let comment_votes: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT v.participant_id, v.comment_id FROM comments c \
             JOIN comment_votes v ON v.comment_id = c.id WHERE c.conversation_id = $1",
        )
        .bind(conversation_id)
        .fetch_all(&mut *tx)
        .await?;
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT conversation_id, seq, actor, data, created_at FROM events WHERE conversation_id = $1 AND kind = 'conversation' ORDER BY seq")
            .bind(conversation_id).fetch_all(&mut *tx).await?;
        let display_days: Vec<i64> = sqlx::query_scalar(
            "SELECT day FROM display_sessions WHERE conversation_id = $1 ORDER BY day",
        )
        .bind(conversation_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let participants = participants
            .into_iter()
            .map(|(id, profile, created_at, way_in)| {
                Ok(ReportParticipant {
                    id,
                    way_in: column("participants.way_in", &way_in)?,
                    profile: serde_json::from_str(&profile)
                        .map_err(|e| StoreError::Corrupt(format!("profile: {e}")))?,
                    created_at: Millis(created_at),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let votes = votes
            .into_iter()
            .map(|(participant_id, item_id, choice, at)| {
                column::<Choice>("votes.choice", &choice).map(|choice| ReportVote {
                    participant_id,
                    item_id,
                    choice,
                    at: Millis(at),
                })
            })
            .collect::<Result<_, _>>()?;
        let comments = comments
            .into_iter()
            .zip(authors)
            .map(|(row, (author,))| Comment::try_from(row).map(|c| (c, author)))
            .collect::<Result<_, _>>()?;
        Ok(ReportData {
            conversation: Conversation::try_from(conversation)?,
            participants,
            items: items
                .into_iter()
                .map(Item::try_from)
                .collect::<Result<_, _>>()?,
            votes,
            comments,
            comment_votes,
            conversation_events: events
                .into_iter()
                .map(Event::try_from)
                .collect::<Result<_, _>>()?,
            display_days,
        })
    }

    async fn display_token_valid(
        &self,
        conversation_id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool, StoreError> {
        let found: Option<Uuid> =
            sqlx::query_scalar("SELECT conversation_id FROM display_tokens WHERE token_hash = $1")
                .bind(token_hash.to_vec())
                .fetch_optional(&self.reads)
                .await?;
        Ok(found == Some(conversation_id))
    }

    async fn email_code_attempt(
        &self,
        conversation_id: Uuid,
        identity_hash: &[u8],
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM email_codes WHERE conversation_id = $1 AND identity_hash = $2",
        )
        .bind(conversation_id)
        .bind(identity_hash.to_vec())
        .fetch_optional(&self.reads)
        .await?)
    }

    async fn participant_by_return_phrase(
        &self,
        conversation_id: Uuid,
        phrase_hash: &[u8],
    ) -> Result<Option<Participant>, StoreError> {
        let row: Option<ParticipantRow> = sqlx::query_as(
            "SELECT id, conversation_id, handle, suspended FROM participants \
             WHERE conversation_id = $1 AND return_phrase_hash = $2",
        )
        .bind(conversation_id)
        .bind(phrase_hash.to_vec())
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(Participant::from))
    }

    async fn invite_counts(
        &self,
        conversation_id: Uuid,
    ) -> Result<crate::store::write::InviteCounts, StoreError> {
        let (issued, used): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(CASE WHEN used THEN 1 END) FROM invites WHERE conversation_id = $1",
        )
        .bind(conversation_id)
        .fetch_one(&self.reads)
        .await?;
        Ok(crate::store::write::InviteCounts { issued, used })
    }

    async fn request(&self, id: Uuid) -> Result<Option<Recorded>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT fingerprint, answer FROM requests WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.reads)
                .await?;
        Ok(row.map(|(fingerprint, answer)| Recorded {
            fingerprint,
            answer,
        }))
    }
}

/// The condition a queue's comments meet.
fn queue_condition(filter: QueueFilter) -> &'static str {
    match filter {
        QueueFilter::Pending => "status = 'pending'",
        QueueFilter::Hidden => "status = 'hidden'",
        QueueFilter::Flagged => "flags > 0 AND status <> 'hidden'",
        QueueFilter::Review => "status = 'pending' OR (flags > 0 AND status <> 'hidden')",
        QueueFilter::All => "1 = 1",
    }
}

/// A `LIKE` pattern (escape character `\`) that matches `text` anywhere,
/// in lower case, its own `%`, `_` and `\` taken literally.
pub(super) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("Ward 4"), "%ward 4%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
