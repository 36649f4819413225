//! What to run and how hard: the scenario and the knobs shared by every scenario.

use std::path::PathBuf;
use std::time::Duration;

/// One workload. Each ends with an exactness check against the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// N participants sign up, connect, and vote at R votes/s: vote-to-screen latency.
    EventBurst,
    /// Comments at R/s while N participants watch: delivery latency, once and in order.
    CommentStream,
    /// N idle connections: server memory per connection and idle CPU.
    Idle,
    /// As many concurrent votes as the server takes (N in flight): durable votes/s.
    Ingest,
    /// Raise the number of watchers step by step until p99 passes a bound: frames/s per step.
    Fanout,
    /// event-burst over several chorus nodes behind Redis and PostgreSQL: cross-node latency.
    Cluster,
    /// Seed one big conversation over the API, then N readers per read endpoint: p50/p99, requests/s.
    BigConversation,
    /// N connections for a long time (default 10 minutes) under votes, comments, moderation and reconnects: memory growth.
    Soak,
    /// Two nodes on a private PostgreSQL and Redis; each restarted mid-burst: refusals, hangs, exactness.
    Restarts,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::EventBurst => "event-burst",
            Scenario::CommentStream => "comment-stream",
            Scenario::Idle => "idle",
            Scenario::Ingest => "ingest",
            Scenario::Fanout => "fanout",
            Scenario::Cluster => "cluster",
            Scenario::BigConversation => "big-conversation",
            Scenario::Soak => "soak",
            Scenario::Restarts => "restarts",
        }
    }

    /// The peers only implement the vote counter, so only these workloads compare.
    pub fn peers_apply(self) -> bool {
        matches!(
            self,
            Scenario::EventBurst | Scenario::Idle | Scenario::Fanout | Scenario::Cluster
        )
    }
}

/// A baseline run side by side with chorus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Peer {
    /// A Socket.IO 4 vote counter with the Redis adapter (loadtest/peers/socketio):
    /// every vote broadcast at once.
    Socketio,
    /// The same server coalescing: the latest changed tallies every 100 ms to a room.
    SocketioCoalesced,
    /// A bare tokio-tungstenite broadcast loop: the floor of this machine.
    Floor,
}

impl Peer {
    /// The system name in reports, as given to `--peer`.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Socketio => "socketio",
            Peer::SocketioCoalesced => "socketio-coalesced",
            Peer::Floor => "floor",
        }
    }
}

/// The store chorus runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Database {
    Sqlite,
    Postgres,
}

impl Database {
    pub fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }
}

/// Knobs shared by every scenario. `Default` is a small run that finishes in seconds.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connected clients (participants, watchers or idle connections).
    pub connections: usize,
    /// Votes (or comments) per second across all clients.
    pub rate: f64,
    /// How long the measured phase lasts.
    pub duration: Duration,
    /// chorus nodes (cluster defaults to 2 when this is 1).
    pub nodes: usize,
    /// Baselines to run the same workload against.
    pub peers: Vec<Peer>,
    /// Skip chorus itself (to exercise the peers alone).
    pub skip_chorus: bool,
    /// A running chorus to measure instead of starting one (no CPU/RSS figures then).
    pub target: Option<String>,
    /// Admin credentials for `target` (name, password); not needed when `slug` is given.
    pub admin: Option<(String, String)>,
    /// An existing conversation on `target` to use instead of creating one.
    pub slug: Option<String>,
    /// The chorus binary; default `$CARGO_TARGET_DIR/release/chorus`.
    pub chorus_bin: Option<PathBuf>,
    /// Stores to run chorus on (ingest runs each; others use the first).
    pub databases: Vec<Database>,
    /// PostgreSQL server for `Database::Postgres` and the cluster.
    pub postgres_url: String,
    /// Redis for the cluster and the Socket.IO peer.
    pub redis_url: String,
    /// Pledges in the conversation the load votes on.
    pub items: usize,
    /// big-conversation: participants signed up before reading.
    pub participants: usize,
    /// big-conversation: comments and replies made before reading.
    pub comments: usize,
    /// big-conversation: votes on pledges and up-votes on comments made before reading.
    pub votes: usize,
    /// The bound fanout stops at.
    pub p99_bound: Duration,
    /// Explicit fanout steps; default doubling up to `connections`.
    pub fanout_steps: Vec<usize>,
    /// Loopback source addresses (127.0.0.1..=127.0.0.K) the clients spread over.
    pub source_ips: u8,
    /// Concurrent connection attempts and sign-ups while setting up.
    pub connect_batch: usize,
    /// Votes in flight at most (open-loop sends beyond it are counted as skipped).
    pub max_in_flight: usize,
    /// The chorus tally interval the floor and socketio-coalesced use.
    pub tally_interval: Duration,
    /// restarts: how long each service stays down.
    pub outage: Duration,
    /// Show a progress bar.
    pub progress: bool,
    /// Keep the servers' data and logs (printed) instead of deleting them.
    pub keep: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connections: 50,
            rate: 100.0,
            duration: Duration::from_secs(3),
            nodes: 1,
            peers: Vec::new(),
            skip_chorus: false,
            target: None,
            admin: None,
            slug: None,
            chorus_bin: None,
            databases: vec![Database::Sqlite],
            postgres_url: "postgres://postgres@127.0.0.1:5432".into(),
            redis_url: "redis://127.0.0.1:6379".into(),
            items: 8,
            participants: 2_000,
            comments: 20_000,
            votes: 100_000,
            p99_bound: Duration::from_millis(250),
            fanout_steps: Vec::new(),
            source_ips: 8,
            connect_batch: 256,
            max_in_flight: 1024,
            tally_interval: Duration::from_millis(100),
            outage: Duration::from_secs(2),
            progress: false,
            keep: false,
        }
    }
}
