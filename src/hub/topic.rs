//! One conversation's live state on this node.
//!
//! A topic puts events in sequence order (holding early arrivals until the
//! gap closes, and fetching from the store what never arrives), projects
//! and serialises each one once per audience, keeps the recent ones in a
//! ring for resuming clients, and pushes the shared bytes into each
//! subscriber's [`Outbox`] (bounded: a subscriber that falls too far
//! behind finds out it lagged and is closed with 4008).
//!
//! Tallies are not events: the topic keeps the newest version of each and
//! publishes one frame per tick with those that changed, into a slot of
//! each outbox that keeps only the newest, so a slow reader only ever sees
//! the latest frame.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use uuid::Uuid;

use super::outbox::Outbox;
use super::protocol::{event_message, CommentUps, ItemTally, Presence, ServerMessage};
use crate::config::HubSettings;
use crate::domain::event::project;
use crate::domain::{Audience, CommentTally, Event, Millis, Tally, WatchRole};
use crate::store::{Tallies, TallyChange};

/// An event as delivered: its number and the bytes for one audience.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The event's sequence number, or [`UNSEQUENCED`] for passing news
    /// (who is looking at what) that is neither replayed nor deduplicated.
    pub seq: i64,
    pub text: Utf8Bytes,
}

/// The `seq` of frames outside the event sequence.
pub const UNSEQUENCED: i64 = i64::MIN;

/// The latest coalesced tally frame.
#[derive(Debug)]
pub struct TallyFrame {
    /// Counts frames; a subscriber that skipped one needs the full state.
    pub epoch: u64,
    /// The tallies that changed in this tick.
    pub delta: Utf8Bytes,
    /// The same, unencoded: a connection that may not see some of the
    /// pledges' tallies re-encodes the rest (docs/protocol.md).
    pub items: Vec<ItemTally>,
    pub comments: Vec<CommentUps>,
}

/// A recent event, kept for replay to resuming clients.
struct Recent {
    seq: i64,
    public: Option<Utf8Bytes>,
    moderators: Option<Utf8Bytes>,
}

impl Recent {
    /// The serialised text this entry keeps alive (what the ring costs).
    fn bytes(&self) -> usize {
        self.public.as_ref().map_or(0, |t| t.len())
            + self.moderators.as_ref().map_or(0, |t| t.len())
    }
}

/// The ring's share of the process-wide replay gauges: the operator sees
/// the memory it holds and can tell a ring still filling from a leak.
fn count_replay(events: f64, bytes: f64) {
    metrics::gauge!("chorus_replay_events").increment(events);
    metrics::gauge!("chorus_replay_bytes").increment(bytes);
}

/// The part of a topic that changes, behind one short-held lock.
struct State {
    /// The next sequence number to deliver; everything before it is delivered.
    next_seq: i64,
    /// Recent delivered events, oldest first, at most `ring_size`.
    ring: VecDeque<Recent>,
    /// Events that arrived ahead of a gap, by sequence number.
    early: BTreeMap<i64, Event>,
    /// When the current gap was first seen (for the gap timeout).
    gap_since: Option<Instant>,
    /// Item tallies and comment up-votes.
    items: Versions<Tally>,
    comments: Versions<CommentTally>,
    /// Epoch of the last tally frame published.
    epoch: u64,
    /// Presence shares of other nodes: counts and when they expire.
    remote_presence: HashMap<String, (Presence, Instant)>,
    /// The presence frame published last.
    presence: Utf8Bytes,
    /// Every subscriber's outbox, per audience: participants and
    /// displays, then facilitators.
    outboxes: [Vec<Arc<Outbox>>; 2],
}

fn audience_index(audience: Audience) -> usize {
    match audience {
        Audience::Public => 0,
        Audience::Moderators => 1,
    }
}

impl Drop for State {
    /// An evicted topic's ring leaves the gauges with it.
    fn drop(&mut self) {
        let bytes: usize = self.ring.iter().map(Recent::bytes).sum();
        count_replay(-(self.ring.len() as f64), -(bytes as f64));
    }
}

/// A versioned count: of two copies, the one with the larger version is
/// the newer.
trait Versioned: Copy {
    fn version(&self) -> i64;
}

impl Versioned for Tally {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Versioned for CommentTally {
    fn version(&self) -> i64 {
        self.version
    }
}

/// The newest known version of each tally of one kind, which changed since
/// the last frame, and which belong to things the public may not see.
///
/// Hidden tallies are kept, just not shown: events and tallies travel
/// separately, so a vote cast after something was shown again can arrive
/// before the event that shows it; dropping it then would leave the older
/// counts of that event on every screen.
struct Versions<T> {
    newest: HashMap<Uuid, T>,
    changed: HashSet<Uuid>,
    hidden: HashSet<Uuid>,
}

impl<T: Versioned> Versions<T> {
    fn new(tallies: Vec<(Uuid, T)>) -> Versions<T> {
        Versions {
            newest: tallies.into_iter().collect(),
            changed: HashSet::new(),
            hidden: HashSet::new(),
        }
    }

    /// Keeps `tally` if it is newer than the one held.
    fn offer(&mut self, id: Uuid, tally: T) {
        let newer = self
            .newest
            .get(&id)
            .is_none_or(|held| held.version() < tally.version());
        if newer {
            self.newest.insert(id, tally);
            if !self.hidden.contains(&id) {
                self.changed.insert(id);
            }
        }
    }

    fn hide(&mut self, id: Uuid) {
        self.hidden.insert(id);
        self.changed.remove(&id);
    }

    /// Makes `id` visible, with the tally its event carried (if it has one).
    fn show(&mut self, id: Uuid, tally: Option<T>) {
        let was_hidden = self.hidden.remove(&id);
        if let Some(tally) = tally {
            self.offer(id, tally);
        }
        // The next frame carries what the public could not see, which may
        // be newer than the event's copy.
        if was_hidden && self.newest.contains_key(&id) {
            self.changed.insert(id);
        }
    }

    fn changed(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The visible tallies changed since the last call.
    fn take_changed(&mut self) -> impl Iterator<Item = (Uuid, T)> + '_ {
        let newest = &self.newest;
        self.changed
            .drain()
            .filter_map(move |id| newest.get(&id).map(|&tally| (id, tally)))
    }

    fn visible(&self) -> impl Iterator<Item = (Uuid, T)> + '_ {
        self.newest
            .iter()
            .filter(|(id, _)| !self.hidden.contains(id))
            .map(|(&id, &tally)| (id, tally))
    }
}

pub struct Topic {
    /// The conversation this topic carries.
    pub conversation_id: Uuid,
    settings: HubSettings,
    state: Mutex<State>,
    /// Connections on this node by kind: participants, facilitators, displays.
    local: [AtomicU64; 3],
}

/// Where a new subscriber starts.
pub enum Start {
    /// Replay these events (after fetching `(after, before)` from the store
    /// when the ring does not reach back far enough), then go live.
    Replay {
        store_range: Option<(i64, i64)>,
        ring: Vec<Frame>,
    },
    /// Too far behind, or ahead of what this conversation has: reload.
    Resync { seq: i64, reason: &'static str },
}

/// What `subscribe` hands a connection.
pub struct Subscription {
    pub topic: Arc<Topic>,
    pub audience: Audience,
    /// Where the topic puts what this connection is to send.
    pub outbox: Arc<Outbox>,
    /// The sequence number the stream starts after.
    pub since: i64,
    pub start: Start,
    /// Decrements this node's presence count when the connection ends.
    _presence: PresenceGuard,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.topic.unsubscribe(self.audience, &self.outbox);
    }
}

/// Counts one connection in a topic's presence while it lives.
pub struct PresenceGuard {
    topic: Arc<Topic>,
    kind: usize,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.topic.local[self.kind].fetch_sub(1, Ordering::Relaxed);
    }
}

fn role_index(role: WatchRole) -> usize {
    match role {
        WatchRole::Participant => 0,
        WatchRole::Facilitator => 1,
        WatchRole::Display => 2,
    }
}

impl Topic {
    pub fn new(
        conversation_id: Uuid,
        last_seq: i64,
        tallies: Tallies,
        settings: &HubSettings,
    ) -> Topic {
        Topic {
            conversation_id,
            settings: settings.clone(),
            state: Mutex::new(State {
                next_seq: last_seq + 1,
                ring: VecDeque::with_capacity(settings.ring_size.get().min(4096)),
                early: BTreeMap::new(),
                gap_since: None,
                items: Versions::new(tallies.items),
                comments: Versions::new(tallies.comments),
                epoch: 0,
                remote_presence: HashMap::new(),
                presence: ServerMessage::Presence(Presence::default()).to_text(),
                outboxes: [Vec::new(), Vec::new()],
            }),
            local: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("topic state is never poisoned")
    }

    /// The last sequence number delivered here.
    pub fn head(&self) -> i64 {
        self.lock().next_seq - 1
    }

    /// Connections on this node.
    pub fn local_presence(&self) -> Presence {
        Presence {
            participants: self.local[0].load(Ordering::Relaxed),
            facilitators: self.local[1].load(Ordering::Relaxed),
            displays: self.local[2].load(Ordering::Relaxed),
        }
    }

    pub fn is_idle(&self) -> bool {
        self.local_presence() == Presence::default()
    }

    /// Registers a subscriber. Its outbox joins the topic under the same
    /// lock that delivery holds, so the ring replay and the live stream
    /// meet exactly: no gap, no overlap.
    pub fn subscribe(self: &Arc<Self>, role: WatchRole, since: Option<i64>) -> Subscription {
        let audience = role.audience();
        let kind = role_index(role);
        self.local[kind].fetch_add(1, Ordering::Relaxed);
        let guard = PresenceGuard {
            topic: self.clone(),
            kind,
        };
        let outbox = Arc::new(Outbox::new(self.settings.event_queue.get()));
        let mut state = self.lock();
        let list = &mut state.outboxes[audience_index(audience)];
        outbox.set_slot(list.len());
        list.push(outbox.clone());
        let head = state.next_seq - 1;
        let since = since.unwrap_or(head).max(0);
        let start = if since > head {
            // Either the client saw events this node has not delivered yet
            // (it came from a faster node), or it is ahead of the store. The
            // connection checks the store to tell which.
            Start::Replay {
                store_range: None,
                ring: Vec::new(),
            }
        } else if (head - since) as u64 > self.settings.max_replay {
            Start::Resync {
                seq: head,
                reason: "too_far_behind",
            }
        } else {
            let ring_first = state.ring.front().map(|r| r.seq).unwrap_or(state.next_seq);
            let store_range = (since + 1 < ring_first).then_some((since, ring_first));
            let ring = state
                .ring
                .iter()
                .filter(|r| r.seq > since)
                .filter_map(|r| {
                    let text = match audience {
                        Audience::Public => r.public.clone(),
                        Audience::Moderators => r.moderators.clone(),
                    };
                    text.map(|text| Frame { seq: r.seq, text })
                })
                .collect();
            Start::Replay { store_range, ring }
        };
        drop(state);
        Subscription {
            topic: self.clone(),
            audience,
            outbox,
            since,
            start,
            _presence: guard,
        }
    }

    /// Takes a subscriber's outbox out of its audience's list.
    fn unsubscribe(&self, audience: Audience, outbox: &Arc<Outbox>) {
        let mut state = self.lock();
        let list = &mut state.outboxes[audience_index(audience)];
        let slot = outbox.slot();
        if list.get(slot).is_some_and(|o| Arc::ptr_eq(o, outbox)) {
            list.swap_remove(slot);
            if let Some(moved) = list.get(slot) {
                moved.set_slot(slot);
            }
        }
    }

    /// Takes an event from this node or another, in any order, at most
    /// once each; delivers what is now in sequence.
    pub fn offer(&self, event: Event) {
        let mut state = self.lock();
        if event.seq < state.next_seq {
            return;
        }
        state.early.insert(event.seq, event);
        loop {
            let next = state.next_seq;
            let Some(event) = state.early.remove(&next) else {
                break;
            };
            self.deliver(&mut state, &event);
            state.next_seq += 1;
        }
        state.gap_since = if state.early.is_empty() {
            None
        } else {
            state.gap_since.or(Some(Instant::now()))
        };
    }

    fn deliver(&self, state: &mut State, event: &Event) {
        Self::track_visibility(state, event);
        let now = Millis::now();
        let text = |audience| {
            let by = (audience == Audience::Moderators).then_some(event.actor.as_str());
            project(event, audience).map(|p| event_message(event.seq, p, by, now).to_text())
        };
        let public = text(Audience::Public);
        let moderators = text(Audience::Moderators);
        for (audience, text) in [(0, &public), (1, &moderators)] {
            if let Some(text) = text {
                for outbox in &state.outboxes[audience] {
                    outbox.push_event(Frame {
                        seq: event.seq,
                        text: text.clone(),
                    });
                }
            }
        }
        let recent = Recent {
            seq: event.seq,
            public,
            moderators,
        };
        count_replay(1.0, recent.bytes() as f64);
        state.ring.push_back(recent);
        while state.ring.len() > self.settings.ring_size.get() {
            if let Some(old) = state.ring.pop_front() {
                count_replay(-1.0, -(old.bytes() as f64));
            }
        }
        metrics::counter!("chorus_events_delivered_total").increment(1);
    }

    /// Tally frames go to every audience, so they carry only what the
    /// public may see: a hidden or pending comment or item drops out of
    /// them, and comes back (with its newest counts) when it is visible.
    fn track_visibility(state: &mut State, event: &Event) {
        use crate::domain::{CommentStatus, EventData, ItemStatus};
        match &event.data {
            EventData::Comment { comment, .. } if comment.status == CommentStatus::Visible => {
                // Comments nobody up-voted are in no frame (nor in the
                // store's tallies): their count is in the comment itself.
                let tally = (comment.up_version > 0).then_some(CommentTally {
                    up: comment.up,
                    version: comment.up_version,
                });
                state.comments.show(comment.id, tally);
            }
            EventData::Comment { comment, .. } => state.comments.hide(comment.id),
            EventData::Item { item, .. } if item.status == ItemStatus::Visible => {
                state.items.show(item.id, Some(item.tally));
            }
            EventData::Item { item, .. } => state.items.hide(item.id),
            _ => {}
        }
    }

    /// The sequence numbers missing before the earliest early arrival, if
    /// that gap has been open longer than the gap timeout.
    pub fn overdue_gap(&self) -> Option<(i64, i64)> {
        let state = self.lock();
        let since = state.gap_since?;
        if since.elapsed().as_millis() < self.settings.gap_timeout_ms as u128 {
            return None;
        }
        let first_early = *state.early.keys().next()?;
        Some((state.next_seq - 1, first_early))
    }

    /// Tells this node's facilitators which comment `who` is looking at.
    pub fn focus(&self, who: &str, comment_id: Option<Uuid>) {
        let text = ServerMessage::Focus { who, comment_id }.to_text();
        for outbox in &self.lock().outboxes[1] {
            outbox.push_event(Frame {
                seq: UNSEQUENCED,
                text: text.clone(),
            });
        }
    }

    /// Records a tally if it is newer than the one held.
    pub fn offer_tally(&self, change: TallyChange) {
        let mut state = self.lock();
        match change {
            TallyChange::Item { id, tally } => state.items.offer(id, tally),
            TallyChange::Comment { id, tally } => state.comments.offer(id, tally),
        }
    }

    /// Publishes one frame with what changed since the last tick.
    pub fn flush_tallies(&self) {
        let mut state = self.lock();
        if !state.items.changed() && !state.comments.changed() {
            return;
        }
        let items: Vec<ItemTally> = state
            .items
            .take_changed()
            .map(|(id, tally)| ItemTally { id, tally })
            .collect();
        let comments: Vec<CommentUps> = state
            .comments
            .take_changed()
            .map(|(id, tally)| CommentUps { id, tally })
            .collect();
        state.epoch += 1;
        let delta = ServerMessage::Tallies {
            items: items.clone(),
            comments: comments.clone(),
        }
        .to_text();
        let frame = Arc::new(TallyFrame {
            epoch: state.epoch,
            delta,
            items,
            comments,
        });
        for outbox in state.outboxes.iter().flatten() {
            outbox.set_tallies(&frame);
        }
    }

    /// Every tally the public may see, and the epoch it is current for.
    pub fn full_tallies(&self) -> (u64, Utf8Bytes) {
        let (epoch, items, comments) = self.full_tally_parts();
        (epoch, ServerMessage::Tallies { items, comments }.to_text())
    }

    /// The same, unencoded (for a connection that may see only some).
    pub fn full_tally_parts(&self) -> (u64, Vec<ItemTally>, Vec<CommentUps>) {
        let state = self.lock();
        let items = state
            .items
            .visible()
            .map(|(id, tally)| ItemTally { id, tally })
            .collect();
        let comments = state
            .comments
            .visible()
            .map(|(id, tally)| CommentUps { id, tally })
            .collect();
        (state.epoch, items, comments)
    }

    /// Takes another node's presence share.
    pub fn offer_presence(&self, node: &str, presence: Presence) {
        let expires =
            Instant::now() + std::time::Duration::from_millis(self.settings.presence_ttl_ms);
        self.lock()
            .remote_presence
            .insert(node.to_string(), (presence, expires));
    }

    /// This node's connections plus the unexpired shares of other nodes.
    fn total_presence(&self) -> Presence {
        let mut total = self.local_presence();
        let mut state = self.lock();
        let now = Instant::now();
        state
            .remote_presence
            .retain(|_, (_, expires)| *expires > now);
        for (p, _) in state.remote_presence.values() {
            total.participants += p.participants;
            total.facilitators += p.facilitators;
            total.displays += p.displays;
        }
        total
    }

    /// The presence frame as of now, for a new subscriber. It is not
    /// published: the others hear of the change at the next presence tick,
    /// so a burst of connections costs each watcher at most one frame a
    /// `presence_interval_ms`, not one per connection.
    pub fn presence_now(&self) -> Utf8Bytes {
        ServerMessage::Presence(self.total_presence()).to_text()
    }

    /// Recomputes the total over nodes and publishes it if it changed
    /// (called once per presence tick).
    pub fn refresh_presence(&self) {
        let text = ServerMessage::Presence(self.total_presence()).to_text();
        let mut state = self.lock();
        if state.presence == text {
            return;
        }
        for outbox in state.outboxes.iter().flatten() {
            outbox.set_presence(&text);
        }
        state.presence = text;
    }
}

#[cfg(test)]
#[path = "topic_tests.rs"]
mod tests;
