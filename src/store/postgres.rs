//! Cluster mode's shared truth: PostgreSQL. Every node has its own writer
//! (group commit per node). Each batch first locks the rows of the
//! conversations it writes to, in id order: batches from different nodes
//! for one conversation queue behind each other rather than deadlock, and
//! sequence numbers and tally versions stay in commit order across nodes.
//! A deadlock or serialisation failure that still happens (say, a sign-up
//! racing an edit) is retried.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult};
use sqlx::Postgres;
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
    const LOCK_CONVERSATION: Option<&'static str> =
        Some("SELECT id FROM conversations WHERE id = $1 FOR UPDATE");

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
        let rows: Vec<VoteRow> = sqlx::query_as(
            "SELECT i.status, i.kind, i.strong, i.wrong, i.version, p.suspended, v.choice, r.fingerprint, r.answer \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) WITH ORDINALITY \
                  AS q(item, participant, conversation, request, n) \
             LEFT JOIN items i ON i.id = q.item AND i.conversation_id = q.conversation \
             LEFT JOIN participants p ON p.id = q.participant AND p.conversation_id = q.conversation \
             LEFT JOIN votes v ON v.item_id = q.item AND v.participant_id = q.participant \
             LEFT JOIN requests r ON r.id = q.request \
             ORDER BY q.n",
        )
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
        sqlx::query(
            "WITH recorded AS ( \
                 INSERT INTO requests (id, fingerprint, answer, created_at) \
                 SELECT id, fingerprint, answer, $4 FROM UNNEST($1::uuid[], $2::bytea[], $3::bytea[]) \
                     AS r(id, fingerprint, answer) \
             ), cast_votes AS ( \
                 INSERT INTO votes (participant_id, item_id, conversation_id, choice, updated_at) \
                 SELECT participant, item, conversation, choice, $4 \
                 FROM UNNEST($5::uuid[], $6::uuid[], $7::uuid[], $8::text[]) \
                     AS u(participant, item, conversation, choice) \
                 ON CONFLICT (participant_id, item_id) \
                 DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at \
             ), withdrawn AS ( \
                 DELETE FROM votes v USING UNNEST($9::uuid[], $10::uuid[]) AS d(participant, item) \
                 WHERE v.participant_id = d.participant AND v.item_id = d.item \
             ) \
             UPDATE items SET strong = t.strong, wrong = t.wrong, version = t.version \
             FROM UNNEST($11::uuid[], $12::int8[], $13::int8[], $14::int8[]) AS t(id, strong, wrong, version) \
             WHERE items.id = t.id",
        )
        .bind(changes.requests.iter().map(|r| r.0).collect::<Vec<Uuid>>())
        .bind(changes.requests.iter().map(|r| r.1.to_vec()).collect::<Vec<Vec<u8>>>())
        .bind(changes.requests.iter().map(|r| r.2.clone()).collect::<Vec<Vec<u8>>>())
        .bind(now.0)
        .bind(changes.cast.iter().map(|v| v.0).collect::<Vec<Uuid>>())
        .bind(changes.cast.iter().map(|v| v.1).collect::<Vec<Uuid>>())
        .bind(changes.cast.iter().map(|v| v.2).collect::<Vec<Uuid>>())
        .bind(changes.cast.iter().map(|v| v.3.as_str()).collect::<Vec<&str>>())
        .bind(changes.withdrawn.iter().map(|v| v.0).collect::<Vec<Uuid>>())
        .bind(changes.withdrawn.iter().map(|v| v.1).collect::<Vec<Uuid>>())
        .bind(changes.tallies.iter().map(|t| t.0).collect::<Vec<Uuid>>())
        .bind(changes.tallies.iter().map(|t| t.1.strong).collect::<Vec<i64>>())
        .bind(changes.tallies.iter().map(|t| t.1.wrong).collect::<Vec<i64>>())
        .bind(changes.tallies.iter().map(|t| t.1.version).collect::<Vec<i64>>())
        .execute(&mut *c)
        .await?;
        Ok(())
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
