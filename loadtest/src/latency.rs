//! Measuring write-to-screen latency across thousands of subscribers.
//!
//! A vote's answer carries the tally version it produced, so the voter files
//! its send time under (item, version) in a `VoteClock`. A subscriber that
//! first sees version `v` of an item, having held `p`, delivers every vote in
//! `(p, v]`: it looks their send times up and records `seen - sent`. The
//! answer can arrive after the tally frame (the server publishes before the
//! HTTP response reaches the voter), so versions not yet filed wait in the
//! subscriber's short pending list and are looked up again later.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use hdrhistogram::Histogram;

const NODE_SHIFT: u32 = 56;
const TIME_MASK: u64 = (1 << NODE_SHIFT) - 1;

/// Send times of acknowledged writes, filed by (item, version).
pub struct VoteClock {
    start: Instant,
    slots: Vec<Vec<AtomicU64>>,
}

/// What the clock knows about one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Sent at this many microseconds after start, through this node.
    At { micros: u64, node: u8 },
    /// Not (yet) acknowledged.
    Unknown,
    /// Beyond what the clock was sized for; not measured.
    Untracked,
}

impl VoteClock {
    /// `capacity` versions per item (the most votes any one item can take in the run).
    pub fn new(start: Instant, items: usize, capacity: usize) -> VoteClock {
        let slots = (0..items)
            .map(|_| (0..capacity).map(|_| AtomicU64::new(0)).collect())
            .collect();
        VoteClock { start, slots }
    }

    pub fn micros(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_micros() as u64
    }

    pub fn now(&self) -> u64 {
        self.micros(Instant::now())
    }

    /// Files an acknowledged vote.
    pub fn file(&self, item: usize, version: u64, sent_micros: u64, node: u8) {
        if let Some(slot) = self.slots.get(item).and_then(|s| s.get(version as usize)) {
            slot.store(
                ((sent_micros + 1) & TIME_MASK) | (u64::from(node) << NODE_SHIFT),
                Ordering::Release,
            );
        }
    }

    pub fn lookup(&self, item: usize, version: u64) -> Sent {
        match self.slots.get(item).and_then(|s| s.get(version as usize)) {
            None => Sent::Untracked,
            Some(slot) => match slot.load(Ordering::Acquire) {
                0 => Sent::Unknown,
                v => Sent::At {
                    micros: (v & TIME_MASK) - 1,
                    node: (v >> NODE_SHIFT) as u8,
                },
            },
        }
    }
}

/// Send times of comments by index (their ids are made before sending).
pub struct CommentClock {
    sent: Vec<AtomicU64>,
}

impl CommentClock {
    pub fn new(capacity: usize) -> CommentClock {
        CommentClock {
            sent: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn file(&self, index: usize, sent_micros: u64) {
        if let Some(s) = self.sent.get(index) {
            s.store(sent_micros + 1, Ordering::Release);
        }
    }

    pub fn lookup(&self, index: usize) -> Option<u64> {
        match self.sent.get(index)?.load(Ordering::Acquire) {
            0 => None,
            v => Some(v - 1),
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Histograms of microseconds, sharded so thousands of subscriber tasks rarely wait on a lock.
pub struct Histograms {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            shards: (0..16).map(|_| Mutex::new(new_histogram())).collect(),
        }
    }
}

impl Histograms {
    pub fn record(&self, shard: usize, micros: &[u64]) {
        if micros.is_empty() {
            return;
        }
        let mut h = self.shards[shard % self.shards.len()]
            .lock()
            .expect("histogram lock");
        for &m in micros {
            h.saturating_record(m.max(1));
        }
    }

    pub fn merged(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for s in &self.shards {
            let _ = all.add(&*s.lock().expect("histogram lock"));
        }
        all
    }

    pub fn reset(&self) {
        for s in &self.shards {
            s.lock().expect("histogram lock").reset();
        }
    }
}
