//! Opinion groups: k-means on the map for k = 2..=5, k chosen by the mean
//! silhouette, and what makes each group itself (its representative items).

use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array1, Array2, ArrayView1};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use super::{Direction, RepresentativeItem, Tally};

/// The largest number of groups tried. More than five groups of a few
/// hundred people each would be too small to say much, and a report with
/// more is hard to read.
pub const MAX_K: usize = 5;

/// k-means restarts per k (k-means++ seeding each time); the run with the
/// least spread within clusters is kept.
pub const KMEANS_RUNS: usize = 10;

/// The silhouette is computed on at most this many placed participants
/// (a seeded sample). It compares every pair, so it grows with the square
/// of the count; 1,500 people estimate the mean to about ±0.02, far finer
/// than the threshold it is compared with.
pub const SILHOUETTE_SAMPLE: usize = 1_500;

/// One-sided 90% normal quantile: Pol.is's bar for an item to count as
/// representative of a group.
const Z90: f64 = 1.281_551_565_545;

/// Representative items kept per group.
pub const MAX_REPRESENTATIVE: usize = 5;

/// The chosen clustering: the best k by mean silhouette.
pub(crate) struct Clustering {
    pub k: usize,
    pub silhouette: f64,
    /// Per placed participant (in placed order), their cluster 0..k.
    pub labels: Vec<usize>,
}

/// k-means for each k in 2..=MAX_K, keeping the k with the best mean
/// silhouette (the smaller k on a tie). `None` when there are too few
/// points to form two clusters.
pub(crate) fn cluster(points: &Array2<f64>, seed: u64, runs: usize) -> Option<Clustering> {
    let n = points.nrows();
    let dataset = DatasetBase::from(points.clone());
    let sample = silhouette_sample(n, seed);
    let mut best: Option<Clustering> = None;
    for k in 2..=MAX_K.min(n.saturating_sub(1)) {
        // k-means++ rather than linfa's default k-means|| for large data:
        // k-means|| seeds one RNG per rayon thread, so its result would
        // depend on thread scheduling; k-means++ draws from our one RNG.
        let rng = Xoshiro256Plus::seed_from_u64(seed.wrapping_add(k as u64));
        let Ok(model) = KMeans::params_with_rng(k, rng)
            .n_runs(runs)
            .init_method(KMeansInit::KMeansPlusPlus)
            .fit(&dataset)
        else {
            continue;
        };
        let labels: Array1<usize> = model.predict(points);
        let labels = labels.to_vec();
        let score = silhouette(points, &labels, k, &sample);
        if best.as_ref().is_none_or(|b| score > b.silhouette) {
            best = Some(Clustering {
                k,
                silhouette: score,
                labels,
            });
        }
    }
    best
}

/// Which points the silhouette is computed on: all of them up to
/// [`SILHOUETTE_SAMPLE`], else a seeded sample (sorted, so the sums run in
/// one order).
fn silhouette_sample(n: usize, seed: u64) -> Vec<usize> {
    if n <= SILHOUETTE_SAMPLE {
        return (0..n).collect();
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0x5111_0E77);
    let mut sample = rand::seq::index::sample(&mut rng, n, SILHOUETTE_SAMPLE).into_vec();
    sample.sort_unstable();
    sample
}

/// The mean silhouette over `sample`: for each point, a = its mean distance
/// to the rest of its own cluster, b = its mean distance to the nearest
/// other cluster, s = (b − a) / max(a, b); 0 for a point alone in its
/// cluster. Near 1: tight, well separated groups; near 0: groups that
/// blend into each other. We compute it ourselves because linfa has no
/// silhouette score, and this also lets us sample.
pub(crate) fn silhouette(
    points: &Array2<f64>,
    labels: &[usize],
    k: usize,
    sample: &[usize],
) -> f64 {
    if sample.is_empty() {
        return 0.0;
    }
    let mut sizes = vec![0usize; k];
    for &i in sample {
        sizes[labels[i]] += 1;
    }
    let mut total = 0.0;
    let mut sums = vec![0.0; k];
    for &i in sample {
        sums.iter_mut().for_each(|s| *s = 0.0);
        let pi = points.row(i);
        for &j in sample {
            if i != j {
                sums[labels[j]] += distance(pi, points.row(j));
            }
        }
        let own = labels[i];
        if sizes[own] <= 1 {
            continue;
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() && a.max(b) > 0.0 {
            total += (b - a) / a.max(b);
        }
    }
    total / sample.len() as f64
}

fn distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    (dx * dx + dy * dy).sqrt()
}

/// The items that set a group apart, both directions, best first.
///
/// For each item and direction, Pol.is's two-proportion test with add-one
/// smoothing: p_in = (votes that way in the group + 1) / (group voters + 2),
/// p_out likewise for every other placed participant, and z the difference
/// over its pooled standard error. An item is representative when z clears
/// the one-sided 90% bar and most of the group's voters voted that way.
pub(crate) fn representative(
    inside: &[Tally],
    all: &[Tally],
    items: &[uuid::Uuid],
) -> Vec<RepresentativeItem> {
    let mut found = Vec::new();
    for (i, (tin, tall)) in inside.iter().zip(all).enumerate() {
        let n_in = tin.voters();
        let n_out = tall.voters() - n_in;
        if n_in == 0 {
            continue;
        }
        for direction in [Direction::Strong, Direction::Wrong] {
            let (a_in, a_all) = match direction {
                Direction::Strong => (tin.strong, tall.strong),
                Direction::Wrong => (tin.wrong, tall.wrong),
            };
            let a_out = a_all - a_in;
            let z = two_proportion_z(a_in, n_in, a_out, n_out);
            let group_share = a_in as f64 / n_in as f64;
            if z >= Z90 && group_share > 0.5 {
                found.push(RepresentativeItem {
                    item: items[i],
                    direction,
                    group_share,
                    others_share: if n_out == 0 {
                        0.0
                    } else {
                        a_out as f64 / n_out as f64
                    },
                    group_voters: n_in,
                    z,
                });
            }
        }
    }
    found.sort_by(|a, b| b.z.total_cmp(&a.z).then(a.item.cmp(&b.item)));
    found.truncate(MAX_REPRESENTATIVE);
    found
}

/// z for "the share inside is higher than outside", add-one smoothed.
pub(crate) fn two_proportion_z(a_in: usize, n_in: usize, a_out: usize, n_out: usize) -> f64 {
    let (a_in, n_in, a_out, n_out) = (a_in as f64, n_in as f64, a_out as f64, n_out as f64);
    let p_in = (a_in + 1.0) / (n_in + 2.0);
    let p_out = (a_out + 1.0) / (n_out + 2.0);
    let pooled = (a_in + a_out + 2.0) / (n_in + n_out + 4.0);
    let se = (pooled * (1.0 - pooled) * (1.0 / (n_in + 2.0) + 1.0 / (n_out + 2.0))).sqrt();
    if se > 0.0 {
        (p_in - p_out) / se
    } else {
        0.0
    }
}
