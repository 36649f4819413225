//! comment-stream: comments at R/s while N participants watch; delivery
//! latency, and every watcher gets every comment once, in sequence order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use rand::Rng;

use super::common::{self, Kind};
use super::event_burst::CATCH_UP;
use crate::latency::VoteClock;
use crate::load::{open_loop, LoadStats};
use crate::options::Options;
use crate::progress;
use crate::report::Report;
use crate::subscriber::{CatchUp, CommentIndex, Outcome, Shared};
use crate::systems::System;

pub async fn run(kind: Kind, opts: &Options) -> anyhow::Result<Report> {
    let system = common::start(kind, opts, 1).await?;
    let result = measure(&system, opts).await;
    common::stop(system).await;
    result
}

async fn measure(system: &Arc<System>, opts: &Options) -> anyhow::Result<Report> {
    let System::Chorus(chorus) = system.as_ref() else {
        bail!("comment-stream runs against chorus only");
    };
    let mut report = Report::new("comment-stream", &system.name());
    let n = opts.connections;
    let idle = common::usage(system);
    let voters = Arc::new(common::sign_up(system, n, opts).await?);
    let capacity = (opts.rate * opts.duration.as_secs_f64()) as usize + 100;
    let index = Arc::new(CommentIndex::new(capacity));
    let clock = Arc::new(VoteClock::new(Instant::now(), system.item_ids().len(), 1));
    let shared = Shared::new(system.item_ids(), clock.clone(), Some(index.clone()));
    let handles = common::connect(system, &shared, 0, n, Some(&voters), opts).await?;
    let acked: Arc<Vec<AtomicBool>> =
        Arc::new((0..capacity).map(|_| AtomicBool::new(false)).collect());

    tokio::time::sleep(Duration::from_millis(500)).await;
    shared.frames.store(0, Ordering::Relaxed);
    let before = common::usage(system);
    let start = Instant::now();
    let stats = Arc::new(LoadStats::default());
    let bar = progress::bar(
        opts.progress,
        opts.duration.as_secs(),
        &format!("comment-stream {}", system.name()),
    );
    let items = system.item_ids().len();
    open_loop(
        opts.rate,
        opts.duration,
        opts.max_in_flight,
        &stats,
        &bar,
        |k| {
            let k = k as usize;
            if k >= capacity {
                return None;
            }
            let (system, voters, index, clock, acked, stats) = (
                system.clone(),
                voters.clone(),
                index.clone(),
                clock.clone(),
                acked.clone(),
                stats.clone(),
            );
            let voter = rand::thread_rng().gen_range(0..voters.len());
            let item = rand::thread_rng().gen_range(0..items);
            Some(async move {
                let System::Chorus(chorus) = system.as_ref() else {
                    return;
                };
                let cookie = voters[voter].cookie.clone().unwrap_or_default();
                index.clock.file(k, clock.now());
                let body =
                    format!("Load test comment {k}: protected time would change everything.");
                match chorus
                    .api(0)
                    .comment(
                        &cookie,
                        &chorus.slug,
                        &chorus.item_ids[item],
                        &index.ids[k],
                        &body,
                        None,
                    )
                    .await
                {
                    Ok(()) => {
                        acked[k].store(true, Ordering::Release);
                        stats.acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        let mut first = stats.first_errors.lock().expect("lock");
                        if first.len() < 5 {
                            first.push(format!("{e:#}"));
                        }
                    }
                }
            })
        },
    )
    .await;
    bar.finish_and_clear();

    let acked_count = acked.iter().filter(|a| a.load(Ordering::Acquire)).count();
    let target = CatchUp::new(Vec::new(), acked_count);
    let caught = common::wait_caught_up(&shared, target, handles.len(), CATCH_UP).await;
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
    report.comments_per_s = (acked_count as f64 / opts.duration.as_secs_f64()).round();
    report.write_errors = stats.errors.load(Ordering::Relaxed);
    report.skipped_sends = stats.skipped.load(Ordering::Relaxed);
    if caught < watchers {
        report.fail(format!(
            "{} of {watchers} watchers did not receive every comment within {CATCH_UP:?}",
            watchers - caught
        ));
    }
    check_comments(&mut report, watchers, &outcomes, &acked);
    // The store: every acknowledged comment listed once under its item.
    let mut listed = vec![0u32; capacity];
    for item in &chorus.item_ids {
        for id in chorus.api(0).comment_ids(&chorus.slug, item).await? {
            if let Some(&k) = index.by_id.get(&id) {
                listed[k] += 1;
            }
        }
    }
    let missing = (0..capacity)
        .filter(|&k| acked[k].load(Ordering::Acquire) && listed[k] != 1)
        .count();
    if missing > 0 {
        report.fail(format!(
            "{missing} acknowledged comments are not listed exactly once by the store"
        ));
    }
    for e in stats.first_errors.lock().expect("lock").iter() {
        report.fail(format!("comment failed: {e}"));
    }
    Ok(report)
}

/// Every watcher received every acknowledged comment exactly once, in sequence order.
fn check_comments(
    report: &mut Report,
    watchers: usize,
    outcomes: &[Outcome],
    acked: &[AtomicBool],
) {
    if outcomes.len() < watchers {
        report.fail(format!(
            "{} of {watchers} watchers did not report back",
            watchers - outcomes.len()
        ));
    }
    let (mut missed, mut doubled, mut disordered) = (0usize, 0usize, 0usize);
    for o in outcomes {
        let mut m = false;
        let mut d = false;
        for (k, a) in acked.iter().enumerate() {
            let count = o.comment_counts.get(k).copied().unwrap_or(0);
            if a.load(Ordering::Acquire) && count == 0 {
                m = true;
            }
            if count > 1 {
                d = true;
            }
        }
        missed += usize::from(m);
        doubled += usize::from(d);
        disordered += usize::from(o.out_of_order > 0);
    }
    if missed > 0 {
        report.fail(format!("{missed} watchers missed comments"));
    }
    if doubled > 0 {
        report.fail(format!("{doubled} watchers received a comment twice"));
    }
    if disordered > 0 {
        report.fail(format!(
            "{disordered} watchers received events out of sequence order"
        ));
    }
    common::summarise_problems(report, outcomes);
}
