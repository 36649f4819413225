//! Durable storage behind one trait, [`Store`], on SQLite (the embedded
//! default) or PostgreSQL (cluster mode), picked by the URL's scheme in
//! [`connect`]. Each keeps its own migrations under `migrations/<backend>/`.
//!
//! The map, in the order a write travels:
//!
//! - [`command`]: a change is a typed [`Command`] whose `Answer` is what the
//!   caller gets back; [`Store::write`] queues it and waits for its commit.
//! - [`writer`]: the single writer, on its own thread: group commit (the
//!   writes that arrived together share one transaction and one fsync), a
//!   savepoint per write, and only then an answer to each caller.
//! - [`write`]: every kind of change, one file per concern, each applied by
//!   a method of [`write::Tx`], the open transaction. Exact retries live
//!   there once for all ([`write::Tx::once`]).
//! - [`read`]: the reads, on a pool beside the writer.
//! - [`backend`]: what differs between the databases; [`sqlite`] and
//!   [`postgres`] open them and apply a batch of votes in their own SQL.
//! - [`rows`]: rows to domain values and back.

pub mod backend;
pub mod command;
pub mod contributions;
mod held;
pub mod postgres;
pub mod read;
mod rows;
pub mod sqlite;
pub mod write;
pub mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

pub use command::{Answer, Command, Committed};

use crate::domain::{
    Choice, Comment, CommentTally, Conversation, Event, Invalid, Item, Millis, Participant, Tally,
    User,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing named does not exist (in this conversation).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A client UUID or unique name already used for something else.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A domain rule refused the change against the state it met in the
    /// transaction (e.g. a patch that would close before it opens).
    #[error("{0}")]
    Rejected(#[from] Invalid),
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
    /// The database cannot be reached (down, restarting, no connection
    /// free in time): nothing is acknowledged, and the caller may retry the
    /// same request shortly. A write whose `COMMIT` was cut off may have
    /// committed; its retry with the same id then gets the first answer.
    /// Told apart from other database errors so clients get 503 with
    /// Retry-After rather than 500.
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if unreachable(&e) {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Database(e)
        }
    }
}

/// Whether the error says the database could not be reached rather than
/// that it refused the statement: no connection in time, a broken socket,
/// or PostgreSQL's connection exceptions (SQLSTATE class 08) and shutdown
/// codes (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect
/// now, as while it starts).
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
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
                | StoreError::Rejected(_)
                | StoreError::Suspended
        )
    }
}

/// A staff login (from the `chorus_staff` cookie).
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub id: Uuid,
    pub user: User,
    pub expires_at: Millis,
}

/// One participant's sign-in to their conversation (from that
/// conversation's `chorus_p_...` cookie).
#[derive(Debug, Clone)]
pub struct ParticipantSession {
    pub id: Uuid,
    pub participant: Participant,
    pub expires_at: Millis,
    /// When the expiry last slid forward (or the session began).
    pub refreshed_at: Millis,
}

/// A change the live hub must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "of", rename_all = "lowercase")]
pub enum TallyChange {
    Item { id: Uuid, tally: Tally },
    Comment { id: Uuid, tally: CommentTally },
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
    /// Comment up-votes as (participant, comment): the opinion analysis
    /// needs who agreed with what, never shown as such.
    pub comment_votes: Vec<(Uuid, Uuid)>,
    /// Conversation changes (extensions, early closes), in order.
    pub conversation_events: Vec<Event>,
    /// UTC days on which a display screen watched the conversation.
    pub display_days: Vec<i64>,
}

/// Every write to a conversation moves at least one of these: events take
/// the next `last_seq`, votes and up-votes raise a tally version (versions
/// only grow), a sign-up adds a participant, and a display screen's first
/// watch of a day adds a day. Equal versions mean equal data, so what was
/// computed from it still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    pub last_seq: i64,
    pub tally_versions: i64,
    pub participants: i64,
    pub display_days: i64,
}

#[derive(Debug, Clone)]
pub struct ReportParticipant {
    pub id: Uuid,
    /// How they came in (the report counts verified participants).
    pub way_in: crate::domain::WayIn,
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
    /// What the desk's review tab shows: pending, or flagged and not hidden.
    Review,
    All,
}

/// One page of a moderation queue: which comments, in which order, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    pub filter: QueueFilter,
    /// Only the comments on this item (pledge or idea).
    pub item_id: Option<Uuid>,
    /// Only the comments whose body contains this text, any case; the
    /// caller has trimmed and bounded it.
    pub text: Option<String>,
    /// Newest first (sequence numbers falling) instead of oldest first.
    pub newest_first: bool,
    /// The cursor: the `seq` of the last comment of the previous page, in
    /// the order asked; `None` starts at the beginning.
    pub after: Option<i64>,
    /// At most this many comments.
    pub limit: i64,
}

/// The orders of an item's top-level comments on the participant page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopOrder {
    /// Newest first; the cursor is the `seq` of the last comment read.
    Newest,
    /// Most up-voted first, then oldest first; the cursor is how many
    /// comments were already read (the order moves as people agree, so no
    /// key of a comment stays a fixed place in it).
    MostAgreed,
}

/// A top-level comment with how many visible replies it has.
#[derive(Debug, Clone, PartialEq)]
pub struct TopComment {
    pub comment: Comment,
    pub replies: i64,
}

/// A comment in a moderation queue, with the reasons of its open flags.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueEntry {
    #[serde(flatten)]
    pub comment: Comment,
    /// The reasons participants gave for the comment's open flags (as many
    /// as `flags`), newest first; flags settled by an approval are not here.
    pub flag_reasons: Vec<String>,
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
    /// Queues a change for the writer (see [`Store::write`]); refuses at
    /// once with `Overloaded` when the queue is full.
    fn submit(&self, pending: command::Pending) -> Result<(), StoreError>;
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
    /// A page of an item's visible top-level comments in `order`, each with
    /// its number of visible replies; `after` is the cursor `order` says.
    async fn top_comments(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
        order: TopOrder,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TopComment>, StoreError>;
    /// The replies to one comment of an item after sequence number
    /// `after`, in order.
    async fn replies(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
        parent_id: Uuid,
        after: i64,
        limit: i64,
        include_all: bool,
    ) -> Result<Vec<Comment>, StoreError>;
    /// A page of a moderation queue, with each comment's open flags' reasons.
    async fn moderation_queue(
        &self,
        conversation_id: Uuid,
        page: &QueuePage,
    ) -> Result<Vec<QueueEntry>, StoreError>;
    /// Events with `after < seq`, in order, at most `limit`.
    async fn events(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError>;
    async fn last_seq(&self, conversation_id: Uuid) -> Result<i64, StoreError>;
    /// Where the conversation's data stands, in one cheap read: whatever
    /// is written to it changes this (see [`DataVersion`]).
    async fn data_version(&self, conversation_id: Uuid) -> Result<DataVersion, StoreError>;
    async fn tallies(&self, conversation_id: Uuid) -> Result<Tallies, StoreError>;
    /// The staff session with this token hash, expired or not.
    async fn staff_session(&self, token_hash: &[u8]) -> Result<Option<StaffSession>, StoreError>;
    /// The participant session with this token hash, expired or not.
    async fn participant_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<ParticipantSession>, StoreError>;
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
    /// Everything one participant contributed, or `None` when they are
    /// not (or no longer) a participant of the conversation.
    async fn contributions(
        &self,
        conversation_id: Uuid,
        participant_id: Uuid,
    ) -> Result<Option<contributions::Contributions>, StoreError>;
    /// The participant's own ideas still awaiting approval (their author
    /// sees them; nobody else but facilitators does).
    async fn pending_ideas_of(
        &self,
        conversation_id: Uuid,
        participant_id: Uuid,
    ) -> Result<Vec<Item>, StoreError>;
    /// An idea's title and body before its author first edited it.
    async fn original_idea(
        &self,
        conversation_id: Uuid,
        item_id: Uuid,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Everything the report needs.
    async fn report_data(&self, conversation_id: Uuid) -> Result<ReportData, StoreError>;
    /// The pending emailed code for an address (by its keyed hash).
    async fn email_code_attempt(
        &self,
        conversation_id: Uuid,
        identity_hash: &[u8],
    ) -> Result<Option<Uuid>, StoreError>;
    /// The participant whose return phrase has this keyed hash.
    async fn participant_by_return_phrase(
        &self,
        conversation_id: Uuid,
        phrase_hash: &[u8],
    ) -> Result<Option<Participant>, StoreError>;
    async fn invite_counts(&self, conversation_id: Uuid)
        -> Result<write::InviteCounts, StoreError>;
    /// A request id's record (what it was used for, its first answer).
    async fn request(&self, id: Uuid) -> Result<Option<write::vote::Recorded>, StoreError>;
    async fn display_token_valid(
        &self,
        conversation_id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool, StoreError>;
}

impl dyn Store {
    /// Applies one change durably (group commit) and answers what it did;
    /// a retried request gets its first answer back.
    pub async fn write<C: Command>(&self, command: C) -> Answer<C> {
        let (request, answer) = command::Request::new(command);
        self.submit(C::pending(request))?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Opens the store the URL names, applying its migrations.
pub async fn connect(
    url: &str,
    settings: &crate::config::StoreSettings,
) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::open(url, settings).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::open(url, settings).await?))
    } else {
        Err(StoreError::Invalid {
            field: "database_url",
            message: "must start with sqlite:// or postgres://".into(),
        })
    }
}
