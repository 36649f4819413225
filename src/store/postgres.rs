//! Cluster mode's shared truth: PostgreSQL. Every node has its own writer
//! (group commit per node). Each batch first locks the rows of the
//! conversations it writes to, in id order: batches from different nodes
//! for one conversation queue behind each other rather than deadlock, and
//! sequence numbers and tally versions stay in commit order across nodes.
//! A deadlock or serialisation failure that still happens (say, a sign-up
//! racing an edit) is retried.

use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult};
use sqlx::{Either, FromRow, Postgres, Row};
use uuid::Uuid;

use super::backend::{Backend, VoteKey};
use super::read::SqlStore;
use super::write::vote::{VoteChanges, VoteRow, VoteState};
use super::writer::Writer;
use super::StoreError;
use crate::config::StoreSettings;
use crate::domain::Millis;

impl Backend for Postgres {
    const LABEL: &'static str = "postgres";

    /// `BEGIN` and the lock go out as one simple query, one round trip. The
    /// ids are literals, but only `Uuid`s, which print as hex and dashes.
    /// Rows are locked in the order the `ORDER BY` returns them, and the
    /// statements after this one see what the lock waited for: each
    /// statement takes a new snapshot under READ COMMITTED.
    fn begin_statement(conversations: &[Uuid]) -> Option<String> {
        if conversations.is_empty() {
            return None;
        }
        let ids: Vec<String> = conversations.iter().map(|id| format!("'{id}'")).collect();
        Some(format!(
            "BEGIN; SELECT id FROM conversations WHERE id IN ({}) ORDER BY id FOR UPDATE",
            ids.join(", ")
        ))
    }

    /// deadlock_detected, serialization_failure
    fn retryable(code: &str) -> bool {
        code == "40P01" || code == "40001"
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    /// One round trip for the whole batch: the ids go in as arrays.
    async fn read_votes(
        c: &mut PgConnection,
        votes: &[VoteKey],
    ) -> Result<Vec<VoteState>, StoreError> {
        let column = |f: fn(&VoteKey) -> Uuid| votes.iter().map(f).collect::<Vec<Uuid>>();
        let rows: Vec<VoteRow> = sqlx::query_as(&read_votes_sql([
            "$1::uuid[]",
            "$2::uuid[]",
            "$3::uuid[]",
            "$4::uuid[]",
        ]))
        .bind(column(|v| v.item_id))
        .bind(column(|v| v.participant_id))
        .bind(column(|v| v.conversation_id))
        .bind(column(|v| v.request_id))
        .fetch_all(&mut *c)
        .await?;
        rows.into_iter().map(VoteState::from_row).collect()
    }

    /// One statement for the whole batch: data-modifying CTEs over arrays.
    /// No (participant, item) appears twice in `cast` and `withdrawn`, so
    /// no row is touched twice by the statement.
    async fn write_votes(
        c: &mut PgConnection,
        changes: &VoteChanges,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(&write_votes_sql([
            "$1::uuid[]",
            "$2::bytea[]",
            "$3::bytea[]",
            "$4",
            "$5::uuid[]",
            "$6::uuid[]",
            "$7::uuid[]",
            "$8::text[]",
            "$9::uuid[]",
            "$10::uuid[]",
            "$11::uuid[]",
            "$12::int8[]",
            "$13::int8[]",
            "$14::int8[]",
        ]))
        .bind(changes.requests.iter().map(|r| r.0).collect::<Vec<Uuid>>())
        .bind(
            changes
                .requests
                .iter()
                .map(|r| r.1.to_vec())
                .collect::<Vec<Vec<u8>>>(),
        )
        .bind(
            changes
                .requests
                .iter()
                .map(|r| r.2.clone())
                .collect::<Vec<Vec<u8>>>(),
        )
        .bind(now.0)
        .bind(changes.cast.iter().map(|v| v.0).collect::<Vec<Uuid>>())
        .bind(changes.cast.iter().map(|v| v.1).collect::<Vec<Uuid>>())
        .bind(changes.cast.iter().map(|v| v.2).collect::<Vec<Uuid>>())
        .bind(
            changes
                .cast
                .iter()
                .map(|v| v.3.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(changes.withdrawn.iter().map(|v| v.0).collect::<Vec<Uuid>>())
        .bind(changes.withdrawn.iter().map(|v| v.1).collect::<Vec<Uuid>>())
        .bind(changes.tallies.iter().map(|t| t.0).collect::<Vec<Uuid>>())
        .bind(
            changes
                .tallies
                .iter()
                .map(|t| t.1.strong)
                .collect::<Vec<i64>>(),
        )
        .bind(
            changes
                .tallies
                .iter()
                .map(|t| t.1.wrong)
                .collect::<Vec<i64>>(),
        )
        .bind(
            changes
                .tallies
                .iter()
                .map(|t| t.1.version)
                .collect::<Vec<i64>>(),
        )
        .execute(&mut *c)
        .await?;
        Ok(())
    }

    /// `BEGIN`, the lock and the read as one simple query: one round trip
    /// where bound parameters take three. A simple query cannot carry
    /// parameters, so the ids go in as literals (only `Uuid`s), and its
    /// rows come back as text: `bytea_output` is set for this transaction
    /// to the hex form sqlx reads.
    async fn begin_reading_votes(
        c: &mut PgConnection,
        conversations: &[Uuid],
        votes: &[VoteKey],
    ) -> Result<Vec<VoteState>, StoreError> {
        let begin = Self::begin_statement(conversations).unwrap_or_else(|| "BEGIN".into());
        let column = |f: fn(&VoteKey) -> Uuid| literal::uuids(votes.iter().map(f));
        let sql = format!(
            "{begin}; SET LOCAL bytea_output = 'hex'; {}",
            read_votes_sql([
                &column(|v| v.item_id),
                &column(|v| v.participant_id),
                &column(|v| v.conversation_id),
                &column(|v| v.request_id),
            ])
        );
        let mut results = sqlx::raw_sql(&sql).fetch_many(&mut *c);
        let mut rows = Vec::with_capacity(votes.len());
        while let Some(result) = results.try_next().await? {
            // The read is the last statement; the lock's rows are not read.
            if let Either::Right(row) = result {
                if row.len() == READ_COLUMNS {
                    rows.push(VoteState::from_row(VoteRow::from_row(&row)?)?);
                }
            }
        }
        Ok(rows)
    }

    /// The write and `COMMIT` as one simple query: when it answers, the
    /// batch is durable; if the write fails, `COMMIT` does not run. The
    /// values go in as literals: ids, numbers, choice names, and bytes
    /// through `decode(…, 'hex')`, none of which can end a literal.
    async fn write_votes_committing(
        c: &mut PgConnection,
        changes: &VoteChanges,
        now: Millis,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            sqlx::raw_sql("COMMIT").execute(&mut *c).await?;
            return Ok(());
        }
        let now = now.0.to_string();
        let sql = format!(
            "{}; COMMIT",
            write_votes_sql([
                &literal::uuids(changes.requests.iter().map(|r| r.0)),
                &literal::bytes(changes.requests.iter().map(|r| &r.1[..])),
                &literal::bytes(changes.requests.iter().map(|r| &r.2[..])),
                &now,
                &literal::uuids(changes.cast.iter().map(|v| v.0)),
                &literal::uuids(changes.cast.iter().map(|v| v.1)),
                &literal::uuids(changes.cast.iter().map(|v| v.2)),
                &literal::words(changes.cast.iter().map(|v| v.3.as_str())),
                &literal::uuids(changes.withdrawn.iter().map(|v| v.0)),
                &literal::uuids(changes.withdrawn.iter().map(|v| v.1)),
                &literal::uuids(changes.tallies.iter().map(|t| t.0)),
                &literal::ints(changes.tallies.iter().map(|t| t.1.strong)),
                &literal::ints(changes.tallies.iter().map(|t| t.1.wrong)),
                &literal::ints(changes.tallies.iter().map(|t| t.1.version)),
            ])
        );
        sqlx::raw_sql(&sql).execute(&mut *c).await?;
        Ok(())
    }
}

/// The columns [`read_votes_sql`] returns (a [`VoteRow`]).
const READ_COLUMNS: usize = 9;

/// The read of a vote batch, over four `uuid[]` arrays (parameters or
/// literals): items, participants, conversations, request ids.
fn read_votes_sql(arrays: [&str; 4]) -> String {
    let [items, participants, conversations, requests] = arrays;
    format!(
        "SELECT i.status, i.kind, i.strong, i.wrong, i.version, p.suspended, v.choice, r.fingerprint, r.answer \
         FROM UNNEST({items}, {participants}, {conversations}, {requests}) WITH ORDINALITY \
              AS q(item, participant, conversation, request, n) \
         LEFT JOIN items i ON i.id = q.item AND i.conversation_id = q.conversation \
         LEFT JOIN participants p ON p.id = q.participant AND p.conversation_id = q.conversation \
         LEFT JOIN votes v ON v.item_id = q.item AND v.participant_id = q.participant \
         LEFT JOIN requests r ON r.id = q.request \
         ORDER BY q.n"
    )
}

/// The write of a vote batch: data-modifying CTEs over arrays (parameters
/// or literals), in the order [`Backend::write_votes`] binds them. No
/// (participant, item) appears twice in `cast` and `withdrawn`, so no row
/// is touched twice by the statement.
fn write_votes_sql(a: [&str; 14]) -> String {
    format!(
        "WITH recorded AS ( \
             INSERT INTO requests (id, fingerprint, answer, created_at) \
             SELECT id, fingerprint, answer, {} FROM UNNEST({}, {}, {}) AS r(id, fingerprint, answer) \
         ), cast_votes AS ( \
             INSERT INTO votes (participant_id, item_id, conversation_id, choice, updated_at) \
             SELECT participant, item, conversation, choice, {} \
             FROM UNNEST({}, {}, {}, {}) AS u(participant, item, conversation, choice) \
             ON CONFLICT (participant_id, item_id) \
             DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at \
         ), withdrawn AS ( \
             DELETE FROM votes v USING UNNEST({}, {}) AS d(participant, item) \
             WHERE v.participant_id = d.participant AND v.item_id = d.item \
         ) \
         UPDATE items SET strong = t.strong, wrong = t.wrong, version = t.version \
         FROM UNNEST({}, {}, {}, {}) AS t(id, strong, wrong, version) \
         WHERE items.id = t.id",
        a[3], a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]
    )
}

/// Array literals for a simple query, built only from values that cannot
/// end a literal or a statement.
mod literal {
    use std::fmt::Write as _;

    use uuid::Uuid;

    pub fn uuids(ids: impl Iterator<Item = Uuid>) -> String {
        array(ids, "uuid")
    }

    pub fn ints(numbers: impl Iterator<Item = i64>) -> String {
        array(numbers, "int8")
    }

    /// Words of letters only (choice names).
    pub fn words(words: impl Iterator<Item = &'static str>) -> String {
        array(
            words.inspect(|w| assert!(w.bytes().all(|b| b.is_ascii_lowercase()))),
            "text",
        )
    }

    /// `ARRAY[decode('…', 'hex'), …]::bytea[]`: hex digits only.
    pub fn bytes<'a>(values: impl Iterator<Item = &'a [u8]>) -> String {
        let mut sql = String::from("ARRAY[");
        for (n, value) in values.enumerate() {
            let _ = write!(
                sql,
                "{}decode('{}', 'hex')",
                if n > 0 { ", " } else { "" },
                hex::encode(value)
            );
        }
        sql.push_str("]::bytea[]");
        sql
    }

    /// `'{a,b}'::type[]`, for values that print without quotes, commas,
    /// braces or spaces.
    fn array<T: std::fmt::Display>(values: impl Iterator<Item = T>, type_name: &str) -> String {
        let mut sql = String::from("'{");
        for (n, value) in values.enumerate() {
            let _ = write!(sql, "{}{value}", if n > 0 { "," } else { "" });
        }
        let _ = write!(sql, "}}'::{type_name}[]");
        sql
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn arrays_are_literals_of_their_values() {
            let id = Uuid::from_u128(1);
            assert_eq!(
                uuids([id, id].into_iter()),
                "'{00000000-0000-0000-0000-000000000001,00000000-0000-0000-0000-000000000001}'::uuid[]"
            );
            assert_eq!(ints([-1, 2].into_iter()), "'{-1,2}'::int8[]");
            assert_eq!(uuids(std::iter::empty()), "'{}'::uuid[]");
            assert_eq!(words(["strong"].into_iter()), "'{strong}'::text[]");
            assert_eq!(
                bytes([&b"'\\"[..], &[][..]].into_iter()),
                "ARRAY[decode('275c', 'hex'), decode('', 'hex')]::bytea[]"
            );
            assert_eq!(bytes(std::iter::empty()), "ARRAY[]::bytea[]");
        }
    }
}

/// How long a batch waits for the writer's one connection. It is free
/// unless PostgreSQL is unreachable (the pool is then reconnecting), so
/// waiting longer only delays the 503 that tells clients to retry
/// (docs/operations.md, "PostgreSQL is unreachable").
const WRITER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// Reads share a pool and may queue behind each other under load, so they
/// wait a little longer before the 503 (a write whose conversation is not
/// cached reads it first: refused within these 2 s).
const READ_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects to the PostgreSQL database the URL names.
pub async fn open(url: &str, settings: &StoreSettings) -> Result<SqlStore<Postgres>, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    let writer_options = options.clone();
    let writer = Writer::start::<Postgres, _, _>(
        move || async move {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(WRITER_ACQUIRE_TIMEOUT)
                .connect_with(writer_options)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(pool)
        },
        settings.batch_max.get(),
        settings.queue.get(),
    )
    .await?;
    let reads = PgPoolOptions::new()
        .max_connections(settings.read_connections.get())
        .acquire_timeout(READ_ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?;
    Ok(SqlStore { reads, writer })
}
