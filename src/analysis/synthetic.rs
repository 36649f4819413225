//! Seeded synthetic conversations with planted opinion camps, for the
//! analysis's tests and `examples/analysis_speed.rs`. Not real data: each
//! camp votes each item strong with a fixed probability, independently.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use uuid::Uuid;

use super::{Ballot, Ballots, CommentOn};

/// A planted camp: its size and, per item, the chance a member votes strong.
#[derive(Debug, Clone)]
pub struct Camp {
    pub size: usize,
    pub strong: Vec<f64>,
}

impl Camp {
    /// A camp that votes a fixed pattern (true = strong), each vote flipped
    /// with probability `noise`.
    pub fn pattern(size: usize, pattern: &[bool], noise: f64) -> Self {
        Camp {
            size,
            strong: pattern
                .iter()
                .map(|&s| if s { 1.0 - noise } else { noise })
                .collect(),
        }
    }
}

/// A generated conversation and the camp each participant was planted in.
#[derive(Debug, Clone)]
pub struct Planted {
    pub ballots: Ballots,
    pub camp_of: Vec<(Uuid, usize)>,
}

fn uuid(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

/// Every camp member votes each item with probability `1 - missing`.
pub fn conversation(seed: u64, camps: &[Camp], missing: f64) -> Planted {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let n_items = camps.iter().map(|c| c.strong.len()).max().unwrap_or(0);
    let items: Vec<Uuid> = (0..n_items).map(|_| uuid(&mut rng)).collect();
    let mut votes = Vec::new();
    let mut camp_of = Vec::new();
    for (c, camp) in camps.iter().enumerate() {
        for _ in 0..camp.size {
            let participant = uuid(&mut rng);
            camp_of.push((participant, c));
            for (item, &p) in items.iter().zip(&camp.strong) {
                if rng.gen::<f64>() < missing {
                    continue;
                }
                votes.push(Ballot {
                    participant,
                    item: *item,
                    strong: rng.gen::<f64>() < p,
                });
            }
        }
    }
    Planted {
        ballots: Ballots {
            items,
            votes,
            upvotes: Vec::new(),
            comments: Vec::new(),
        },
        camp_of,
    }
}

/// Uniformly random votes: no structure at all.
pub fn random(seed: u64, participants: usize, items: usize, missing: f64) -> Ballots {
    conversation(
        seed,
        &[Camp {
            size: participants,
            strong: vec![0.5; items],
        }],
        missing,
    )
    .ballots
}

/// Adds `comments` comments on random items, and `per_participant`
/// up-votes from each participant: each up-vote goes with probability
/// `loyalty` to a comment "of their camp" (comment index ≡ camp mod camps),
/// else to any comment.
pub fn add_comments(
    planted: &mut Planted,
    seed: u64,
    comments: usize,
    per_participant: usize,
    loyalty: f64,
) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let items = &planted.ballots.items;
    if items.is_empty() || comments == 0 {
        return;
    }
    let list: Vec<CommentOn> = (0..comments)
        .map(|_| CommentOn {
            id: uuid(&mut rng),
            item: *items.choose(&mut rng).expect("items is not empty"),
        })
        .collect();
    let camps = planted
        .camp_of
        .iter()
        .map(|(_, c)| c + 1)
        .max()
        .unwrap_or(1);
    for &(participant, camp) in &planted.camp_of {
        for _ in 0..per_participant {
            let mut i = rng.gen_range(0..comments);
            if rng.gen::<f64>() < loyalty {
                i = i - i % camps + camp;
                if i >= comments {
                    i = camp.min(comments - 1);
                }
            }
            planted.ballots.upvotes.push((participant, list[i].id));
        }
    }
    planted.ballots.comments = list;
}

/// The adjusted Rand index of two labellings of the same people: 1 when
/// they group everyone alike (whatever the labels), about 0 for unrelated
/// groupings. How the tests compare found groups with planted camps.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let choose2 = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
    let mut table: HashMap<(usize, usize), usize> = HashMap::new();
    let mut rows: HashMap<usize, usize> = HashMap::new();
    let mut cols: HashMap<usize, usize> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = table.values().map(|&n| choose2(n)).sum();
    let sum_rows: f64 = rows.values().map(|&n| choose2(n)).sum();
    let sum_cols: f64 = cols.values().map(|&n| choose2(n)).sum();
    let expected = sum_rows * sum_cols / choose2(a.len());
    let max = (sum_rows + sum_cols) / 2.0;
    (index - expected) / (max - expected)
}
