//! What a subscribed connection forwards from its topic once the start of
//! the stream is out: events (each once, in order), coalesced tally
//! frames and presence changes.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;

use super::veil::{Veil, Veiled};
use super::wire::{End, Wire};
use super::CLOSE_TOO_SLOW;
use crate::domain::Millis;
use crate::hub::outbox::Next;
use crate::hub::topic::{Frame, Subscription, TallyFrame, UNSEQUENCED};

/// A connection's progress through its subscription.
pub struct Live {
    pub subscription: Subscription,
    /// The largest sequence number sent; anything at or below is skipped.
    pub last_sent: i64,
    /// The tally epoch this client is current with.
    pub epoch: u64,
    /// The last presence frame sent (the same count is not sent twice).
    pub last_presence: Utf8Bytes,
    /// What this connection leaves out of the tallies; `None` for staff
    /// and screens with a display token, who see them all.
    pub veil: Option<Veil>,
}

/// Waits for the next thing to send; never resolves before a subscription.
pub async fn next(live: &Option<Live>) -> Next {
    match live {
        Some(live) => live.subscription.outbox.next().await,
        None => std::future::pending().await,
    }
}

impl Live {
    pub async fn forward(&mut self, wire: &mut Wire, next: Next) -> Result<(), End> {
        match next {
            Next::Event(frame) => self.event(wire, frame).await,
            Next::Lagged => {
                // The outbox dropped events this client never got: it
                // must resume from what it has, not carry on with a hole.
                metrics::counter!("chorus_ws_too_slow_total").increment(1);
                Err(End::Close(CLOSE_TOO_SLOW, "too slow"))
            }
            Next::Tallies(frame) => self.tallies(wire, frame).await,
            Next::Presence(text) => self.presence(wire, text).await,
        }
    }

    async fn event(&mut self, wire: &mut Wire, frame: Frame) -> Result<(), End> {
        if frame.seq == UNSEQUENCED {
            return wire.send(frame.text).await;
        }
        // A client that resumed from a node further ahead than this one
        // already has the events up to its `since`.
        if frame.seq <= self.last_sent {
            return Ok(());
        }
        self.last_sent = frame.seq;
        let veiled = self
            .veil
            .as_mut()
            .and_then(|veil| veil.event(frame.text.as_str(), Millis::now()));
        wire.send(veiled.unwrap_or(frame.text)).await
    }

    async fn tallies(&mut self, wire: &mut Wire, frame: Arc<TallyFrame>) -> Result<(), End> {
        if frame.epoch <= self.epoch {
            // Published before this connection's full frame, which has it.
            return Ok(());
        }
        let now = Millis::now();
        let text = if frame.epoch == self.epoch + 1 {
            self.epoch = frame.epoch;
            match self
                .veil
                .as_ref()
                .map(|veil| veil.tallies(&frame.items, &frame.comments, now))
            {
                None | Some(Veiled::Shared) => frame.delta.clone(),
                Some(Veiled::Own(text)) => text,
                Some(Veiled::Nothing) => return Ok(()),
            }
        } else {
            // A frame went by while this connection was busy, and only the
            // latest is kept: a delta would leave out what that one held.
            let (epoch, full) = full_tallies(&self.subscription, self.veil.as_ref(), now);
            self.epoch = epoch;
            full
        };
        wire.send(text).await
    }

    /// Sends the current tally of a pledge the participant has just voted
    /// on, which its veil now lets through.
    pub async fn reveal(&mut self, wire: &mut Wire, item: uuid::Uuid) -> Result<(), End> {
        let Some(veil) = self.veil.as_mut() else {
            return Ok(());
        };
        veil.voted(item);
        // Under "after_close" a vote reveals nothing.
        if !veil.shows(item, Millis::now()) {
            return Ok(());
        }
        let (_, items, _) = self.subscription.topic.full_tally_parts();
        let items: Vec<_> = items.into_iter().filter(|t| t.id == item).collect();
        if items.is_empty() {
            return Ok(());
        }
        let text = crate::hub::protocol::ServerMessage::Tallies {
            items,
            comments: Vec::new(),
        }
        .to_text();
        wire.send(text).await
    }

    async fn presence(&mut self, wire: &mut Wire, text: Utf8Bytes) -> Result<(), End> {
        if text == self.last_presence {
            return Ok(());
        }
        self.last_presence = text.clone();
        wire.send(text).await
    }
}

/// Every tally this connection may see, and the epoch it is current for.
pub fn full_tallies(
    subscription: &Subscription,
    veil: Option<&Veil>,
    now: Millis,
) -> (u64, Utf8Bytes) {
    match veil {
        Some(veil) if !veil.lifted(now) => {
            let (epoch, items, comments) = subscription.topic.full_tally_parts();
            // The start of the stream always has a tally frame, even empty.
            let text = match veil.tallies(&items, &comments, now) {
                Veiled::Own(text) => text,
                Veiled::Shared | Veiled::Nothing => {
                    let items = items.into_iter().filter(|t| veil.shows(t.id, now));
                    crate::hub::protocol::ServerMessage::Tallies {
                        items: items.collect(),
                        comments,
                    }
                    .to_text()
                }
            };
            (epoch, text)
        }
        _ => subscription.topic.full_tallies(),
    }
}
