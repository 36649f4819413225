//! Durable storage behind one trait, [`Store`], with one implementation per
//! database: SQLite (the embedded default) and PostgreSQL (cluster mode),
//! picked by the URL's scheme in [`connect`]. Each keeps its own migrations
//! under `migrations/<backend>/`.
//!
//! Every change goes through [`Store::write`], which hands it to the
//! store's single writer. The writer takes the writes that arrived
//! together, applies them in one transaction (group commit: one fsync for
//! the lot) and only then answers each. So an acknowledged write is durable,
//! and durability does not cost throughput. Inside that transaction an
//! event gets its conversation's next sequence number and a vote bumps its
//! item's tally version: commit order is sequence order.

pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::domain::{
    AuthorAction, Choice, Comment, CommentStatus, CommentTally, Conversation, Event, Item,
    ItemStatus, ModerationAction, Participant, Role, Tally, User,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing named does not exist (in this conversation).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A client UUID or unique name already used for something else.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A rule that needs the database to check (e.g. replying to a reply).
    #[error("invalid: {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The participant is suspended from contributing.
    #[error("participant is suspended")]
    Suspended,
    /// Too many writes are waiting; the caller should retry later.
    #[error("the store is overloaded")]
    Overloaded,
    /// The writer has shut down.
    #[error("the store is closed")]
    Closed,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Errors that come from the caller's request, not from the database;
    /// the writer does not retry them.
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::Conflict(_)
                | StoreError::Invalid { .. }
                | StoreError::Suspended
        )
    }
}

/// A logged-in browser: who it is, if anyone with a role.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub user: Option<User>,
}

/// Everything that changes stored state. Each write is self-contained so
/// the writer can re-run it on its own if its batch fails.
#[derive(Debug, Clone)]
pub enum Write {
    CreateSession {
        id: Uuid,
        token_hash: Vec<u8>,
        user_id: Option<Uuid>,
    },
    SetSessionUser {
        session_id: Uuid,
        user_id: Option<Uuid>,
    },
    SignUp {
        conversation_id: Uuid,
        session_id: Uuid,
        profile: BTreeMap<String, String>,
    },
    Vote {
        conversation_id: Uuid,
        item_id: Uuid,
        participant_id: Uuid,
        request_id: Uuid,
        choice: Option<Choice>,
    },
    CommentVote {
        conversation_id: Uuid,
        comment_id: Uuid,
        participant_id: Uuid,
        request_id: Uuid,
        up: bool,
    },
    Comment {
        conversation_id: Uuid,
        item_id: Uuid,
        comment_id: Uuid,
        parent_id: Option<Uuid>,
        participant_id: Uuid,
        body: String,
        status: CommentStatus,
    },
    Flag {
        conversation_id: Uuid,
        comment_id: Uuid,
        flag_id: Uuid,
        participant_id: Uuid,
        reason: String,
    },
    Idea {
        conversation_id: Uuid,
        item_id: Uuid,
        participant_id: Uuid,
        title: String,
        body: String,
        status: ItemStatus,
    },
    ModerateComment {
        conversation_id: Uuid,
        comment_id: Uuid,
        request_id: Uuid,
        actor: String,
        action: ModerationAction,
        reason: Option<String>,
    },
    ModerateItem {
        conversation_id: Uuid,
        item_id: Uuid,
        request_id: Uuid,
        actor: String,
        action: ModerationAction,
        reason: Option<String>,
    },
    CreateConversation {
        conversation: Conversation,
    },
    UpdateConversation {
        conversation: Conversation,
        actor: String,
        action: String,
    },
    UpsertPledge {
        conversation_id: Uuid,
        item_id: Uuid,
        title: String,
        body: String,
        position: i64,
        actor: String,
    },
    CreateUser {
        id: Uuid,
        name: String,
        role: Role,
        password_hash: String,
    },
    CreateDisplayToken {
        conversation_id: Uuid,
        token_hash: Vec<u8>,
        actor: String,
    },
    /// A facilitator edits a comment to remove identifying details; the
    /// first original is kept for admins.
    EditComment {
        conversation_id: Uuid,
        comment_id: Uuid,
        request_id: Uuid,
        actor: String,
        body: String,
    },
    /// Suspends, reinstates, or hides everything by a comment's author.
    ModerateAuthor {
        conversation_id: Uuid,
        comment_id: Uuid,
        request_id: Uuid,
        actor: String,
        action: AuthorAction,
        reason: Option<String>,
    },
    /// A display screen watched the conversation on this day (report).
    DisplaySeen {
        conversation_id: Uuid,
        day: i64,
    },
    /// Sets a user's password (the demo's facilitator gets a fresh one each start).
    SetPassword {
        name: String,
        password_hash: String,
    },
}

impl Write {
    /// The conversation whose rows this write changes, if any.
    pub fn conversation_id(&self) -> Option<Uuid> {
        match self {
            Write::SignUp {
                conversation_id, ..
            }
            | Write::Vote {
                conversation_id, ..
            }
            | Write::CommentVote {
                conversation_id, ..
            }
            | Write::Comment {
                conversation_id, ..
            }
            | Write::Flag {
                conversation_id, ..
            }
            | Write::Idea {
                conversation_id, ..
            }
            | Write::EditComment {
                conversation_id, ..
            }
            | Write::ModerateAuthor {
                conversation_id, ..
            }
            | Write::DisplaySeen {
                conversation_id, ..
            }
            | Write::ModerateComment {
                conversation_id, ..
            }
            | Write::ModerateItem {
                conversation_id, ..
            }
            | Write::UpsertPledge {
                conversation_id, ..
            }
            | Write::CreateDisplayToken {
                conversation_id, ..
            } => Some(*conversation_id),
            Write::UpdateConversation { conversation, .. } => Some(conversation.id),
            Write::CreateConversation { .. }
            | Write::CreateSession { .. }
            | Write::SetSessionUser { .. }
            | Write::CreateUser { .. }
            | Write::SetPassword { .. } => None,
        }
    }
}

/// What a write did, for the answer to the caller.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done,
    Participant {
        participant: Participant,
        created: bool,
    },
    Vote {
        item_id: Uuid,
        choice: Option<Choice>,
        tally: Tally,
    },
    CommentVote {
        comment_id: Uuid,
        up: bool,
        tally: CommentTally,
    },
    Comment(Comment),
    Item(Item),
    Flags(i64),
    Conversation(Conversation),
}

/// A change the live hub must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "of", rename_all = "lowercase")]
pub enum TallyChange {
    Item { id: Uuid, tally: Tally },
    Comment { id: Uuid, tally: CommentTally },
}

/// The result of a committed write: the answer, plus what to publish.
#[derive(Debug, Clone)]
pub struct Written {
    pub outcome: Outcome,
    /// The events this write appended, in order (none for votes and replays).
    pub events: Vec<Event>,
    /// The tally this write changed, if any.
    pub tally: Option<(Uuid, TallyChange)>,
}

impl Written {
    fn outcome(outcome: Outcome) -> Written {
        Written {
            outcome,
            events: Vec::new(),
            tally: None,
        }
    }
}

/// Everything the report is computed from, read in one transaction.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub conversation: Conversation,
    pub participants: Vec<ReportParticipant>,
    /// Every item, whatever its status.
    pub items: Vec<Item>,
    pub votes: Vec<ReportVote>,
    /// Every comment, whatever its status, with its author.
    pub comments: Vec<(Comment, Uuid)>,
    /// Conversation changes (extensions, early closes), in order.
    pub conversation_events: Vec<Event>,
    /// UTC days on which a display screen watched the conversation.
    pub display_days: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct ReportParticipant {
    pub id: Uuid,
    pub profile: BTreeMap<String, String>,
    pub created_at: crate::domain::Millis,
}

#[derive(Debug, Clone)]
pub struct ReportVote {
    pub participant_id: Uuid,
    pub item_id: Uuid,
    pub choice: Choice,
    pub at: crate::domain::Millis,
}

/// Which comments a moderation queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFilter {
    Pending,
    Hidden,
    Flagged,
    All,
}

/// A consistent read of a conversation's items at one sequence number.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub items: Vec<Item>,
    pub seq: i64,
}

/// Every tally of a conversation, for a topic that starts or catches up.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    pub items: Vec<(Uuid, Tally)>,
    pub comments: Vec<(Uuid, CommentTally)>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres", for logs and /readyz.
    fn backend(&self) -> &'static str;
    /// Answers when the database does (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Applies one change durably (group commit) and says what it did.
    async fn write(&self, write: Write) -> Result<Written, StoreError>;
    /// Stops the writer after it has committed what it holds.
    async fn close(&self);

    async fn conversation_by_slug(&self, slug: &str) -> Result<Option<Conversation>, StoreError>;
    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError>;
    /// Items with tallies and the sequence number they correspond to.
    async fn snapshot(
        &self,
        conversation_id: Uuid,
        include_hidden: bool,
    ) -> Result<Snapshot, StoreError>;
    async fn item(&self, conversation_id: Uuid, item_id: Uuid) -> Result<Option<Item>, StoreError>;
    /// The participant's votes on items and up-voted comments.
    async fn votes_of(
        &self,
        participant_id: Uuid,
    ) -> Result<(Vec<(Uuid, Choice)>, Vec<Uuid>), StoreError>;
    /// An item's comments after sequence number `after`, in order.
    async fn comments(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
        after: i64,
        limit: i64,
        include_all: bool,
    ) -> Result<Vec<Comment>, StoreError>;
    async fn moderation_queue(
        &self,
        conversation_id: Uuid,
        filter: QueueFilter,
    ) -> Result<Vec<Comment>, StoreError>;
    /// Events with `after < seq`, in order, at most `limit`.
    async fn events(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError>;
    async fn last_seq(&self, conversation_id: Uuid) -> Result<i64, StoreError>;
    async fn tallies(&self, conversation_id: Uuid) -> Result<Tallies, StoreError>;
    async fn session(&self, token_hash: &[u8]) -> Result<Option<Session>, StoreError>;
    async fn participant(
        &self,
        conversation_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<Participant>, StoreError>;
    /// A user and their argon2 password hash, for login.
    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError>;
    /// Every facilitator and admin account.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// A comment's body before a facilitator first edited it (admins only).
    async fn original_body(
        &self,
        conversation_id: Uuid,
        comment_id: Uuid,
    ) -> Result<Option<String>, StoreError>;
    /// Everything the report needs.
    async fn report_data(&self, conversation_id: Uuid) -> Result<ReportData, StoreError>;
    async fn display_token_valid(
        &self,
        conversation_id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool, StoreError>;
}

/// Opens the store the URL names, applying its migrations.
pub async fn connect(
    url: &str,
    settings: &crate::config::StoreSettings,
) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, settings).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(
            postgres::PostgresStore::open(url, settings).await?,
        ))
    } else {
        Err(StoreError::Invalid {
            field: "database_url",
            message: "must start with sqlite:// or postgres://".into(),
        })
    }
}
