//! What organisers and the running system do to conversations: create and
//! change them, publish pledges, let display screens in, and forget old
//! request ids.

use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request, RequestKey};
use super::super::rows::{ConversationRow, CONVERSATION_COLUMNS};
use super::super::StoreError;
use super::Tx;
use crate::domain::{
    conversation::ConversationPatch, Conversation, DisplayKind, EventData, Item, ItemKind,
    ItemStatus, Millis,
};

/// An organiser creates a conversation (already validated by the domain).
#[derive(Debug, Clone)]
pub struct CreateConversation {
    pub conversation: Conversation,
}

impl Command for CreateConversation {
    type Answer = Conversation;
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::CreateConversation(request)
    }
}

/// Changes the fields a patch names, to the conversation as it is when the
/// writer applies it.
#[derive(Debug, Clone)]
pub struct ChangeConversation {
    pub conversation_id: Uuid,
    pub patch: ConversationPatch,
    pub actor: String,
}

impl Command for ChangeConversation {
    type Answer = Conversation;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::ChangeConversation(request)
    }
}

/// Adds a pledge or a discussion topic, or edits one (same id).
#[derive(Debug, Clone)]
pub struct UpsertPledge {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    /// `Pledge` or `Topic` (an item keeps the kind it was added with).
    pub kind: ItemKind,
    /// Set when an organiser adds the pledge (`POST`): the item id is then
    /// also a request id, so a retry gets its first answer and cannot undo
    /// an edit made since. Edits and imports set whatever they name.
    pub adding: bool,
    pub title: String,
    pub body: String,
    pub position: i64,
    pub actor: String,
}

impl Command for UpsertPledge {
    type Answer = Item;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.kind,
            &self.title,
            &self.body,
            self.position,
            &self.actor,
        );
        self.adding
            .then(|| RequestKey::new(self.item_id, "add_pledge", &parts))
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::UpsertPledge(request)
    }
}

/// A token that lets a display screen watch a conversation (stored hashed).
#[derive(Debug, Clone)]
pub struct CreateDisplayToken {
    pub conversation_id: Uuid,
    pub token_hash: Vec<u8>,
    pub actor: String,
}

impl Command for CreateDisplayToken {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::CreateDisplayToken(request)
    }
}

/// A display screen watched the conversation on this UTC day (report).
#[derive(Debug, Clone)]
pub struct RecordDisplayDay {
    pub conversation_id: Uuid,
    pub day: i64,
}

impl Command for RecordDisplayDay {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::RecordDisplayDay(request)
    }
}

/// Announces that a conversation's deadline has passed: a `conversation`
/// event with action `close`, as for a manual close, so screens need not
/// work it out from the clock. Every node may send it; the request key
/// (conversation and deadline) lets only the first one through.
#[derive(Debug, Clone)]
pub struct AnnounceDeadline {
    pub conversation_id: Uuid,
    pub closes_at: Millis,
}

impl Command for AnnounceDeadline {
    /// Whether this call announced it (false: extended since, or announced).
    type Answer = bool;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let id = Uuid::new_v5(
            &self.conversation_id,
            format!("deadline:{}", self.closes_at.0).as_bytes(),
        );
        Some(RequestKey::new(
            id,
            "deadline",
            &(self.conversation_id, self.closes_at.0),
        ))
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::AnnounceDeadline(request)
    }
}

/// Forgets request ids recorded before `before`: past the retention window
/// a retry is no longer recognised (see `store.request_retention_hours`).
#[derive(Debug, Clone)]
pub struct PruneRequests {
    pub before: Millis,
}

impl Command for PruneRequests {
    /// How many records were removed.
    type Answer = u64;
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::PruneRequests(request)
    }
}

impl<DB> Tx<'_, DB>
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
    pub async fn create_conversation(
        &mut self,
        command: &CreateConversation,
    ) -> Answer<CreateConversation> {
        let conversation = &command.conversation;
        let taken: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE slug = $1")
                .bind(&conversation.slug)
                .fetch_optional(&mut *self.c)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "the slug {:?} is already taken",
                conversation.slug
            )));
        }
        self.check_series(&conversation.slug, &conversation.series)
            .await?;
        let row = ConversationRow::from_conversation(conversation)?;
        sqlx::query(&format!(
            "INSERT INTO conversations ({CONVERSATION_COLUMNS}, last_seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 0, $21)"
        ))
        .bind(row.id)
        .bind(row.slug)
        .bind(row.title)
        .bind(row.introduction)
        .bind(row.opens_at)
        .bind(row.closes_at)
        .bind(row.ways_in)
        .bind(row.email_domains)
        .bind(row.access_code)
        .bind(row.moderation)
        .bind(row.ideas_need_approval)
        .bind(row.profile_questions)
        .bind(row.results_visibility)
        .bind(row.results_while_open)
        .bind(row.series)
        .bind(row.archived)
        .bind(row.support_contact)
        .bind(row.word_list)
        .bind(row.display)
        .bind(row.tallies_visible)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(conversation.clone()))
    }

    pub async fn change_conversation(
        &mut self,
        command: &ChangeConversation,
    ) -> Answer<ChangeConversation> {
        let row: Option<ConversationRow> = sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
        ))
        .bind(command.conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        let before = Conversation::try_from(row.ok_or(StoreError::NotFound("conversation"))?)?;
        let (after, action) = command.patch.apply(&before, self.now)?;
        // The item in focus, or whose comments the wall shows.
        if after.display.mode != DisplayKind::All {
            if let Some(item_id) = after.display.item_id {
                self.item(after.id, item_id)
                    .await?
                    .ok_or(StoreError::NotFound("item"))?;
            }
        }
        if after.series != before.series {
            self.check_series(&after.slug, &after.series).await?;
        }
        let row = ConversationRow::from_conversation(&after)?;
        sqlx::query(
            "UPDATE conversations SET title = $1, introduction = $2, opens_at = $3, closes_at = $4, \
             ways_in = $5, access_code = $6, moderation = $7, ideas_need_approval = $8, \
             profile_questions = $9, results_visibility = $10, results_while_open = $11, \
             series = $12, archived = $13, support_contact = $14, word_list = $15, display = $16, \
             tallies_visible = $17, email_domains = $19 WHERE id = $18",
        )
        .bind(row.title)
        .bind(row.introduction)
        .bind(row.opens_at)
        .bind(row.closes_at)
        .bind(row.ways_in)
        .bind(row.access_code)
        .bind(row.moderation)
        .bind(row.ideas_need_approval)
        .bind(row.profile_questions)
        .bind(row.results_visibility)
        .bind(row.results_while_open)
        .bind(row.series)
        .bind(row.archived)
        .bind(row.support_contact)
        .bind(row.word_list)
        .bind(row.display)
        .bind(row.tallies_visible)
        .bind(row.id)
        .bind(row.email_domains)
        .execute(&mut *self.c)
        .await?;
        let data = EventData::Conversation {
            action: action.to_string(),
            conversation: after.clone(),
        };
        let event = self
            .append_event(after.id, None, &command.actor, data)
            .await?;
        Ok(Committed {
            answer: after,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn upsert_pledge(&mut self, command: &UpsertPledge) -> Answer<UpsertPledge> {
        let owner: Option<Uuid> =
            sqlx::query_scalar("SELECT conversation_id FROM items WHERE id = $1")
                .bind(command.item_id)
                .fetch_optional(&mut *self.c)
                .await?;
        let (action, previous) = match owner {
            Some(owner) if owner != command.conversation_id => {
                return Err(StoreError::Conflict(
                    "this item id is already in use".into(),
                ));
            }
            Some(_) => {
                let before = self
                    .item(command.conversation_id, command.item_id)
                    .await?
                    .ok_or(StoreError::NotFound("item"))?;
                if !before.kind.is_organisers() || before.status == ItemStatus::Removed {
                    return Err(StoreError::Conflict(
                        "this item id belongs to an idea or a removed item".into(),
                    ));
                }
                if (before.title.as_str(), before.body.as_str(), before.position)
                    == (
                        command.title.as_str(),
                        command.body.as_str(),
                        command.position,
                    )
                {
                    return Ok(Committed::quiet(before));
                }
                sqlx::query("UPDATE items SET title = $1, body = $2, position = $3 WHERE id = $4")
                    .bind(&command.title)
                    .bind(&command.body)
                    .bind(command.position)
                    .bind(command.item_id)
                    .execute(&mut *self.c)
                    .await?;
                ("edit", Some(before.status))
            }
            None => {
                sqlx::query(
                    "INSERT INTO items (id, conversation_id, kind, title, body, status, position, \
                     participant_id, handle, strong, wrong, version, comments, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'visible', $6, NULL, NULL, 0, 0, 0, 0, $7)",
                )
                .bind(command.item_id)
                .bind(command.conversation_id)
                .bind(command.kind.as_str())
                .bind(&command.title)
                .bind(&command.body)
                .bind(command.position)
                .bind(self.now.0)
                .execute(&mut *self.c)
                .await?;
                ("created", None)
            }
        };
        let item = self
            .item(command.conversation_id, command.item_id)
            .await?
            .ok_or(StoreError::NotFound("item"))?;
        let data = EventData::Item {
            action: action.into(),
            item: item.clone(),
            previous,
        };
        let event = self
            .append_event(command.conversation_id, None, &command.actor, data)
            .await?;
        Ok(Committed {
            answer: item,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn create_display_token(
        &mut self,
        command: &CreateDisplayToken,
    ) -> Answer<CreateDisplayToken> {
        sqlx::query(
            "INSERT INTO display_tokens (token_hash, conversation_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&command.token_hash)
        .bind(command.conversation_id)
        .bind(&command.actor)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn record_display_day(
        &mut self,
        command: &RecordDisplayDay,
    ) -> Answer<RecordDisplayDay> {
        sqlx::query(
            "INSERT INTO display_sessions (conversation_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(command.conversation_id)
        .bind(command.day)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn announce_deadline(
        &mut self,
        command: &AnnounceDeadline,
    ) -> Answer<AnnounceDeadline> {
        let row: Option<ConversationRow> = sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
        ))
        .bind(command.conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        let conversation =
            Conversation::try_from(row.ok_or(StoreError::NotFound("conversation"))?)?;
        if conversation.closes_at != command.closes_at || command.closes_at > self.now {
            return Ok(Committed::quiet(false));
        }
        // An early close ("closes_at": "now") was announced when it was made.
        let last: Option<String> = sqlx::query_scalar(
            "SELECT data FROM events WHERE conversation_id = $1 AND kind = 'conversation' \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(command.conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        let announced = last
            .and_then(|data| serde_json::from_str::<EventData>(&data).ok())
            .is_some_and(|data| match data {
                EventData::Conversation {
                    action,
                    conversation,
                } => action == "close" && conversation.closes_at == command.closes_at,
                _ => false,
            });
        if announced {
            return Ok(Committed::quiet(false));
        }
        let data = EventData::Conversation {
            action: "close".into(),
            conversation,
        };
        let event = self
            .append_event(command.conversation_id, None, "chorus", data)
            .await?;
        Ok(Committed {
            answer: true,
            events: vec![event],
            tally: None,
        })
    }

    /// The earlier conversations a series names must exist and must not
    /// lead back to `own` (a series is a line through time, not a loop).
    pub async fn check_series(&mut self, own: &str, series: &[String]) -> Result<(), StoreError> {
        let mut seen: Vec<String> = Vec::new();
        let mut next: Vec<String> = series.to_vec();
        let mut first = true;
        while !next.is_empty() {
            let mut later = Vec::new();
            for slug in next {
                if slug == own {
                    return Err(StoreError::Invalid {
                        field: "series",
                        message: "would make a loop: an earlier conversation named here already follows this one".into(),
                    });
                }
                if seen.contains(&slug) {
                    continue;
                }
                let earlier: Option<String> =
                    sqlx::query_scalar("SELECT series FROM conversations WHERE slug = $1")
                        .bind(&slug)
                        .fetch_optional(&mut *self.c)
                        .await?;
                let Some(earlier) = earlier else {
                    if first {
                        return Err(StoreError::Invalid {
                            field: "series",
                            message: format!("no conversation has the address {slug:?}"),
                        });
                    }
                    continue;
                };
                let earlier: Vec<String> = serde_json::from_str(&earlier)
                    .map_err(|e| StoreError::Corrupt(format!("series: {e}")))?;
                later.extend(earlier);
                seen.push(slug);
            }
            first = false;
            next = later;
        }
        Ok(())
    }

    pub async fn prune_requests(&mut self, command: &PruneRequests) -> Answer<PruneRequests> {
        let done = sqlx::query("DELETE FROM requests WHERE created_at < $1")
            .bind(command.before.0)
            .execute(&mut *self.c)
            .await?;
        Ok(Committed::quiet(DB::rows_affected(&done)))
    }
}
