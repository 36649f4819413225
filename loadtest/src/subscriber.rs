//! One watching client: connects, subscribes, applies what it receives by the
//! protocol's rules, and measures how late each write reached it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::latency::{CommentClock, Histograms, Sent, VoteClock};
use crate::net::{connect_ws, Ws};
use crate::wire::{decode_chorus, decode_socketio, ItemTally, SioPacket, Update};

/// Which wire protocol the server speaks.
#[derive(Debug, Clone)]
pub enum Dialect {
    /// docs/protocol.md: subscribe to this conversation slug.
    Chorus { slug: String },
    /// The floor sends chorus-shaped tally frames and needs no subscribe.
    Floor,
    /// Engine.IO v4 / Socket.IO v4 over WebSocket.
    SocketIo,
}

/// The comments a run will post, by id, with their send times.
pub struct CommentIndex {
    pub ids: Vec<String>,
    pub by_id: HashMap<String, usize>,
    pub clock: CommentClock,
}

impl CommentIndex {
    pub fn new(capacity: usize) -> CommentIndex {
        let ids: Vec<String> = (0..capacity)
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        let by_id = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        CommentIndex {
            ids,
            by_id,
            clock: CommentClock::new(capacity),
        }
    }
}

/// What every subscriber should hold at the end: it has caught up when it does.
#[derive(Debug, Default)]
pub struct CatchUp {
    pub versions: Vec<u64>,
    pub comments: usize,
    /// Subscribers that reached this target, each counted once. Kept with
    /// the target, not beside it: a count shared across targets let a
    /// subscriber count itself twice (once when a frame showed it the new
    /// target, again when it heard the target change), so the wait could
    /// end while some were still behind (seen at 10,000 connections: 19
    /// watchers "caught up" yet behind).
    pub reached: AtomicUsize,
}

impl CatchUp {
    pub fn new(versions: Vec<u64>, comments: usize) -> CatchUp {
        CatchUp {
            versions,
            comments,
            reached: AtomicUsize::new(0),
        }
    }

    /// Whether a subscriber with these tallies (by item) and comments
    /// received holds this target.
    fn held_by(&self, tallies: &[Option<Held>], comments_received: usize) -> bool {
        let tallies_done = self.versions.iter().enumerate().all(|(i, &v)| {
            v == 0
                || tallies
                    .get(i)
                    .copied()
                    .flatten()
                    .is_some_and(|h| h.version >= v)
        });
        tallies_done && comments_received >= self.comments
    }
}

/// State shared by all subscribers of a run.
pub struct Shared {
    pub item_index: HashMap<String, usize>,
    pub votes: Arc<VoteClock>,
    pub comments: Option<Arc<CommentIndex>>,
    pub latency: Histograms,
    pub cross_node: Histograms,
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    pub deliveries: AtomicU64,
    pub catch_up: watch::Sender<Option<Arc<CatchUp>>>,
    pub stop: watch::Sender<bool>,
}

impl Shared {
    pub fn new(
        item_ids: &[String],
        votes: Arc<VoteClock>,
        comments: Option<Arc<CommentIndex>>,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            item_index: item_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect(),
            votes,
            comments,
            latency: Histograms::default(),
            cross_node: Histograms::default(),
            frames: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            catch_up: watch::channel(None).0,
            stop: watch::channel(false).0,
        })
    }
}

/// A tally as a client holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub strong: i64,
    pub wrong: i64,
    pub version: u64,
}

/// What a subscriber saw, returned when it stops.
#[derive(Debug, Default)]
pub struct Outcome {
    pub index: usize,
    pub node: u8,
    pub tallies: Vec<Option<Held>>,
    /// How many times each comment (by index) arrived.
    pub comment_counts: Vec<u8>,
    pub comments_received: usize,
    pub out_of_order: u64,
    pub last_seq: u64,
    /// Versions delivered that no acknowledged vote claimed (should be none).
    pub unmatched: u64,
    pub problems: Vec<String>,
}

/// A connected, subscribed client, before its reading task starts.
pub struct Subscriber {
    ws: Ws,
    dialect: Dialect,
    shared: Arc<Shared>,
    out: Outcome,
    pending: Vec<(usize, u64, u64)>,
    buf: Vec<u64>,
    cross_buf: Vec<u64>,
    /// The target this subscriber has counted itself as reaching.
    counted: Counted,
    /// The first full tally frame has arrived.
    initialised: bool,
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

impl Subscriber {
    /// Connects to `url`, subscribes, and waits for the first full tally frame.
    pub async fn connect(
        url: &str,
        cookie: Option<&str>,
        dialect: Dialect,
        index: usize,
        node: u8,
        source_ips: u8,
        shared: Arc<Shared>,
    ) -> anyhow::Result<Subscriber> {
        let ws = connect_ws(url, cookie, index, source_ips).await?;
        let comment_slots = shared.comments.as_ref().map_or(0, |c| c.ids.len());
        let mut sub = Subscriber {
            ws,
            out: Outcome {
                index,
                node,
                tallies: vec![None; shared.item_index.len()],
                comment_counts: vec![0; comment_slots],
                ..Outcome::default()
            },
            dialect,
            shared,
            pending: Vec::new(),
            buf: Vec::new(),
            cross_buf: Vec::new(),
            counted: Counted::default(),
            initialised: false,
        };
        tokio::time::timeout(HANDSHAKE_TIMEOUT, sub.handshake())
            .await
            .map_err(|_| {
                anyhow!("no subscription and first tallies within {HANDSHAKE_TIMEOUT:?}")
            })??;
        Ok(sub)
    }

    async fn handshake(&mut self) -> anyhow::Result<()> {
        if let Dialect::Chorus { slug } = &self.dialect {
            let subscribe =
                serde_json::json!({"type": "subscribe", "conversation": slug, "since": null});
            self.ws.send(Message::text(subscribe.to_string())).await?;
        }
        loop {
            let text = match self.ws.next().await {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(frame))) => bail!("closed during subscribe: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => bail!("connection ended during subscribe"),
            };
            if self.apply(&text).await? {
                return Ok(());
            }
        }
    }

    /// Starts the reading task; it runs until `shared.stop` is set.
    pub fn spawn(self) -> JoinHandle<Outcome> {
        tokio::spawn(self.run())
    }

    async fn run(mut self) -> Outcome {
        // The control futures live across frames: re-creating watch futures for
        // every frame cost more than reading the frame (seen with perf).
        let mut stop = Box::pin(changed(self.shared.stop.subscribe()));
        let mut catch_up = Box::pin(changed(self.shared.catch_up.subscribe()));
        loop {
            tokio::select! {
                biased;
                // `stop` only ever changes to true.
                _ = &mut stop => break,
                rx = &mut catch_up => {
                    let Some(rx) = rx else { break };
                    catch_up = Box::pin(changed(rx));
                    // A new target (the next fanout step), which this
                    // subscriber may already hold.
                    self.check_caught_up();
                }
                msg = self.ws.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(e) = self.apply(&text).await {
                            self.problem(format!("bad frame: {e}"));
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        self.problem(format!("closed by server: {frame:?}"));
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        self.problem(format!("connection error: {e}"));
                        break;
                    }
                    None => {
                        self.problem("connection ended".to_string());
                        break;
                    }
                }
            }
        }
        self.settle_pending(true);
        self.flush_latency();
        self.out
    }

    fn problem(&mut self, p: String) {
        if self.out.problems.len() < 5 {
            self.out.problems.push(p);
        }
    }

    /// Applies one text frame. Returns true for the first full tally frame
    /// (the end of the handshake).
    async fn apply(&mut self, text: &str) -> anyhow::Result<bool> {
        let now = self.shared.votes.now();
        self.shared.frames.fetch_add(1, Ordering::Relaxed);
        self.shared
            .bytes
            .fetch_add(text.len() as u64, Ordering::Relaxed);
        let update = match self.dialect {
            Dialect::Chorus { .. } | Dialect::Floor => decode_chorus(text)?,
            Dialect::SocketIo => match decode_socketio(text)? {
                SioPacket::Open => {
                    self.ws.send(Message::text("40")).await?;
                    return Ok(false);
                }
                SioPacket::Ping => {
                    self.ws.send(Message::text("3")).await?;
                    return Ok(false);
                }
                SioPacket::Update(u) => u,
                SioPacket::Refused(t) => bail!("socket.io refused: {t}"),
                SioPacket::Connected | SioPacket::Other => return Ok(false),
            },
        };
        let mut first_tallies = false;
        match update {
            Update::Tallies(items) => {
                first_tallies = !self.initialised;
                self.settle_pending(false);
                self.apply_tallies(&items, now);
                self.initialised = true;
            }
            Update::Changes(items) => {
                // Before the snapshot they only raise the starting point.
                self.settle_pending(false);
                self.apply_tallies(&items, now);
            }
            Update::Comment { seq, id, visible } => {
                self.sequence(seq);
                if visible {
                    self.apply_comment(&id, now);
                }
            }
            Update::CommentRemoved { seq } | Update::Event { seq } => self.sequence(seq),
            Update::Subscribed { seq } => {
                self.out.last_seq = seq.unwrap_or(0);
            }
            Update::Resync { seq, reason } => {
                self.problem(format!("resync (seq {seq:?}): {reason}"));
            }
            Update::Error { code, message } => bail!("error {code}: {message}"),
            Update::Other => {}
        }
        self.flush_latency();
        self.check_caught_up();
        Ok(first_tallies)
    }

    fn sequence(&mut self, seq: u64) {
        if seq <= self.out.last_seq {
            self.out.out_of_order += 1;
        }
        self.out.last_seq = self.out.last_seq.max(seq);
    }

    fn apply_tallies(&mut self, items: &[ItemTally<'_>], now: u64) {
        for t in items {
            let Some(&i) = self.shared.item_index.get(t.id.as_ref()) else {
                continue;
            };
            let new = Held {
                strong: t.strong,
                wrong: t.wrong,
                version: t.version,
            };
            let held = match self.out.tallies[i] {
                // Before the first full frame the starting point is unknown (changes that
                // overtook it only raise it); after it, an item it did not list (the
                // Socket.IO peer lists voted items only) starts at zero.
                Some(h) if !self.initialised => {
                    if t.version > h.version {
                        self.out.tallies[i] = Some(new);
                    }
                    continue;
                }
                None if !self.initialised => {
                    self.out.tallies[i] = Some(new);
                    continue;
                }
                None => Held::default(),
                Some(h) => h,
            };
            // The protocol's rule: apply only a newer version.
            if t.version > held.version {
                self.out.tallies[i] = Some(new);
                for v in held.version + 1..=t.version {
                    self.deliver_vote(i, v, now);
                }
            }
        }
    }

    fn deliver_vote(&mut self, item: usize, version: u64, seen: u64) {
        match self.shared.votes.lookup(item, version) {
            Sent::At { micros, node } => {
                let lat = seen.saturating_sub(micros);
                self.buf.push(lat);
                if node != self.out.node {
                    self.cross_buf.push(lat);
                }
            }
            Sent::Unknown => {
                if self.pending.len() < 100_000 {
                    self.pending.push((item, version, seen));
                } else {
                    self.out.unmatched += 1;
                }
            }
            Sent::Untracked => {}
        }
    }

    /// Looks again at deliveries whose vote answer had not arrived yet.
    fn settle_pending(&mut self, last: bool) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        for (item, version, seen) in pending {
            match self.shared.votes.lookup(item, version) {
                Sent::At { micros, node } => {
                    let lat = seen.saturating_sub(micros);
                    self.buf.push(lat);
                    if node != self.out.node {
                        self.cross_buf.push(lat);
                    }
                }
                Sent::Unknown if !last => self.pending.push((item, version, seen)),
                _ => self.out.unmatched += 1,
            }
        }
    }

    fn apply_comment(&mut self, id: &str, now: u64) {
        let Some(index) = self.shared.comments.clone() else {
            return;
        };
        let Some(&i) = index.by_id.get(id) else {
            return;
        };
        let count = &mut self.out.comment_counts[i];
        *count = count.saturating_add(1);
        if *count == 1 {
            self.out.comments_received += 1;
            if let Some(sent) = index.clock.lookup(i) {
                self.buf.push(now.saturating_sub(sent));
            }
        }
    }

    fn flush_latency(&mut self) {
        if !self.buf.is_empty() {
            self.shared
                .deliveries
                .fetch_add(self.buf.len() as u64, Ordering::Relaxed);
            self.shared.latency.record(self.out.index, &self.buf);
            self.buf.clear();
        }
        if !self.cross_buf.is_empty() {
            self.shared
                .cross_node
                .record(self.out.index, &self.cross_buf);
            self.cross_buf.clear();
        }
    }

    fn check_caught_up(&mut self) {
        let Some(target) = self.shared.catch_up.borrow().clone() else {
            return;
        };
        let holds = target.held_by(&self.out.tallies, self.out.comments_received);
        self.counted.count(target, holds);
    }
}

/// The target a subscriber has counted itself as reaching.
#[derive(Default)]
struct Counted(Option<Arc<CatchUp>>);

impl Counted {
    /// Counts the subscriber towards `target` if it `holds` it, once per
    /// target however often it is asked (a frame and the target's change
    /// both ask).
    fn count(&mut self, target: Arc<CatchUp>, holds: bool) {
        if self.0.as_ref().is_some_and(|c| Arc::ptr_eq(c, &target)) || !holds {
            return;
        }
        target.reached.fetch_add(1, Ordering::Relaxed);
        self.0 = Some(target);
    }
}

/// Resolves with the receiver once the value changes (None when the sender is gone).
async fn changed<T>(mut rx: watch::Receiver<T>) -> Option<watch::Receiver<T>> {
    rx.changed().await.ok().map(|()| rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(version: u64) -> Option<Held> {
        Some(Held {
            strong: 0,
            wrong: 0,
            version,
        })
    }

    #[test]
    fn a_subscriber_counts_once_per_target() {
        let mut counted = Counted::default();
        let first = Arc::new(CatchUp::new(vec![3], 0));
        assert!(!first.held_by(&[held(2)], 0));
        assert!(first.held_by(&[held(3)], 0));
        // A frame shows the subscriber the target, then it hears the
        // target change: one subscriber, counted once.
        counted.count(first.clone(), true);
        counted.count(first.clone(), true);
        assert_eq!(first.reached.load(Ordering::Relaxed), 1);

        let next = Arc::new(CatchUp::new(vec![5], 0));
        counted.count(next.clone(), false);
        assert_eq!(next.reached.load(Ordering::Relaxed), 0);
        counted.count(next.clone(), true);
        counted.count(next.clone(), true);
        assert_eq!(next.reached.load(Ordering::Relaxed), 1);
        assert_eq!(first.reached.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn comments_count_towards_a_target() {
        let target = CatchUp::new(Vec::new(), 4);
        assert!(!target.held_by(&[], 3));
        assert!(target.held_by(&[], 4));
    }
}
