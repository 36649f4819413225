//! Cluster mode's shared truth: PostgreSQL. Every node has its own writer
//! (group commit per node). Each batch first locks the rows of the
//! conversations it writes to, in id order: batches from different nodes
//! for one conversation queue behind each other rather than deadlock, and
//! sequence numbers and tally versions stay in commit order across nodes.
//! A deadlock or serialisation failure that still happens (say, a sign-up
//! racing an edit) is retried.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::StoreSettings;

super::sql::sql_store!(
    store = PostgresStore,
    db = sqlx::Postgres,
    backend = "postgres",
    lock_conversation = "SELECT id FROM conversations WHERE id = $1 FOR UPDATE",
    // deadlock_detected, serialization_failure
    retryable = |code: &str| code == "40P01" || code == "40001",
    // Postgres has no per-statement thread hop; votes go one by one.
    batch_votes = false
);

impl PostgresStore {
    pub async fn open(url: &str, settings: &StoreSettings) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let writer = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&writer).await?;
        let reads = PgPoolOptions::new()
            .max_connections(settings.read_connections.get())
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(PostgresStore::with_pools(
            writer,
            reads,
            settings.batch_max.get(),
            settings.queue.get(),
        ))
    }
}
