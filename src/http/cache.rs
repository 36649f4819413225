//! Short-lived caches for what every write request looks up: the
//! conversation by slug, the session by token, the participant by session.
//! They save three database reads on the hottest path (a vote). Entries
//! live for seconds and are dropped on local changes; in a cluster another
//! node's change (a deadline extension, a logout) is seen within the TTL,
//! and the store re-checks what must be exact (open window aside,
//! suspension, item visibility) inside the write transaction.

use std::hash::Hash;
use std::time::{Duration, Instant};

use dashmap::DashMap;

pub struct Ttl<K, V> {
    /// Values and when they were stored.
    map: DashMap<K, (V, Instant)>,
    /// How long a value is trusted.
    ttl: Duration,
    /// Bound on entries; past it the cache is emptied (cheap, and rare).
    max: usize,
}

impl<K: Hash + Eq, V: Clone> Ttl<K, V> {
    pub fn new(ttl: Duration, max: usize) -> Ttl<K, V> {
        Ttl {
            map: DashMap::new(),
            ttl,
            max,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entry = self.map.get(key)?;
        if entry.1.elapsed() < self.ttl {
            Some(entry.0.clone())
        } else {
            drop(entry);
            self.map.remove(key);
            None
        }
    }

    pub fn insert(&self, key: K, value: V) {
        if self.map.len() >= self.max {
            self.map.clear();
        }
        self.map.insert(key, (value, Instant::now()));
    }

    pub fn remove(&self, key: &K) {
        self.map.remove(key);
    }
}
