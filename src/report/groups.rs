//! Breakdowns by profile question (organisation type, role, ...), with
//! small-group suppression that counts the people who **voted on each
//! item**, not sign-ups (issue 14; docs/report.md "By group" and
//! docs/privacy.md explain the scheme for readers).
//!
//! Every figure about a group is a *cell*: one group's votes on one item
//! (and, per row, how many of the group signed up and voted at all). For
//! each item and each question, [`protect`] decides which cells may be
//! published, from the people in that cell's population (the item's
//! voters; for the row figures, everyone who voted):
//!
//! 1. **Primary suppression.** A group's cell is published only when at
//!    least `min_group_size` of its members are in the population. Sign-ups
//!    who did not vote count for nothing, so padding a group with
//!    throw-away sign-ups shows nothing.
//! 2. **No residual row, and a residual that is safe.** There is no
//!    "other groups" row. But the item's own tally is public, so the
//!    voters in unpublished cells are the tally minus the published
//!    cells: that residual must hold no one or at least `min_group_size`
//!    people, else the smallest published cells are withheld too until it
//!    does (secondary suppression, as statistics offices do it).
//! 3. **Across questions.** Two questions' tables for one item describe
//!    the same voters twice. Where a union of one question's cells (the
//!    residual included) contains a union of the other's, the difference
//!    is known; it too must be empty or at least `min_group_size` people,
//!    else the smallest cell involved is withheld and everything is
//!    checked again. Pairs of questions are checked (every subset of the
//!    smaller one, up to [`MAX_BLOCKS_ENUMERATED`] cells; beyond that each
//!    cell alone).
//! 4. **Over time.** Any rule evaluated on live data can be defeated by
//!    comparing reports taken at two moments (a cell published, then
//!    withheld, recovers what changed in between). So the public sees
//!    breakdowns only once the conversation has closed, when they are
//!    final; organisers (facilitators and admins, logged in and
//!    accountable) see them live under rules 1 to 3.
//!
//! The same rows feed the page, the CSV and the JSON, and the "groups
//! differ most" figure ([`gap`]) is computed from published cells only.
//!
//! Over 600 lines on purpose: the rules and the tests that prove them
//! (including a property test that checks, by linear algebra, that no
//! combination of published figures gives away fewer than
//! `min_group_size` people) belong together.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::{stats, GroupGap, Options, View};
use crate::domain::{Choice, ConversationState, Item};
use crate::store::ReportData;

pub const NO_ANSWER: &str = "No answer";

/// Above this many cells on both sides of a pair of questions, the
/// cross-question check looks at each cell alone rather than every union.
pub const MAX_BLOCKS_ENUMERATED: usize = 16;

#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    pub question: String,
    pub label: String,
    /// Groups with at least one published figure; the others are not
    /// named anywhere.
    pub groups: Vec<Group>,
    /// Groups (with at least one person) that are not shown at all.
    pub suppressed_groups: usize,
    /// Group-and-item cells with at least one voter whose figures are
    /// withheld.
    pub suppressed_cells: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    /// Sign-ups in the group; `None` when withheld (with `voters`).
    pub participants: Option<i64>,
    /// Members who voted at least once; `None` when withheld.
    pub voters: Option<i64>,
    pub items: Vec<GroupItem>,
}

/// One group's votes on one item; every figure is `None` when withheld.
#[derive(Debug, Clone, Serialize)]
pub struct GroupItem {
    pub item_id: Uuid,
    pub suppressed: bool,
    pub strong: Option<i64>,
    pub wrong: Option<i64>,
    pub voters: Option<i64>,
    pub support: Option<f64>,
    pub interval: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    pub min_group_size: usize,
    /// True when any group or figure was withheld.
    pub happened: bool,
    /// Groups kept out of sight, over all questions.
    pub suppressed_groups: usize,
    /// Figures withheld, over all questions.
    pub suppressed_cells: usize,
    /// Public view of a conversation still running: no breakdowns yet.
    pub withheld_until_close: bool,
    /// A sentence for the page.
    pub note: String,
}

pub struct Breakdowns {
    pub breakdowns: Vec<Breakdown>,
    pub suppression: Suppression,
}

pub fn breakdowns(data: &ReportData, shown: &[&Item], options: &Options) -> Breakdowns {
    let k = options.min_group_size.max(1);
    let closed = data.conversation.state(options.now) == ConversationState::Closed;
    if options.view == View::Public && !closed {
        return Breakdowns {
            breakdowns: Vec::new(),
            suppression: Suppression {
                min_group_size: k,
                happened: true,
                suppressed_groups: 0,
                suppressed_cells: 0,
                withheld_until_close: true,
                note: "Results by group are published when the conversation closes: \
                       figures taken at different times could be compared to single out a few people."
                    .to_string(),
            },
        };
    }

    let index: HashMap<Uuid, usize> = data
        .participants
        .iter()
        .enumerate()
        .map(|(n, p)| (p.id, n))
        .collect();
    let item_index: HashMap<Uuid, usize> =
        shown.iter().enumerate().map(|(n, i)| (i.id, n)).collect();
    // Per item: its voters as (participant position, strong?).
    let mut voters_of: Vec<Vec<(usize, bool)>> = vec![Vec::new(); shown.len()];
    let mut voted = vec![false; data.participants.len()];
    for v in &data.votes {
        if let (Some(&p), Some(&i)) = (index.get(&v.participant_id), item_index.get(&v.item_id)) {
            voters_of[i].push((p, v.choice == Choice::Strong));
            voted[p] = true;
        }
    }

    // Each question's groups: its answers in order, "No answer" last; and
    // each participant's group per question.
    let questions = &data.conversation.profile_questions;
    let names: Vec<Vec<String>> = questions
        .iter()
        .map(|q| {
            let mut names = q.choices.clone();
            names.push(NO_ANSWER.to_string());
            names
        })
        .collect();
    let group_of: Vec<Vec<usize>> = questions
        .iter()
        .zip(&names)
        .map(|(q, names)| {
            data.participants
                .iter()
                .map(|p| {
                    p.profile
                        .get(&q.key)
                        .and_then(|a| q.choices.iter().position(|c| c == a))
                        .unwrap_or(names.len() - 1)
                })
                .collect()
        })
        .collect();
    let n_groups: Vec<usize> = names.iter().map(Vec::len).collect();
    let population = |people: &mut dyn Iterator<Item = usize>| -> Vec<Vec<usize>> {
        let people: Vec<usize> = people.collect();
        group_of
            .iter()
            .map(|of| people.iter().map(|&p| of[p]).collect())
            .collect()
    };

    // Row figures: published under the same rules, over everyone who voted.
    let row_shown = protect(
        &population(&mut (0..data.participants.len()).filter(|&p| voted[p])),
        &n_groups,
        k,
    );
    // Cells: per item, over its voters.
    let cell_shown: Vec<Vec<Vec<bool>>> = voters_of
        .iter()
        .map(|voters| {
            protect(
                &population(&mut voters.iter().map(|&(p, _)| p)),
                &n_groups,
                k,
            )
        })
        .collect();

    let mut out = Vec::new();
    let (mut total_groups, mut total_cells) = (0, 0);
    for (q, question) in questions.iter().enumerate() {
        let mut members = vec![0i64; n_groups[q]];
        let mut row_voters = vec![0i64; n_groups[q]];
        for (p, &g) in group_of[q].iter().enumerate() {
            members[g] += 1;
            row_voters[g] += i64::from(voted[p]);
        }
        // Per item, per group: (strong, wrong).
        let tallies: Vec<Vec<(i64, i64)>> = voters_of
            .iter()
            .map(|voters| {
                let mut t = vec![(0i64, 0i64); n_groups[q]];
                for &(p, strong) in voters {
                    let cell = &mut t[group_of[q][p]];
                    if strong {
                        cell.0 += 1;
                    } else {
                        cell.1 += 1;
                    }
                }
                t
            })
            .collect();
        let mut groups = Vec::new();
        let (mut hidden_groups, mut hidden_cells) = (0, 0);
        for g in 0..n_groups[q] {
            if members[g] == 0 {
                continue;
            }
            hidden_cells += (0..shown.len())
                .filter(|&i| {
                    let (s, w) = tallies[i][g];
                    s + w > 0 && !cell_shown[i][q][g]
                })
                .count();
            let any_cell = (0..shown.len()).any(|i| cell_shown[i][q][g]);
            if !row_shown[q][g] && !any_cell {
                hidden_groups += 1;
                continue;
            }
            let row = row_shown[q][g];
            groups.push(Group {
                name: names[q][g].clone(),
                participants: row.then_some(members[g]),
                voters: row.then_some(row_voters[g]),
                items: shown
                    .iter()
                    .enumerate()
                    .map(|(i, item)| cell(item.id, tallies[i][g], cell_shown[i][q][g]))
                    .collect(),
            });
        }
        total_groups += hidden_groups;
        total_cells += hidden_cells;
        out.push(Breakdown {
            question: question.key.clone(),
            label: question.label.clone(),
            groups,
            suppressed_groups: hidden_groups,
            suppressed_cells: hidden_cells,
        });
    }
    let happened = total_groups + total_cells > 0;
    let note = if happened {
        format!(
            "To protect anonymity, a group's figures for a pledge or idea are shown only when at \
             least {k} of its members voted on it, and only when the voters left out number \
             none or at least {k}, so that no subtraction singles out fewer than {k} people. \
             {total_cells} figure{} withheld; {total_groups} group{} not shown at all.",
            if total_cells == 1 { " was" } else { "s were" },
            if total_groups == 1 { " is" } else { "s are" },
        )
    } else {
        format!("Every group shown had at least {k} voters on each pledge and idea; nothing needed to be withheld.")
    };
    Breakdowns {
        breakdowns: out,
        suppression: Suppression {
            min_group_size: k,
            happened,
            suppressed_groups: total_groups,
            suppressed_cells: total_cells,
            withheld_until_close: false,
            note,
        },
    }
}

fn cell(item_id: Uuid, (strong, wrong): (i64, i64), published: bool) -> GroupItem {
    if !published {
        return GroupItem {
            item_id,
            suppressed: true,
            strong: None,
            wrong: None,
            voters: None,
            support: None,
            interval: None,
        };
    }
    GroupItem {
        item_id,
        suppressed: false,
        strong: Some(strong),
        wrong: Some(wrong),
        voters: Some(strong + wrong),
        support: stats::share(strong, strong + wrong),
        interval: stats::wilson(strong, strong + wrong).map(|(lo, hi)| [lo, hi]),
    }
}

/// Which groups' figures may be published for one population (one item's
/// voters, or everyone who voted). `answers[q][n]` is the group of the
/// population's n-th person for question `q`, which has `n_groups[q]`
/// groups. Returns `published[q][g]`. See the module's rules 1 to 3.
pub fn protect(answers: &[Vec<usize>], n_groups: &[usize], k: usize) -> Vec<Vec<bool>> {
    let sizes: Vec<Vec<usize>> = answers
        .iter()
        .zip(n_groups)
        .map(|(of, &n)| {
            let mut sizes = vec![0; n];
            for &g in of {
                sizes[g] += 1;
            }
            sizes
        })
        .collect();
    // Rule 1: enough voters in the group.
    let mut published: Vec<Vec<bool>> = sizes
        .iter()
        .map(|s| s.iter().map(|&n| n >= k).collect())
        .collect();
    loop {
        // Rule 2: the residual of each question is empty or large enough.
        for (q, s) in sizes.iter().enumerate() {
            let mut residual: usize = (0..s.len())
                .filter(|&g| !published[q][g])
                .map(|g| s[g])
                .sum();
            while residual > 0 && residual < k {
                let Some(g) = (0..s.len())
                    .filter(|&g| published[q][g])
                    .min_by_key(|&g| (s[g], g))
                else {
                    break;
                };
                published[q][g] = false;
                residual += s[g];
            }
        }
        // Rule 3: no difference between two questions' tables is small.
        let mut withheld = false;
        'pairs: for a in 0..answers.len() {
            for b in a + 1..answers.len() {
                if let Some((q, g)) = cross_violation(answers, &sizes, &published, a, b, k) {
                    published[q][g] = false;
                    withheld = true;
                    break 'pairs;
                }
            }
        }
        if !withheld {
            return published;
        }
    }
}

/// The cell to withhold, if two questions' published tables (each with its
/// residual as one more block) let a set of fewer than `k` people be
/// worked out: a union of blocks of one question minus a union of blocks
/// of the other that it contains.
fn cross_violation(
    answers: &[Vec<usize>],
    sizes: &[Vec<usize>],
    published: &[Vec<bool>],
    a: usize,
    b: usize,
    k: usize,
) -> Option<(usize, usize)> {
    // Blocks: each published group, then the residual (the last block).
    let block_of = |q: usize, g: usize| -> usize {
        if published[q][g] {
            published[q][..g].iter().filter(|x| **x).count()
        } else {
            published[q].iter().filter(|x| **x).count()
        }
    };
    let blocks = |q: usize| published[q].iter().filter(|x| **x).count() + 1;
    // Enumerate the unions of the side with fewer blocks.
    let (p, o) = if blocks(a) <= blocks(b) {
        (a, b)
    } else {
        (b, a)
    };
    let (np, no) = (blocks(p), blocks(o));
    // Group index of each block (None for the residual).
    let group_of_block = |q: usize, block: usize| -> Option<usize> {
        (0..published[q].len()).find(|&g| published[q][g] && block_of(q, g) == block)
    };
    let mut size_p = vec![0usize; np];
    let mut size_o = vec![0usize; no];
    // For each block of `o`, the blocks of `p` its people are in (a bit set).
    let mut touch = vec![0u64; no];
    // Beyond 64 blocks of `p` the bit sets do not fit: check single blocks.
    let wide = np > 64;
    let mut touch_wide: Vec<Vec<bool>> = if wide {
        vec![vec![false; np]; no]
    } else {
        Vec::new()
    };
    for (&gp, &go) in answers[p].iter().zip(&answers[o]) {
        let (bp, bo) = (block_of(p, gp), block_of(o, go));
        size_p[bp] += 1;
        size_o[bo] += 1;
        if wide {
            touch_wide[bo][bp] = true;
        } else {
            touch[bo] |= 1 << bp;
        }
    }
    let involved_smallest = |ps: &[usize], os: &[usize]| -> (usize, usize) {
        let candidates = ps
            .iter()
            .filter_map(|&x| group_of_block(p, x).map(|g| (p, g)))
            .chain(
                os.iter()
                    .filter_map(|&x| group_of_block(o, x).map(|g| (o, g))),
            );
        let any_published = (0..published[p].len())
            .filter(|&g| published[p][g])
            .map(|g| (p, g))
            .chain(
                (0..published[o].len())
                    .filter(|&g| published[o][g])
                    .map(|g| (o, g)),
            );
        candidates
            .min_by_key(|&(q, g)| (sizes[q][g], q, g))
            .or_else(|| any_published.min_by_key(|&(q, g)| (sizes[q][g], q, g)))
            .expect("a violation needs a published cell")
    };
    let check = |set: &[usize], contains: &dyn Fn(usize) -> bool, meets: &dyn Fn(usize) -> bool| {
        let size_s: usize = set.iter().map(|&x| size_p[x]).sum();
        let inside: Vec<usize> = (0..no).filter(|&y| size_o[y] > 0 && contains(y)).collect();
        let cover: Vec<usize> = (0..no).filter(|&y| size_o[y] > 0 && meets(y)).collect();
        let size_in: usize = inside.iter().map(|&y| size_o[y]).sum();
        let size_cover: usize = cover.iter().map(|&y| size_o[y]).sum();
        let small = |d: usize| d > 0 && d < k;
        if small(size_s - size_in) {
            Some(involved_smallest(set, &inside))
        } else if small(size_cover - size_s) {
            Some(involved_smallest(set, &cover))
        } else {
            None
        }
    };
    if wide || np > MAX_BLOCKS_ENUMERATED {
        // Each block alone.
        for x in (0..np).filter(|&x| size_p[x] > 0) {
            let found = if wide {
                check(
                    &[x],
                    &|y| (0..np).all(|z| !touch_wide[y][z] || z == x),
                    &|y| touch_wide[y][x],
                )
            } else {
                check(&[x], &|y| touch[y] & !(1 << x) == 0, &|y| {
                    touch[y] & (1 << x) != 0
                })
            };
            if found.is_some() {
                return found;
            }
        }
        return None;
    }
    for mask in 1u64..(1 << np) {
        let set: Vec<usize> = (0..np)
            .filter(|&x| mask & (1 << x) != 0 && size_p[x] > 0)
            .collect();
        if set.is_empty() {
            continue;
        }
        let found = check(&set, &|y| touch[y] & !mask == 0, &|y| touch[y] & mask != 0);
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The widest gap in support between two groups of one question on this
/// item, among the published cells with at least `k` voters (every
/// published cell has; the test stays as a second line of defence).
pub fn gap(breakdowns: &[Breakdown], item_id: Uuid, k: usize) -> Option<GroupGap> {
    let mut best: Option<GroupGap> = None;
    for b in breakdowns {
        let cells: Vec<(&str, f64)> = b
            .groups
            .iter()
            .filter_map(|g| {
                let cell = g.items.iter().find(|c| c.item_id == item_id)?;
                (cell.voters? >= k as i64).then_some((g.name.as_str(), cell.support?))
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `answers[q][n]` from one (q0, q1) pair per person.
    fn answers(people: &[(usize, usize)]) -> Vec<Vec<usize>> {
        vec![
            people.iter().map(|p| p.0).collect(),
            people.iter().map(|p| p.1).collect(),
        ]
    }

    /// `n` people in group `g` of one question.
    fn one_question(groups: &[usize]) -> Vec<Vec<usize>> {
        vec![groups
            .iter()
            .enumerate()
            .flat_map(|(g, &n)| std::iter::repeat_n(g, n))
            .collect()]
    }

    #[test]
    fn a_group_counts_its_voters_and_the_residual_is_never_small() {
        // Primary Care 5, Hospital trust 6, Local Authority 4, VCFSE 2
        // voters: the two small ones are withheld; together they are 6.
        assert_eq!(
            protect(&one_question(&[5, 6, 4, 2]), &[4], 5),
            [[true, true, false, false]]
        );
        // Padding: one voter among five sign-ups counts as one. The
        // residual of one would be the total minus the others, so the
        // smallest published group is withheld with it.
        assert_eq!(
            protect(&one_question(&[5, 6, 1]), &[3], 5),
            [[false, true, false]]
        );
        // The complement: 10 staff and 2 volunteers voted; showing the
        // staff would show the volunteers by subtraction.
        assert_eq!(protect(&one_question(&[10, 2]), &[2], 5), [[false, false]]);
        // Nobody left out: everything may be shown.
        assert_eq!(protect(&one_question(&[5, 5]), &[2], 5), [[true, true]]);
        // Everyone together too few: nothing.
        assert_eq!(protect(&one_question(&[3, 0]), &[2], 5), [[false, false]]);
        // Empty groups are no one: not published, no residual.
        assert_eq!(
            protect(&one_question(&[0, 6, 0]), &[3], 5),
            [[false, true, false]]
        );
    }

    #[test]
    fn a_table_nested_in_another_does_not_give_away_the_difference() {
        // Organisation A: 5 staff and 2 volunteers; B: 6 volunteers. Every
        // group has at least 5 voters, but A minus "staff" (all in A) is
        // the 2 volunteers of A.
        let mut people = vec![(0, 0); 5];
        people.extend([(0, 1); 2]);
        people.extend([(1, 1); 6]);
        let published = protect(&answers(&people), &[2, 2], 5);
        assert_no_small_set_is_determined(&answers(&people), &published, 5);
        assert!(
            published.iter().flatten().any(|x| !x),
            "something was withheld: {published:?}"
        );
    }

    /// A basis of { v : rows · v = 0 }.
    fn null_space(mut rows: Vec<Vec<f64>>, n: usize) -> Vec<Vec<f64>> {
        let mut pivots = Vec::new();
        let mut r = 0;
        for c in 0..n {
            let Some(p) =
                (r..rows.len()).max_by(|&a, &b| rows[a][c].abs().total_cmp(&rows[b][c].abs()))
            else {
                break;
            };
            if rows[p][c].abs() < 1e-9 {
                continue;
            }
            rows.swap(r, p);
            let pivot = rows[r][c];
            rows[r].iter_mut().for_each(|x| *x /= pivot);
            let pivot_row = rows[r].clone();
            for (i, row) in rows.iter_mut().enumerate() {
                if i != r && row[c].abs() > 1e-12 {
                    let f = row[c];
                    row.iter_mut()
                        .zip(&pivot_row)
                        .for_each(|(x, y)| *x -= f * y);
                }
            }
            pivots.push(c);
            r += 1;
        }
        (0..n)
            .filter(|c| !pivots.contains(c))
            .map(|free| {
                let mut v = vec![0.0; n];
                v[free] = 1.0;
                for (row, &c) in pivots.iter().enumerate() {
                    v[c] = -rows[row][free];
                }
                v
            })
            .collect()
    }

    /// The published cells and the item's total are linear equations in the
    /// people's votes: no combination of them may give the sum of the
    /// votes of 1 to k - 1 people.
    fn assert_no_small_set_is_determined(
        answers: &[Vec<usize>],
        published: &[Vec<bool>],
        k: usize,
    ) {
        let n = answers[0].len();
        let mut rows = vec![vec![1.0; n]];
        for (q, of) in answers.iter().enumerate() {
            for (g, &shown) in published[q].iter().enumerate() {
                if shown {
                    rows.push(of.iter().map(|&x| f64::from(u8::from(x == g))).collect());
                }
            }
        }
        let null = null_space(rows, n);
        fn each(
            n: usize,
            max: usize,
            start: usize,
            set: &mut Vec<usize>,
            f: &mut dyn FnMut(&[usize]),
        ) {
            for i in start..n {
                set.push(i);
                f(set);
                if set.len() < max {
                    each(n, max, i + 1, set, f);
                }
                set.pop();
            }
        }
        // (The item's own tally is public: with fewer than k voters in all,
        // everyone together is known, and that is not a group's figure.)
        each(n, k - 1, 0, &mut Vec::new(), &mut |set| {
            if set.len() == n {
                return;
            }
            let known = null
                .iter()
                .all(|v| set.iter().map(|&i| v[i]).sum::<f64>().abs() < 1e-9);
            assert!(
                !known,
                "the votes of people {set:?} can be worked out; answers {answers:?}, published {published:?}"
            );
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Any population and threshold: every published cell has at least
        /// k voters, and no combination of the published cells, the total
        /// and both questions gives away fewer than k people.
        #[test]
        fn published_cells_never_single_out_fewer_than_k(
            people in prop::collection::vec((0usize..4, 0usize..3), 0..16),
            k in 2usize..6,
        ) {
            let answers = answers(&people);
            let published = protect(&answers, &[4, 3], k);
            for (q, of) in answers.iter().enumerate() {
                for (g, &shown) in published[q].iter().enumerate() {
                    if shown {
                        prop_assert!(of.iter().filter(|&&x| x == g).count() >= k);
                    }
                }
            }
            if !people.is_empty() {
                assert_no_small_set_is_determined(&answers, &published, k);
            }
        }
    }
}
