//! The opinion analysis as the report, the desk and the comment sort see
//! it: [`crate::analysis`] run on the conversation's visible pledges and
//! ideas, with its ids turned into titles and quoted comments.
//!
//! Who sees it is the report's business (public or organisers); what is
//! in it is the same for both, because it is computed from visible
//! content only: hidden ideas and hidden or pending comments never move a
//! group, a score or a dot.
//!
//! On top of the analysis's own rule (no group smaller than
//! `min_group_size`), a figure about one group on one item is shown only
//! when at least `min_group_size` of the group voted on it (representative
//! items; divisive items need it of every group), so no share rests on
//! fewer people than a breakdown may show.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::CommentRef;
use crate::analysis::{
    self, Analysis, Ballot, Ballots, CommentOn, Direction, ItemConsensus, ItemDivision, MapPoint,
    Unclear,
};
use crate::domain::{Choice, Comment, CommentStatus, ItemStatus};
use crate::store::ReportData;

/// Representative items shown per group.
const REPRESENTATIVE: usize = 5;
/// Comments quoted per group.
const GROUP_COMMENTS: usize = 3;
/// Items listed as common ground, common rejection and divisive.
const LISTED: usize = 5;

/// What a reader of the report or the desk is shown.
#[derive(Debug, Clone, Serialize)]
pub struct Opinion {
    /// Participants who voted on at least one item.
    pub participants: usize,
    /// Of those, the ones with enough votes to be placed on the map.
    pub placed: usize,
    /// The votes needed to be placed.
    pub min_votes: usize,
    /// The smallest group shown (`report.min_group_size`).
    pub min_group_size: usize,
    /// False: "no clear groups" (see `unclear` for why).
    pub clear: bool,
    pub unclear: Option<Unclear>,
    pub silhouette: Option<f64>,
    pub groups: Vec<OpinionGroup>,
    /// One anonymous dot per placed participant, only when clear.
    pub points: Vec<MapPoint>,
    /// Items every group supports (group-informed consensus, strong), at
    /// least as high as if half of each group had voted strong.
    pub common_ground: Vec<ItemFigure>,
    /// Items every group rejects (the same, for wrong).
    pub common_rejection: Vec<ItemFigure>,
    /// Items on which the groups disagree most; only when clear.
    pub divisive: Vec<ItemDivide>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpinionGroup {
    pub label: String,
    pub size: usize,
    pub centroid: [f64; 2],
    pub representative: Vec<Representative>,
    /// The visible comments its members up-voted most.
    pub top_comments: Vec<CommentRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Representative {
    pub item_id: Uuid,
    pub title: String,
    pub direction: Direction,
    pub group_share: f64,
    pub others_share: f64,
    pub group_voters: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemFigure {
    pub item_id: Uuid,
    pub title: String,
    /// Group-informed consensus, 0..1.
    pub consensus: f64,
    pub voters: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemDivide {
    pub item_id: Uuid,
    pub title: String,
    /// Most supportive group's support minus the least supportive's.
    pub spread: f64,
    /// Smoothed support per group, in the order of `groups`.
    pub support: Vec<f64>,
}

/// The analysis's inputs from one read: visible pledges and ideas, the
/// votes on them, and up-votes on their visible comments.
pub fn ballots(data: &ReportData) -> Ballots {
    let items: Vec<Uuid> = data
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Visible)
        .map(|i| i.id)
        .collect();
    let shown: std::collections::HashSet<Uuid> = items.iter().copied().collect();
    let comments: Vec<CommentOn> = data
        .comments
        .iter()
        .filter(|(c, _)| c.status == CommentStatus::Visible && shown.contains(&c.item_id))
        .map(|(c, _)| CommentOn {
            id: c.id,
            item: c.item_id,
        })
        .collect();
    let visible: std::collections::HashSet<Uuid> = comments.iter().map(|c| c.id).collect();
    Ballots {
        votes: data
            .votes
            .iter()
            .filter(|v| shown.contains(&v.item_id))
            .map(|v| Ballot {
                participant: v.participant_id,
                item: v.item_id,
                strong: v.choice == Choice::Strong,
            })
            .collect(),
        upvotes: data
            .comment_votes
            .iter()
            .filter(|(_, comment)| visible.contains(comment))
            .copied()
            .collect(),
        items,
        comments,
    }
}

/// The analysis's settings from the report's.
pub fn settings(min_group_size: usize, min_votes: usize) -> analysis::Settings {
    analysis::Settings {
        min_votes,
        min_group_size: min_group_size.max(1),
        ..analysis::Settings::default()
    }
}

/// Runs the analysis on one read. Pure and CPU-bound: call it off the
/// async runtime.
pub fn analyse(data: &ReportData, settings: &analysis::Settings) -> Analysis {
    analysis::analyse(&ballots(data), settings)
}

/// Turns an analysis into what readers see.
pub fn present(data: &ReportData, analysis: &Analysis, settings: &analysis::Settings) -> Opinion {
    let slug = data.conversation.slug.as_str();
    let titles: HashMap<Uuid, &str> = data
        .items
        .iter()
        .map(|i| (i.id, i.title.as_str()))
        .collect();
    let title = |id: &Uuid| titles.get(id).copied().unwrap_or_default().to_string();
    let comments: HashMap<Uuid, &Comment> = data.comments.iter().map(|(c, _)| (c.id, c)).collect();
    let min_group = settings.min_group_size;
    let figure = |c: &ItemConsensus, value: f64| ItemFigure {
        item_id: c.item,
        title: title(&c.item),
        consensus: value,
        voters: c.voters,
    };
    // As high as half of every group agreeing: below that, an item is not
    // common ground, only the least divided of what is left.
    let bar = 0.5f64.powi(analysis.groups.len().max(1) as i32);
    let mut rejection: Vec<&ItemConsensus> = analysis.consensus.iter().collect();
    rejection.sort_by(|a, b| b.wrong.total_cmp(&a.wrong).then(a.item.cmp(&b.item)));
    Opinion {
        participants: analysis.participants,
        placed: analysis.placed,
        min_votes: settings.min_votes,
        min_group_size: settings.min_group_size,
        clear: analysis.clear,
        unclear: analysis.unclear,
        silhouette: analysis.silhouette,
        groups: analysis
            .groups
            .iter()
            .map(|g| OpinionGroup {
                label: g.label.clone(),
                size: g.size,
                centroid: g.centroid,
                representative: g
                    .representative
                    .iter()
                    .filter(|r| r.group_voters >= min_group)
                    .take(REPRESENTATIVE)
                    .map(|r| Representative {
                        item_id: r.item,
                        title: title(&r.item),
                        direction: r.direction,
                        group_share: r.group_share,
                        others_share: r.others_share,
                        group_voters: r.group_voters,
                    })
                    .collect(),
                top_comments: g
                    .top_comments
                    .iter()
                    .filter_map(|c| comments.get(&c.comment))
                    .take(GROUP_COMMENTS)
                    .map(|c| CommentRef::new(slug, c))
                    .collect(),
            })
            .collect(),
        points: analysis.points.clone(),
        common_ground: analysis
            .consensus
            .iter()
            .filter(|c| c.voters >= min_group && c.strong >= bar)
            .take(LISTED)
            .map(|c| figure(c, c.strong))
            .collect(),
        common_rejection: rejection
            .into_iter()
            .filter(|c| c.voters >= min_group && c.wrong >= bar)
            .take(LISTED)
            .map(|c| figure(c, c.wrong))
            .collect(),
        divisive: analysis
            .divisive
            .iter()
            .filter(|d| d.voters.iter().all(|&n| n >= min_group))
            .take(LISTED)
            .map(|d: &ItemDivision| ItemDivide {
                item_id: d.item,
                title: title(&d.item),
                spread: d.spread,
                support: d.support.clone(),
            })
            .collect(),
    }
}

/// Each item's visible comments that bridge the groups, best first (up to
/// `n` per item): scored, and up-voted by someone in every group shown (a
/// comment one group never agreed with bridges nothing, whatever its
/// score). Empty with no clear groups.
pub fn bridging_by_item(analysis: &Analysis, n: usize) -> HashMap<Uuid, Vec<Uuid>> {
    let mut by_item: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    // `bridging` is sorted best first already.
    let bridges = analysis
        .bridging
        .iter()
        .filter(|b| b.score.is_some() && b.by_group.iter().all(|&n| n > 0));
    for b in bridges {
        let list = by_item.entry(b.item).or_default();
        if list.len() < n {
            list.push(b.comment);
        }
    }
    by_item
}
