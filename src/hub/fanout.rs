//! The runtime the live side runs on: every WebSocket connection's task
//! and every topic's clock.
//!
//! A tally tick wakes every connection watching the conversation. On the
//! runtime that also serves the HTTP API, those thousands of wake-ups
//! queue in front of the task that answers a vote, and the answer waits
//! for all of them (docs/benchmarks.md). On a runtime of their own, the
//! operating system shares the cores between the two, and the answer goes
//! out while the fan-out runs.
//!
//! One per process, made on first use and never dropped: tests start many
//! nodes in one process, and a runtime cannot be dropped from inside
//! another one.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

static FANOUT: OnceLock<Runtime> = OnceLock::new();

/// The fan-out runtime, started with `threads` workers on first use.
pub fn handle(threads: usize) -> Handle {
    FANOUT
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("chorus-fanout")
                .enable_all()
                .build()
                .expect("the fan-out runtime starts")
        })
        .handle()
        .clone()
}
