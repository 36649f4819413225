//! Unit and property tests of a topic: ordering, gaps, the ring, resume
//! and the visibility of tallies (see `topic.rs`).
//!
//! Over 600 lines on purpose: each property needs its generator and its
//! checker beside it, and one file keeps every guarantee of a topic in one
//! place.
use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use serde_json::Value;

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
        edited: false,
        deleted: false,
    }
}

/// The sequence numbers waiting in an outbox, checking each frame's
/// bytes carry the number it is filed under.
fn drain(outbox: &Outbox) -> Vec<i64> {
    outbox
        .take_events()
        .into_iter()
        .map(|frame| {
            let message: Value = serde_json::from_str(frame.text.as_str()).unwrap();
            assert_eq!(message["seq"], frame.seq, "{message}");
            frame.seq
        })
        .collect()
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
fn visible_to(kinds: &[Kind], audience: Audience, range: impl Iterator<Item = i64>) -> Vec<i64> {
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
                got.extend(drain(&subscription.outbox));
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
            for frame in early.outbox.take_events() {
                live_texts.insert(frame.seq, frame.text);
            }
            for frame in &ring {
                prop_assert_eq!(Some(&frame.text), live_texts.get(&frame.seq));
            }
            got.extend(ring.iter().map(|frame| frame.seq));
            got.extend(drain(&late.outbox));
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
    let start = |since| {
        let mut subscription = topic.subscribe(WatchRole::Display, Some(since));
        std::mem::replace(
            &mut subscription.start,
            Start::Resync { seq: 0, reason: "" },
        )
    };
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
    assert!(matches!(start(12), Start::Replay { store_range: None, ref ring } if ring.is_empty()));
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
        edited: false,
        deleted: false,
    }
}

fn item_event(seq: i64, id: Uuid, status: ItemStatus, previous: ItemStatus, tally: Tally) -> Event {
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
    let frame = subscription.outbox.take_tallies()?;
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
