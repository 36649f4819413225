//! Comments by who up-voted them: the ones each group liked most, and the
//! ones that bridge the groups (Community Notes' idea, in its simplest
//! form).

use std::collections::HashMap;

use uuid::Uuid;

use super::{CommentBridge, CommentCount, CommentOn};

/// Top comments kept per group.
pub const MAX_TOP_COMMENTS: usize = 5;

/// Up-votes per eligible comment, split by shown group.
pub(crate) struct CommentVotes {
    /// Sorted by comment id.
    pub comments: Vec<CommentOn>,
    /// Per comment: everyone who up-voted it.
    pub total: Vec<usize>,
    /// Per comment, per shown group: up-votes from its members.
    pub by_group: Vec<Vec<usize>>,
}

/// Counts the up-votes. `group_of` maps a participant to their shown group,
/// if any; duplicate up-votes (same person, same comment) count once, and
/// up-votes on comments not listed as eligible are ignored.
pub(crate) fn count(
    comments: &[CommentOn],
    upvotes: &[(Uuid, Uuid)],
    groups: usize,
    group_of: impl Fn(&Uuid) -> Option<usize>,
) -> CommentVotes {
    let mut comments = comments.to_vec();
    comments.sort_unstable_by_key(|c| c.id);
    comments.dedup_by_key(|c| c.id);
    let index: HashMap<Uuid, usize> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut pairs: Vec<(Uuid, Uuid)> = upvotes.to_vec();
    pairs.sort_unstable();
    pairs.dedup();
    let mut total = vec![0; comments.len()];
    let mut by_group = vec![vec![0; groups]; comments.len()];
    for (participant, comment) in &pairs {
        let Some(&c) = index.get(comment) else {
            continue;
        };
        total[c] += 1;
        if let Some(g) = group_of(participant) {
            by_group[c][g] += 1;
        }
    }
    CommentVotes {
        comments,
        total,
        by_group,
    }
}

/// The comments a group's members up-voted most (at least once), most
/// first, ties by id.
pub(crate) fn top_comments(votes: &CommentVotes, group: usize) -> Vec<CommentCount> {
    let mut top: Vec<CommentCount> = votes
        .comments
        .iter()
        .zip(&votes.by_group)
        .filter(|(_, by)| by[group] > 0)
        .map(|(c, by)| CommentCount {
            comment: c.id,
            upvotes: by[group],
        })
        .collect();
    top.sort_by(|a, b| b.upvotes.cmp(&a.upvotes).then(a.comment.cmp(&b.comment)));
    top.truncate(MAX_TOP_COMMENTS);
    top
}

/// The bridging score of each comment: the smallest, over the groups shown,
/// of (up-votes from the group + 1) / (group size + 2). A comment scores
/// well only when every group up-voted it in proportion to its size; one
/// group's enthusiasm cannot lift it. Comments with fewer than
/// `min_upvotes` up-votes in all, or with no clear groups, get no score.
/// Sorted by score (scored first, highest first), then up-votes, then id.
pub(crate) fn bridging(
    votes: &CommentVotes,
    sizes: &[usize],
    min_upvotes: usize,
) -> Vec<CommentBridge> {
    let mut out: Vec<CommentBridge> = votes
        .comments
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let score = (sizes.len() >= 2 && votes.total[i] >= min_upvotes.max(1)).then(|| {
                sizes
                    .iter()
                    .zip(&votes.by_group[i])
                    .map(|(&size, &up)| (up as f64 + 1.0) / (size as f64 + 2.0))
                    .fold(f64::INFINITY, f64::min)
            });
            CommentBridge {
                comment: c.id,
                item: c.item,
                upvotes: votes.total[i],
                by_group: votes.by_group[i].clone(),
                score,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let score = |c: &CommentBridge| c.score.unwrap_or(f64::NEG_INFINITY);
        score(b)
            .total_cmp(&score(a))
            .then(b.upvotes.cmp(&a.upvotes))
            .then(a.comment.cmp(&b.comment))
    });
    out
}
