//! One connection's queue from its topic.
//!
//! The topic pushes each frame, encoded once and shared, into the outbox of
//! every subscriber; the connection's task takes them out and writes them.
//! Each outbox has its own lock and its own waker, so a tally tick costs a
//! subscriber one uncontended lock and at most one wake-up, instead of
//! every connection re-registering with channels that all of them share
//! (the broadcast and watch channels this replaced cost each connection
//! four to eight shared-lock operations per tick).
//!
//! Events are queued, at most `limit` of them: a connection further behind
//! has lagged and is closed with 4008 (it resumes with `since`). Tallies
//! and presence are slots that keep only the newest frame, so a slow
//! reader never queues them.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;

use super::topic::{Frame, TallyFrame};

pub struct Outbox {
    pending: Mutex<Pending>,
    waker: AtomicWaker,
    /// Events this connection may fall behind before it has lagged.
    limit: usize,
    /// Where the topic keeps this outbox in its audience's list; changed
    /// only under the topic's lock, so removal is a swap, not a search.
    pub(super) slot: AtomicUsize,
}

#[derive(Default)]
struct Pending {
    events: VecDeque<Frame>,
    tallies: Option<Arc<TallyFrame>>,
    presence: Option<Utf8Bytes>,
    lagged: bool,
}

/// What a connection is to send next.
pub enum Next {
    Event(Frame),
    Tallies(Arc<TallyFrame>),
    Presence(Utf8Bytes),
    /// More than `limit` events went unsent: the stream has a hole.
    Lagged,
}

impl Outbox {
    pub fn new(limit: usize) -> Outbox {
        Outbox {
            pending: Mutex::new(Pending::default()),
            waker: AtomicWaker::new(),
            limit,
            slot: AtomicUsize::new(usize::MAX),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().expect("an outbox is never poisoned")
    }

    pub(super) fn push_event(&self, frame: Frame) {
        {
            let mut pending = self.lock();
            if pending.lagged {
                return;
            }
            if pending.events.len() >= self.limit {
                // The connection ends anyway: free what it will never send.
                pending.lagged = true;
                pending.events = VecDeque::new();
            } else {
                pending.events.push_back(frame);
            }
        }
        self.waker.wake();
    }

    pub(super) fn set_tallies(&self, frame: &Arc<TallyFrame>) {
        self.lock().tallies = Some(frame.clone());
        self.waker.wake();
    }

    pub(super) fn set_presence(&self, text: &Utf8Bytes) {
        self.lock().presence = Some(text.clone());
        self.waker.wake();
    }

    /// Events first, in order, then the newest tallies, then presence (the
    /// order the connection always sent them in).
    fn take(&self) -> Option<Next> {
        let mut pending = self.lock();
        if pending.lagged {
            return Some(Next::Lagged);
        }
        if let Some(frame) = pending.events.pop_front() {
            if pending.events.is_empty() && pending.events.capacity() > 16 {
                // A burst is over: an idle connection keeps no big buffer.
                pending.events = VecDeque::new();
            }
            return Some(Next::Event(frame));
        }
        if let Some(frame) = pending.tallies.take() {
            return Some(Next::Tallies(frame));
        }
        pending.presence.take().map(Next::Presence)
    }

    /// Waits for the next thing to send.
    pub async fn next(&self) -> Next {
        poll_fn(|cx| {
            if let Some(next) = self.take() {
                return Poll::Ready(next);
            }
            self.waker.register(cx.waker());
            // A push between the first look and the registration woke no one.
            match self.take() {
                Some(next) => Poll::Ready(next),
                None => Poll::Pending,
            }
        })
        .await
    }

    pub(super) fn slot(&self) -> usize {
        self.slot.load(Ordering::Relaxed)
    }

    pub(super) fn set_slot(&self, slot: usize) {
        self.slot.store(slot, Ordering::Relaxed);
    }
}

#[cfg(test)]
impl Outbox {
    /// The events waiting, taken out.
    pub(crate) fn take_events(&self) -> Vec<Frame> {
        self.lock().events.drain(..).collect()
    }

    /// The tally frame waiting, taken out.
    pub(crate) fn take_tallies(&self) -> Option<Arc<TallyFrame>> {
        self.lock().tallies.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::topic::TallyFrame;

    fn frame(seq: i64) -> Frame {
        Frame {
            seq,
            text: Utf8Bytes::from(seq.to_string()),
        }
    }

    fn tallies(epoch: u64) -> Arc<TallyFrame> {
        Arc::new(TallyFrame {
            epoch,
            delta: Utf8Bytes::from_static("{}"),
            items: Vec::new(),
            comments: Vec::new(),
        })
    }

    #[tokio::test]
    async fn events_come_first_in_order_and_only_the_newest_tallies_wait() {
        let outbox = Outbox::new(8);
        outbox.set_tallies(&tallies(1));
        outbox.push_event(frame(1));
        outbox.set_tallies(&tallies(2));
        outbox.push_event(frame(2));
        outbox.set_presence(&Utf8Bytes::from_static("p"));
        assert!(matches!(outbox.next().await, Next::Event(f) if f.seq == 1));
        assert!(matches!(outbox.next().await, Next::Event(f) if f.seq == 2));
        assert!(matches!(outbox.next().await, Next::Tallies(t) if t.epoch == 2));
        assert!(matches!(outbox.next().await, Next::Presence(p) if p == "p"));
        assert!(outbox.take().is_none());
    }

    #[tokio::test]
    async fn a_connection_past_the_limit_has_lagged_for_good() {
        let outbox = Outbox::new(2);
        for seq in 1..=3 {
            outbox.push_event(frame(seq));
        }
        outbox.push_event(frame(4));
        assert!(matches!(outbox.next().await, Next::Lagged));
        assert!(matches!(outbox.next().await, Next::Lagged));
    }

    #[tokio::test]
    async fn a_push_wakes_the_waiting_connection() {
        let outbox = Arc::new(Outbox::new(2));
        let waiting = tokio::spawn({
            let outbox = outbox.clone();
            async move { matches!(outbox.next().await, Next::Event(f) if f.seq == 7) }
        });
        tokio::task::yield_now().await;
        outbox.push_event(frame(7));
        assert!(waiting.await.unwrap());
    }
}
