//! The steps every scenario shares: start a system, sign voters up, connect
//! watchers, wait for them to catch up, and check exactness against the store.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt};
use tokio::task::JoinHandle;

use crate::host::{self, Usage};
use crate::options::{Database, Options, Peer};
use crate::progress;
use crate::report::{Latency, Report};
use crate::subscriber::{CatchUp, Held, Outcome, Shared, Subscriber};
use crate::systems::socketio::{EmitMode, SocketIo};
use crate::systems::{chorus::Chorus, floor::Floor, System, Voter};

/// Which system to start.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Chorus(Database),
    Peer(Peer),
}

/// The systems a scenario runs against, in order: chorus first, then the peers.
pub fn kinds(opts: &Options, peers_apply: bool) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if !opts.skip_chorus {
        kinds.push(Kind::Chorus(
            opts.databases.first().copied().unwrap_or(Database::Sqlite),
        ));
    }
    if peers_apply {
        kinds.extend(opts.peers.iter().map(|&p| Kind::Peer(p)));
    }
    kinds
}

pub async fn start(kind: Kind, opts: &Options, nodes: usize) -> anyhow::Result<Arc<System>> {
    let system = match kind {
        Kind::Chorus(db) => match &opts.target {
            Some(target) => System::Chorus(Chorus::attach(opts, target).await?),
            None => System::Chorus(Chorus::start(opts, db, nodes).await?),
        },
        Kind::Peer(Peer::Socketio) => {
            System::SocketIo(SocketIo::start(opts, nodes, EmitMode::PerVote).await?)
        }
        Kind::Peer(Peer::SocketioCoalesced) => {
            System::SocketIo(SocketIo::start(opts, nodes, EmitMode::Coalesced).await?)
        }
        Kind::Peer(Peer::Floor) => System::Floor(Floor::start(opts).await?),
    };
    Ok(Arc::new(system))
}

/// Stops a system once no task holds it any more.
pub async fn stop(system: Arc<System>) {
    let mut system = system;
    for _ in 0..50 {
        match Arc::try_unwrap(system) {
            Ok(s) => return s.stop().await,
            Err(still_shared) => system = still_shared,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("warning: a task still holds the system; its processes are killed on exit");
}

/// Signs `count` voters up, spread over the nodes.
pub async fn sign_up(
    system: &Arc<System>,
    count: usize,
    opts: &Options,
) -> anyhow::Result<Vec<Voter>> {
    let bar = progress::bar(
        opts.progress,
        count as u64,
        &format!("{} sign-ups", system.name()),
    );
    let nodes = system.nodes();
    let results: Vec<anyhow::Result<Voter>> = stream::iter(0..count)
        .map(|i| {
            let system = system.clone();
            let bar = bar.clone();
            async move {
                let v = system.voter(i, i % nodes).await;
                bar.inc(1);
                v
            }
        })
        .buffered(opts.connect_batch.clamp(1, 128))
        .collect()
        .await;
    bar.finish_and_clear();
    results
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()
        .context("signing up voters")
}

/// Connects watchers `from..to` (watcher i on node i % nodes, with voter i's
/// cookie when given), each subscribed and holding its first tallies.
pub async fn connect(
    system: &Arc<System>,
    shared: &Arc<Shared>,
    from: usize,
    to: usize,
    cookies: Option<&[Voter]>,
    opts: &Options,
) -> anyhow::Result<Vec<JoinHandle<Outcome>>> {
    let bar = progress::bar(
        opts.progress,
        (to - from) as u64,
        &format!("{} connecting", system.name()),
    );
    let nodes = system.nodes();
    let dialect = system.dialect();
    let results: Vec<anyhow::Result<JoinHandle<Outcome>>> = stream::iter(from..to)
        .map(|i| {
            let url = system.ws_url(i % nodes);
            let cookie = cookies
                .and_then(|c| c.get(i))
                .and_then(|v| v.cookie.clone());
            let (dialect, shared, bar) = (dialect.clone(), shared.clone(), bar.clone());
            let source_ips = opts.source_ips;
            async move {
                let mut last = None;
                for attempt in 0..3 {
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    }
                    match Subscriber::connect(
                        &url,
                        cookie.as_deref(),
                        dialect.clone(),
                        i,
                        (i % nodes) as u8,
                        source_ips,
                        shared.clone(),
                    )
                    .await
                    {
                        Ok(s) => {
                            bar.inc(1);
                            return Ok(s.spawn());
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(last
                    .expect("an attempt was made")
                    .context(format!("watcher {i}")))
            }
        })
        .buffer_unordered(opts.connect_batch.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut handles = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(h) => handles.push(h),
            Err(e) => errors.push(e),
        }
    }
    if let Some(first) = errors.into_iter().next() {
        let _ = shared.stop.send(true);
        bail!(
            "{} of {} watchers could not connect; first: {first:#}",
            to - from - handles.len(),
            to - from
        );
    }
    Ok(handles)
}

/// Waits until every watcher holds `target`, or `timeout`; returns how many did.
pub async fn wait_caught_up(
    shared: &Shared,
    target: CatchUp,
    watchers: usize,
    timeout: Duration,
) -> usize {
    let target = Arc::new(target);
    let _ = shared.catch_up.send(Some(target.clone()));
    let deadline = Instant::now() + timeout;
    loop {
        let done = target.reached.load(Ordering::Relaxed);
        if done >= watchers || Instant::now() >= deadline {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stops the watchers and collects what they saw.
pub async fn collect(shared: &Shared, handles: Vec<JoinHandle<Outcome>>) -> Vec<Outcome> {
    let _ = shared.stop.send(true);
    let mut outcomes = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(Ok(o)) = tokio::time::timeout(Duration::from_secs(30), h).await {
            outcomes.push(o);
        }
    }
    outcomes
}

/// Exactness of tallies: every watcher holds the store's tallies; the store
/// holds what the acknowledged votes add up to (when no vote failed).
pub fn check_tallies(
    report: &mut Report,
    watchers: usize,
    outcomes: &[Outcome],
    store: &[Held],
    expected: Option<&[(i64, i64)]>,
) {
    if outcomes.len() < watchers {
        report.fail(format!(
            "{} of {watchers} watchers did not report back",
            watchers - outcomes.len()
        ));
    }
    let mut wrong = 0usize;
    let mut example = None;
    for o in outcomes {
        for (i, truth) in store.iter().enumerate() {
            let held = o.tallies.get(i).copied().flatten().unwrap_or_default();
            if held != *truth {
                wrong += 1;
                example.get_or_insert_with(|| {
                    format!(
                        "watcher {} item {i}: holds {held:?}, store has {truth:?}",
                        o.index
                    )
                });
                break;
            }
        }
    }
    if wrong > 0 {
        report.fail(format!(
            "{wrong} of {} watchers end with tallies different from the store's (e.g. {})",
            outcomes.len(),
            example.unwrap_or_default()
        ));
    }
    if let Some(expected) = expected {
        for (i, (truth, want)) in store.iter().zip(expected).enumerate() {
            if (truth.strong, truth.wrong) != *want {
                report.fail(format!(
                    "item {i}: store has strong {} wrong {}, acknowledged votes add up to strong {} wrong {}",
                    truth.strong, truth.wrong, want.0, want.1
                ));
            }
        }
    }
    let unmatched: u64 = outcomes.iter().map(|o| o.unmatched).sum();
    if unmatched > 0 {
        report.problems.push(format!(
            "{unmatched} (vote, watcher) deliveries had no acknowledged vote to match (votes whose answer failed or timed out), so are not in the latency figures"
        ));
    }
    summarise_problems(report, outcomes);
}

/// Watchers' own problems (closes, errors, resyncs), grouped: any fails the run.
pub fn summarise_problems(report: &mut Report, outcomes: &[Outcome]) {
    let mut grouped: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes {
        for p in &o.problems {
            let key: String = p.chars().take(160).collect();
            *grouped.entry(key).or_default() += 1;
        }
    }
    for (p, n) in grouped {
        report.fail(format!("{n} watchers: {p}"));
    }
}

/// Fills the common figures of a report.
#[allow(clippy::too_many_arguments)]
pub fn fill(
    report: &mut Report,
    system: &System,
    shared: &Shared,
    connections: usize,
    elapsed: Duration,
    before: Usage,
    after: Usage,
    idle_rss: Option<u64>,
) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    report.connections = connections;
    report.nodes = system.nodes();
    report.duration_s = (secs * 100.0).round() / 100.0;
    report.frames_per_s = (shared.frames.load(Ordering::Relaxed) as f64 / secs).round();
    report.latency_ms = Latency::from_micros(&shared.latency.merged());
    if system.nodes() > 1 {
        report.cross_node_latency_ms = Some(Latency::from_micros(&shared.cross_node.merged()));
    }
    report.updates_delivered = shared.deliveries.load(Ordering::Relaxed);
    let client = after
        .client_cpu
        .saturating_sub(before.client_cpu)
        .as_secs_f64();
    report.client_cpu_s = Some((client * 1000.0).round() / 1000.0);
    if before.known && after.known {
        let cpu = after.cpu.saturating_sub(before.cpu).as_secs_f64();
        report.server_cpu_s = Some((cpu * 1000.0).round() / 1000.0);
        report.server_rss_kb = Some(after.rss_kb);
        if report.updates_delivered > 0 {
            report.cpu_us_per_update =
                Some((cpu * 1e6 / report.updates_delivered as f64 * 1000.0).round() / 1000.0);
        }
        if let Some(base) = idle_rss {
            if connections > 0 {
                let per = after.rss_kb.saturating_sub(base) as f64 / connections as f64;
                report.rss_per_connection_kb = Some((per * 10.0).round() / 10.0);
            }
        }
    }
}

/// CPU and memory of the system's servers now.
pub fn usage(system: &System) -> Usage {
    host::usage(&system.pids())
}

/// The store's final tallies, asked up to three times (a saturated peer can
/// take a while to answer); on failure the report says so and is not exact.
pub async fn final_tallies(system: &System, report: &mut Report) -> Option<Vec<Held>> {
    let mut last = None;
    for _ in 0..3 {
        match system.store_tallies().await {
            Ok(t) => return Some(t),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report.fail(format!(
        "could not read the final tallies from the store: {:#}",
        last.expect("three attempts")
    ));
    None
}

/// What watchers must reach: the store's versions.
pub fn target_of(store: &Option<Vec<Held>>) -> Option<CatchUp> {
    store
        .as_ref()
        .map(|s| CatchUp::new(s.iter().map(|t| t.version).collect(), 0))
}
