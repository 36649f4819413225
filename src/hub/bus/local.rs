//! The embedded default: one node, so publishing is delivering.

use std::sync::Weak;

use async_trait::async_trait;
use uuid::Uuid;

use super::{Bus, BusMessage};
use crate::hub::Hub;

pub struct LocalBus {
    /// The hub to deliver to; weak so the hub can own its bus.
    hub: Weak<Hub>,
}

impl LocalBus {
    pub fn new(hub: Weak<Hub>) -> LocalBus {
        LocalBus { hub }
    }
}

#[async_trait]
impl Bus for LocalBus {
    fn publish(&self, message: BusMessage) {
        if let Some(hub) = self.hub.upgrade() {
            hub.receive(message);
        }
    }

    async fn subscribe(&self, _conversation_id: Uuid) {}

    async fn unsubscribe(&self, _conversation_id: Uuid) {}

    fn health(&self) -> &'static str {
        "ok"
    }
}
