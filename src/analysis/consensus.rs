//! Common ground and division, per item, informed by the groups shown.

use uuid::Uuid;

use super::{ItemConsensus, ItemDivision, Tally};

/// Group-informed consensus (Pol.is): for each item the product over the
/// groups shown of (votes that way + 1) / (group voters + 2). A product is
/// high only when every group leans the same way, so a large group cannot
/// make common ground on its own. With no clear groups `tallies` holds one
/// pooled tally and this is plain smoothed support. Sorted by strong
/// consensus, highest first.
pub(crate) fn consensus(
    items: &[Uuid],
    tallies: &[Vec<Tally>],
    pooled: &[Tally],
) -> Vec<ItemConsensus> {
    let mut out: Vec<ItemConsensus> = items
        .iter()
        .enumerate()
        .map(|(i, &item)| {
            let (strong, wrong) = tallies.iter().fold((1.0, 1.0), |(s, w), group| {
                let t = &group[i];
                let n = t.voters() as f64 + 2.0;
                (
                    s * (t.strong as f64 + 1.0) / n,
                    w * (t.wrong as f64 + 1.0) / n,
                )
            });
            ItemConsensus {
                item,
                strong,
                wrong,
                voters: pooled[i].voters(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.strong.total_cmp(&a.strong).then(a.item.cmp(&b.item)));
    out
}

/// How far apart the groups are on each item: every group's smoothed
/// support (strong + 1) / (voters + 2), and the spread between the most
/// and the least supportive group. Smoothing keeps a group with few voters
/// on an item from swinging to 0% or 100%. Sorted by spread, widest first.
pub(crate) fn divisive(items: &[Uuid], tallies: &[Vec<Tally>]) -> Vec<ItemDivision> {
    if tallies.len() < 2 {
        return Vec::new();
    }
    let mut out: Vec<ItemDivision> = items
        .iter()
        .enumerate()
        .map(|(i, &item)| {
            let support: Vec<f64> = tallies
                .iter()
                .map(|g| (g[i].strong as f64 + 1.0) / (g[i].voters() as f64 + 2.0))
                .collect();
            let max = support.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = support.iter().copied().fold(f64::INFINITY, f64::min);
            ItemDivision {
                item,
                spread: max - min,
                support,
                voters: tallies.iter().map(|g| g[i].voters()).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.spread.total_cmp(&a.spread).then(a.item.cmp(&b.item)));
    out
}
