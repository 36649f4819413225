//! Cluster mode's shared truth: PostgreSQL. Every node has its own writer
//! (group commit per node); the conversation's counter row and each item's
//! row are locked by the transactions that bump them, so sequence numbers
//! and tally versions stay in commit order across nodes. A participant's
//! row is locked before their vote is read, so one participant's votes
//! arriving through two nodes cannot interleave.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::StoreSettings;

super::sql::sql_store!(
    store = PostgresStore,
    db = sqlx::Postgres,
    backend = "postgres",
    lock_participant = " FOR UPDATE"
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
            .max_connections(settings.read_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(PostgresStore::with_pools(
            writer,
            reads,
            settings.batch_max,
            settings.queue,
        ))
    }
}
