//! The embedded default: one SQLite file under `data/`, in WAL mode with
//! `synchronous=FULL` so an acknowledged write survives a power cut. One
//! connection writes (SQLite allows one writer anyway, and group commit
//! makes it fast); a small pool reads beside it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::StoreSettings;

super::sql::sql_store!(
    store = SqliteStore,
    db = sqlx::Sqlite,
    backend = "sqlite",
    lock_conversation = "",
    retryable = |_code: &str| false,
    batch_votes = true
);

impl SqliteStore {
    pub async fn open(url: &str, settings: &StoreSettings) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reads = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.get())
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore::with_pools(
            writer,
            reads,
            settings.batch_max.get(),
            settings.queue.get(),
        ))
    }
}
