//! The embedded default: one SQLite file under `data/`, in WAL mode with
//! `synchronous=FULL` so an acknowledged write survives a power cut. One
//! connection writes (SQLite allows one writer anyway, and group commit
//! makes it fast); a small pool reads beside it.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous,
};
use sqlx::Sqlite;
use uuid::Uuid;

use super::backend::{Backend, VoteKey};
use super::read::SqlStore;
use super::write::vote::{VoteChanges, VoteRow, VoteState};
use super::writer::Writer;
use super::StoreError;
use crate::config::StoreSettings;
use crate::domain::Millis;

impl Backend for Sqlite {
    const LABEL: &'static str = "sqlite";

    fn begin_statement(_conversations: &[Uuid]) -> Option<String> {
        None
    }

    fn retryable(_code: &str) -> bool {
        false
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    /// One statement for the whole batch: the votes' ids as literal rows
    /// (each statement is a round trip to sqlx's SQLite thread, which is
    /// what group commit saves). Only ids go in as literals.
    async fn read_votes(
        c: &mut SqliteConnection,
        votes: &[VoteKey],
    ) -> Result<Vec<VoteState>, StoreError> {
        let mut sql =
            String::from("WITH q(n, item, participant, conversation, request) AS (VALUES ");
        for (n, vote) in votes.iter().enumerate() {
            let _ = write!(
                sql,
                "{}({n}, {}, {}, {}, {})",
                if n > 0 { ", " } else { "" },
                blob(vote.item_id.as_bytes()),
                blob(vote.participant_id.as_bytes()),
                blob(vote.conversation_id.as_bytes()),
                blob(vote.request_id.as_bytes()),
            );
        }
        sql.push_str(
            ") SELECT i.status, i.kind, i.strong, i.wrong, i.version, p.suspended, v.choice, r.fingerprint, r.answer \
             FROM q LEFT JOIN items i ON i.id = q.item AND i.conversation_id = q.conversation \
             LEFT JOIN participants p ON p.id = q.participant AND p.conversation_id = q.conversation \
             LEFT JOIN votes v ON v.item_id = q.item AND v.participant_id = q.participant \
             LEFT JOIN requests r ON r.id = q.request ORDER BY q.n",
        );
        let rows: Vec<VoteRow> = sqlx::query_as(&sql).fetch_all(&mut *c).await?;
        rows.into_iter().map(VoteState::from_row).collect()
    }

    /// SQLite runs in this process, and a statement is a hop to sqlx's
    /// worker thread: `BEGIN` and the read take the two hops a transaction
    /// of sqlx's own would.
    async fn begin_reading_votes(
        c: &mut SqliteConnection,
        _conversations: &[Uuid],
        votes: &[VoteKey],
    ) -> Result<Vec<VoteState>, StoreError> {
        sqlx::raw_sql("BEGIN").execute(&mut *c).await?;
        Self::read_votes(c, votes).await
    }

    async fn write_votes_committing(
        c: &mut SqliteConnection,
        changes: &VoteChanges,
        now: Millis,
    ) -> Result<(), StoreError> {
        if !changes.is_empty() {
            Self::write_votes(c, changes, now).await?;
        }
        sqlx::raw_sql("COMMIT").execute(&mut *c).await?;
        Ok(())
    }

    /// One multi-statement write for the whole batch, again with literal
    /// values: ids, enum names, integers and the answers' bytes in hex.
    async fn write_votes(
        c: &mut SqliteConnection,
        changes: &VoteChanges,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut sql =
            String::from("INSERT INTO requests (id, fingerprint, answer, created_at) VALUES ");
        for (k, (id, fingerprint, answer)) in changes.requests.iter().enumerate() {
            let _ = write!(
                sql,
                "{}({}, {}, {}, {})",
                if k > 0 { ", " } else { "" },
                blob(id.as_bytes()),
                blob(fingerprint),
                json_blob(answer),
                now.0
            );
        }
        sql.push_str(";\n");
        if !changes.cast.is_empty() {
            sql.push_str("INSERT INTO votes (participant_id, item_id, conversation_id, choice, updated_at) VALUES ");
            for (k, (participant, item, conversation, choice)) in changes.cast.iter().enumerate() {
                let _ = write!(
                    sql,
                    "{}({}, {}, {}, '{}', {})",
                    if k > 0 { ", " } else { "" },
                    blob(participant.as_bytes()),
                    blob(item.as_bytes()),
                    blob(conversation.as_bytes()),
                    choice.as_str(),
                    now.0
                );
            }
            sql.push_str(
                " ON CONFLICT (participant_id, item_id) DO UPDATE SET choice = excluded.choice, \
                 updated_at = excluded.updated_at;\n",
            );
        }
        for (participant, item) in &changes.withdrawn {
            let _ = writeln!(
                sql,
                "DELETE FROM votes WHERE participant_id = {} AND item_id = {};",
                blob(participant.as_bytes()),
                blob(item.as_bytes())
            );
        }
        for (item, tally) in &changes.tallies {
            let _ = writeln!(
                sql,
                "UPDATE items SET strong = {}, wrong = {}, version = {} WHERE id = {};",
                tally.strong,
                tally.wrong,
                tally.version,
                blob(item.as_bytes())
            );
        }
        sqlx::raw_sql(&sql).execute(&mut *c).await?;
        Ok(())
    }
}

/// A blob literal: `X'…'` in hex, which cannot carry anything but bytes.
fn blob(bytes: &[u8]) -> String {
    format!("X'{}'", hex::encode(bytes))
}

/// A stored answer as a literal. A vote's answer is JSON of ids, names and
/// numbers, so it goes in as text, half the size of hex; anything that
/// could end the literal (a quote) or is not plain text falls back to hex.
fn json_blob(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.contains(['\'', '\0']) => format!("CAST('{text}' AS BLOB)"),
        _ => blob(bytes),
    }
}

/// Opens (creating if needed) the SQLite file the URL names.
pub async fn open(url: &str, settings: &StoreSettings) -> Result<SqlStore<Sqlite>, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    if let Some(parent) = options.get_filename().parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::from(sqlx::Error::Io(e)))?;
        }
    }
    let writer_options = options.clone();
    let writer = Writer::start::<Sqlite, _, _>(
        move || async move {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .connect_with(writer_options)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Ok(pool)
        },
        settings.batch_max.get(),
        settings.queue.get(),
    )
    .await?;
    let reads = SqlitePoolOptions::new()
        .max_connections(settings.read_connections.get())
        .connect_with(options.read_only(true))
        .await?;
    Ok(SqlStore { reads, writer })
}
