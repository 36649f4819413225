//! One conversation's live state on this node.
//!
//! A topic puts events in sequence order (holding early arrivals until the
//! gap closes, and fetching from the store what never arrives), projects
//! and serialises each one once per audience, keeps the recent ones in a
//! ring for resuming clients, and hands them to subscribers through one
//! broadcast channel per audience (bounded: a subscriber that falls too far
//! behind finds out it lagged and is closed with 4008).
//!
//! Tallies are not events: the topic keeps the newest version of each and
//! publishes one frame per tick with those that changed, through a watch
//! channel, so a slow reader only ever sees the latest frame.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

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
}

/// A recent event, kept for replay to resuming clients.
struct Recent {
    seq: i64,
    public: Option<Utf8Bytes>,
    moderators: Option<Utf8Bytes>,
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
    /// Live events for participants and displays.
    public: broadcast::Sender<Frame>,
    /// Live events for facilitators.
    moderators: broadcast::Sender<Frame>,
    /// The latest tally frame.
    tallies: watch::Sender<Arc<TallyFrame>>,
    /// The latest presence frame (bytes) for this conversation.
    presence: watch::Sender<Utf8Bytes>,
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
    pub live: broadcast::Receiver<Frame>,
    pub tallies: watch::Receiver<Arc<TallyFrame>>,
    pub presence: watch::Receiver<Utf8Bytes>,
    /// The sequence number the stream starts after.
    pub since: i64,
    pub start: Start,
    /// Decrements this node's presence count when the connection ends.
    _presence: PresenceGuard,
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
        let (public, _) = broadcast::channel(settings.event_queue.get());
        let (moderators, _) = broadcast::channel(settings.event_queue.get());
        let first = Arc::new(TallyFrame {
            epoch: 0,
            delta: Utf8Bytes::from_static(r#"{"type":"tallies","items":[],"comments":[]}"#),
        });
        let (tallies_tx, _) = watch::channel(first);
        let (presence, _) = watch::channel(ServerMessage::Presence(Presence::default()).to_text());
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
            }),
            public,
            moderators,
            tallies: tallies_tx,
            presence,
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

    /// Registers a subscriber. The broadcast receiver is created under the
    /// same lock that delivery holds, so the ring replay and the live
    /// stream meet exactly: no gap, no overlap.
    pub fn subscribe(self: &Arc<Self>, role: WatchRole, since: Option<i64>) -> Subscription {
        let audience = role.audience();
        let kind = role_index(role);
        self.local[kind].fetch_add(1, Ordering::Relaxed);
        let guard = PresenceGuard {
            topic: self.clone(),
            kind,
        };
        let state = self.lock();
        let live = match audience {
            Audience::Public => self.public.subscribe(),
            Audience::Moderators => self.moderators.subscribe(),
        };
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
        let mut tallies = self.tallies.subscribe();
        tallies.mark_unchanged();
        let mut presence = self.presence.subscribe();
        presence.mark_unchanged();
        Subscription {
            topic: self.clone(),
            audience,
            live,
            tallies,
            presence,
            since,
            start,
            _presence: guard,
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
        if let Some(text) = &public {
            let _ = self.public.send(Frame {
                seq: event.seq,
                text: text.clone(),
            });
        }
        if let Some(text) = &moderators {
            let _ = self.moderators.send(Frame {
                seq: event.seq,
                text: text.clone(),
            });
        }
        state.ring.push_back(Recent {
            seq: event.seq,
            public,
            moderators,
        });
        while state.ring.len() > self.settings.ring_size.get() {
            state.ring.pop_front();
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
        let _ = self.moderators.send(Frame {
            seq: UNSEQUENCED,
            text,
        });
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
        let items = state
            .items
            .take_changed()
            .map(|(id, tally)| ItemTally { id, tally })
            .collect();
        let comments = state
            .comments
            .take_changed()
            .map(|(id, tally)| CommentUps { id, tally })
            .collect();
        state.epoch += 1;
        let frame = TallyFrame {
            epoch: state.epoch,
            delta: ServerMessage::Tallies { items, comments }.to_text(),
        };
        drop(state);
        self.tallies.send_replace(Arc::new(frame));
    }

    /// Every tally the public may see, and the epoch it is current for.
    pub fn full_tallies(&self) -> (u64, Utf8Bytes) {
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
        (
            state.epoch,
            ServerMessage::Tallies { items, comments }.to_text(),
        )
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
        self.presence.send_if_modified(|current| {
            if *current == text {
                false
            } else {
                *current = text;
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use proptest::prelude::*;
    use serde_json::Value;
    use tokio::sync::broadcast::error::TryRecvError;

    use super::*;
    use crate::domain::{Comment, CommentStatus, EventData, Item, ItemKind, ItemStatus};

    fn settings(ring_size: usize) -> HubSettings {
        let mut hub = crate::config::Settings::defaults().hub;
        hub.ring_size = std::num::NonZero::new(ring_size).expect("a ring holds something");
        // Room for every test's events: lag is the connection's concern.
        hub.event_queue = std::num::NonZero::new(4096).expect("positive");
        hub.max_replay = 1_000_000;
        // A gap is overdue at once, so tests see what repair would ask for.
        hub.gap_timeout_ms = 0;
        hub
    }

    fn new_topic(ring_size: usize, tallies: Tallies) -> Arc<Topic> {
        Arc::new(Topic::new(Uuid::nil(), 0, tallies, &settings(ring_size)))
    }

    fn event(seq: i64, data: EventData) -> Event {
        Event {
            conversation_id: Uuid::nil(),
            seq,
            actor: "Amber Heron".into(),
            data,
            created_at: Millis(0),
        }
    }

    fn comment(id: Uuid, status: CommentStatus, tally: CommentTally) -> Comment {
        Comment {
            id,
            item_id: Uuid::nil(),
            parent_id: None,
            handle: "Amber Heron".into(),
            body: "Protected time".into(),
            status,
            pinned: false,
            hidden_reason: None,
            up: tally.up,
            up_version: tally.version,
            flags: 0,
            seq: 0,
            created_at: Millis(0),
        }
    }

    /// The sequence numbers waiting in a receiver, checking each frame's
    /// bytes carry the number it is filed under.
    fn drain(live: &mut broadcast::Receiver<Frame>) -> Vec<i64> {
        let mut seqs = Vec::new();
        loop {
            match live.try_recv() {
                Ok(frame) => {
                    let message: Value = serde_json::from_str(frame.text.as_str()).unwrap();
                    assert_eq!(message["seq"], frame.seq, "{message}");
                    seqs.push(frame.seq);
                }
                Err(TryRecvError::Empty) => return seqs,
                Err(other) => panic!("{other:?}"),
            }
        }
    }

    // ---- Ordering and the ring ----

    /// What an event is, as far as who sees it goes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        /// A visible comment: everyone.
        Shown,
        /// A comment awaiting moderation: facilitators only.
        Pending,
        /// A flag: facilitators only.
        Flag,
        /// A visible comment hidden: `comment_removed` for the public.
        Removed,
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            Just(Kind::Shown),
            Just(Kind::Pending),
            Just(Kind::Flag),
            Just(Kind::Removed)
        ]
    }

    fn event_of(seq: i64, kind: Kind) -> Event {
        let id = Uuid::from_u128(seq as u128);
        let tally = CommentTally { up: 0, version: 0 };
        let (status, previous) = match kind {
            Kind::Shown => (CommentStatus::Visible, None),
            Kind::Pending => (CommentStatus::Pending, None),
            Kind::Removed => (CommentStatus::Hidden, Some(CommentStatus::Visible)),
            Kind::Flag => {
                return event(
                    seq,
                    EventData::Flag {
                        comment_id: id,
                        reason: "names a colleague".into(),
                        flags: 1,
                    },
                )
            }
        };
        event(
            seq,
            EventData::Comment {
                action: "created".into(),
                comment: comment(id, status, tally),
                previous,
            },
        )
    }

    /// The seqs in `range` each audience may see, by [`project`].
    fn visible_to(
        kinds: &[Kind],
        audience: Audience,
        range: impl Iterator<Item = i64>,
    ) -> Vec<i64> {
        range
            .filter(|&seq| project(&event_of(seq, kinds[seq as usize - 1]), audience).is_some())
            .collect()
    }

    /// Events numbered 1..=n, offered in a shuffled order with some offered
    /// twice (another node, gap repair and the sweep may all bring one).
    fn arrivals() -> impl Strategy<Value = (Vec<Kind>, Vec<i64>)> {
        prop::collection::vec(kind(), 1..60).prop_flat_map(|kinds| {
            let seqs: Vec<i64> = (1..=kinds.len() as i64).collect();
            let twice = prop::sample::subsequence(seqs.clone(), 0..=seqs.len());
            (Just(kinds), twice).prop_flat_map(move |(kinds, twice)| {
                let mut all = seqs.clone();
                all.extend(twice);
                (Just(kinds), Just(all).prop_shuffle())
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Whatever the arrival order, each audience receives, at every
        /// moment, exactly the events it may see up to the first gap, once
        /// each and in order; what waits behind a gap is reported for repair.
        #[test]
        fn events_in_any_order_reach_every_audience_once_in_order((kinds, arrival) in arrivals()) {
            let topic = new_topic(16, Tallies::default());
            let mut participant = topic.subscribe(WatchRole::Participant, None);
            let mut display = topic.subscribe(WatchRole::Display, None);
            let mut desk = topic.subscribe(WatchRole::Facilitator, None);
            let mut received = [Vec::new(), Vec::new(), Vec::new()];
            let mut offered = BTreeSet::new();
            for &seq in &arrival {
                topic.offer(event_of(seq, kinds[seq as usize - 1]));
                offered.insert(seq);
                let contiguous = (1..).take_while(|s| offered.contains(s)).last().unwrap_or(0);
                prop_assert_eq!(topic.head(), contiguous);
                let waiting = offered.range(contiguous + 1..).next().copied();
                prop_assert_eq!(topic.overdue_gap(), waiting.map(|first| (contiguous, first)));
                for (got, subscription) in received.iter_mut().zip([&mut participant, &mut display, &mut desk]) {
                    got.extend(drain(&mut subscription.live));
                    prop_assert_eq!(
                        &*got,
                        &visible_to(&kinds, subscription.audience, 1..=contiguous)
                    );
                }
            }
            prop_assert_eq!(topic.head(), kinds.len() as i64);
        }

        /// A subscriber resuming from any `since` gets every event after it
        /// that it may see exactly once, in order: from the store (the range
        /// the ring no longer holds), then the ring, then live, with the
        /// ring's bytes the same as the live stream's.
        #[test]
        fn a_resuming_subscriber_gets_what_it_missed_once_in_order(
            kinds in prop::collection::vec(kind(), 1..80),
            ring_size in 1usize..24,
            joined_at in any::<prop::sample::Index>(),
            since in any::<prop::sample::Index>(),
        ) {
            let n = kinds.len() as i64;
            let topic = new_topic(ring_size, Tallies::default());
            let mut early = [
                topic.subscribe(WatchRole::Participant, None),
                topic.subscribe(WatchRole::Facilitator, None),
            ];
            let joined_at = joined_at.index(kinds.len() + 1) as i64;
            let since = since.index(joined_at as usize + 1) as i64;
            for seq in 1..=joined_at {
                topic.offer(event_of(seq, kinds[seq as usize - 1]));
            }
            let mut late = [
                topic.subscribe(WatchRole::Participant, Some(since)),
                topic.subscribe(WatchRole::Facilitator, Some(since)),
            ];
            for seq in joined_at + 1..=n {
                topic.offer(event_of(seq, kinds[seq as usize - 1]));
            }
            for (late, early) in late.iter_mut().zip(early.iter_mut()) {
                let audience = late.audience;
                prop_assert_eq!(late.since, since);
                let Start::Replay { store_range, ring } = std::mem::replace(
                    &mut late.start,
                    Start::Replay { store_range: None, ring: Vec::new() },
                ) else {
                    panic!("within max_replay: a replay");
                };
                let mut got = Vec::new();
                if let Some((after, before)) = store_range {
                    prop_assert_eq!(after, since);
                    got.extend(visible_to(&kinds, audience, after + 1..before));
                }
                // The ring's bytes are the live stream's: serialised once.
                let mut live_texts = HashMap::new();
                while let Ok(frame) = early.live.try_recv() {
                    live_texts.insert(frame.seq, frame.text);
                }
                for frame in &ring {
                    prop_assert_eq!(Some(&frame.text), live_texts.get(&frame.seq));
                }
                got.extend(ring.iter().map(|frame| frame.seq));
                got.extend(drain(&mut late.live));
                prop_assert_eq!(got, visible_to(&kinds, audience, since + 1..=n));
            }
        }
    }

    #[test]
    fn the_ring_keeps_the_most_recent_events_and_the_store_has_the_rest() {
        let topic = new_topic(4, Tallies::default());
        for seq in 1..=10 {
            topic.offer(event_of(seq, Kind::Shown));
        }
        let mut subscription = topic.subscribe(WatchRole::Participant, Some(2));
        match std::mem::replace(
            &mut subscription.start,
            Start::Resync { seq: 0, reason: "" },
        ) {
            Start::Replay { store_range, ring } => {
                assert_eq!(store_range, Some((2, 7)));
                assert_eq!(
                    ring.iter().map(|f| f.seq).collect::<Vec<_>>(),
                    [7, 8, 9, 10]
                );
            }
            Start::Resync { .. } => panic!("a replay"),
        }
    }

    #[test]
    fn too_far_behind_is_a_resync_and_ahead_is_left_to_the_store() {
        let mut settings = settings(4);
        settings.max_replay = 3;
        let topic = Arc::new(Topic::new(Uuid::nil(), 10, Tallies::default(), &settings));
        let start = |since| topic.subscribe(WatchRole::Display, Some(since)).start;
        assert!(matches!(
            start(6),
            Start::Resync {
                seq: 10,
                reason: "too_far_behind"
            }
        ));
        assert!(
            matches!(start(7), Start::Replay { store_range: Some((7, 11)), ref ring } if ring.is_empty())
        );
        assert!(
            matches!(start(12), Start::Replay { store_range: None, ref ring } if ring.is_empty())
        );
        let from_now = topic.subscribe(WatchRole::Display, None);
        assert_eq!(from_now.since, 10);
        assert!(
            matches!(from_now.start, Start::Replay { store_range: None, ref ring } if ring.is_empty())
        );
    }

    // ---- Tallies ----

    fn item(id: Uuid, status: ItemStatus, tally: Tally) -> Item {
        Item {
            id,
            conversation_id: Uuid::nil(),
            kind: ItemKind::Idea,
            title: "Quiet rooms".into(),
            body: String::new(),
            status,
            position: 0,
            handle: None,
            tally,
            comments: 0,
            created_at: Millis(0),
        }
    }

    fn item_event(
        seq: i64,
        id: Uuid,
        status: ItemStatus,
        previous: ItemStatus,
        tally: Tally,
    ) -> Event {
        event(
            seq,
            EventData::Item {
                action: "moderate".into(),
                item: item(id, status, tally),
                previous: Some(previous),
            },
        )
    }

    /// The id → (counts, version) pairs a tallies frame names.
    fn named(text: &str) -> HashMap<Uuid, (i64, i64, i64)> {
        let frame: Value = serde_json::from_str(text).unwrap();
        assert_eq!(frame["type"], "tallies");
        let mut named = HashMap::new();
        for item in frame["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap().parse().unwrap();
            let tally = (
                item["strong"].as_i64().unwrap(),
                item["wrong"].as_i64().unwrap(),
                item["version"].as_i64().unwrap(),
            );
            assert!(named.insert(id, tally).is_none(), "named once: {frame}");
        }
        for comment in frame["comments"].as_array().unwrap() {
            let id = comment["id"].as_str().unwrap().parse().unwrap();
            let tally = (
                comment["up"].as_i64().unwrap(),
                0,
                comment["version"].as_i64().unwrap(),
            );
            assert!(named.insert(id, tally).is_none(), "named once: {frame}");
        }
        named
    }

    fn tally(version: i64) -> Tally {
        Tally {
            strong: version,
            wrong: 0,
            version,
        }
    }

    /// The tallies frame published last, read as a subscriber would.
    fn latest(subscription: &mut Subscription) -> Option<HashMap<Uuid, (i64, i64, i64)>> {
        if !subscription.tallies.has_changed().unwrap() {
            return None;
        }
        let frame = subscription.tallies.borrow_and_update().clone();
        Some(named(frame.delta.as_str()))
    }

    fn full(topic: &Topic) -> HashMap<Uuid, (i64, i64, i64)> {
        named(topic.full_tallies().1.as_str())
    }

    #[test]
    fn an_older_tally_never_replaces_a_newer_one() {
        let id = Uuid::from_u128(1);
        let topic = new_topic(4, Tallies::default());
        let mut subscription = topic.subscribe(WatchRole::Participant, None);
        topic.offer_tally(TallyChange::Item {
            id,
            tally: tally(5),
        });
        topic.flush_tallies();
        assert_eq!(
            latest(&mut subscription),
            Some(HashMap::from([(id, (5, 0, 5))]))
        );
        topic.offer_tally(TallyChange::Item {
            id,
            tally: tally(3),
        });
        topic.offer_tally(TallyChange::Item {
            id,
            tally: tally(5),
        });
        topic.flush_tallies();
        assert_eq!(latest(&mut subscription), None, "nothing newer, no frame");
        // Nor does an event carrying an older copy.
        topic.offer(item_event(
            1,
            id,
            ItemStatus::Visible,
            ItemStatus::Visible,
            tally(4),
        ));
        topic.flush_tallies();
        assert_eq!(latest(&mut subscription), None);
        assert_eq!(full(&topic), HashMap::from([(id, (5, 0, 5))]));
    }

    #[test]
    fn a_hidden_items_tally_is_in_no_frame_until_it_is_shown_again() {
        let id = Uuid::from_u128(1);
        let topic = new_topic(
            4,
            Tallies {
                items: vec![(id, tally(2))],
                comments: Vec::new(),
            },
        );
        let mut subscription = topic.subscribe(WatchRole::Participant, None);
        topic.offer_tally(TallyChange::Item {
            id,
            tally: tally(3),
        });
        topic.offer(item_event(
            1,
            id,
            ItemStatus::Hidden,
            ItemStatus::Visible,
            tally(3),
        ));
        topic.flush_tallies();
        assert_eq!(
            latest(&mut subscription),
            None,
            "the change before the hide is withheld"
        );
        assert_eq!(full(&topic), HashMap::new());
        topic.offer_tally(TallyChange::Item {
            id,
            tally: tally(4),
        });
        topic.flush_tallies();
        assert_eq!(latest(&mut subscription), None);
        assert_eq!(full(&topic), HashMap::new());
        topic.offer(item_event(
            2,
            id,
            ItemStatus::Visible,
            ItemStatus::Hidden,
            tally(4),
        ));
        topic.flush_tallies();
        assert_eq!(
            latest(&mut subscription),
            Some(HashMap::from([(id, (4, 0, 4))]))
        );
    }

    #[test]
    fn a_tally_that_overtakes_the_event_showing_its_item_is_not_lost() {
        // Hidden at seq 1, shown at seq 2 (with the counts of then), voted
        // on after: the vote's tally comes straight from the bus while the
        // event showing the item is still on its way (behind a gap, say).
        let id = Uuid::from_u128(1);
        let topic = new_topic(
            4,
            Tallies {
                items: vec![(id, tally(1))],
                comments: Vec::new(),
            },
        );
        topic.offer(item_event(
            1,
            id,
            ItemStatus::Hidden,
            ItemStatus::Visible,
            tally(1),
        ));
        topic.offer_tally(TallyChange::Item {
            id,
            tally: tally(2),
        });
        topic.offer(item_event(
            2,
            id,
            ItemStatus::Visible,
            ItemStatus::Hidden,
            tally(1),
        ));
        topic.flush_tallies();
        assert_eq!(full(&topic), HashMap::from([(id, (2, 0, 2))]));
    }

    /// The conversation as the store changes it: items (0..ITEMS) and
    /// comments (ITEMS..OBJECTS) are voted on while visible, and hidden
    /// and shown by moderation.
    const ITEMS: usize = 3;
    const OBJECTS: usize = 6;

    #[derive(Debug, Clone, Copy)]
    enum Step {
        Vote(usize),
        Hide(usize),
        Show(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (0..OBJECTS).prop_map(Step::Vote),
            1 => (0..OBJECTS).prop_map(Step::Hide),
            1 => (0..OBJECTS).prop_map(Step::Show),
        ]
    }

    fn object_id(object: usize) -> Uuid {
        Uuid::from_u128(object as u128 + 1)
    }

    /// The event that hides (`shown` false) or shows an object, carrying
    /// its tally as of then, as the store writes it.
    fn moderation(seq: i64, object: usize, (count, version): (i64, i64), shown: bool) -> Event {
        let id = object_id(object);
        if object < ITEMS {
            let (status, previous) = match shown {
                true => (ItemStatus::Visible, ItemStatus::Hidden),
                false => (ItemStatus::Hidden, ItemStatus::Visible),
            };
            let tally = Tally {
                strong: count,
                wrong: 0,
                version,
            };
            return item_event(seq, id, status, previous, tally);
        }
        let (status, previous) = match shown {
            true => (CommentStatus::Visible, CommentStatus::Hidden),
            false => (CommentStatus::Hidden, CommentStatus::Visible),
        };
        let tally = CommentTally { up: count, version };
        event(
            seq,
            EventData::Comment {
                action: "moderate".into(),
                comment: comment(id, status, tally),
                previous: Some(previous),
            },
        )
    }

    /// What reaches the topic: events, tallies, and the tally tick.
    #[derive(Debug, Clone)]
    enum Arrival {
        Event(Box<Event>),
        Tally(TallyChange),
        Tick,
    }

    /// What the store committed for `steps`, in commit order.
    #[derive(Debug, Clone)]
    struct History {
        /// Which objects are visible before the first step.
        initially: [bool; OBJECTS],
        /// The object each event is about and whether it left it visible,
        /// by seq (index seq - 1).
        events: Vec<(usize, bool)>,
        /// Each object's final tally: (counts, version).
        last: [(i64, i64); OBJECTS],
        visible_at_end: [bool; OBJECTS],
        arrivals: Vec<Arrival>,
    }

    impl History {
        fn of(initially: [bool; OBJECTS], steps: &[Step]) -> History {
            let mut visible = initially;
            let mut last = [(0i64, 0i64); OBJECTS];
            let mut events = Vec::new();
            let mut arrivals = Vec::new();
            for &step in steps {
                match step {
                    Step::Vote(object) if visible[object] => {
                        last[object] = (last[object].0 + 1, last[object].1 + 1);
                        let (count, version) = last[object];
                        let id = object_id(object);
                        arrivals.push(Arrival::Tally(if object < ITEMS {
                            TallyChange::Item {
                                id,
                                tally: Tally {
                                    strong: count,
                                    wrong: 0,
                                    version,
                                },
                            }
                        } else {
                            TallyChange::Comment {
                                id,
                                tally: CommentTally { up: count, version },
                            }
                        }));
                    }
                    Step::Hide(object) if visible[object] => {
                        visible[object] = false;
                        events.push((object, false));
                        let seq = events.len() as i64;
                        let event = moderation(seq, object, last[object], false);
                        arrivals.push(Arrival::Event(Box::new(event)));
                    }
                    Step::Show(object) if !visible[object] => {
                        visible[object] = true;
                        events.push((object, true));
                        let seq = events.len() as i64;
                        let event = moderation(seq, object, last[object], true);
                        arrivals.push(Arrival::Event(Box::new(event)));
                    }
                    _ => {}
                }
            }
            History {
                initially,
                events,
                last,
                visible_at_end: visible,
                arrivals,
            }
        }

        /// What the store hands a new topic: visible items, and visible
        /// comments with up-votes.
        fn initial_tallies(&self) -> Tallies {
            let mut tallies = Tallies::default();
            for object in (0..OBJECTS).filter(|&o| self.initially[o]) {
                if object < ITEMS {
                    tallies.items.push((object_id(object), Tally::default()));
                }
            }
            tallies
        }

        /// Whether the topic, having delivered up to `head`, knows `object`
        /// to be hidden: the last event about it said so. (Of what was
        /// hidden before the topic started it knows nothing, but the store
        /// gave it visible tallies only, and votes need a visible object.)
        fn known_hidden(&self, object: usize, head: i64) -> bool {
            self.events[..head as usize]
                .iter()
                .rev()
                .find(|(about, _)| *about == object)
                .is_some_and(|&(_, visible)| !visible)
        }

        /// The tallies a client should end with: every visible item's, and
        /// every visible comment's that has up-votes.
        fn expected(&self) -> HashMap<Uuid, (i64, i64, i64)> {
            (0..OBJECTS)
                .filter(|&o| self.visible_at_end[o] && (o < ITEMS || self.last[o].1 > 0))
                .map(|o| (object_id(o), (self.last[o].0, 0, self.last[o].1)))
                .collect()
        }
    }

    /// A history, and its arrivals shuffled with some repeated and tally
    /// ticks in between: events and tallies travel separately, and either
    /// may be late, repeated, or (events) held behind a gap.
    fn scenario() -> impl Strategy<Value = (History, Vec<Arrival>)> {
        (
            prop::array::uniform6(any::<bool>()),
            prop::collection::vec(step(), 0..40),
        )
            .prop_flat_map(|(initially, steps)| {
                let history = History::of(initially, &steps);
                let once = history.arrivals.clone();
                let n = once.len();
                (
                    Just(history),
                    prop::sample::subsequence(once, 0..=n),
                    0usize..12,
                )
            })
            .prop_flat_map(|(history, twice, ticks)| {
                let mut all = history.arrivals.clone();
                all.extend(twice);
                all.extend(std::iter::repeat_n(Arrival::Tick, ticks));
                (Just(history), Just(all).prop_shuffle())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// However tallies and events interleave: no frame names what the
        /// topic knows to be hidden; no frame names an older version of a
        /// tally than one before it; a client that applies every frame by
        /// version ends with the newest tally of every visible item and
        /// comment, and a new subscriber's full frame holds exactly those.
        #[test]
        fn tally_frames_are_newest_first_and_show_only_the_visible((history, arrivals) in scenario()) {
            let topic = new_topic(64, history.initial_tallies());
            let mut subscription = topic.subscribe(WatchRole::Participant, None);
            let mut client = full(&topic);
            let mut newest_named: HashMap<Uuid, i64> = HashMap::new();
            let mut check = |subscription: &mut Subscription, client: &mut HashMap<Uuid, (i64, i64, i64)>| {
                let Some(frame) = latest(subscription) else { return Ok(()) };
                for (id, tally) in frame {
                    let object = (0..OBJECTS).find(|&o| object_id(o) == id).unwrap();
                    prop_assert!(!history.known_hidden(object, topic.head()), "{id} is hidden");
                    let seen = newest_named.entry(id).or_insert(tally.2);
                    prop_assert!(tally.2 >= *seen, "{id}: version {} after {}", tally.2, seen);
                    *seen = tally.2;
                    let held = client.entry(id).or_insert(tally);
                    if tally.2 > held.2 {
                        *held = tally;
                    }
                }
                Ok(())
            };
            for arrival in arrivals {
                match arrival {
                    Arrival::Event(event) => topic.offer(*event),
                    Arrival::Tally(change) => topic.offer_tally(change),
                    Arrival::Tick => topic.flush_tallies(),
                }
                // A hide delivered with no tick after it must already keep
                // the hidden tally out of the next frame and the full one.
                let shown = full(&topic);
                for id in shown.keys() {
                    let object = (0..OBJECTS).find(|&o| object_id(o) == *id).unwrap();
                    prop_assert!(!history.known_hidden(object, topic.head()), "{id} is hidden");
                }
                check(&mut subscription, &mut client)?;
            }
            topic.flush_tallies();
            check(&mut subscription, &mut client)?;
            let expected = history.expected();
            prop_assert_eq!(full(&topic), expected.clone());
            // Hidden things stay in the client's book until their removal
            // event takes them off the screen; the visible ones must match.
            client.retain(|id, _| expected.contains_key(id));
            prop_assert_eq!(client, expected);
        }
    }
}
