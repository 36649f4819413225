//! ingest: N voters vote as fast as the server answers; durable votes per second.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::common::{self, Kind};
use super::event_burst::CATCH_UP;
use crate::latency::VoteClock;
use crate::load::{votes_flat_out, Voters};
use crate::options::Options;
use crate::progress;
use crate::report::{Latency, Report};
use crate::subscriber::Shared;

/// A few watchers confirm the live tallies end equal to the store's.
const WATCHERS: usize = 4;

pub async fn run(kind: Kind, opts: &Options) -> anyhow::Result<Report> {
    let system = common::start(kind, opts, 1).await?;
    let result = measure(&system, opts).await;
    common::stop(system).await;
    result
}

async fn measure(system: &Arc<crate::systems::System>, opts: &Options) -> anyhow::Result<Report> {
    let mut report = Report::new("ingest", &system.name());
    let n = opts.connections;
    let voters = common::sign_up(system, n, opts).await?;
    let items = system.item_ids().len();
    // Closed loop: the most votes any item can take is a generous guess at the rate.
    let capacity = (200_000.0 * opts.duration.as_secs_f64()) as usize / items.max(1) + 10_000;
    let clock = Arc::new(VoteClock::new(Instant::now(), items, capacity));
    let shared = Shared::new(system.item_ids(), clock.clone(), None);
    let watchers = WATCHERS.min(n);
    let handles = common::connect(system, &shared, 0, watchers, None, opts).await?;
    let voters = Voters::new(voters, 1);

    let before = common::usage(system);
    let start = Instant::now();
    let bar = progress::bar(
        opts.progress,
        opts.duration.as_secs(),
        &format!("ingest {}", system.name()),
    );
    let stats = votes_flat_out(system, &clock, &voters, opts.duration, &bar).await;
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    let after = common::usage(system);

    let store = common::final_tallies(system, &mut report).await;
    let caught = match common::target_of(&store) {
        Some(target) => common::wait_caught_up(&shared, target, handles.len(), CATCH_UP).await,
        None => handles.len(),
    };
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
    let acked = stats.acknowledged.load(Ordering::Relaxed);
    report.votes_per_s = (acked as f64 / elapsed.as_secs_f64()).round();
    report.answer_latency_ms = Some(Latency::from_micros(&stats.answer.merged()));
    // Here the latency that matters is the answer's: a durable vote.
    report.latency_ms = Latency::from_micros(&stats.answer.merged());
    report.write_errors = stats.errors.load(Ordering::Relaxed);
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
