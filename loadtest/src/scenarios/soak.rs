//! soak: N participants stay connected for the run's duration while votes
//! arrive at R/s, comments are made and hidden by a moderator, and a tenth
//! of the clients drop their connection and resume it every minute. The
//! server's memory is sampled throughout, with the sizes of its bounded
//! structures from /metrics (the replay ring, SQLite's caches): the report
//! gives it at the start and the end, its growth per hour over the whole
//! run and over the steady second half (a least-squares line), and judges
//! the goal (under 5% per hour) on the second half only when the replay
//! ring was already full by then, so that what grew before is known to be
//! it filling.
//!
//! Exact when the store holds every acknowledged vote, every watcher that
//! stayed shows the store's tallies, and every client that resumed went on
//! from the last sequence number it had applied, in order, nothing twice,
//! and ends at the conversation's last event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::common::{self, Kind};
use super::event_burst::CATCH_UP;
use crate::latency::VoteClock;
use crate::load::{votes_at_rate, Voters};
use crate::net::connect_ws;
use crate::options::Options;
use crate::progress;
use crate::report::{Latency, MemorySample, Report, Soak};
use crate::subscriber::Shared;
use crate::systems::chorus::Chorus;
use crate::systems::System;
use crate::wire::{decode_chorus, Update};

/// The share of clients (percent) that drop and resume each minute.
const CHURN_PERCENT: usize = 10;
const CHURN_EVERY: Duration = Duration::from_secs(60);
/// A resumed client waits this long before reconnecting.
const AWAY: Duration = Duration::from_millis(500);
/// Comments made per second (at least one) for every this many votes per second.
const VOTES_PER_COMMENT: f64 = 10.0;
/// How often the moderator hides one of the comments made.
const MODERATE_EVERY: Duration = Duration::from_secs(5);
/// How often the server's memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// Memory is measured from this far into the load (or a tenth of a short
/// run), once the caches and the allocator's arenas have filled.
const SETTLE: Duration = Duration::from_secs(60);

pub async fn run(kind: Kind, opts: &Options) -> anyhow::Result<Report> {
    let system = common::start(kind, opts, 1).await?;
    let result = measure(&system, opts).await;
    common::stop(system).await;
    result
}

/// What the resuming clients saw.
#[derive(Default)]
struct Churn {
    resumes: AtomicU64,
    failed: AtomicU64,
    /// Clients whose stream did not reach the last event by the end.
    behind: AtomicU64,
    repeats: AtomicU64,
    /// The conversation's last event once the writes have stopped.
    last_event: AtomicU64,
    resyncs: AtomicU64,
    first_problems: Mutex<Vec<String>>,
}

impl Churn {
    fn problem(&self, p: String) {
        let mut first = self.first_problems.lock().expect("lock");
        if first.len() < 5 {
            first.push(p);
        }
    }
}

async fn measure(system: &Arc<System>, opts: &Options) -> anyhow::Result<Report> {
    let System::Chorus(chorus) = system.as_ref() else {
        bail!("soak runs against chorus only");
    };
    let admin = chorus
        .admin
        .clone()
        .context("soak moderates as staff: with --target it needs --admin NAME:PASSWORD")?;
    let mut report = Report::new("soak", &system.name());
    let n = opts.connections.max(2);
    let churners = (n * CHURN_PERCENT / 100).max(1);
    let watchers = n - churners;
    let idle = common::usage(system);
    let voters = common::sign_up(system, n, opts).await?;
    let items = system.item_ids().len();
    let capacity = (opts.rate * opts.duration.as_secs_f64() * 1.2) as usize + 1000;
    let clock = Arc::new(VoteClock::new(Instant::now(), items, capacity));
    let shared = Shared::new(system.item_ids(), clock.clone(), None);
    let handles = common::connect(system, &shared, 0, watchers, Some(&voters), opts).await?;

    let (stop_tx, stop) = watch::channel(false);
    let churn = Arc::new(Churn::default());
    let mut background = Vec::new();
    for c in 0..churners {
        let i = watchers + c;
        let cookie = voters[i].cookie.clone().unwrap_or_default();
        // Spread over the minute, so a tenth drop each minute, steadily.
        let offset = CHURN_EVERY.mul_f64(c as f64 / churners as f64);
        background.push(tokio::spawn(resuming_client(
            chorus.ws_url(0),
            chorus.slug.clone(),
            cookie,
            i,
            opts.source_ips,
            offset,
            stop.clone(),
            churn.clone(),
        )));
    }
    let voters = Voters::new(voters, 1);

    tokio::time::sleep(Duration::from_millis(500)).await;
    shared.frames.store(0, Ordering::Relaxed);
    let before = common::usage(system);
    let start = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::<MemorySample>::new()));
    background.push(tokio::spawn(sample_memory(
        system.clone(),
        start,
        samples.clone(),
        stop.clone(),
    )));
    let comments = Arc::new(Mutex::new(Vec::<String>::new()));
    let writes = Arc::new(Writes::default());
    let (stop_writes_tx, stop_writes) = watch::channel(false);
    let writers = vec![
        tokio::spawn(comment_steadily(
            system.clone(),
            voters.clone(),
            (opts.rate / VOTES_PER_COMMENT).max(1.0),
            comments.clone(),
            writes.clone(),
            stop_writes.clone(),
        )),
        tokio::spawn(moderate_steadily(
            system.clone(),
            admin,
            comments.clone(),
            writes.clone(),
            stop_writes,
        )),
    ];
    let bar = progress::bar(
        opts.progress,
        opts.duration.as_secs(),
        &format!("soak {}", system.name()),
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
    let load_time = start.elapsed();
    let _ = stop_writes_tx.send(true);
    for task in writers {
        let _ = tokio::time::timeout(Duration::from_secs(40), task).await;
    }
    // Every event is made now: the resuming clients must reach the last.
    churn
        .last_event
        .store(chorus.snapshot().await?.seq, Ordering::Release);
    let _ = stop_tx.send(true);
    for task in background {
        let _ = tokio::time::timeout(CATCH_UP + Duration::from_secs(5), task).await;
    }

    let store = common::final_tallies(system, &mut report).await;
    let caught = match common::target_of(&store) {
        Some(target) => common::wait_caught_up(&shared, target, handles.len(), CATCH_UP).await,
        None => handles.len(),
    };
    let elapsed = start.elapsed();
    let after = common::usage(system);
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
    report.votes_per_s = (acked as f64 / load_time.as_secs_f64()).round();
    report.comments_per_s =
        (writes.comments.load(Ordering::Relaxed) as f64 / load_time.as_secs_f64() * 100.0).round()
            / 100.0;
    report.write_errors =
        stats.errors.load(Ordering::Relaxed) + writes.errors.load(Ordering::Relaxed);
    report.skipped_sends = stats.skipped.load(Ordering::Relaxed);
    report.answer_latency_ms = Some(Latency::from_micros(&stats.answer.merged()));
    report.soak = Some(soak_figures(
        &samples.lock().expect("lock"),
        load_time,
        &churn,
        &writes,
    ));

    if caught < watchers {
        report.fail(format!(
            "{} of {watchers} watchers did not reach the store's tallies within {CATCH_UP:?}",
            watchers - caught
        ));
    }
    let expected =
        (stats.errors.load(Ordering::Relaxed) == 0).then(|| voters.ledger.expected(items, false));
    match &store {
        Some(store) => {
            common::check_tallies(&mut report, watchers, &outcomes, store, expected.as_deref())
        }
        None => common::summarise_problems(&mut report, &outcomes),
    }
    for e in stats.first_errors.lock().expect("lock").iter() {
        report.fail(format!("vote failed: {e}"));
    }
    for e in writes.first_errors.lock().expect("lock").iter() {
        report.fail(e.clone());
    }
    let failed = churn.failed.load(Ordering::Relaxed);
    let behind = churn.behind.load(Ordering::Relaxed);
    let repeats = churn.repeats.load(Ordering::Relaxed);
    if failed + behind + repeats > 0 {
        report.fail(format!(
            "resuming clients: {failed} reconnects failed, {behind} never reached the last event, {repeats} events out of order or twice"
        ));
    }
    for p in churn.first_problems.lock().expect("lock").iter() {
        report.fail(p.clone());
    }
    Ok(report)
}

/// Comments and moderation actions made, and their failures.
#[derive(Default)]
struct Writes {
    comments: AtomicU64,
    hidden: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Writes {
    fn error(&self, what: &str, e: anyhow::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().expect("lock");
        if first.len() < 5 {
            first.push(format!("{what} failed: {e:#}"));
        }
    }
}

async fn comment_steadily(
    system: Arc<System>,
    voters: Arc<Voters>,
    per_s: f64,
    made: Arc<Mutex<Vec<String>>>,
    writes: Arc<Writes>,
    mut stop: watch::Receiver<bool>,
) {
    let System::Chorus(chorus) = system.as_ref() else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_s));
    let mut k = 0u64;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        k += 1;
        let (voter, item) = {
            let mut rng = rand::thread_rng();
            (
                rng.gen_range(0..voters.voters.len()),
                rng.gen_range(0..chorus.item_ids.len()),
            )
        };
        let cookie = voters.voters[voter].cookie.clone().unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        let body = format!("Soak comment {k}: the night shift needs protected breaks.");
        match chorus
            .api(0)
            .comment(
                &cookie,
                &chorus.slug,
                &chorus.item_ids[item],
                &id,
                &body,
                None,
            )
            .await
        {
            Ok(()) => {
                writes.comments.fetch_add(1, Ordering::Relaxed);
                made.lock().expect("lock").push(id);
            }
            Err(e) => writes.error("comment", e),
        }
    }
}

async fn moderate_steadily(
    system: Arc<System>,
    admin: String,
    made: Arc<Mutex<Vec<String>>>,
    writes: Arc<Writes>,
    mut stop: watch::Receiver<bool>,
) {
    let System::Chorus(chorus) = system.as_ref() else {
        return;
    };
    let mut tick = tokio::time::interval(MODERATE_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let picked = {
            let mut made = made.lock().expect("lock");
            if made.is_empty() {
                continue;
            }
            let k = rand::thread_rng().gen_range(0..made.len());
            made.swap_remove(k)
        };
        match hide(chorus, &admin, &picked).await {
            Ok(()) => {
                writes.hidden.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => writes.error("hiding a comment", e),
        }
    }
}

async fn hide(chorus: &Chorus, admin: &str, comment: &str) -> anyhow::Result<()> {
    let path = format!(
        "/api/conversations/{}/comments/{comment}/moderation",
        chorus.slug
    );
    let body = serde_json::json!({
        "request_id": uuid::Uuid::new_v4(),
        "action": "hide",
        "reason": "soak test",
    });
    chorus.api(0).post_json(&path, admin, &body).await
}

async fn sample_memory(
    system: Arc<System>,
    start: Instant,
    samples: Arc<Mutex<Vec<MemorySample>>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    loop {
        let usage = common::usage(&system);
        if usage.known {
            let t_s = start.elapsed().as_secs_f64();
            let metrics = match system.as_ref() {
                System::Chorus(chorus) => chorus.api(0).get_text("/metrics").await.ok(),
                _ => None,
            };
            let gauge = |name: &str| metrics.as_deref().and_then(|m| gauge(m, name));
            samples.lock().expect("lock").push(MemorySample {
                t_s,
                rss_kb: usage.rss_kb,
                replay_events: gauge("chorus_replay_events"),
                replay_bytes: gauge("chorus_replay_bytes"),
                sqlite_bytes: gauge("chorus_sqlite_memory_bytes"),
            });
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
    }
}

/// An unlabelled gauge's value in Prometheus text (absent from a server
/// that does not export it).
fn gauge(metrics: &str, name: &str) -> Option<u64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse::<f64>().ok().map(|v| v.max(0.0) as u64)
    })
}

/// Growth per hour in percent of the least-squares line through `points`
/// (seconds, KB), taken at the first point's time.
fn fitted_growth_per_hour(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_m = points.iter().map(|p| p.1).sum::<f64>() / n;
    let spread: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    if spread <= 0.0 {
        return None;
    }
    let slope = points
        .iter()
        .map(|p| (p.0 - mean_t) * (p.1 - mean_m))
        .sum::<f64>()
        / spread;
    let at_start = mean_m + slope * (points[0].0 - mean_t);
    (at_start > 0.0).then(|| slope * 3600.0 / at_start * 100.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Memory at the start (once settled), half-way and the end, growth per
/// hour over the whole run and over the steady second half, and what the
/// resuming clients and the moderator did.
/// The goal: resident memory grows less than this per hour (issue 15).
const GROWTH_GOAL_PER_HOUR_PCT: f64 = 5.0;

/// Growth per hour, in percent of the start, of resident memory between two
/// samples beyond what the replay ring and SQLite grew by.
fn unexplained_growth_per_hour(a: Option<&MemorySample>, b: Option<&MemorySample>) -> Option<f64> {
    let (a, b) = (a?, b?);
    if b.t_s <= a.t_s || a.rss_kb == 0 {
        return None;
    }
    let bounded_kb = |s: &MemorySample| {
        (s.replay_bytes.unwrap_or(0) + s.sqlite_bytes.unwrap_or(0)) as f64 / 1024.0
    };
    let rest_kb = (b.rss_kb as f64 - a.rss_kb as f64) - (bounded_kb(b) - bounded_kb(a));
    Some(rest_kb / a.rss_kb as f64 * 3600.0 / (b.t_s - a.t_s) * 100.0)
}

fn soak_figures(
    samples: &[MemorySample],
    load_time: Duration,
    churn: &Churn,
    writes: &Writes,
) -> Soak {
    let settle = SETTLE.min(load_time.mul_f64(0.1)).as_secs_f64();
    let half = load_time.as_secs_f64() / 2.0;
    let first = samples.iter().find(|s| s.t_s >= settle).or(samples.first());
    let middle = samples.iter().find(|s| s.t_s >= half);
    let last = samples.last();
    let growth = match (first, last) {
        (Some(a), Some(b)) if b.t_s > a.t_s && a.rss_kb > 0 => Some(round2(
            (b.rss_kb as f64 - a.rss_kb as f64) / a.rss_kb as f64 * 3600.0 / (b.t_s - a.t_s)
                * 100.0,
        )),
        _ => None,
    };
    let steady: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.t_s >= half)
        .map(|s| (s.t_s, s.rss_kb as f64))
        .collect();
    let at = |f: fn(&MemorySample) -> Option<u64>| [first, middle, last].map(|s| s.and_then(f));
    let replay_events = at(|s| s.replay_events);
    let ring_full_by_half = matches!(
        (replay_events[1], replay_events[2]),
        (Some(h), Some(e)) if h > 0 && h == e
    );
    // The steady half stands for the run only when what grew before it was
    // the bounded structures filling: the first half's growth beyond the
    // ring's and SQLite's must itself be under the goal.
    let unexplained = unexplained_growth_per_hour(first, middle);
    let judged_on_steady =
        ring_full_by_half && unexplained.is_some_and(|g| g < GROWTH_GOAL_PER_HOUR_PCT);
    Soak {
        rss_start_kb: first.map(|s| s.rss_kb),
        rss_end_kb: last.map(|s| s.rss_kb),
        rss_growth_per_hour_pct: growth,
        rss_peak_kb: samples.iter().map(|s| s.rss_kb).max(),
        measured_from_s: first.map(|s| s.t_s),
        steady_from_s: steady.first().map(|s| s.0),
        rss_steady_growth_per_hour_pct: fitted_growth_per_hour(&steady).map(round2),
        replay_events,
        replay_kb: at(|s| s.replay_bytes.map(|b| b / 1024)),
        sqlite_kb: at(|s| s.sqlite_bytes.map(|b| b / 1024)),
        judged_on_steady,
        resumes: churn.resumes.load(Ordering::Relaxed),
        resyncs: churn.resyncs.load(Ordering::Relaxed),
        comments: writes.comments.load(Ordering::Relaxed),
        hidden: writes.hidden.load(Ordering::Relaxed),
        samples: samples.to_vec(),
    }
}

/// One client that drops its connection every [`CHURN_EVERY`] (first after
/// `offset`) and resumes it with the last sequence number it applied,
/// checking that the events go on from there: in order, none twice, and
/// none missing (a `resync` is counted; it is the protocol's answer when a
/// client is too far behind).
#[allow(clippy::too_many_arguments)]
async fn resuming_client(
    url: String,
    slug: String,
    cookie: String,
    index: usize,
    source_ips: u8,
    offset: Duration,
    mut stop: watch::Receiver<bool>,
    churn: Arc<Churn>,
) {
    let mut last: Option<u64> = None;
    let mut drop_at = tokio::time::Instant::now() + offset;
    let mut first = true;
    // Once the run stops: no more drops, and until then to reach the last event.
    let mut finish_by: Option<tokio::time::Instant> = None;
    let reached = |last: Option<u64>| last.unwrap_or(0) >= churn.last_event.load(Ordering::Acquire);
    loop {
        if finish_by.is_none() && *stop.borrow() {
            finish_by = Some(tokio::time::Instant::now() + CATCH_UP);
        }
        if let Some(by) = finish_by {
            if reached(last) {
                return;
            }
            if tokio::time::Instant::now() >= by {
                churn.behind.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        if !first {
            tokio::time::sleep(AWAY).await;
        }
        let mut ws = match connect_ws(&url, Some(&cookie), index, source_ips).await {
            Ok(ws) => ws,
            Err(e) => {
                churn.failed.fetch_add(1, Ordering::Relaxed);
                churn.problem(format!("client {index} could not reconnect: {e:#}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let subscribe =
            serde_json::json!({"type": "subscribe", "conversation": slug, "since": last});
        if let Err(e) = ws.send(Message::text(subscribe.to_string())).await {
            churn.failed.fetch_add(1, Ordering::Relaxed);
            churn.problem(format!("client {index} could not subscribe: {e:#}"));
            continue;
        }
        if !first {
            churn.resumes.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        // Read until it is time to drop (or, once the run ends, until the
        // last event has arrived).
        loop {
            if finish_by.is_some() && reached(last) {
                let _ = ws.close(None).await;
                return;
            }
            let deadline = finish_by.unwrap_or(drop_at);
            tokio::select! {
                _ = stop.changed(), if finish_by.is_none() => {
                    finish_by = Some(tokio::time::Instant::now() + CATCH_UP);
                }
                _ = tokio::time::sleep_until(deadline) => {
                    if finish_by.is_some() {
                        churn.behind.fetch_add(1, Ordering::Relaxed);
                        churn.problem(format!(
                            "client {index}: at event {last:?}, not {}, {CATCH_UP:?} after the end",
                            churn.last_event.load(Ordering::Acquire)
                        ));
                        return;
                    }
                    drop_at += CHURN_EVERY;
                    // Dropped as a phone losing signal would: no close frame.
                    drop(ws);
                    break;
                }
                msg = ws.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => {
                            churn.failed.fetch_add(1, Ordering::Relaxed);
                            churn.problem(format!("client {index}: connection error: {e}"));
                            break;
                        }
                        None => {
                            churn.failed.fetch_add(1, Ordering::Relaxed);
                            churn.problem(format!("client {index}: connection ended by the server"));
                            break;
                        }
                    };
                    match decode_chorus(&text) {
                        Ok(Update::Subscribed { seq }) => {
                            if last.is_none() {
                                last = seq;
                            }
                        }
                        Ok(Update::Comment { seq, .. })
                        | Ok(Update::CommentRemoved { seq })
                        | Ok(Update::Event { seq }) => {
                            match last {
                                Some(l) if seq <= l => {
                                    churn.repeats.fetch_add(1, Ordering::Relaxed);
                                    churn.problem(format!("client {index}: event {seq} after {l}"));
                                }
                                _ => last = Some(seq),
                            }
                        }
                        Ok(Update::Resync { seq, .. }) => {
                            churn.resyncs.fetch_add(1, Ordering::Relaxed);
                            last = seq;
                            let again = serde_json::json!({"type": "subscribe", "conversation": slug, "since": last});
                            let _ = ws.send(Message::text(again.to_string())).await;
                        }
                        Ok(Update::Error { code, message }) => {
                            churn.failed.fetch_add(1, Ordering::Relaxed);
                            churn.problem(format!("client {index}: error {code}: {message}"));
                        }
                        Ok(_) => {}
                        Err(e) => churn.problem(format!("client {index}: bad frame: {e:#}")),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_line_does_not_grow_and_a_rising_one_does() {
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64 * 5.0, 50_000.0)).collect();
        assert_eq!(fitted_growth_per_hour(&flat), Some(0.0));
        // 1% of 100,000 KB every 360 s, from t = 1800: 10% per hour.
        let rising: Vec<(f64, f64)> = (0..100)
            .map(|i| {
                let t = 1800.0 + i as f64 * 36.0;
                (t, 100_000.0 + (t - 1800.0) / 360.0 * 1000.0)
            })
            .collect();
        let g = fitted_growth_per_hour(&rising).unwrap();
        assert!((g - 10.0).abs() < 1e-6, "{g}");
        assert_eq!(fitted_growth_per_hour(&rising[..2]), None, "too few points");
    }

    #[test]
    fn gauges_are_read_by_exact_name() {
        let text = "# TYPE chorus_replay_events gauge\nchorus_replay_events 2048\nchorus_replay_events_total 9\nchorus_replay_bytes 1.5e6\n";
        assert_eq!(gauge(text, "chorus_replay_events"), Some(2048));
        assert_eq!(gauge(text, "chorus_replay_bytes"), Some(1_500_000));
        assert_eq!(gauge(text, "chorus_sqlite_memory_bytes"), None);
    }

    fn sample(t_s: f64, rss_kb: u64, events: u64) -> MemorySample {
        MemorySample {
            t_s,
            rss_kb,
            replay_events: Some(events),
            replay_bytes: Some(events * 1000),
            sqlite_bytes: None,
        }
    }

    #[test]
    fn the_steady_half_is_judged_only_once_the_ring_was_full() {
        let churn = Churn::default();
        let writes = Writes::default();
        let load = Duration::from_secs(1000);
        // Memory rises while the ring fills (to 300 s), then stays flat.
        let filled: Vec<MemorySample> = (0..=200)
            .map(|i| {
                let t = i as f64 * 5.0;
                let events = (t as u64 * 10).min(3000);
                sample(t, 50_000 + events, events)
            })
            .collect();
        let soak = soak_figures(&filled, load, &churn, &writes);
        assert!(soak.judged_on_steady);
        assert_eq!(soak.rss_steady_growth_per_hour_pct, Some(0.0));
        assert!(soak.rss_growth_per_hour_pct.unwrap() > 5.0);
        assert_eq!(soak.judged_growth(), Some(0.0));
        assert_eq!(soak.replay_events, [Some(600), Some(3000), Some(3000)]);
        // A ring still filling at the end: the whole run is what counts.
        let filling: Vec<MemorySample> = (0..=200)
            .map(|i| sample(i as f64 * 5.0, 50_000 + i * 10, i * 10))
            .collect();
        let soak = soak_figures(&filling, load, &churn, &writes);
        assert!(!soak.judged_on_steady);
        assert_eq!(soak.judged_growth(), soak.rss_growth_per_hour_pct);
        // The ring full by half-way, but memory grew far beyond it before:
        // the steady half does not stand for the run.
        let beyond: Vec<MemorySample> = (0..=200)
            .map(|i| {
                let t = i as f64 * 5.0;
                let events = (t as u64 * 10).min(3000);
                let rest = (t as u64 * 10).min(5000);
                sample(t, 50_000 + events + rest, events)
            })
            .collect();
        let soak = soak_figures(&beyond, load, &churn, &writes);
        assert_eq!(soak.rss_steady_growth_per_hour_pct, Some(0.0));
        assert!(!soak.judged_on_steady);
        assert_eq!(soak.judged_growth(), soak.rss_growth_per_hour_pct);
    }
}
