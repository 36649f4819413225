//! The vote matrix and the opinion map: who voted what, with every id
//! sorted first so the same conversation always gives the same matrix,
//! then Pol.is-style PCA to two dimensions.

use std::collections::HashMap;

use linfa::traits::Fit;
use linfa::DatasetBase;
use linfa_reduction::Pca;
use ndarray::{Array1, Array2, Axis};
use uuid::Uuid;

use super::Ballots;

/// Who voted what, by position: items and participants sorted by id.
pub(crate) struct VoteMatrix {
    pub items: Vec<Uuid>,
    /// Everyone who voted on at least one listed item, sorted by id.
    pub participants: Vec<Uuid>,
    /// Per participant, their votes as (item position, +1 strong / −1 wrong),
    /// sorted by item position.
    pub rows: Vec<Vec<(usize, i8)>>,
}

impl VoteMatrix {
    pub fn build(ballots: &Ballots) -> Self {
        let mut items = ballots.items.clone();
        items.sort_unstable();
        items.dedup();
        let item_index: HashMap<Uuid, usize> =
            items.iter().enumerate().map(|(i, id)| (*id, i)).collect();

        // One vote per participant and item is the store's rule; should a
        // duplicate slip through, the first in sorted order counts (wrong
        // sorts before strong), so the answer never depends on input order.
        let mut votes: Vec<(Uuid, usize, bool)> = ballots
            .votes
            .iter()
            .filter_map(|b| {
                item_index
                    .get(&b.item)
                    .map(|&i| (b.participant, i, b.strong))
            })
            .collect();
        votes.sort_unstable();
        votes.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);

        let mut participants = Vec::new();
        let mut rows: Vec<Vec<(usize, i8)>> = Vec::new();
        for (participant, item, strong) in votes {
            if participants.last() != Some(&participant) {
                participants.push(participant);
                rows.push(Vec::new());
            }
            let row = rows
                .last_mut()
                .expect("a row was pushed for this participant");
            row.push((item, if strong { 1 } else { -1 }));
        }
        VoteMatrix {
            items,
            participants,
            rows,
        }
    }
}

/// The opinion map: each placed participant's position in two dimensions,
/// or `None` when the votes have no spread to map (everyone voted alike).
///
/// As Pol.is does: a missing vote is filled with that item's mean vote
/// among the placed (so it pulls nobody either way), the two principal
/// components are taken, and each person's position is then stretched by
/// sqrt(items / items they voted on). Without the stretch, someone who
/// voted on few items sits near the centre only because most of their row
/// is the average, and would look like a moderate.
pub(crate) fn project(matrix: &VoteMatrix, placed: &[usize]) -> Option<Array2<f64>> {
    let n_items = matrix.items.len();
    if n_items < 2 || placed.len() < 3 {
        return None;
    }
    let mut sums = vec![0.0; n_items];
    let mut counts = vec![0usize; n_items];
    for &p in placed {
        for &(item, vote) in &matrix.rows[p] {
            sums[item] += f64::from(vote);
            counts[item] += 1;
        }
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 })
        .collect();
    let mut x = Array2::zeros((placed.len(), n_items));
    for (r, &p) in placed.iter().enumerate() {
        let mut row = x.row_mut(r);
        row.assign(&Array1::from(means.clone()));
        for &(item, vote) in &matrix.rows[p] {
            row[item] = f64::from(vote);
        }
    }

    // No spread at all (everyone voted alike): there is nothing to map,
    // and the iterative SVD below has nothing to converge to.
    let variance: f64 = x.var_axis(Axis(0), 0.0).sum();
    if variance < 1e-9 {
        return None;
    }

    // linfa's PCA: a truncated SVD (LOBPCG with its own fixed seed), so it
    // is deterministic. We project ourselves rather than call `predict` to
    // fix each axis's sign: an eigenvector's sign is arbitrary, and a map
    // that flips between runs of different versions would confuse readers.
    let pca = Pca::params(2).fit(&DatasetBase::from(x.clone())).ok()?;
    let mut components = pca.components().to_owned();
    for mut axis in components.rows_mut() {
        let largest =
            axis.iter().copied().fold(
                0.0f64,
                |best, v| if v.abs() > best.abs() { v } else { best },
            );
        if largest < 0.0 {
            axis.mapv_inplace(|v| -v);
        }
    }
    let mut points = (&x - pca.mean()).dot(&components.t());
    for (mut point, &p) in points.rows_mut().into_iter().zip(placed) {
        let stretch = (n_items as f64 / matrix.rows[p].len() as f64).sqrt();
        point.mapv_inplace(|v| v * stretch);
    }
    points.iter().all(|v| v.is_finite()).then_some(points)
}

impl VoteMatrix {
    /// The same votes with each item's column shuffled among the placed
    /// (missing votes included): every item keeps its own split and how
    /// many voted on it, but who voted what together is random. The null
    /// model the grouping is compared with (see `grouping`).
    pub fn shuffled(&self, placed: &[usize], rng: &mut impl rand::Rng) -> VoteMatrix {
        use rand::seq::SliceRandom;
        let n_items = self.items.len();
        let mut columns: Vec<Vec<Option<i8>>> = vec![vec![None; placed.len()]; n_items];
        for (r, &p) in placed.iter().enumerate() {
            for &(item, vote) in &self.rows[p] {
                columns[item][r] = Some(vote);
            }
        }
        for column in &mut columns {
            column.shuffle(rng);
        }
        let rows = (0..placed.len())
            .map(|r| {
                (0..n_items)
                    .filter_map(|item| columns[item][r].map(|vote| (item, vote)))
                    .collect()
            })
            .collect();
        VoteMatrix {
            items: self.items.clone(),
            participants: placed.iter().map(|&p| self.participants[p]).collect(),
            rows,
        }
    }
}
