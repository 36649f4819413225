//! restarts: two chorus nodes in cluster mode on a PostgreSQL and a Redis of
//! the scenario's own, watchers on both, steady votes across both. A fifth
//! of the way in PostgreSQL is stopped (fast) and started again two seconds
//! later (`--outage-s`); at three fifths, Redis the same way. Each vote is retried with its
//! request id until acknowledged, as the web client's outbox does (a 503 after
//! its Retry-After). The report says, per restart, how long writes were
//! refused, whether every refusal was a 503 with Retry-After and nothing hung,
//! and how soon writes were accepted again; exact when the store holds every
//! acknowledged vote and every watcher ends on the store's tallies.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use rand::Rng;
use uuid::Uuid;

use super::common::{self, Kind};
use super::event_burst::CATCH_UP;
use crate::latency::VoteClock;
use crate::load::{open_loop, LoadStats, Voters};
use crate::options::{Database, Options};
use crate::outage::{Answer, Attempt, Restart};
use crate::progress;
use crate::report::{Latency, Report};
use crate::services::{PrivatePostgres, PrivateRedis};
use crate::subscriber::Shared;
use crate::systems::chorus_api::VoteAttempt;
use crate::systems::{Choice, System};

/// Time to recover after a service is back, before the next restart.
const RECOVER: Duration = Duration::from_secs(2);
/// A vote not acknowledged this long after it was first sent is given up.
const GIVE_UP: Duration = Duration::from_secs(90);
/// The wait before retrying a failure that named no Retry-After.
const RETRY_WITHOUT_HINT: Duration = Duration::from_secs(1);

/// The services the scenario restarts, in order, with when (share of the run).
const SCHEDULE: [(&str, f64); 2] = [("postgresql", 0.2), ("redis", 0.6)];

pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    // Each restart gets two fifths of the run: the outage, its stop and start, and recovery.
    let shortest = (opts.outage + RECOVER * 2).mul_f64(2.5);
    if opts.duration < shortest {
        bail!(
            "restarts with a {:?} outage needs --duration of at least {shortest:?}",
            opts.outage
        );
    }
    let mut postgres = PrivatePostgres::start().await?;
    let mut redis = PrivateRedis::start().await?;
    let opts = Options {
        postgres_url: postgres.url(),
        redis_url: redis.url(),
        // Votes wait out the outages: room for all of them in flight.
        max_in_flight: opts
            .max_in_flight
            .max((opts.rate * GIVE_UP.as_secs_f64()) as usize),
        ..opts.clone()
    };
    let nodes = opts.nodes.max(2);
    let system = common::start(Kind::Chorus(Database::Postgres), &opts, nodes).await?;
    let result = measure(&system, &opts, &mut postgres, &mut redis).await;
    common::stop(system).await;
    if opts.keep {
        eprintln!("PostgreSQL log: {}", postgres.log().display());
    }
    drop(postgres);
    let _ = redis.stop_fast().await;
    result
}

/// When each restart happened, in microseconds of the vote clock.
#[derive(Default)]
struct Timeline {
    /// (service, stop began, service accepting again)
    restarts: Mutex<Vec<(String, u64, u64)>>,
    problems: Mutex<Vec<String>>,
}

async fn measure(
    system: &Arc<System>,
    opts: &Options,
    postgres: &mut PrivatePostgres,
    redis: &mut PrivateRedis,
) -> anyhow::Result<Report> {
    let mut report = Report::new("restarts", &system.name());
    let n = opts.connections;
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
    let bar = progress::bar(opts.progress, opts.duration.as_secs(), "restarts");
    let stats = Arc::new(LoadStats::default());
    let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let outstanding = Arc::new(AtomicU64::new(0));
    let timeline = Timeline::default();

    let load = open_loop(
        opts.rate,
        opts.duration,
        opts.max_in_flight,
        &stats,
        &bar,
        |_| {
            let voter = voters.claim()?;
            let item = rand::thread_rng().gen_range(0..items);
            let (system, clock, voters, stats, attempts, outstanding) = (
                system.clone(),
                clock.clone(),
                voters.clone(),
                stats.clone(),
                attempts.clone(),
                outstanding.clone(),
            );
            outstanding.fetch_add(1, Ordering::Relaxed);
            Some(async move {
                vote_until_acknowledged(&system, &clock, &voters, &stats, &attempts, voter, item)
                    .await;
                voters.release(voter);
                outstanding.fetch_sub(1, Ordering::Relaxed);
            })
        },
    );
    let chaos = restart_services(opts, &clock, postgres, redis, &timeline);
    tokio::join!(load, chaos);
    // Votes still waiting out an outage finish (or give up) on their own.
    let drain = Instant::now();
    while outstanding.load(Ordering::Relaxed) > 0 && drain.elapsed() < GIVE_UP {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
        None,
    );
    let acked = stats.acknowledged.load(Ordering::Relaxed);
    report.votes_per_s = (acked as f64 / opts.duration.as_secs_f64()).round();
    report.offered_votes_per_s = Some(opts.rate);
    report.answer_latency_ms = Some(Latency::from_micros(&stats.answer.merged()));
    report.write_errors = stats.errors.load(Ordering::Relaxed);
    report.skipped_sends = stats.skipped.load(Ordering::Relaxed);

    let attempts = std::mem::take(&mut *attempts.lock().expect("lock"));
    let restarts = timeline.restarts.lock().expect("lock").clone();
    for (i, (service, stopped, back)) in restarts.iter().enumerate() {
        let window_end = restarts.get(i + 1).map_or(u64::MAX, |next| next.1);
        report.restarts.push(Restart::judge(
            service, *stopped, *back, window_end, &attempts,
        ));
    }
    for r in report.restarts.clone() {
        if !r.as_promised() {
            report.problems.push(format!(
                "{} restart: {} refusals without Retry-After, {} other failures, {} answers slower than {} s (longest {:.2} s)",
                r.service,
                r.refused_without_retry_after,
                r.other_failures,
                r.hangs,
                crate::outage::HANG.as_secs(),
                r.longest_answer_s
            ));
        }
    }
    for p in timeline.problems.lock().expect("lock").drain(..) {
        report.fail(p);
    }
    if report.restarts.len() < SCHEDULE.len() {
        report.fail(format!(
            "only {} of {} restarts happened",
            report.restarts.len(),
            SCHEDULE.len()
        ));
    }
    if caught < watchers {
        report.fail(format!(
            "{} of {watchers} watchers did not reach the store's tallies within {CATCH_UP:?}",
            watchers - caught
        ));
    }
    // Every vote was retried until acknowledged; one that never was leaves
    // the store's count for its voter and item unknown, and fails the run.
    let expected = (report.write_errors == 0)
        .then(|| voters.ledger.expected(items, system.votes_are_increments()));
    match &store {
        Some(store) => {
            common::check_tallies(&mut report, watchers, &outcomes, store, expected.as_deref())
        }
        None => common::summarise_problems(&mut report, &outcomes),
    }
    for e in stats.first_errors.lock().expect("lock").iter() {
        report.fail(format!("vote never acknowledged: {e}"));
    }
    Ok(report)
}

/// Stops and starts each service at its time in the run.
async fn restart_services(
    opts: &Options,
    clock: &VoteClock,
    postgres: &mut PrivatePostgres,
    redis: &mut PrivateRedis,
    timeline: &Timeline,
) {
    let start = Instant::now();
    for (service, at) in SCHEDULE {
        tokio::time::sleep_until((start + opts.duration.mul_f64(at)).into()).await;
        let stopped = clock.now();
        let result = match service {
            "postgresql" => match postgres.stop_fast().await {
                Ok(()) => {
                    tokio::time::sleep(opts.outage).await;
                    postgres.start_again().await
                }
                Err(e) => Err(e),
            },
            _ => match redis.stop_fast().await {
                Ok(()) => {
                    tokio::time::sleep(opts.outage).await;
                    redis.start_again().await
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => timeline.restarts.lock().expect("lock").push((
                service.to_string(),
                stopped,
                clock.now(),
            )),
            Err(e) => {
                timeline
                    .problems
                    .lock()
                    .expect("lock")
                    .push(format!("restarting {service}: {e:#}"));
                return;
            }
        }
    }
}

/// One vote as the web client's outbox sends it: the same request id until
/// acknowledged, waiting out each refusal (its Retry-After, else a second).
#[allow(clippy::too_many_arguments)]
async fn vote_until_acknowledged(
    system: &System,
    clock: &VoteClock,
    voters: &Voters,
    stats: &LoadStats,
    attempts: &Mutex<Vec<Attempt>>,
    voter: usize,
    item: usize,
) {
    let System::Chorus(chorus) = system else {
        return;
    };
    let choice = voters
        .ledger
        .standing(voter, item)
        .map_or(Choice::Strong, Choice::other);
    let node = voters.nodes[voter];
    let cookie = voters.voters[voter].cookie.as_deref().unwrap_or_default();
    let request_id = Uuid::new_v4();
    let first_sent = clock.now();
    loop {
        let sent = clock.now();
        let result = chorus
            .api(node as usize)
            .vote_attempt(
                cookie,
                &chorus.slug,
                &chorus.item_ids[item],
                choice.as_str(),
                request_id,
            )
            .await;
        let answered = clock.now();
        let (answer, wait) = match result {
            Ok(VoteAttempt::Accepted(tally)) => {
                attempts.lock().expect("lock").push(Attempt {
                    sent,
                    answered,
                    answer: Answer::Accepted,
                });
                // Vote-to-screen from the first try: what the voter waited.
                clock.file(item, tally.version, first_sent, node);
                voters
                    .ledger
                    .acknowledged(voter, item, tally.version, choice);
                stats.acknowledged.fetch_add(1, Ordering::Relaxed);
                stats
                    .answer
                    .record(voter, &[answered.saturating_sub(first_sent)]);
                return;
            }
            Ok(VoteAttempt::Refused {
                status: 503,
                retry_after,
                ..
            }) => (
                Answer::Unavailable {
                    retry_after: retry_after.is_some(),
                },
                retry_after.map_or(RETRY_WITHOUT_HINT, Duration::from_secs),
            ),
            Ok(VoteAttempt::Refused {
                status,
                retry_after,
                body,
            }) => (
                Answer::Other(format!("HTTP {status}: {body}")),
                retry_after.map_or(RETRY_WITHOUT_HINT, Duration::from_secs),
            ),
            Err(e) => (Answer::Other(format!("{e:#}")), RETRY_WITHOUT_HINT),
        };
        let final_refusal = matches!(&answer, Answer::Other(what) if what.starts_with("HTTP 4") && !what.starts_with("HTTP 429"));
        attempts.lock().expect("lock").push(Attempt {
            sent,
            answered,
            answer: answer.clone(),
        });
        let waited = Duration::from_micros(clock.now().saturating_sub(first_sent));
        if final_refusal || waited + wait > GIVE_UP {
            stats.error(anyhow::anyhow!(
                "voter {voter} item {item}: last answer {answer:?} after {waited:?}"
            ));
            return;
        }
        tokio::time::sleep(wait).await;
    }
}
