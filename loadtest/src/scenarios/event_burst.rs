//! event-burst (and cluster): N participants sign up, watch, and vote at R/s;
//! vote-to-screen latency over every watcher.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::common::{self, Kind};
use crate::latency::VoteClock;
use crate::load::{votes_at_rate, Voters};
use crate::options::Options;
use crate::progress;
use crate::report::{Latency, Report};
use crate::subscriber::Shared;

/// How long watchers get to show the store's final tallies after the last vote.
pub const CATCH_UP: Duration = Duration::from_secs(15);

pub async fn run(
    scenario: &str,
    kind: Kind,
    opts: &Options,
    nodes: usize,
) -> anyhow::Result<Report> {
    let system = common::start(kind, opts, nodes).await?;
    let result = measure(scenario, &system, opts).await;
    common::stop(system).await;
    result
}

async fn measure(
    scenario: &str,
    system: &Arc<crate::systems::System>,
    opts: &Options,
) -> anyhow::Result<Report> {
    let mut report = Report::new(scenario, &system.name());
    let n = opts.connections;
    let idle = common::usage(system);
    let voters = common::sign_up(system, n, opts).await?;
    let items = system.item_ids().len();
    let capacity = (opts.rate * opts.duration.as_secs_f64() * 1.2) as usize + 1000;
    let clock = Arc::new(VoteClock::new(Instant::now(), items, capacity));
    let shared = Shared::new(system.item_ids(), clock.clone(), None);
    let handles = common::connect(system, &shared, 0, n, Some(&voters), opts).await?;
    let voters = Voters::new(voters, system.nodes());

    tokio::time::sleep(Duration::from_millis(500)).await;
    shared.frames.store(0, Ordering::Relaxed);
    let before = common::usage(system);
    let start = Instant::now();
    let bar = progress::bar(
        opts.progress,
        opts.duration.as_secs(),
        &format!("{scenario} {}", system.name()),
    );
    let stats = votes_at_rate(
        system,
        &clock,
        &voters,
        opts.rate,
        opts.duration,
        opts.max_in_flight,
        &bar,
    )
    .await;
    bar.finish_and_clear();

    let store = common::final_tallies(system, &mut report).await;
    let caught = match common::target_of(&store) {
        Some(target) => common::wait_caught_up(&shared, target, handles.len(), CATCH_UP).await,
        None => handles.len(),
    };
    let elapsed = start.elapsed();
    let after = common::usage(system);
    let watchers = handles.len();
    let outcomes = common::collect(&shared, handles).await;

    common::fill(
        &mut report,
        system,
        &shared,
        n,
        elapsed,
        before,
        after,
        idle.known.then_some(idle.rss_kb),
    );
    let acked = stats.acknowledged.load(Ordering::Relaxed);
    report.votes_per_s = (acked as f64 / opts.duration.as_secs_f64()).round();
    report.offered_votes_per_s = Some(opts.rate);
    report.answer_latency_ms = Some(Latency::from_micros(&stats.answer.merged()));
    report.write_errors = stats.errors.load(Ordering::Relaxed);
    report.skipped_sends = stats.skipped.load(Ordering::Relaxed);
    if caught < watchers {
        report.fail(format!(
            "{} of {watchers} watchers did not reach the store's tallies within {CATCH_UP:?}",
            watchers - caught
        ));
    }
    let expected = (report.write_errors == 0)
        .then(|| voters.ledger.expected(items, system.votes_are_increments()));
    match &store {
        Some(store) => {
            common::check_tallies(&mut report, watchers, &outcomes, store, expected.as_deref())
        }
        None => common::summarise_problems(&mut report, &outcomes),
    }
    for e in stats.first_errors.lock().expect("lock").iter() {
        report.fail(format!("vote failed: {e}"));
    }
    Ok(report)
}
