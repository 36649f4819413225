//! What differs between SQLite and PostgreSQL, and nothing else.
//!
//! Almost every statement chorus runs is the same text on both databases
//! (`$N` parameters, `ON CONFLICT`, `RETURNING`), so the reads and writes
//! are written once, generic over a [`Backend`]. A backend says how it
//! orders concurrent writers and how it applies a batch of votes, the one
//! place where the fastest SQL really differs: SQLite takes one statement
//! of literal values (each statement is a hop to sqlx's SQLite thread),
//! PostgreSQL takes arrays through `UNNEST` (one round trip each).
//!
//! Generic code over a backend needs sqlx's bounds (that a connection is an
//! executor, that a `Uuid` binds and decodes, ...). Rust does not carry a
//! trait's `where` clauses to its users (rust-lang/rust#20671), so each
//! generic `impl` block repeats the one list below, word for word; the
//! compiler checks every copy against both databases.
//!
//! ```text
//! where
//!     DB: Backend,
//!     for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
//!     for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
//!     for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
//!     for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
//!     for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
//!     for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
//!     for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
//!     for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
//!     for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
//!     for<'q> Option<String>: sqlx::Encode<'q, DB>,
//!     usize: sqlx::ColumnIndex<DB::Row>,
//!     for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
//! ```

use uuid::Uuid;

use super::write::vote::{VoteChanges, VoteState};
use super::StoreError;
use crate::domain::Millis;

/// A database chorus can keep its state in.
pub trait Backend: sqlx::Database {
    /// "sqlite" or "postgres", for logs, metrics and /readyz.
    const LABEL: &'static str;

    /// What opens a batch's transaction when it writes to `conversations`
    /// (sorted, no repeats); `None` for a plain `BEGIN`. On PostgreSQL it
    /// also locks those conversations' rows, in id order, in the same round
    /// trip: batches of different nodes then queue instead of deadlocking,
    /// and sequence numbers follow commit order across nodes. SQLite has
    /// one writer and needs no lock.
    fn begin_statement(conversations: &[Uuid]) -> Option<String>;

    /// Whether a database error code means "try the transaction again"
    /// (a deadlock or serialisation failure between nodes).
    fn retryable(code: &str) -> bool;

    /// How many rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// What the store holds for each vote, in order: the item and its
    /// tally, whether the participant is suspended, their current choice,
    /// and the request id's record if it was seen before.
    #[allow(async_fn_in_trait)] // the writer runs on its own thread: no Send needed
    async fn read_votes(
        c: &mut Self::Connection,
        votes: &[VoteKey],
    ) -> Result<Vec<VoteState>, StoreError>;

    /// Writes what a batch of votes changed: request records, votes cast,
    /// votes withdrawn, and the new tallies.
    #[allow(async_fn_in_trait)]
    async fn write_votes(
        c: &mut Self::Connection,
        changes: &VoteChanges,
        now: Millis,
    ) -> Result<(), StoreError>;

    /// For a batch of votes and nothing else: opens the transaction (as
    /// [`Backend::begin_statement`] says) and reads as
    /// [`Backend::read_votes`] does. On PostgreSQL this is one round trip.
    #[allow(async_fn_in_trait)]
    async fn begin_reading_votes(
        c: &mut Self::Connection,
        conversations: &[Uuid],
        votes: &[VoteKey],
    ) -> Result<Vec<VoteState>, StoreError>;

    /// Writes as [`Backend::write_votes`] does (nothing when `changes` is
    /// empty) and commits the transaction
    /// [`Backend::begin_reading_votes`] opened; on PostgreSQL one round
    /// trip. Returns only once the commit is durable.
    #[allow(async_fn_in_trait)]
    async fn write_votes_committing(
        c: &mut Self::Connection,
        changes: &VoteChanges,
        now: Millis,
    ) -> Result<(), StoreError>;
}

/// The ids a vote reads by.
#[derive(Debug, Clone, Copy)]
pub struct VoteKey {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
}
