//! Opinion groups, common ground and the comments that bridge them
//! (issue 14), modelled on Pol.is and Community Notes. Pure: plain inputs
//! in ([`Ballots`], [`Settings`]), a serialisable [`Analysis`] out; no
//! database, no async, no clock. docs/report.md ("Opinion groups")
//! explains each figure for organisers, with its limits.
//!
//! The method, in the order [`analyse`] runs it:
//!
//! 1. [`matrix`]: the vote matrix, participants × items, strong = +1,
//!    wrong = −1, sorted by id first so input order never matters. Only
//!    participants with at least `min_votes` votes are *placed*.
//! 2. The opinion map: missing votes filled with the item's mean vote,
//!    PCA to two dimensions (linfa), each person's position stretched by
//!    sqrt(items / items they voted on), as Pol.is does.
//! 3. [`groups`]: k-means (linfa, seeded k-means++, ten restarts) for
//!    k = 2..=5, k chosen by the mean silhouette. Below
//!    [`CLEAR_SILHOUETTE`], below the same votes shuffled between people
//!    plus [`NULL_MARGIN`], or with fewer than 2 × `min_group_size`
//!    placed, the answer is "no clear groups". Groups smaller than
//!    `min_group_size` are never shown and count in no per-group figure;
//!    fewer than two groups left is "no clear groups" too. Each group shown
//!    gets its representative items (Pol.is's two-proportion test).
//! 4. [`consensus`]: group-informed consensus (the product over groups of
//!    smoothed support) and how divisive each item is.
//! 5. [`bridging`]: each group's most up-voted comments, and each
//!    comment's bridging score (its weakest group's smoothed up-vote rate).
//!
//! Nothing in the answer names a participant: the map's points carry no id
//! and are sorted by (group, x, y), so their order gives nobody away.
//! Fixed seeds make it deterministic: the same votes give the same answer.

pub mod bridging;
pub mod consensus;
pub mod groups;
pub mod matrix;
pub mod synthetic;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

/// Votes needed to be placed on the map, for conversations of 6 to 20
/// items. With fewer, a person's position is mostly the imputed average
/// stretched by sqrt(items / votes), i.e. noise: with 3 votes out of 20 the
/// stretch is 2.6×. Four votes give each of the two map axes at least two
/// real votes to rest on, and still place nearly everyone who engaged:
/// with 6 items it is two thirds of them. Never more than the item count.
pub const DEFAULT_MIN_VOTES: usize = 4;

/// The report's default `report.min_group_size`.
pub const DEFAULT_MIN_GROUP_SIZE: usize = 5;

/// Up-votes a comment needs before it gets a bridging score: below this a
/// score would rest on one or two people.
pub const DEFAULT_MIN_UPVOTES: usize = 5;

/// The mean silhouette the best k must reach for groups to count as clear.
/// Tuned on seeded data (`silhouettes_for_tuning` in the tests prints it):
/// uniformly random votes (300 people on 6 or 12 items, 1,000 on 20) score
/// 0.34–0.40, because k-means always cuts a blob into pieces; three planted
/// camps with 12–13% noisy votes and 20% missing score 0.59–0.65; the same
/// camps with 20% noise and 30% missing still score 0.47–0.53. 0.45 keeps
/// the noisy camps and stays clear of the blobs.
pub const CLEAR_SILHOUETTE: f64 = 0.45;

pub const DEFAULT_SEED: u64 = 14;

/// Shuffles of the votes whose mean silhouette the real one must beat
/// (see `null_silhouette`).
pub const NULL_RUNS: u64 = 5;

/// k-means starts per k on each shuffle.
const NULL_KMEANS_RUNS: usize = 3;

/// By how much the real silhouette must beat the shuffles' mean. Tuned
/// with `null_silhouettes_for_tuning`: shuffles of 45 people on 8 items
/// score 0.43 on average with a spread of about 0.03 (up to 0.49), and
/// random votes themselves up to 0.47; shuffles of 300 people score 0.35
/// to 0.38 while noisy planted camps score 0.50 to 0.53. 0.08 is well
/// above chance at the small end and well below real camps at the large.
pub const NULL_MARGIN: f64 = 0.08;

/// One participant's vote on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    pub participant: Uuid,
    pub item: Uuid,
    /// True for strong (support), false for wrong.
    pub strong: bool,
}

/// A visible comment, eligible for bridging, and the item it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CommentOn {
    pub id: Uuid,
    pub item: Uuid,
}

/// Everything the analysis reads.
#[derive(Debug, Clone, Default)]
pub struct Ballots {
    /// Pledges and visible ideas: the matrix's columns. Votes on anything
    /// else are ignored.
    pub items: Vec<Uuid>,
    pub votes: Vec<Ballot>,
    /// (participant, comment) up-votes. On comments not in `comments`
    /// they are ignored.
    pub upvotes: Vec<(Uuid, Uuid)>,
    pub comments: Vec<CommentOn>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// A participant is placed on the map only with at least this many
    /// votes (capped at the number of items).
    pub min_votes: usize,
    /// Groups smaller than this are never shown.
    pub min_group_size: usize,
    /// Up-votes a comment needs for a bridging score.
    pub min_upvotes: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_votes: DEFAULT_MIN_VOTES,
            min_group_size: DEFAULT_MIN_GROUP_SIZE,
            min_upvotes: DEFAULT_MIN_UPVOTES,
            seed: DEFAULT_SEED,
        }
    }
}

/// Why there are no clear groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unclear {
    /// Fewer than 2 × `min_group_size` participants placed.
    TooFewPlaced,
    /// Everyone placed voted alike: nothing to map.
    NoSpread,
    /// The best grouping's silhouette is below [`CLEAR_SILHOUETTE`].
    WeakSeparation,
    /// Fewer than two groups of at least `min_group_size`.
    GroupsTooSmall,
    /// The groups are no clearer than those found in the same votes
    /// shuffled between people (see `null_silhouette`).
    LikeChance,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Participants who voted on at least one item.
    pub participants: usize,
    /// Of those, the ones with at least `min_votes` votes.
    pub placed: usize,
    /// False means "no clear groups": then `groups`, `points` and
    /// `divisive` are empty and no comment has a bridging score.
    pub clear: bool,
    pub unclear: Option<Unclear>,
    /// The best mean silhouette found, and the k (before small groups were
    /// dropped) that gave it; `None` when no grouping was tried.
    pub silhouette: Option<f64>,
    pub k: Option<usize>,
    /// The groups shown, largest first, labelled "A", "B", ...
    pub groups: Vec<OpinionGroup>,
    /// The map, one point per placed participant, only when clear.
    pub points: Vec<MapPoint>,
    /// Every item, highest strong consensus first.
    pub consensus: Vec<ItemConsensus>,
    /// Every item, most divisive first; only when clear.
    pub divisive: Vec<ItemDivision>,
    /// Every eligible comment, best bridging score first.
    pub bridging: Vec<CommentBridge>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpinionGroup {
    pub label: String,
    pub size: usize,
    /// The mean position of its members on the map.
    pub centroid: [f64; 2],
    pub representative: Vec<RepresentativeItem>,
    pub top_comments: Vec<CommentCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Strong,
    Wrong,
}

/// An item on which a group voted differently from everyone else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepresentativeItem {
    pub item: Uuid,
    /// Which way the group leans more than the others.
    pub direction: Direction,
    /// Share of the group's voters on this item who voted that way.
    pub group_share: f64,
    /// The same share among every other placed participant.
    pub others_share: f64,
    pub group_voters: usize,
    /// The two-proportion z-score (add-one smoothed); ranked by it.
    pub z: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentCount {
    pub comment: Uuid,
    pub upvotes: usize,
}

/// One participant on the map, without their id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapPoint {
    pub x: f64,
    pub y: f64,
    /// Index into `groups`; `None` for members of a group too small to show.
    pub group: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemConsensus {
    pub item: Uuid,
    /// Product over the groups shown of (strong + 1) / (voters + 2); with no
    /// clear groups, the same over all placed participants as one group.
    pub strong: f64,
    /// The same for wrong.
    pub wrong: f64,
    /// Placed participants who voted on it.
    pub voters: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDivision {
    pub item: Uuid,
    /// Most supportive group's support minus least supportive's.
    pub spread: f64,
    /// Per group shown (same order as `groups`): (strong + 1) / (voters + 2).
    pub support: Vec<f64>,
    /// Per group shown: how many of it voted on the item.
    pub voters: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommentBridge {
    pub comment: Uuid,
    pub item: Uuid,
    /// Up-votes from anyone, placed or not.
    pub upvotes: usize,
    /// Up-votes per group shown (same order as `groups`).
    pub by_group: Vec<usize>,
    /// Min over groups of (up-votes from the group + 1) / (group size + 2);
    /// `None` below `min_upvotes` or with no clear groups.
    pub score: Option<f64>,
}

/// Strong and wrong votes on one item among some set of people.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tally {
    pub strong: usize,
    pub wrong: usize,
}

impl Tally {
    pub fn voters(&self) -> usize {
        self.strong + self.wrong
    }
}

/// Analyses one conversation's votes and up-votes.
pub fn analyse(ballots: &Ballots, settings: &Settings) -> Analysis {
    analyse_with_membership(ballots, settings).0
}

/// [`analyse`], also returning each voter's shown group: for tests alone
/// (here and over the API), which must compare found groups with planted
/// ones. No handler calls it, and none may: an individual's group is
/// never shown to anyone.
#[doc(hidden)]
pub fn analyse_with_membership(
    ballots: &Ballots,
    settings: &Settings,
) -> (Analysis, Vec<(Uuid, Option<usize>)>) {
    let m = matrix::VoteMatrix::build(ballots);
    let n_items = m.items.len();
    let min_votes = settings.min_votes.clamp(1, n_items.max(1));
    let min_group = settings.min_group_size.max(1);
    let placed: Vec<usize> = (0..m.participants.len())
        .filter(|&p| m.rows[p].len() >= min_votes)
        .collect();
    let tally = |members: &mut dyn Iterator<Item = usize>| {
        let mut t = vec![Tally::default(); n_items];
        for p in members {
            for &(item, vote) in &m.rows[p] {
                if vote > 0 {
                    t[item].strong += 1;
                } else {
                    t[item].wrong += 1;
                }
            }
        }
        t
    };
    let pooled = tally(&mut placed.iter().copied());

    let mut analysis = Analysis {
        participants: m.participants.len(),
        placed: placed.len(),
        clear: false,
        unclear: None,
        silhouette: None,
        k: None,
        groups: Vec::new(),
        points: Vec::new(),
        consensus: Vec::new(),
        divisive: Vec::new(),
        bridging: Vec::new(),
    };
    // Per placed participant (placed order), their shown group.
    let mut shown_of: Vec<Option<usize>> = vec![None; placed.len()];
    let mut sizes: Vec<usize> = Vec::new();

    let outcome = grouping(&m, &placed, settings.seed, min_group);
    match outcome {
        Err((reason, best)) => {
            analysis.unclear = Some(reason);
            if let Some((k, s)) = best {
                analysis.k = Some(k);
                analysis.silhouette = Some(s);
            }
        }
        Ok(found) => {
            analysis.clear = true;
            analysis.k = Some(found.k);
            analysis.silhouette = Some(found.silhouette);
            shown_of = found.shown_of;
            sizes = found.sizes;
            let mut points: Vec<MapPoint> = found
                .points
                .rows()
                .into_iter()
                .zip(&shown_of)
                .map(|(p, &group)| MapPoint {
                    x: p[0],
                    y: p[1],
                    group,
                })
                .collect();
            points.sort_by(|a, b| {
                a.group
                    .cmp(&b.group)
                    .then(a.x.total_cmp(&b.x))
                    .then(a.y.total_cmp(&b.y))
            });
            analysis.points = points;
            for (g, centroid) in found.centroids.into_iter().enumerate() {
                analysis.groups.push(OpinionGroup {
                    label: char::from(b'A' + g as u8).to_string(),
                    size: sizes[g],
                    centroid,
                    representative: Vec::new(),
                    top_comments: Vec::new(),
                });
            }
        }
    }

    let tallies: Vec<Vec<Tally>> = (0..sizes.len())
        .map(|g| {
            tally(
                &mut placed
                    .iter()
                    .zip(&shown_of)
                    .filter(|(_, s)| **s == Some(g))
                    .map(|(&p, _)| p),
            )
        })
        .collect();
    for (group, inside) in analysis.groups.iter_mut().zip(&tallies) {
        group.representative = groups::representative(inside, &pooled, &m.items);
    }
    analysis.consensus = if analysis.clear {
        consensus::consensus(&m.items, &tallies, &pooled)
    } else {
        consensus::consensus(&m.items, std::slice::from_ref(&pooled), &pooled)
    };
    analysis.divisive = consensus::divisive(&m.items, &tallies);

    // Up-votes: participant id → shown group, through their matrix position.
    let mut group_by_id: HashMap<Uuid, usize> = HashMap::new();
    for (&p, s) in placed.iter().zip(&shown_of) {
        if let Some(g) = s {
            group_by_id.insert(m.participants[p], *g);
        }
    }
    let votes = bridging::count(&ballots.comments, &ballots.upvotes, sizes.len(), |id| {
        group_by_id.get(id).copied()
    });
    for (g, group) in analysis.groups.iter_mut().enumerate() {
        group.top_comments = bridging::top_comments(&votes, g);
    }
    analysis.bridging = bridging::bridging(&votes, &sizes, settings.min_upvotes);

    let membership = m
        .participants
        .iter()
        .map(|id| (*id, group_by_id.get(id).copied()))
        .collect();
    (analysis, membership)
}

/// The mean of the best silhouettes found in [`NULL_RUNS`] shuffles of the same votes
/// (each item's column shuffled: the same splits, no shared opinions).
///
/// A fixed silhouette bar alone is not enough: k-means always cuts a
/// cloud into pieces, and how good those pieces look by chance depends on
/// the number of people and items (45 people with random votes on 8
/// pledges reach 0.48, 300 on 12 only 0.34–0.40). Groups count as clear
/// only when they beat what the same conversation gives with its
/// opinions shuffled apart.
fn null_silhouette(m: &matrix::VoteMatrix, placed: &[usize], seed: u64) -> f64 {
    use rand::SeedableRng;
    let mut scores = Vec::new();
    for run in 0..NULL_RUNS {
        let mut rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed ^ (0x0005_1117 + run));
        // Past the silhouette's sample size a shuffle of that many people
        // scores as a shuffle of everyone does (a shapeless cloud's
        // silhouette settles as it grows), for a fraction of the work.
        let sample: Vec<usize> = if placed.len() > groups::SILHOUETTE_SAMPLE {
            let mut picked =
                rand::seq::index::sample(&mut rng, placed.len(), groups::SILHOUETTE_SAMPLE)
                    .into_vec();
            picked.sort_unstable();
            picked.into_iter().map(|i| placed[i]).collect()
        } else {
            placed.to_vec()
        };
        let shuffled = m.shuffled(&sample, &mut rng);
        let all: Vec<usize> = (0..shuffled.participants.len()).collect();
        let Some(points) = matrix::project(&shuffled, &all) else {
            continue;
        };
        // A shapeless cloud has no better and worse starts to choose from:
        // a few k-means starts find its best division.
        if let Some(found) = groups::cluster(&points, seed, NULL_KMEANS_RUNS) {
            scores.push(found.silhouette);
        }
    }
    if scores.is_empty() {
        // Shuffled, the votes had no spread: anything found beats that.
        return f64::NEG_INFINITY;
    }
    scores.iter().sum::<f64>() / scores.len() as f64
}

/// The groups found, when they are clear.
struct Found {
    k: usize,
    silhouette: f64,
    points: ndarray::Array2<f64>,
    /// Per placed participant, their shown group.
    shown_of: Vec<Option<usize>>,
    sizes: Vec<usize>,
    centroids: Vec<[f64; 2]>,
}

type NotClear = (Unclear, Option<(usize, f64)>);

/// Map, cluster, and keep the clusters big enough to show, relabelled
/// largest first (ties by centroid) so labels do not depend on k-means's
/// arbitrary cluster numbers.
fn grouping(
    m: &matrix::VoteMatrix,
    placed: &[usize],
    seed: u64,
    min_group: usize,
) -> Result<Found, NotClear> {
    if placed.len() < 2 * min_group {
        return Err((Unclear::TooFewPlaced, None));
    }
    let points = matrix::project(m, placed).ok_or((Unclear::NoSpread, None))?;
    let found =
        groups::cluster(&points, seed, groups::KMEANS_RUNS).ok_or((Unclear::TooFewPlaced, None))?;
    let best = Some((found.k, found.silhouette));
    if found.silhouette < CLEAR_SILHOUETTE {
        return Err((Unclear::WeakSeparation, best));
    }
    if found.silhouette < null_silhouette(m, placed, seed) + NULL_MARGIN {
        return Err((Unclear::LikeChance, best));
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); found.k];
    for (i, &c) in found.labels.iter().enumerate() {
        members[c].push(i);
    }
    let mut clusters: Vec<(usize, [f64; 2], usize)> = members
        .iter()
        .enumerate()
        .filter(|(_, ms)| ms.len() >= min_group)
        .map(|(c, ms)| {
            let n = ms.len() as f64;
            let x = ms.iter().map(|&i| points[[i, 0]]).sum::<f64>() / n;
            let y = ms.iter().map(|&i| points[[i, 1]]).sum::<f64>() / n;
            (ms.len(), [x, y], c)
        })
        .collect();
    if clusters.len() < 2 {
        return Err((Unclear::GroupsTooSmall, best));
    }
    clusters.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1[0].total_cmp(&b.1[0]))
            .then(a.1[1].total_cmp(&b.1[1]))
    });
    let mut shown_of = vec![None; placed.len()];
    for (g, &(_, _, c)) in clusters.iter().enumerate() {
        for &i in &members[c] {
            shown_of[i] = Some(g);
        }
    }
    Ok(Found {
        k: found.k,
        silhouette: found.silhouette,
        points,
        shown_of,
        sizes: clusters.iter().map(|c| c.0).collect(),
        centroids: clusters.iter().map(|c| c.1).collect(),
    })
}
