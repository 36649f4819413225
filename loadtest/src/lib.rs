//! loadtest drives a real chorus over real sockets, like thousands of phones
//! at a staff event, and reports what users and operators care about:
//! vote-to-screen latency, comment delivery, frames per second, memory per
//! connection, durable votes per second, and whether every client ended
//! holding exactly what the store holds. It speaks only the documented
//! protocol (docs/protocol.md, docs/api.md) and never links chorus.
//!
//! The same workloads run against two baselines so the figures are ratios
//! from one run: a Socket.IO vote counter (`peers/socketio`, broadcasting
//! every vote as `socketio` or coalescing as `socketio-coalesced`) and a bare
//! tokio-tungstenite broadcast loop (the floor of the machine).
//!
//! How it is put together, in the order data flows:
//!
//! - `options`: the scenario and its knobs; `report`: the figures, table and JSON.
//! - `systems`: starting and talking to chorus (`chorus`, `chorus_api`), the
//!   Socket.IO peer (`socketio`) and the floor (`floor`, server in `floor_server`);
//!   `process` starts servers and reads their address; `chorus_env` holds the
//!   settings a load test overrides.
//! - `load`: sending votes at a rate or flat out; `ledger`: what the store
//!   should hold from the acknowledged votes.
//! - `subscriber`: one watching client (`wire` decodes frames, `net` opens
//!   sockets); `latency`: matching deliveries to send times, histograms.
//! - `scenarios`: event-burst, comment-stream, idle, ingest, fanout, cluster,
//!   big-conversation (seeds a big conversation, then times the read endpoints),
//!   soak (hours of steady load with reconnects: does memory grow?), restarts
//!   (PostgreSQL and Redis restarted under a cluster: refusals, hangs, exactness).
//! - `services`: a private PostgreSQL and Redis to restart; `outage`: judging
//!   each restart from every try of every write; `ratios`: chorus against its
//!   references in the same run, with the goals.
//! - `host`: file descriptor limit, server CPU and memory from /proc.

pub mod chorus_env;
pub mod floor_server;
pub mod host;
pub mod latency;
pub mod ledger;
pub mod load;
pub mod net;
pub mod options;
pub mod outage;
pub mod process;
pub mod progress;
pub mod ratios;
pub mod report;
pub mod scenarios;
pub mod services;
pub mod subscriber;
pub mod systems;
pub mod wire;

pub use options::{Database, Options, Peer, Scenario};
pub use report::{Latency, Report};

/// Runs a scenario against chorus (and the peers asked for) and returns one
/// report per system (per step for fanout). A system that cannot be measured
/// gets a report with `exact: false` and the reason in `problems`.
pub async fn run(scenario: Scenario, opts: Options) -> anyhow::Result<Vec<Report>> {
    host::raise_fd_limit();
    if matches!(scenario, Scenario::Cluster | Scenario::Restarts) && opts.target.is_some() {
        anyhow::bail!(
            "the {} scenario starts its own nodes; it does not take --target",
            scenario.name()
        );
    }
    Ok(scenarios::run(scenario, &opts).await)
}
