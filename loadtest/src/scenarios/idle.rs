//! idle: N connections that only listen; server memory per connection and idle CPU.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::common::{self, Kind};
use crate::latency::VoteClock;
use crate::options::Options;
use crate::progress;
use crate::report::Report;
use crate::subscriber::Shared;

/// Time for the server's memory to settle after the last connection.
const SETTLE: Duration = Duration::from_secs(2);

pub async fn run(kind: Kind, opts: &Options) -> anyhow::Result<Report> {
    let system = common::start(kind, opts, 1).await?;
    let result = measure(&system, opts).await;
    common::stop(system).await;
    result
}

async fn measure(system: &Arc<crate::systems::System>, opts: &Options) -> anyhow::Result<Report> {
    let mut report = Report::new("idle", &system.name());
    let n = opts.connections;
    let clock = Arc::new(VoteClock::new(Instant::now(), system.item_ids().len(), 1));
    let shared = Shared::new(system.item_ids(), clock, None);
    // One connection first, so one-time allocations (topic, buffers) are not counted per connection.
    let mut handles = common::connect(system, &shared, 0, 1, None, opts).await?;
    tokio::time::sleep(SETTLE).await;
    let base = common::usage(system);
    handles.extend(common::connect(system, &shared, 1, n, None, opts).await?);
    tokio::time::sleep(SETTLE).await;

    shared.frames.store(0, std::sync::atomic::Ordering::Relaxed);
    let before = common::usage(system);
    let start = Instant::now();
    let bar = progress::bar(
        opts.progress,
        opts.duration.as_secs(),
        &format!("idle {}", system.name()),
    );
    while start.elapsed() < opts.duration {
        tokio::time::sleep(Duration::from_millis(200)).await;
        bar.set_position(start.elapsed().as_secs());
    }
    bar.finish_and_clear();
    let after = common::usage(system);
    let elapsed = start.elapsed();

    let store = common::final_tallies(system, &mut report).await;
    let watchers = handles.len();
    if let Some(target) = common::target_of(&store) {
        common::wait_caught_up(&shared, target, watchers, Duration::from_secs(5)).await;
    }
    let outcomes = common::collect(&shared, handles).await;

    common::fill(
        &mut report,
        system,
        &shared,
        n,
        elapsed,
        before,
        after,
        None,
    );
    if base.known && before.known && n > 1 {
        let per = before.rss_kb.saturating_sub(base.rss_kb) as f64 / (n - 1) as f64;
        report.rss_per_connection_kb = Some((per * 10.0).round() / 10.0);
    }
    match &store {
        Some(store) => common::check_tallies(&mut report, watchers, &outcomes, store, None),
        None => common::summarise_problems(&mut report, &outcomes),
    }
    Ok(report)
}
