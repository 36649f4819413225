//! The live fan-out. Committed changes come in (from this node's writes
//! through [`Hub::publish`], and from other nodes through the bus), are put
//! in order per conversation by its [`topic::Topic`], and go out to every
//! subscribed connection. The hub knows nothing of HTTP: the WebSocket
//! handler asks it for a [`topic::Subscription`] and pumps it.

pub mod bus;
pub mod fanout;
pub mod outbox;
pub mod protocol;
pub mod topic;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use self::bus::{Bus, BusBody, BusMessage};
use self::protocol::Presence;
use self::topic::{Subscription, Topic};
use crate::config::HubSettings;
use crate::domain::WatchRole;
use crate::store::{Committed, Store, StoreError};

/// How often each topic checks the store for events it never heard of
/// (a message lost between nodes with nothing after it to reveal the gap).
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);
/// Every this many sweeps, tallies are refreshed from the store too: a
/// tally another node failed to publish has no gap to reveal it.
const TALLY_REFRESH_SWEEPS: u32 = 5;

pub struct Hub {
    /// This node's name on the bus.
    pub node_id: String,
    settings: HubSettings,
    /// Source of truth for gap repair, replay and catch-up.
    store: Arc<dyn Store>,
    /// The conversations someone on this node watches.
    topics: Mutex<HashMap<Uuid, Arc<Topic>>>,
    /// Serialises topic creation so two first subscribers load once.
    creating: tokio::sync::Mutex<()>,
    /// Set once after construction (the bus holds a weak reference back).
    bus: OnceLock<Arc<dyn Bus>>,
    /// (conversation, day) pairs already recorded as display days here,
    /// so only the first display of a day costs a write.
    display_days: Mutex<std::collections::HashSet<(Uuid, i64)>>,
    /// Every topic task, so shutdown can wait for them.
    tasks: TaskTracker,
    /// Cancelled at shutdown.
    shutdown: CancellationToken,
    /// Where topics and connections run ([`fanout`]).
    fanout: tokio::runtime::Handle,
}

impl Hub {
    pub fn new(
        node_id: String,
        settings: HubSettings,
        store: Arc<dyn Store>,
        tasks: TaskTracker,
        shutdown: CancellationToken,
    ) -> Arc<Hub> {
        let fanout = fanout::handle(settings.fanout_threads.get());
        Arc::new(Hub {
            node_id,
            fanout,
            settings,
            store,
            topics: Mutex::new(HashMap::new()),
            creating: tokio::sync::Mutex::new(()),
            bus: OnceLock::new(),
            display_days: Mutex::new(std::collections::HashSet::new()),
            tasks,
            shutdown,
        })
    }

    pub fn attach_bus(&self, bus: Arc<dyn Bus>) {
        if self.bus.set(bus).is_err() {
            panic!("the hub's bus is attached once");
        }
    }

    /// The runtime live connections are to run on.
    pub fn fanout(&self) -> &tokio::runtime::Handle {
        &self.fanout
    }

    fn bus(&self) -> &Arc<dyn Bus> {
        self.bus.get().expect("bus attached at start")
    }

    pub fn bus_health(&self) -> &'static str {
        self.bus().health()
    }

    /// Announces a committed write to every node (this one included).
    pub fn publish<T>(&self, committed: &Committed<T>) {
        for event in &committed.events {
            self.bus().publish(BusMessage {
                origin: self.node_id.clone(),
                conversation_id: event.conversation_id,
                body: BusBody::Event {
                    event: Box::new(event.clone()),
                },
            });
        }
        if let Some((conversation_id, change)) = committed.tally {
            self.bus().publish(BusMessage {
                origin: self.node_id.clone(),
                conversation_id,
                body: BusBody::Tally { change },
            });
        }
    }

    /// True the first time this node sees a display for the conversation on `day`.
    pub fn first_display_of_day(&self, conversation_id: Uuid, day: i64) -> bool {
        self.display_days
            .lock()
            .expect("never poisoned")
            .insert((conversation_id, day))
    }

    /// Announces to every node's facilitators what `who` is looking at.
    pub fn focus(&self, conversation_id: Uuid, who: &str, comment_id: Option<Uuid>) {
        self.bus().publish(BusMessage {
            origin: self.node_id.clone(),
            conversation_id,
            body: BusBody::Focus {
                who: who.to_string(),
                comment_id,
            },
        });
    }

    /// Takes a message from the bus; conversations nobody here watches are ignored.
    pub fn receive(&self, message: BusMessage) {
        let topic = self.lock_topics().get(&message.conversation_id).cloned();
        let Some(topic) = topic else { return };
        match message.body {
            BusBody::Event { mut event } => {
                event.conversation_id = message.conversation_id;
                topic.offer(*event);
            }
            BusBody::Tally { change } => topic.offer_tally(change),
            BusBody::Focus { who, comment_id } => topic.focus(&who, comment_id),
            BusBody::Presence { presence } => {
                if message.origin != self.node_id {
                    topic.offer_presence(&message.origin, presence);
                }
            }
        }
    }

    fn lock_topics(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Topic>>> {
        self.topics.lock().expect("topics map is never poisoned")
    }

    /// Subscribes a connection to a conversation, creating its topic here
    /// if this is the first watcher on this node.
    pub async fn subscribe(
        self: &Arc<Self>,
        conversation_id: Uuid,
        role: WatchRole,
        since: Option<i64>,
    ) -> Result<Subscription, StoreError> {
        if let Some(topic) = self.lock_topics().get(&conversation_id) {
            return Ok(topic.subscribe(role, since));
        }
        let _creating = self.creating.lock().await;
        if let Some(topic) = self.lock_topics().get(&conversation_id) {
            return Ok(topic.subscribe(role, since));
        }
        // Subscribe to the bus before reading the store, so nothing
        // published in between is missed (duplicates are dropped by seq).
        self.bus().subscribe(conversation_id).await;
        let last_seq = self.store.last_seq(conversation_id).await?;
        let tallies = self.store.tallies(conversation_id).await?;
        let topic = Arc::new(Topic::new(
            conversation_id,
            last_seq,
            tallies,
            &self.settings,
        ));
        let subscription = {
            let mut topics = self.lock_topics();
            topics.insert(conversation_id, topic.clone());
            topic.subscribe(role, since)
        };
        self.tasks
            .spawn_on(self.clone().run_topic(topic), &self.fanout);
        metrics::gauge!("chorus_topics").increment(1.0);
        Ok(subscription)
    }

    /// A topic's clock: tally frames, gap repair, presence, the store
    /// sweep, and eviction once nobody here has watched it for a while.
    async fn run_topic(self: Arc<Self>, topic: Arc<Topic>) {
        let mut tally_tick =
            tokio::time::interval(Duration::from_millis(self.settings.tally_interval_ms.get()));
        tally_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut presence_tick = tokio::time::interval(Duration::from_millis(
            self.settings.presence_interval_ms.get(),
        ));
        presence_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep_tick = tokio::time::interval(SWEEP_INTERVAL);
        let heartbeat = Duration::from_millis(self.settings.presence_ttl_ms / 3);
        let mut last_shared: Option<(Presence, Instant)> = None;
        let mut idle_since: Option<Instant> = None;
        let mut sweeps = 0u32;
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = tally_tick.tick() => {
                    topic.flush_tallies();
                    if let Some((after, before)) = topic.overdue_gap() {
                        self.repair(&topic, after, before).await;
                    }
                }
                _ = presence_tick.tick() => {
                    let local = topic.local_presence();
                    let due = match last_shared {
                        Some((shared, at)) => shared != local || at.elapsed() >= heartbeat,
                        None => true,
                    };
                    if due {
                        self.bus().publish(BusMessage {
                            origin: self.node_id.clone(),
                            conversation_id: topic.conversation_id,
                            body: BusBody::Presence { presence: local },
                        });
                        last_shared = Some((local, Instant::now()));
                    }
                    topic.refresh_presence();
                    if topic.is_idle() {
                        let since = *idle_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= Duration::from_secs(self.settings.topic_idle_s) && self.evict(&topic) {
                            break;
                        }
                    } else {
                        idle_since = None;
                    }
                }
                _ = sweep_tick.tick() => {
                    self.sweep(&topic).await;
                    sweeps += 1;
                    if sweeps.is_multiple_of(TALLY_REFRESH_SWEEPS) {
                        self.refresh_tallies(&topic).await;
                    }
                }
            }
        }
        self.bus().unsubscribe(topic.conversation_id).await;
    }

    fn evict(&self, topic: &Arc<Topic>) -> bool {
        let mut topics = self.lock_topics();
        if !topic.is_idle() {
            return false;
        }
        topics.remove(&topic.conversation_id);
        metrics::gauge!("chorus_topics").decrement(1.0);
        true
    }

    /// Fetches events `after < seq < before` from the store and offers them.
    async fn repair(&self, topic: &Topic, after: i64, before: i64) {
        let limit = (before - after - 1).max(1);
        match self.store.events(topic.conversation_id, after, limit).await {
            Ok(events) => {
                metrics::counter!("chorus_gap_repairs_total").increment(1);
                tracing::debug!(conversation = %topic.conversation_id, after, before, found = events.len(), "repaired a sequence gap from the store");
                for event in events {
                    topic.offer(event);
                }
            }
            Err(error) => tracing::warn!(%error, "gap repair failed; will retry"),
        }
    }

    /// Delivers whatever the store has beyond what this topic delivered.
    async fn sweep(&self, topic: &Topic) {
        let Ok(last) = self.store.last_seq(topic.conversation_id).await else {
            return;
        };
        let mut head = topic.head();
        while head < last {
            match self.store.events(topic.conversation_id, head, 500).await {
                Ok(events) if !events.is_empty() => {
                    for event in events {
                        topic.offer(event);
                    }
                    let new_head = topic.head();
                    if new_head == head {
                        break;
                    }
                    head = new_head;
                }
                _ => break,
            }
        }
    }

    /// After the bus was cut off: catch every topic up from the store,
    /// events and tallies both.
    pub async fn catch_up_all(&self) {
        let topics: Vec<Arc<Topic>> = self.lock_topics().values().cloned().collect();
        for topic in topics {
            self.sweep(&topic).await;
            self.refresh_tallies(&topic).await;
        }
    }

    /// Offers every stored tally; only newer versions change anything.
    async fn refresh_tallies(&self, topic: &Topic) {
        if let Ok(tallies) = self.store.tallies(topic.conversation_id).await {
            for (id, tally) in tallies.items {
                topic.offer_tally(crate::store::TallyChange::Item { id, tally });
            }
            for (id, tally) in tallies.comments {
                topic.offer_tally(crate::store::TallyChange::Comment { id, tally });
            }
        }
    }

    /// The conversations watched on this node.
    pub fn topic_ids(&self) -> Vec<Uuid> {
        self.lock_topics().keys().copied().collect()
    }
}
