//! The writer's one connection, held from batch to batch.
//!
//! Taking a connection from a pool for every batch and giving it back costs
//! two round trips that write nothing: sqlx pings a connection as it is
//! taken and again as it is returned. At a few hundred batches a second
//! those were a third of a PostgreSQL batch's round trips. So the writer
//! keeps its connection, and checks it only after a batch failed: a
//! connection that no longer answers is dropped, and the next batch opens
//! a new one from the pool.

use sqlx::pool::PoolConnection;
use sqlx::{Connection, Pool};

use super::backend::Backend;
use super::StoreError;

pub struct HeldConnection<DB: Backend> {
    pool: Pool<DB>,
    held: Option<PoolConnection<DB>>,
}

impl<DB: Backend> HeldConnection<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        HeldConnection { pool, held: None }
    }

    /// The connection, opened anew if the last one was dropped.
    pub async fn get(&mut self) -> Result<&mut DB::Connection, StoreError> {
        let connection = match self.held.take() {
            Some(connection) => connection,
            None => self.pool.acquire().await?,
        };
        Ok(&mut **self.held.insert(connection))
    }

    /// After a failed batch: keeps the connection if it still answers (a
    /// rollback the failure left queued goes out with the ping), drops it
    /// if not. True when it was lost.
    pub async fn check(&mut self) -> bool {
        let Some(connection) = self.held.as_mut() else {
            return true;
        };
        let Err(error) = connection.ping().await else {
            return false;
        };
        tracing::warn!(backend = DB::LABEL, %error, "the writer's connection is lost; opening another");
        if let Some(mut lost) = self.held.take() {
            lost.close_on_drop();
        }
        true
    }

    /// Gives the connection back and closes the pool.
    pub async fn close(mut self) {
        self.held.take();
        self.pool.close().await;
    }
}
