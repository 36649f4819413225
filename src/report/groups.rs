//! Breakdowns by profile question (organisation type, role, ...), with
//! small-group suppression.
//!
//! A group is everyone who gave one answer to one question ("No answer"
//! is a group too). A group with fewer than `min_group_size` people is
//! never shown by name. Showing every other group would still give a
//! small group away by subtraction (total minus the others), so the small
//! groups are pooled into one "Other groups (combined)" row; when the pool
//! itself is still smaller than `min_group_size`, the next smallest groups
//! join it until it is not (or everyone is pooled). Groups nobody belongs
//! to are left out. The same rows feed the page, the CSV and the JSON.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::{stats, GroupGap, Options};
use crate::domain::{Choice, Item};
use crate::store::ReportData;

pub const NO_ANSWER: &str = "No answer";
pub const COMBINED: &str = "Other groups (combined)";

#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    pub question: String,
    pub label: String,
    pub groups: Vec<Group>,
    /// How many groups (with at least one person) are not shown on their own.
    pub suppressed_groups: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    /// True for the pooled row of suppressed groups.
    pub combined: bool,
    pub participants: i64,
    /// Participants in the group who voted at least once.
    pub voters: i64,
    pub votes: i64,
    pub items: Vec<GroupItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupItem {
    pub item_id: Uuid,
    pub strong: i64,
    pub wrong: i64,
    pub voters: i64,
    pub support: Option<f64>,
    pub interval: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    pub min_group_size: usize,
    pub happened: bool,
    /// Groups kept out of sight, over all questions.
    pub suppressed_groups: usize,
    /// A sentence for the page.
    pub note: String,
}

pub struct Breakdowns {
    pub breakdowns: Vec<Breakdown>,
    pub suppression: Suppression,
}

pub fn breakdowns(data: &ReportData, shown: &[&Item], options: &Options) -> Breakdowns {
    let k = options.min_group_size.max(1);
    let index: HashMap<Uuid, usize> = data
        .participants
        .iter()
        .enumerate()
        .map(|(n, p)| (p.id, n))
        .collect();
    let item_index: HashMap<Uuid, usize> =
        shown.iter().enumerate().map(|(n, i)| (i.id, n)).collect();
    // Per participant: their votes as (item position, strong?).
    let mut votes_of: Vec<Vec<(usize, bool)>> = vec![Vec::new(); data.participants.len()];
    for v in &data.votes {
        if let (Some(&p), Some(&i)) = (index.get(&v.participant_id), item_index.get(&v.item_id)) {
            votes_of[p].push((i, v.choice == Choice::Strong));
        }
    }

    let mut out = Vec::new();
    let mut total_suppressed = 0;
    for question in &data.conversation.profile_questions {
        // Members of each answer, in the question's order, "No answer" last.
        let mut names: Vec<String> = question.choices.clone();
        names.push(NO_ANSWER.to_string());
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        for (n, p) in data.participants.iter().enumerate() {
            let slot = p
                .profile
                .get(&question.key)
                .and_then(|a| question.choices.iter().position(|c| c == a))
                .unwrap_or(names.len() - 1);
            members[slot].push(n);
        }
        let mut present: Vec<usize> = (0..names.len())
            .filter(|&g| !members[g].is_empty())
            .collect();
        let mut pooled: Vec<usize> = present
            .iter()
            .copied()
            .filter(|&g| members[g].len() < k)
            .collect();
        present.retain(|g| !pooled.contains(g));
        if !pooled.is_empty() {
            let mut size: usize = pooled.iter().map(|&g| members[g].len()).sum();
            // Smallest shown groups join the pool until it is large enough.
            present.sort_by_key(|&g| (members[g].len(), g));
            while size < k && !present.is_empty() {
                let g = present.remove(0);
                size += members[g].len();
                pooled.push(g);
            }
            present.sort();
        }
        let mut groups: Vec<Group> = present
            .iter()
            .map(|&g| group(&names[g], false, &members[g], &votes_of, shown))
            .collect();
        let pooled_people: Vec<usize> = pooled
            .iter()
            .flat_map(|&g| members[g].iter().copied())
            .collect();
        if !pooled.is_empty() && pooled_people.len() >= k {
            groups.push(group(COMBINED, true, &pooled_people, &votes_of, shown));
        }
        total_suppressed += pooled.len();
        out.push(Breakdown {
            question: question.key.clone(),
            label: question.label.clone(),
            groups,
            suppressed_groups: pooled.len(),
        });
    }
    let happened = total_suppressed > 0;
    let note = if happened {
        format!(
            "To protect anonymity, no group with fewer than {k} people is shown on its own. \
             {total_suppressed} group{} {} combined into \u{201c}{COMBINED}\u{201d} \
             (or left out when even combined they were fewer than {k}).",
            if total_suppressed == 1 { "" } else { "s" },
            if total_suppressed == 1 { "was" } else { "were" },
        )
    } else {
        format!("Every group shown has at least {k} people; no group needed to be hidden.")
    };
    Breakdowns {
        breakdowns: out,
        suppression: Suppression {
            min_group_size: k,
            happened,
            suppressed_groups: total_suppressed,
            note,
        },
    }
}

fn group(
    name: &str,
    combined: bool,
    people: &[usize],
    votes_of: &[Vec<(usize, bool)>],
    shown: &[&Item],
) -> Group {
    let mut tally = vec![(0i64, 0i64); shown.len()];
    let mut voters = 0;
    let mut votes = 0;
    for &p in people {
        if !votes_of[p].is_empty() {
            voters += 1;
        }
        for &(i, strong) in &votes_of[p] {
            votes += 1;
            if strong {
                tally[i].0 += 1;
            } else {
                tally[i].1 += 1;
            }
        }
    }
    Group {
        name: name.to_string(),
        combined,
        participants: people.len() as i64,
        voters,
        votes,
        items: shown
            .iter()
            .zip(tally)
            .map(|(item, (strong, wrong))| GroupItem {
                item_id: item.id,
                strong,
                wrong,
                voters: strong + wrong,
                support: stats::share(strong, strong + wrong),
                interval: stats::wilson(strong, strong + wrong).map(|(lo, hi)| [lo, hi]),
            })
            .collect(),
    }
}

/// The widest gap in support between two named groups of one question on
/// this item, counting only groups with at least `k` voters on it.
pub fn gap(breakdowns: &[Breakdown], item_id: Uuid, k: usize) -> Option<GroupGap> {
    let mut best: Option<GroupGap> = None;
    for b in breakdowns {
        let cells: Vec<(&str, f64)> = b
            .groups
            .iter()
            .filter(|g| !g.combined)
            .filter_map(|g| {
                let cell = g.items.iter().find(|c| c.item_id == item_id)?;
                (cell.voters >= k as i64).then_some((g.name.as_str(), cell.support?))
            })
            .collect();
        if cells.len() < 2 {
            continue;
        }
        let hi = cells
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("two cells");
        let lo = cells
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("two cells");
        let g = hi.1 - lo.1;
        if best.as_ref().is_none_or(|b| g > b.gap) {
            best = Some(GroupGap {
                gap: g,
                question: b.question.clone(),
                highest: hi.0.to_string(),
                highest_support: hi.1,
                lowest: lo.0.to_string(),
                lowest_support: lo.1,
            });
        }
    }
    best
}
