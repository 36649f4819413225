//! fanout: watchers are added step by step under a steady vote rate until
//! p99 passes the bound; frames delivered per second at each step.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::common::{self, Kind};
use super::event_burst::CATCH_UP;
use crate::latency::VoteClock;
use crate::load::{votes_at_rate, Voters};
use crate::options::Options;
use crate::progress;
use crate::report::{Latency, Report};
use crate::subscriber::Shared;

/// Voters are few; the watchers are what grows.
const VOTERS: usize = 100;

/// The watcher counts to try: the given steps, or doubling up to `connections`.
pub fn steps(opts: &Options) -> Vec<usize> {
    if !opts.fanout_steps.is_empty() {
        return opts.fanout_steps.clone();
    }
    let n = opts.connections.max(1);
    let mut steps: Vec<usize> = [n / 8, n / 4, n / 2, n]
        .into_iter()
        .filter(|&s| s > 0)
        .collect();
    steps.dedup();
    steps
}

pub async fn run(kind: Kind, opts: &Options) -> anyhow::Result<Vec<Report>> {
    let system = common::start(kind, opts, 1).await?;
    let result = measure(&system, opts).await;
    common::stop(system).await;
    result
}

async fn measure(
    system: &Arc<crate::systems::System>,
    opts: &Options,
) -> anyhow::Result<Vec<Report>> {
    let steps = steps(opts);
    let voters = common::sign_up(system, VOTERS.min(opts.connections.max(1)), opts).await?;
    let voters = Voters::new(voters, 1);
    let items = system.item_ids().len();
    let total_votes = opts.rate * opts.duration.as_secs_f64() * steps.len() as f64;
    let clock = Arc::new(VoteClock::new(
        Instant::now(),
        items,
        (total_votes * 1.2) as usize + 1000,
    ));
    let shared = Shared::new(system.item_ids(), clock.clone(), None);
    let idle = common::usage(system);
    let mut handles = Vec::new();
    let mut reports = Vec::new();
    for &step in &steps {
        let connected = handles.len();
        if step > connected {
            handles.extend(common::connect(system, &shared, connected, step, None, opts).await?);
        }
        let mut report = Report::new("fanout", &system.name());
        shared.frames.store(0, Ordering::Relaxed);
        shared.deliveries.store(0, Ordering::Relaxed);
        shared.latency.reset();
        let before = common::usage(system);
        let start = Instant::now();
        let bar = progress::bar(
            opts.progress,
            opts.duration.as_secs(),
            &format!("fanout {} @{step}", system.name()),
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
        common::fill(
            &mut report,
            system,
            &shared,
            handles.len(),
            elapsed,
            before,
            after,
            idle.known.then_some(idle.rss_kb),
        );
        report.votes_per_s = (stats.acknowledged.load(Ordering::Relaxed) as f64
            / opts.duration.as_secs_f64())
        .round();
        report.answer_latency_ms = Some(Latency::from_micros(&stats.answer.merged()));
        report.write_errors = stats.errors.load(Ordering::Relaxed);
        report.skipped_sends = stats.skipped.load(Ordering::Relaxed);
        if caught < handles.len() {
            report.fail(format!(
                "{} of {} watchers did not reach the store's tallies within {CATCH_UP:?}",
                handles.len() - caught,
                handles.len()
            ));
        }
        for e in stats.first_errors.lock().expect("lock").iter() {
            report.fail(format!("vote failed: {e}"));
        }
        let over = report.latency_ms.p99 > opts.p99_bound.as_secs_f64() * 1000.0;
        reports.push(report);
        if over {
            break;
        }
    }
    // The full exactness check, on the last step.
    let watchers = handles.len();
    let outcomes = common::collect(&shared, handles).await;
    if let Some(last) = reports.last_mut() {
        let expected = (last.write_errors == 0)
            .then(|| voters.ledger.expected(items, system.votes_are_increments()));
        match common::final_tallies(system, last).await {
            Some(store) => {
                common::check_tallies(last, watchers, &outcomes, &store, expected.as_deref())
            }
            None => common::summarise_problems(last, &outcomes),
        }
    }
    Ok(reports)
}
