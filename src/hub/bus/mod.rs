//! How topics on different nodes hear each other. Every node's hub
//! receives every message published for the conversations it holds,
//! including its own: [`local::LocalBus`] hands them straight back (one
//! node), [`redis::RedisBus`] also sends them through Redis pub/sub to the
//! other nodes (cluster). Either way local delivery never waits for the
//! network, so a node keeps serving its own clients while Redis is down.

pub mod local;
pub mod redis;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::protocol::Presence;
use crate::domain::Event;
use crate::store::TallyChange;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusMessage {
    /// The node that published it (a node ignores its own echo from Redis).
    pub origin: String,
    pub conversation_id: Uuid,
    pub body: BusBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum BusBody {
    Event {
        event: Box<Event>,
    },
    Tally {
        change: TallyChange,
    },
    Presence {
        presence: Presence,
    },
    Focus {
        who: String,
        comment_id: Option<Uuid>,
    },
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Delivers to this node at once and, in a cluster, to the others.
    fn publish(&self, message: BusMessage);
    /// Starts receiving a conversation's messages from other nodes.
    async fn subscribe(&self, conversation_id: Uuid);
    /// Stops receiving them (no one here watches it any more).
    async fn unsubscribe(&self, conversation_id: Uuid);
    /// "ok", or "degraded" while the bus cannot reach the other nodes.
    fn health(&self) -> &'static str;
}
