//! How long the opinion-group analysis takes on a large conversation:
//! 5,000 participants × 30 items in four planted camps (12% noisy votes,
//! 35% of votes missing, so a few people fall below the placement bar),
//! 10,000 comments and 100,000 up-votes. Prints the median of 5 runs.
//!
//! `cargo run --release --example analysis_speed`

use std::time::{Duration, Instant};

use chorus::analysis::synthetic::{self, Camp};
use chorus::analysis::{analyse, Settings};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn main() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let camps: Vec<Camp> = [1_800, 1_400, 1_100, 700]
        .into_iter()
        .map(|size| {
            let pattern: Vec<bool> = (0..30).map(|_| rng.gen()).collect();
            Camp::pattern(size, &pattern, 0.12)
        })
        .collect();
    let mut planted = synthetic::conversation(1, &camps, 0.35);
    synthetic::add_comments(&mut planted, 2, 10_000, 20, 0.6);
    let ballots = &planted.ballots;
    println!(
        "{} participants, {} items, {} votes, {} comments, {} up-votes",
        planted.camp_of.len(),
        ballots.items.len(),
        ballots.votes.len(),
        ballots.comments.len(),
        ballots.upvotes.len()
    );

    let settings = Settings::default();
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let start = Instant::now();
        last = Some(analyse(ballots, &settings));
        times.push(start.elapsed());
    }
    times.sort();
    let analysis = last.expect("ran five times");
    let sizes: Vec<usize> = analysis.groups.iter().map(|g| g.size).collect();
    println!(
        "placed {}, clear {}, k {:?}, silhouette {:.3?}, group sizes {sizes:?}",
        analysis.placed, analysis.clear, analysis.k, analysis.silhouette
    );
    println!(
        "analyse: median {:.1} ms (min {:.1}, max {:.1}) over 5 runs",
        times[2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[4].as_secs_f64() * 1e3
    );
}
