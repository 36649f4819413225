//! Short-lived caches for what every write request looks up: the
//! conversation by slug, the session by token, the participant by session.
//! They save three database reads on the hottest path (a vote). Entries
//! live for seconds and are dropped on local changes; in a cluster another
//! node's change (a deadline extension, a logout) is seen within the TTL,
//! and the store re-checks what must be exact (open window aside,
//! suspension, item visibility) inside the write transaction.

use std::hash::Hash;
use std::time::Duration;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

/// A bounded cache whose entries expire a fixed time after insertion
/// (moka). Past its bound the least recently used entries go first.
pub struct Ttl<K, V> {
    cache: Cache<K, V>,
}

impl<K, V> Ttl<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Values are trusted for `ttl`; at most `max` are kept.
    pub fn new(ttl: Duration, max: usize) -> Ttl<K, V> {
        Ttl {
            cache: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(max as u64)
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.cache.get(key)
    }

    pub fn insert(&self, key: K, value: V) {
        self.cache.insert(key, value);
    }

    pub fn remove(&self, key: &K) {
        self.cache.invalidate(key);
    }

    /// Entries held, as of moka's last housekeeping (for /metrics).
    pub fn entries(&self) -> u64 {
        self.cache.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_can_be_dropped() {
        let cache = Ttl::new(Duration::from_millis(100), 10);
        cache.insert("a", 1);
        cache.insert("b", 2);
        assert_eq!(cache.get(&"a"), Some(1));
        cache.remove(&"a");
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b"), Some(2));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(cache.get(&"b"), None, "expired");
    }

    #[test]
    fn the_bound_holds_and_new_entries_stay() {
        let cache = Ttl::new(Duration::from_secs(60), 100);
        for n in 0..1_000 {
            cache.insert(n, n);
        }
        cache.cache.run_pending_tasks();
        assert!(
            cache.cache.entry_count() <= 100,
            "{}",
            cache.cache.entry_count()
        );
        assert_eq!(cache.get(&999), Some(999));
    }
}
