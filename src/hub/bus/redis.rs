//! Cluster mode's bus: Redis pub/sub, one channel per conversation, so a
//! node hears only the conversations its clients watch.
//!
//! One `ConnectionManager` speaks RESP3: published messages come back as
//! push messages on the same connection, and after a reconnect the
//! manager subscribes again by itself (automatic resubscription).
//!
//! Pub/sub is fire-and-forget, so nothing here tries to be reliable.
//! Instead: local delivery never waits for Redis; a node that sees a
//! sequence gap fetches the missing events from the store (the topic's gap
//! repair); and whenever this node's connection to Redis comes back, every
//! topic catches up from the store, events and tallies both.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::{Bus, BusMessage};
use crate::hub::Hub;

/// Messages waiting to be published; beyond this they are dropped (and
/// counted), and the store-based repair covers what others missed.
const OUTBOX: usize = 100_000;
/// How many queued messages share one pipelined round trip.
const PUBLISH_BATCH: usize = 256;
/// How often the connection is checked (and, when down, retried).
const HEALTH_INTERVAL: Duration = Duration::from_millis(500);

fn channel(conversation_id: Uuid) -> String {
    format!("chorus:conversation:{conversation_id}")
}

pub struct RedisBus {
    /// The hub to deliver to (weak: the hub owns the bus).
    hub: Weak<Hub>,
    /// Commands (publish, subscribe); reconnects by itself.
    connection: ConnectionManager,
    /// Queue to the publisher task.
    outbox: mpsc::Sender<BusMessage>,
    /// Whether Redis answered lately; `/readyz` says "degraded" otherwise.
    healthy: Arc<AtomicBool>,
}

impl RedisBus {
    /// Connects and starts the publisher, reader and health tasks.
    pub async fn connect(
        url: &str,
        hub: Weak<Hub>,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<RedisBus>> {
        let url = if url.contains("protocol=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        };
        let client = redis::Client::open(url.as_str())?;
        let (push_tx, push_rx) = mpsc::unbounded_channel::<PushInfo>();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(push_tx)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_max_delay(Duration::from_secs(2))
            .set_number_of_retries(2);
        let connection = client.get_connection_manager_with_config(config).await?;
        let (outbox, outbox_rx) = mpsc::channel(OUTBOX);
        let healthy = Arc::new(AtomicBool::new(true));
        let bus = Arc::new(RedisBus {
            hub: hub.clone(),
            connection: connection.clone(),
            outbox,
            healthy: healthy.clone(),
        });
        let node = hub.upgrade().map(|h| h.node_id.clone()).unwrap_or_default();
        tasks.spawn(publish_loop(
            connection.clone(),
            outbox_rx,
            healthy.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(read_loop(
            push_rx,
            hub.clone(),
            node,
            healthy.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(health_loop(connection, hub, healthy, shutdown));
        Ok(bus)
    }
}

#[async_trait]
impl Bus for RedisBus {
    fn publish(&self, message: BusMessage) {
        if let Some(hub) = self.hub.upgrade() {
            hub.receive(message.clone());
        }
        if self.outbox.try_send(message).is_err() {
            metrics::counter!("chorus_bus_dropped_total").increment(1);
        }
    }

    async fn subscribe(&self, conversation_id: Uuid) {
        let mut connection = self.connection.clone();
        if let Err(error) = connection.subscribe(channel(conversation_id)).await {
            // The manager resubscribes on reconnect only to channels it
            // knows; the topic's store sweep covers the meantime.
            tracing::warn!(%error, %conversation_id, "redis subscribe failed");
            self.healthy.store(false, Ordering::Relaxed);
        }
    }

    async fn unsubscribe(&self, conversation_id: Uuid) {
        let mut connection = self.connection.clone();
        let _ = connection.unsubscribe(channel(conversation_id)).await;
    }

    fn health(&self) -> &'static str {
        if self.healthy.load(Ordering::Relaxed) {
            "ok"
        } else {
            "degraded"
        }
    }
}

/// Publishes queued messages in order, a pipeline per batch.
async fn publish_loop(
    mut connection: ConnectionManager,
    mut outbox: mpsc::Receiver<BusMessage>,
    healthy: Arc<AtomicBool>,
    shutdown: CancellationToken,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            n = outbox.recv_many(&mut batch, PUBLISH_BATCH) => if n == 0 { break },
        }
        let mut pipe = redis::pipe();
        for message in batch.drain(..) {
            match serde_json::to_vec(&message) {
                Ok(payload) => {
                    pipe.publish(channel(message.conversation_id), payload)
                        .ignore();
                }
                Err(error) => tracing::error!(%error, "bus message does not serialise"),
            }
        }
        let result: redis::RedisResult<()> = pipe.query_async(&mut connection).await;
        match result {
            Ok(()) => metrics::counter!("chorus_bus_published_total").increment(1),
            Err(error) => {
                // Other nodes catch up from the store when Redis is back.
                metrics::counter!("chorus_bus_publish_errors_total").increment(1);
                if healthy.swap(false, Ordering::Relaxed) {
                    tracing::warn!(%error, "redis publish failed; bus degraded");
                }
            }
        }
    }
}

/// Hands messages from other nodes to the hub; notices disconnections.
async fn read_loop(
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    hub: Weak<Hub>,
    node: String,
    healthy: Arc<AtomicBool>,
    shutdown: CancellationToken,
) {
    loop {
        let push = tokio::select! {
            _ = shutdown.cancelled() => break,
            push = pushes.recv() => match push { Some(p) => p, None => break },
        };
        match push.kind {
            PushKind::Message => {
                let Some(Value::BulkString(payload)) = push.data.get(1) else {
                    continue;
                };
                let message: BusMessage = match serde_json::from_slice(payload) {
                    Ok(m) => m,
                    Err(error) => {
                        tracing::warn!(%error, "ignoring a malformed bus message");
                        continue;
                    }
                };
                if message.origin == node {
                    continue;
                }
                metrics::counter!("chorus_bus_received_total").increment(1);
                match hub.upgrade() {
                    Some(hub) => hub.receive(message),
                    None => break,
                }
            }
            PushKind::Disconnection if healthy.swap(false, Ordering::Relaxed) => {
                tracing::warn!("lost the connection to redis; bus degraded");
            }
            _ => {}
        }
    }
}

/// Pings Redis; when it answers again after an outage, every topic
/// catches up from the store.
async fn health_loop(
    mut connection: ConnectionManager,
    hub: Weak<Hub>,
    healthy: Arc<AtomicBool>,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(HEALTH_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let answered = redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok();
        metrics::gauge!("chorus_bus_healthy").set(if answered { 1.0 } else { 0.0 });
        if !answered {
            if healthy.swap(false, Ordering::Relaxed) {
                tracing::warn!("redis does not answer; bus degraded");
            }
            continue;
        }
        if !healthy.load(Ordering::Relaxed) {
            let Some(hub) = hub.upgrade() else { break };
            tracing::info!("redis is back; catching up from the store");
            for conversation_id in hub.topic_ids() {
                let _ = connection.subscribe(channel(conversation_id)).await;
            }
            hub.catch_up_all().await;
            healthy.store(true, Ordering::Relaxed);
        }
    }
}
