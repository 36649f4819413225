//! The analysis against seeded conversations with planted structure.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use uuid::Uuid;

use super::synthetic::adjusted_rand_index;
use super::synthetic::{self, Camp, Planted};
use super::*;

/// Three camps over 12 items. Item 0 everyone supports; item 1 splits
/// camp 0 from the other two, more sharply than any other item; the other
/// ten follow each camp's pattern with `noise` flipped votes, and none of
/// them has all three camps in favour.
fn three_camps(sizes: [usize; 3], noise: f64) -> Vec<Camp> {
    let patterns: [[bool; 10]; 3] = [
        [
            true, false, true, false, true, false, true, false, true, false,
        ],
        [
            false, true, true, true, false, false, true, true, false, true,
        ],
        [
            true, true, false, false, false, true, false, true, false, false,
        ],
    ];
    (0..3)
        .map(|c| {
            let mut camp = Camp::pattern(sizes[c], &patterns[c], noise);
            let divisive = if c == 0 { 0.98 } else { 0.02 };
            camp.strong.splice(0..0, [0.98, divisive]);
            camp
        })
        .collect()
}

fn planted(seed: u64) -> Planted {
    synthetic::conversation(seed, &three_camps([120, 100, 80], 0.12), 0.2)
}

fn settings() -> Settings {
    Settings {
        min_group_size: 10,
        ..Settings::default()
    }
}

/// The adjusted Rand index between two labellings of the same people:
/// 1 for identical partitions (whatever the label names), about 0 for
/// chance agreement.
/// Found group vs planted camp for everyone placed in a shown group.
fn agreement(planted: &Planted, membership: &[(Uuid, Option<usize>)]) -> f64 {
    let camp: HashMap<Uuid, usize> = planted.camp_of.iter().copied().collect();
    let (found, truth): (Vec<usize>, Vec<usize>) = membership
        .iter()
        .filter_map(|(id, g)| g.map(|g| (g, camp[id])))
        .unzip();
    adjusted_rand_index(&found, &truth)
}

#[test]
fn adjusted_rand_index_is_one_for_relabelled_and_low_for_unrelated() {
    assert!((adjusted_rand_index(&[0, 0, 1, 1, 2, 2], &[5, 5, 3, 3, 4, 4]) - 1.0).abs() < 1e-12);
    assert!(adjusted_rand_index(&[0, 1, 0, 1, 0, 1], &[0, 0, 0, 1, 1, 1]) < 0.1);
}

#[test]
fn planted_camps_are_found_with_their_common_ground_and_division() {
    for seed in [1, 2, 3] {
        let planted = planted(seed);
        let (analysis, membership) = analyse_with_membership(&planted.ballots, &settings());
        assert!(
            analysis.clear,
            "seed {seed}: {:?} {:?}",
            analysis.unclear, analysis.silhouette
        );
        assert_eq!(analysis.groups.len(), 3, "seed {seed}");
        assert_eq!(analysis.participants, 300);
        let ari = agreement(&planted, &membership);
        assert!(ari >= 0.9, "seed {seed}: adjusted Rand index {ari}");
        let items = &planted.ballots.items;
        assert_eq!(
            analysis.consensus[0].item, items[0],
            "seed {seed}: common ground"
        );
        assert_eq!(
            analysis.divisive[0].item, items[1],
            "seed {seed}: most divisive"
        );
        assert_eq!(analysis.points.len(), analysis.placed);
        for group in &analysis.groups {
            assert!(
                !group.representative.is_empty(),
                "seed {seed}: group {}",
                group.label
            );
            for r in &group.representative {
                assert!(r.group_share > 0.5 && r.group_share > r.others_share);
            }
        }
    }
}

#[test]
fn the_group_standing_alone_on_the_divisive_item_is_told_by_it() {
    let planted = planted(4);
    let (analysis, membership) = analyse_with_membership(&planted.ballots, &settings());
    // The group holding most of camp 0 must have item 1 (which only camp 0
    // supports) among its representative items, as strong.
    let camp: HashMap<Uuid, usize> = planted.camp_of.iter().copied().collect();
    let mut counts = vec![0usize; analysis.groups.len()];
    for (id, g) in &membership {
        if let (Some(g), 0) = (g, camp[id]) {
            counts[*g] += 1;
        }
    }
    let g = (0..counts.len()).max_by_key(|&g| counts[g]).unwrap();
    let item1 = planted.ballots.items[1];
    assert!(analysis.groups[g]
        .representative
        .iter()
        .any(|r| r.item == item1 && r.direction == Direction::Strong));
}

#[test]
fn uniformly_random_votes_have_no_clear_groups() {
    for seed in 1..=5 {
        let ballots = synthetic::random(seed, 300, 12, 0.2);
        let analysis = analyse(&ballots, &settings());
        assert!(
            !analysis.clear,
            "seed {seed}: silhouette {:?}",
            analysis.silhouette
        );
        assert_eq!(analysis.unclear, Some(Unclear::WeakSeparation));
        assert!(analysis.groups.is_empty() && analysis.points.is_empty());
        assert!(analysis.divisive.is_empty());
        assert_eq!(analysis.consensus.len(), 12);
    }
}

/// A small conversation's random votes: k-means's pieces of so few
/// people look better by chance (45 people on 8 pledges reached a
/// silhouette of 0.48 through the API, above the fixed bar) and only the
/// shuffled-votes comparison tells them from groups.
#[test]
fn small_random_conversations_have_no_clear_groups() {
    for seed in 1..=8 {
        let analysis = analyse(&synthetic::random(seed, 45, 8, 0.0), &settings());
        assert!(
            !analysis.clear,
            "seed {seed}: silhouette {:?}",
            analysis.silhouette
        );
        assert!(matches!(
            analysis.unclear,
            Some(Unclear::WeakSeparation | Unclear::LikeChance)
        ));
    }
}

/// Noisy camps (a fifth of votes against the camp, 30% missing) still
/// beat their own shuffles.
#[test]
fn noisy_camps_are_still_clear() {
    for seed in 1..=3 {
        let noisy = synthetic::conversation(seed, &three_camps([120, 100, 80], 0.2), 0.3);
        let analysis = analyse(&noisy.ballots, &settings());
        assert!(analysis.clear, "seed {seed}: {:?}", analysis.unclear);
    }
}

#[test]
fn the_same_votes_in_any_order_give_the_same_answer() {
    let mut planted = planted(5);
    synthetic::add_comments(&mut planted, 5, 200, 5, 0.6);
    let first = serde_json::to_string(&analyse(&planted.ballots, &settings())).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let mut shuffled = planted.ballots.clone();
    shuffled.items.shuffle(&mut rng);
    shuffled.votes.shuffle(&mut rng);
    shuffled.upvotes.shuffle(&mut rng);
    shuffled.comments.shuffle(&mut rng);
    let second = serde_json::to_string(&analyse(&shuffled, &settings())).unwrap();
    assert!(first == second, "the answer changed with input order");
    let again = serde_json::to_string(&analyse(&planted.ballots, &settings())).unwrap();
    assert!(first == again);
}

#[test]
fn a_camp_smaller_than_the_minimum_is_never_shown() {
    // A camp of 16 with its own pattern, when groups must have 30: k-means
    // finds it (k = 3, with a few noisy voters of the big camps), and it
    // must be held back. (A camp of 12 is simply absorbed: k = 2.)
    let camps = three_camps([150, 120, 16], 0.12);
    let planted = synthetic::conversation(6, &camps, 0.2);
    let settings = Settings {
        min_group_size: 30,
        ..settings()
    };
    let (analysis, membership) = analyse_with_membership(&planted.ballots, &settings);
    assert!(analysis.clear);
    assert_eq!(analysis.k, Some(3));
    assert_eq!(analysis.groups.len(), 2);
    assert!(analysis.groups.iter().all(|g| g.size >= 30));
    let hidden = analysis.points.iter().filter(|p| p.group.is_none()).count();
    assert!((10..30).contains(&hidden), "{hidden} points hidden");
    let camp: HashMap<Uuid, usize> = planted.camp_of.iter().copied().collect();
    let small_shown = membership
        .iter()
        .filter(|(id, g)| camp[id] == 2 && g.is_some())
        .count();
    assert!(small_shown <= 2, "{small_shown} of the small camp shown");
    // The per-group figures count the shown groups only.
    assert!(analysis.divisive.iter().all(|d| d.support.len() == 2));
    assert!(analysis.bridging.iter().all(|b| b.by_group.len() == 2));
}

#[test]
fn a_comment_every_group_liked_bridges_better_than_one_group_loved() {
    let mut planted = planted(7);
    let items = planted.ballots.items.clone();
    let (bridge, partisan, few) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    planted.ballots.comments = vec![
        CommentOn {
            id: bridge,
            item: items[2],
        },
        CommentOn {
            id: partisan,
            item: items[3],
        },
        CommentOn {
            id: few,
            item: items[4],
        },
    ];
    let mut taken = [0usize; 3];
    for &(participant, camp) in &planted.camp_of {
        if taken[camp] < 10 {
            planted.ballots.upvotes.push((participant, bridge));
        }
        if camp == 0 && taken[camp] < 60 {
            planted.ballots.upvotes.push((participant, partisan));
        }
        if camp == 1 && taken[camp] < 2 {
            planted.ballots.upvotes.push((participant, few));
        }
        taken[camp] += 1;
    }
    let analysis = analyse(&planted.ballots, &settings());
    assert!(analysis.clear);
    let order: Vec<Uuid> = analysis.bridging.iter().map(|b| b.comment).collect();
    assert_eq!(order, vec![bridge, partisan, few]);
    let score = |id| {
        analysis
            .bridging
            .iter()
            .find(|b| b.comment == id)
            .unwrap()
            .score
    };
    assert!(score(bridge).unwrap() > score(partisan).unwrap());
    assert_eq!(score(few), None, "below min_upvotes");
    assert_eq!(analysis.bridging[1].upvotes, 60);
    // The group most of camp 0 fell in has the partisan comment on top.
    let top = analysis.groups.iter().find(|g| {
        g.top_comments
            .first()
            .is_some_and(|c| c.comment == partisan)
    });
    assert!(top.is_some_and(|g| g.top_comments[0].upvotes >= 50));
}

#[test]
fn too_few_voters_or_no_spread_means_no_clear_groups() {
    let planted = synthetic::conversation(8, &three_camps([4, 4, 4], 0.1), 0.0);
    let analysis = analyse(&planted.ballots, &settings());
    assert_eq!(analysis.unclear, Some(Unclear::TooFewPlaced));
    let alike = synthetic::conversation(9, &[Camp::pattern(50, &[true; 8], 0.0)], 0.0);
    let analysis = analyse(&alike.ballots, &settings());
    assert_eq!(analysis.unclear, Some(Unclear::NoSpread));
    assert_eq!(analysis.consensus.len(), 8);
    let empty = analyse(&Ballots::default(), &settings());
    assert_eq!((empty.participants, empty.clear), (0, false));
}

#[test]
fn nobody_is_placed_with_fewer_than_min_votes() {
    let planted = synthetic::conversation(10, &three_camps([120, 100, 80], 0.13), 0.75);
    let analysis = analyse(&planted.ballots, &settings());
    let mut votes: HashMap<Uuid, usize> = HashMap::new();
    for v in &planted.ballots.votes {
        *votes.entry(v.participant).or_default() += 1;
    }
    let expected = votes.values().filter(|&&n| n >= DEFAULT_MIN_VOTES).count();
    assert_eq!(analysis.placed, expected);
    assert!(analysis.placed < analysis.participants);
}

/// Prints the best silhouette for planted and random conversations, to
/// tune [`CLEAR_SILHOUETTE`]: `cargo test --lib analysis -- --ignored --nocapture`.
#[test]
#[ignore]
fn silhouettes_for_tuning() {
    for seed in 1..=8 {
        let random = analyse(&synthetic::random(seed, 300, 12, 0.2), &settings());
        let random6 = analyse(&synthetic::random(seed, 300, 6, 0.2), &settings());
        let random20 = analyse(&synthetic::random(seed, 1000, 20, 0.4), &settings());
        let camps = analyse(&planted(seed).ballots, &settings());
        let noisy = synthetic::conversation(seed, &three_camps([120, 100, 80], 0.2), 0.3);
        let noisy = analyse(&noisy.ballots, &settings());
        let two = synthetic::conversation(seed, &three_camps([150, 150, 0], 0.15), 0.3);
        let two = analyse(&two.ballots, &settings());
        println!(
            "seed {seed}: random12 {:.3?} k{:?} random6 {:.3?} random20 {:.3?} | camps {:.3?} k{:?} noisy20% {:.3?} k{:?} two {:.3?} k{:?}",
            random.silhouette, random.k, random6.silhouette, random20.silhouette,
            camps.silhouette, camps.k, noisy.silhouette, noisy.k, two.silhouette, two.k
        );
    }
}

/// Silhouettes of `runs` shuffles of the votes of the placed (see
/// `null_silhouette`), for tuning [`NULL_MARGIN`].
fn shuffled_silhouettes(ballots: &Ballots, min_votes: usize, runs: u64) -> Vec<f64> {
    use super::{groups, matrix};
    let m = matrix::VoteMatrix::build(ballots);
    let placed: Vec<usize> = (0..m.participants.len())
        .filter(|&p| m.rows[p].len() >= min_votes)
        .collect();
    (0..runs)
        .filter_map(|run| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(run + 1000);
            let s = m.shuffled(&placed, &mut rng);
            let all: Vec<usize> = (0..s.participants.len()).collect();
            let points = matrix::project(&s, &all)?;
            groups::cluster(&points, 14, groups::KMEANS_RUNS).map(|c| c.silhouette)
        })
        .collect()
}

/// Prints real and shuffled silhouettes for random votes and noisy camps.
#[test]
#[ignore]
fn null_silhouettes_for_tuning() {
    for (n, items, seed) in [
        (45, 8, 1),
        (45, 8, 2),
        (45, 8, 3),
        (45, 8, 4),
        (300, 12, 1),
        (1000, 20, 1),
    ] {
        let ballots = synthetic::random(seed, n, items, 0.0);
        let real = analyse(&ballots, &settings()).silhouette;
        let nulls = shuffled_silhouettes(&ballots, 1, 12);
        println!("n{n} items{items} seed{seed}: real {real:.3?} nulls {nulls:.3?}");
    }
    for seed in 1..=3 {
        let noisy = synthetic::conversation(seed, &three_camps([120, 100, 80], 0.2), 0.3);
        let real = analyse(&noisy.ballots, &settings()).silhouette;
        let nulls = shuffled_silhouettes(&noisy.ballots, 4, 6);
        println!("noisy seed{seed}: real {real:.3?} nulls {nulls:.3?}");
    }
}
