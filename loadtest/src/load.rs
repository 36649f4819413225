//! Sending writes: open-loop at a fixed rate (event-burst, fanout, cluster),
//! or closed-loop as fast as the server answers (ingest).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use rand::Rng;
use tokio::sync::Semaphore;

use crate::latency::{Histograms, VoteClock};
use crate::ledger::Ledger;
use crate::systems::{Choice, System, Voter};

/// The voters and what they have done.
pub struct Voters {
    pub voters: Vec<Voter>,
    /// The node each voter sends to.
    pub nodes: Vec<u8>,
    busy: Vec<AtomicBool>,
    pub ledger: Ledger,
}

impl Voters {
    pub fn new(voters: Vec<Voter>, nodes: usize) -> Arc<Voters> {
        let n = voters.len();
        Arc::new(Voters {
            voters,
            nodes: (0..n).map(|i| (i % nodes.max(1)) as u8).collect(),
            busy: (0..n).map(|_| AtomicBool::new(false)).collect(),
            ledger: Ledger::default(),
        })
    }

    /// A random voter not already voting (one vote in flight per voter keeps
    /// "the last acknowledged choice" well defined).
    pub fn claim(&self) -> Option<usize> {
        let mut rng = rand::thread_rng();
        for _ in 0..16 {
            let v = rng.gen_range(0..self.voters.len());
            if !self.busy[v].swap(true, Ordering::AcqRel) {
                return Some(v);
            }
        }
        None
    }

    pub fn release(&self, v: usize) {
        self.busy[v].store(false, Ordering::Release);
    }
}

/// Counts from a write load.
#[derive(Default)]
pub struct LoadStats {
    pub acknowledged: AtomicU64,
    pub errors: AtomicU64,
    pub skipped: AtomicU64,
    pub answer: Histograms,
    pub first_errors: Mutex<Vec<String>>,
}

impl LoadStats {
    pub fn error(&self, e: anyhow::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().expect("lock");
        if first.len() < 5 {
            first.push(format!("{e:#}"));
        }
    }
}

/// One vote: toggles the voter's standing choice on the item, files the
/// answer's version in the clock, and records it in the ledger.
async fn vote_once(
    system: &System,
    clock: &VoteClock,
    voters: &Voters,
    stats: &LoadStats,
    voter: usize,
    item: usize,
) {
    let choice = voters
        .ledger
        .standing(voter, item)
        .map_or(Choice::Strong, Choice::other);
    let node = voters.nodes[voter];
    let sent = clock.now();
    match system
        .vote(&voters.voters[voter], node as usize, item, choice)
        .await
    {
        Ok(tally) => {
            let now = clock.now();
            clock.file(item, tally.version, sent, node);
            voters
                .ledger
                .acknowledged(voter, item, tally.version, choice);
            stats.acknowledged.fetch_add(1, Ordering::Relaxed);
            stats.answer.record(voter, &[now.saturating_sub(sent)]);
        }
        Err(e) => stats.error(e),
    }
}

/// Calls `send(n)` for the n-th write at `rate` per second for `duration`,
/// never more than `max_in_flight` at once (beyond that a send is skipped
/// and counted, so a slow server cannot slow the offered load).
pub async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    stats: &Arc<LoadStats>,
    bar: &ProgressBar,
    send: F,
) where
    F: Fn(u64) -> Option<Fut>,
    Fut: Future<Output = ()> + Send + 'static,
{
    let in_flight = Arc::new(Semaphore::new(max_in_flight));
    let start = Instant::now();
    let mut issued = 0u64;
    let mut timer = tokio::time::interval(Duration::from_millis(2));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        timer.tick().await;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            break;
        }
        bar.set_position(elapsed.as_secs());
        let due = (rate * elapsed.as_secs_f64()) as u64;
        while issued < due {
            let n = issued;
            issued += 1;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                stats.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            match send(n) {
                Some(fut) => {
                    tokio::spawn(async move {
                        fut.await;
                        drop(permit);
                    });
                }
                None => {
                    stats.skipped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    // Let the writes in flight finish (bounded: every request has a timeout).
    let _ = tokio::time::timeout(
        Duration::from_secs(35),
        in_flight.acquire_many(max_in_flight as u32),
    )
    .await;
}

/// Votes on random items by random voters at `rate` per second.
pub async fn votes_at_rate(
    system: &Arc<System>,
    clock: &Arc<VoteClock>,
    voters: &Arc<Voters>,
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    bar: &ProgressBar,
) -> Arc<LoadStats> {
    let stats = Arc::new(LoadStats::default());
    let items = system.item_ids().len();
    open_loop(rate, duration, max_in_flight, &stats, bar, |_| {
        let voter = voters.claim()?;
        let item = rand::thread_rng().gen_range(0..items);
        let (system, clock, voters, stats) =
            (system.clone(), clock.clone(), voters.clone(), stats.clone());
        Some(async move {
            vote_once(&system, &clock, &voters, &stats, voter, item).await;
            voters.release(voter);
        })
    })
    .await;
    stats
}

/// Each voter votes in a loop, item after item, as fast as answers come, for `duration`.
pub async fn votes_flat_out(
    system: &Arc<System>,
    clock: &Arc<VoteClock>,
    voters: &Arc<Voters>,
    duration: Duration,
    bar: &ProgressBar,
) -> Arc<LoadStats> {
    let stats = Arc::new(LoadStats::default());
    let items = system.item_ids().len();
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for voter in 0..voters.voters.len() {
        let (system, clock, voters, stats) =
            (system.clone(), clock.clone(), voters.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let mut item = voter % items;
            while Instant::now() < deadline {
                vote_once(&system, &clock, &voters, &stats, voter, item).await;
                item = (item + 1) % items;
            }
        }));
    }
    let start = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        bar.set_position(start.elapsed().as_secs());
        bar.set_message(format!(
            "{} votes",
            stats.acknowledged.load(Ordering::Relaxed)
        ));
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(35), t).await;
    }
    stats
}
