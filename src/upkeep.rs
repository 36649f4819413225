//! What the running system does on its own clock: announce deadlines as
//! they pass, forget request ids older than the retention window, and
//! delete expired sessions. All run on every node; both are exact if several nodes do them.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::Millis;
use crate::hub::Hub;
use crate::store::write::{AnnounceDeadline, PruneRequests, PruneSessions};
use crate::store::Store;

/// How far back a starting node looks for deadlines it may have missed
/// while no node ran (announcing twice is harmless: the store dedups).
const MISSED_DEADLINES: i64 = 10 * 60 * 1000;

/// Every second, announces each conversation whose deadline has just
/// passed, so live screens see it close at the moment it does.
pub async fn announce_deadlines(store: Arc<dyn Store>, hub: Arc<Hub>, shutdown: CancellationToken) {
    let mut since = Millis(Millis::now().0 - MISSED_DEADLINES);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = Millis::now();
        let conversations = match store.conversations().await {
            Ok(conversations) => conversations,
            Err(error) => {
                tracing::warn!(%error, "cannot read conversations for deadlines");
                continue;
            }
        };
        for conversation in conversations {
            if conversation.closes_at > since && conversation.closes_at <= now {
                let command = AnnounceDeadline {
                    conversation_id: conversation.id,
                    closes_at: conversation.closes_at,
                };
                match store.write(command).await {
                    Ok(committed) => hub.publish(&committed),
                    Err(error) => tracing::warn!(%error, "cannot announce a deadline"),
                }
            }
        }
        since = now;
    }
}

/// Every hour (and at start), forgets request ids older than `retention`.
pub async fn prune_requests(
    store: Arc<dyn Store>,
    retention: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let before = Millis(Millis::now().0 - retention.as_millis() as i64);
        match store.write(PruneRequests { before }).await {
            Ok(committed) if committed.answer > 0 => {
                tracing::info!(removed = committed.answer, "pruned old request ids")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot prune request ids"),
        }
    }
}

/// Every hour (and at start), deletes sessions that have expired, so the
/// table holds only live sign-ins. Expired ones are refused anyway; this
/// is what keeps them from piling up.
pub async fn prune_sessions(store: Arc<dyn Store>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match store
            .write(PruneSessions {
                before: Millis::now(),
            })
            .await
        {
            Ok(committed) if committed.answer > 0 => {
                tracing::info!(removed = committed.answer, "pruned expired sessions")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot prune sessions"),
        }
    }
}
