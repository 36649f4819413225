//! The report: what the conversation said, computed in pure Rust from
//! [`ReportData`] (one consistent read of the store).
//!
//! [`build`] turns the data into a [`Report`] for one of two audiences:
//! the organisers (facilitators and admins: every item, hidden and pending
//! comments counted separately) or the public (participants and visitors:
//! visible items and visible comments only). Everything the report shows
//! about groups of people passes through the small-group suppression in
//! [`groups`], so a CSV, the JSON and the page all carry the same
//! protected figures. The submodules:
//!
//! - [`stats`]: support share, 95% Wilson interval, how evenly split.
//! - [`groups`]: breakdowns per profile question, with suppression.
//! - [`timeline`]: participation per day, the extension, the SVG chart.
//! - [`themes`]: distinctive words and phrases per pledge (TF-IDF).
//! - [`opinion`]: opinion groups, common ground, divisive items and the
//!   comments that bridge groups ([`crate::analysis`]), and
//!   [`opinion_map`], its picture.
//! - [`export`]: CSV tables and the JSON export.
//!
//! docs/report.md explains every figure for organisers.

pub mod export;
pub mod groups;
pub mod opinion;
pub mod opinion_map;
pub mod stats;
pub mod themes;
pub mod timeline;
pub mod ways_in;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use crate::domain::{Comment, CommentStatus, ConversationState, ItemKind, ItemStatus, Millis};
use crate::store::ReportData;

pub use groups::{Breakdown, Suppression};
pub use themes::ItemThemes;
pub use timeline::Timeline;

/// Who the report is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Facilitators and admins: everything, moderation counted separately.
    Organisers,
    /// Participants and anonymous visitors: visible content only.
    Public,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub view: View,
    /// Groups smaller than this are never shown (`report.min_group_size`).
    pub min_group_size: usize,
    /// Votes needed to be placed on the opinion map (`report.min_votes_to_place`).
    pub min_votes: usize,
    /// Whether to run the opinion analysis, the report's costliest part:
    /// the page, the JSON and the map need it; the chart and CSV tables
    /// do not (without it `opinion` is `None` and no item has bridging
    /// comments).
    pub opinion: bool,
    pub now: Millis,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub view: View,
    pub generated_at: Millis,
    pub conversation: ConversationSummary,
    pub totals: Totals,
    pub items: Vec<ItemReport>,
    pub rankings: Rankings,
    pub groups: Vec<Breakdown>,
    pub suppression: Suppression,
    pub timeline: Timeline,
    pub themes: Vec<ItemThemes>,
    /// Opinion groups, common ground and divisive items. The public sees
    /// them once the conversation has closed (the final analysis, like the
    /// profile breakdowns: live figures compared over time give people
    /// away); organisers see them live. `None` until then.
    pub opinion: Option<opinion::Opinion>,
    /// How people came in, and how many are verified (one person, one voice).
    pub ways_in: ways_in::WaysInReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConversationSummary {
    pub slug: String,
    pub title: String,
    pub state: ConversationState,
    pub opens_at: Millis,
    pub closes_at: Millis,
    pub results_visibility: crate::domain::ResultsVisibility,
    pub results_while_open: bool,
    /// True once the conversation has closed: the figures are final.
    pub is_final: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Everyone who signed up.
    pub participants: i64,
    /// Participants who voted on at least one item shown.
    pub voters: i64,
    pub votes: i64,
    pub strong: i64,
    pub wrong: i64,
    /// Visible top-level comments and replies on the items shown.
    pub comments: i64,
    pub replies: i64,
    /// Participants with at least one visible comment or reply.
    pub commenters: i64,
    pub pledges: i64,
    /// Discussion topics (comments only, never votes).
    pub topics: i64,
    pub ideas: i64,
    /// Organisers only: comments hidden by moderators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_comments: Option<i64>,
    /// Organisers only: comments awaiting approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_comments: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub id: Uuid,
    pub kind: ItemKind,
    /// Organisers see hidden and pending ideas too.
    pub status: ItemStatus,
    pub title: String,
    pub position: i64,
    /// The suggesting participant's pseudonymous handle, for ideas.
    pub handle: Option<String>,
    pub strong: i64,
    pub wrong: i64,
    /// Participants who voted on it (each votes once: strong + wrong).
    pub voters: i64,
    /// strong / voters, 0..1; `None` with no votes.
    pub support: Option<f64>,
    /// 95% Wilson interval of `support`, as [low, high].
    pub interval: Option<[f64; 2]>,
    /// Visible top-level comments.
    pub comments: i64,
    /// Visible replies.
    pub replies: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_comments: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_comments: Option<i64>,
    /// voters + comments + replies.
    pub engagement: i64,
    pub divisiveness: Divisiveness,
    /// The most up-voted visible comments (up to three).
    pub top_comments: Vec<CommentRef>,
    /// The visible comments most agreed with across opinion groups (up to
    /// three; none when there are no clear groups).
    pub bridging_comments: Vec<CommentRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Divisiveness {
    /// 1 = split exactly in half, 0 = unanimous.
    pub split: Option<f64>,
    /// The largest gap in support share between two groups of the same
    /// question (0..1), among the group figures published for this item
    /// (so `None` in the public view of a conversation still running).
    pub group_gap: Option<GroupGap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupGap {
    pub gap: f64,
    pub question: String,
    pub highest: String,
    pub highest_support: f64,
    pub lowest: String,
    pub lowest_support: f64,
}

/// A comment as the report quotes it: pseudonymous handle, no author id.
#[derive(Debug, Clone, Serialize)]
pub struct CommentRef {
    pub id: Uuid,
    pub item_id: Uuid,
    pub reply: bool,
    pub handle: String,
    pub body: String,
    pub up: i64,
    pub created_at: Millis,
    /// The comment in context, on the participant page.
    pub link: String,
}

impl CommentRef {
    pub fn new(slug: &str, c: &Comment) -> CommentRef {
        CommentRef {
            id: c.id,
            item_id: c.item_id,
            reply: c.parent_id.is_some(),
            handle: c.handle.clone(),
            body: c.body.clone(),
            up: c.up,
            created_at: c.created_at,
            link: comment_link(slug, c.item_id, c.id),
        }
    }
}

/// Where a comment is read in context.
pub fn comment_link(slug: &str, item_id: Uuid, comment_id: Uuid) -> String {
    format!("/c/{slug}?item={item_id}#comment-{comment_id}")
}

#[derive(Debug, Clone, Serialize)]
pub struct Rankings {
    pub by_support: Vec<Ranked>,
    pub by_engagement: Vec<Ranked>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub id: Uuid,
    pub kind: ItemKind,
    pub title: String,
    /// The support share (0..1) or the engagement count.
    pub value: f64,
}

/// Computes the report. Pure and synchronous: call it off the async
/// runtime for large conversations.
pub fn build(data: &ReportData, options: &Options) -> Report {
    let public = options.view == View::Public;
    let conversation = &data.conversation;
    let slug = conversation.slug.as_str();

    let shown: Vec<&crate::domain::Item> = data
        .items
        .iter()
        .filter(|i| !public || i.status == ItemStatus::Visible)
        .collect();
    let shown_ids: HashSet<Uuid> = shown.iter().map(|i| i.id).collect();

    // Per item: (strong, wrong) from the votes themselves.
    let mut tallies: HashMap<Uuid, (i64, i64)> = HashMap::new();
    let mut voters: HashSet<Uuid> = HashSet::new();
    for v in data.votes.iter().filter(|v| shown_ids.contains(&v.item_id)) {
        let t = tallies.entry(v.item_id).or_default();
        match v.choice {
            crate::domain::Choice::Strong => t.0 += 1,
            crate::domain::Choice::Wrong => t.1 += 1,
        }
        voters.insert(v.participant_id);
    }

    // Comments per item, by status.
    #[derive(Default)]
    struct Counts {
        comments: i64,
        replies: i64,
        hidden: i64,
        pending: i64,
    }
    let mut counts: HashMap<Uuid, Counts> = HashMap::new();
    let mut visible_by_item: HashMap<Uuid, Vec<&Comment>> = HashMap::new();
    let mut commenters: HashSet<Uuid> = HashSet::new();
    for (c, author) in data
        .comments
        .iter()
        .filter(|(c, _)| shown_ids.contains(&c.item_id))
    {
        let n = counts.entry(c.item_id).or_default();
        match c.status {
            CommentStatus::Visible => {
                if c.parent_id.is_some() {
                    n.replies += 1;
                } else {
                    n.comments += 1;
                }
                commenters.insert(*author);
                visible_by_item.entry(c.item_id).or_default().push(c);
            }
            CommentStatus::Hidden => n.hidden += 1,
            CommentStatus::Pending => n.pending += 1,
        }
    }

    let breakdowns = groups::breakdowns(data, &shown, options);
    let analysis_settings = opinion::settings(options.min_group_size, options.min_votes);
    let analysis = options
        .opinion
        .then(|| opinion::analyse(data, &analysis_settings));
    let mut bridging = analysis
        .as_ref()
        .map(|a| opinion::bridging_by_item(a, 3))
        .unwrap_or_default();
    let by_id: HashMap<Uuid, &Comment> = data.comments.iter().map(|(c, _)| (c.id, c)).collect();

    let mut items: Vec<ItemReport> = shown
        .iter()
        .map(|item| {
            let (strong, wrong) = tallies.get(&item.id).copied().unwrap_or_default();
            let n = strong + wrong;
            let c = counts.remove(&item.id).unwrap_or_default();
            let mut top: Vec<&Comment> = visible_by_item
                .get(&item.id)
                .map(|v| v.iter().copied().filter(|c| c.up > 0).collect())
                .unwrap_or_default();
            top.sort_by(|a, b| b.up.cmp(&a.up).then(a.seq.cmp(&b.seq)));
            ItemReport {
                id: item.id,
                kind: item.kind,
                status: item.status,
                title: item.title.clone(),
                position: item.position,
                handle: item.handle.clone(),
                strong,
                wrong,
                voters: n,
                support: stats::share(strong, n),
                interval: stats::wilson(strong, n).map(|(lo, hi)| [lo, hi]),
                comments: c.comments,
                replies: c.replies,
                hidden_comments: (!public).then_some(c.hidden),
                pending_comments: (!public).then_some(c.pending),
                engagement: n + c.comments + c.replies,
                divisiveness: Divisiveness {
                    split: stats::split(strong, n),
                    group_gap: groups::gap(&breakdowns.breakdowns, item.id, options.min_group_size),
                },
                top_comments: top
                    .into_iter()
                    .take(3)
                    .map(|c| CommentRef::new(slug, c))
                    .collect(),
                bridging_comments: bridging
                    .remove(&item.id)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|id| by_id.get(id))
                    .map(|c| CommentRef::new(slug, c))
                    .collect(),
            }
        })
        .collect();
    // Pledges in the organisers' order, then ideas oldest first (as stored).
    items.sort_by_key(|i| {
        (
            i.kind == ItemKind::Idea,
            if i.kind == ItemKind::Pledge {
                i.position
            } else {
                0
            },
        )
    });

    let rankings = rank(&items);
    let totals = Totals {
        participants: data.participants.len() as i64,
        voters: voters.len() as i64,
        votes: items.iter().map(|i| i.voters).sum(),
        strong: items.iter().map(|i| i.strong).sum(),
        wrong: items.iter().map(|i| i.wrong).sum(),
        comments: items.iter().map(|i| i.comments).sum(),
        replies: items.iter().map(|i| i.replies).sum(),
        commenters: commenters.len() as i64,
        pledges: items.iter().filter(|i| i.kind == ItemKind::Pledge).count() as i64,
        topics: items.iter().filter(|i| i.kind == ItemKind::Topic).count() as i64,
        ideas: items.iter().filter(|i| i.kind == ItemKind::Idea).count() as i64,
        hidden_comments: (!public).then(|| items.iter().filter_map(|i| i.hidden_comments).sum()),
        pending_comments: (!public).then(|| items.iter().filter_map(|i| i.pending_comments).sum()),
    };

    let state = conversation.state(options.now);
    Report {
        view: options.view,
        generated_at: options.now,
        conversation: ConversationSummary {
            slug: conversation.slug.clone(),
            title: conversation.title.clone(),
            state,
            opens_at: conversation.opens_at,
            closes_at: conversation.closes_at,
            results_visibility: conversation.results_visibility,
            results_while_open: conversation.results_while_open,
            is_final: state == ConversationState::Closed,
        },
        totals,
        items,
        rankings,
        groups: breakdowns.breakdowns,
        suppression: breakdowns.suppression,
        timeline: timeline::build(data, &shown_ids, options),
        themes: themes::build(slug, &shown, &visible_by_item),
        opinion: analysis
            .filter(|_| !public || state == ConversationState::Closed)
            .map(|a| opinion::present(data, &a, &analysis_settings)),
        ways_in: ways_in::ways_in(conversation, &data.participants),
    }
}

fn rank(items: &[ItemReport]) -> Rankings {
    let mut by_support: Vec<&ItemReport> = items.iter().filter(|i| i.voters > 0).collect();
    by_support.sort_by(|a, b| {
        b.support
            .unwrap_or(0.0)
            .total_cmp(&a.support.unwrap_or(0.0))
            .then(b.voters.cmp(&a.voters))
            .then(a.title.cmp(&b.title))
    });
    let mut by_engagement: Vec<&ItemReport> = items.iter().collect();
    by_engagement.sort_by(|a, b| b.engagement.cmp(&a.engagement).then(a.title.cmp(&b.title)));
    let ranked = |list: Vec<&ItemReport>, value: &dyn Fn(&ItemReport) -> f64| {
        list.into_iter()
            .enumerate()
            .map(|(n, i)| Ranked {
                rank: n + 1,
                id: i.id,
                kind: i.kind,
                title: i.title.clone(),
                value: value(i),
            })
            .collect()
    };
    Rankings {
        by_support: ranked(by_support, &|i| i.support.unwrap_or(0.0)),
        by_engagement: ranked(by_engagement, &|i| i.engagement as f64),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::{
        Choice, Conversation, DisplayMode, Event, EventData, Item, Moderation, ProfileQuestion,
        Tally, WayIn, WaysIn,
    };
    use crate::store::{ReportParticipant, ReportVote};

    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;
    /// 2026-11-16 00:00 UTC.
    const D0: i64 = 20_773 * DAY;

    fn conversation(closes_at: i64) -> Conversation {
        Conversation {
            id: Uuid::nil(),
            slug: "talk".into(),
            title: "Talk".into(),
            introduction: String::new(),
            opens_at: Millis(D0 + 9 * HOUR),
            closes_at: Millis(closes_at),
            ways_in: WaysIn::only(WayIn::Open),
            email_domains: Vec::new(),
            access_code: None,
            moderation: Moderation::Post,
            ideas_need_approval: false,
            profile_questions: ProfileQuestion::defaults(),
            results_visibility: crate::domain::ResultsVisibility::Public,
            results_while_open: true,
            tallies_visible: Default::default(),
            series: Vec::new(),
            archived: false,
            support_contact: None,
            word_list: Vec::new(),
            display: DisplayMode::default(),
        }
    }

    fn comment(item: Uuid, status: CommentStatus, at: i64, seq: i64) -> (Comment, Uuid) {
        let c = Comment {
            id: Uuid::new_v4(),
            item_id: item,
            parent_id: None,
            handle: "Amber Heron".into(),
            body: "Some words here".into(),
            status,
            pinned: false,
            hidden_reason: None,
            up: 0,
            up_version: 0,
            flags: 0,
            seq,
            created_at: Millis(at),
            edited: false,
            deleted: false,
        };
        (c, Uuid::new_v4())
    }

    fn event(seq: i64, action: &str, closes_at: i64, at: i64) -> Event {
        Event {
            conversation_id: Uuid::nil(),
            seq,
            actor: "ada".into(),
            data: EventData::Conversation {
                action: action.into(),
                conversation: conversation(closes_at),
            },
            created_at: Millis(at),
        }
    }

    /// Activity on known days around an extension on day 2 at noon.
    fn data() -> ReportData {
        let original = D0 + 3 * DAY + 17 * HOUR;
        let extended = D0 + 5 * DAY + 17 * HOUR;
        let pledge = Item {
            id: Uuid::new_v4(),
            conversation_id: Uuid::nil(),
            kind: ItemKind::Pledge,
            title: "Pledge".into(),
            body: String::new(),
            status: ItemStatus::Visible,
            position: 1,
            handle: None,
            tally: Tally::default(),
            comments: 0,
            created_at: Millis(D0),
            edited: false,
            deleted: false,
        };
        let hidden_idea = Item {
            id: Uuid::new_v4(),
            kind: ItemKind::Idea,
            status: ItemStatus::Hidden,
            title: "Hidden idea".into(),
            ..pledge.clone()
        };
        let person = |at: i64| ReportParticipant {
            id: Uuid::new_v4(),
            way_in: WayIn::Open,
            profile: BTreeMap::new(),
            created_at: Millis(at),
        };
        let participants = vec![
            person(D0 + 10 * HOUR),
            person(D0 + 11 * HOUR),
            person(D0 + DAY + HOUR),
            person(D0 + 3 * DAY + HOUR),
        ];
        let vote = |p: usize, item: Uuid, at: i64, choice| ReportVote {
            participant_id: participants[p].id,
            item_id: item,
            choice,
            at: Millis(at),
        };
        let votes = vec![
            vote(0, pledge.id, D0 + DAY + 2 * HOUR, Choice::Strong),
            vote(1, pledge.id, D0 + DAY + 3 * HOUR, Choice::Strong),
            vote(2, pledge.id, D0 + DAY + 4 * HOUR, Choice::Wrong),
            vote(3, pledge.id, D0 + 3 * DAY + 2 * HOUR, Choice::Strong),
            vote(0, hidden_idea.id, D0 + 3 * DAY + 3 * HOUR, Choice::Strong),
        ];
        ReportData {
            conversation: conversation(extended),
            items: vec![pledge.clone(), hidden_idea],
            votes,
            comments: vec![
                comment(pledge.id, CommentStatus::Visible, D0 + 12 * HOUR, 1),
                comment(pledge.id, CommentStatus::Hidden, D0 + 3 * DAY + 5 * HOUR, 2),
            ],
            comment_votes: Vec::new(),
            conversation_events: vec![
                event(3, "update", original, D0 + 10 * HOUR),
                event(4, "extend", extended, D0 + 2 * DAY + 12 * HOUR),
            ],
            display_days: vec![D0 / DAY + 1],
            participants,
        }
    }

    fn options(view: View) -> Options {
        Options {
            view,
            min_group_size: 5,
            min_votes: 4,
            opinion: true,
            now: Millis(D0 + 4 * DAY + 12 * HOUR),
        }
    }

    #[test]
    fn days_extension_and_before_after_are_counted_by_construction() {
        let data = data();
        let r = build(&data, &options(View::Public));
        let t = &r.timeline;
        let per_day: Vec<(&str, i64, i64, i64, bool, bool)> = t
            .days
            .iter()
            .map(|d| {
                (
                    d.date.as_str(),
                    d.signups,
                    d.votes,
                    d.comments,
                    d.display,
                    d.extended,
                )
            })
            .collect();
        assert_eq!(
            per_day,
            [
                ("2026-11-16", 2, 0, 1, false, false),
                ("2026-11-17", 1, 3, 0, true, false),
                ("2026-11-18", 0, 0, 0, false, true),
                ("2026-11-19", 1, 1, 0, false, false),
                ("2026-11-20", 0, 0, 0, false, false),
            ],
            "public: the hidden idea's vote and the hidden comment are left out"
        );
        assert_eq!(t.display_days, ["2026-11-17"]);
        assert_eq!(t.extensions.len(), 1);
        assert_eq!(t.extensions[0].from, Some(Millis(D0 + 3 * DAY + 17 * HOUR)));
        assert_eq!(t.extensions[0].to, Millis(D0 + 5 * DAY + 17 * HOUR));
        let c = t.comparison.as_ref().unwrap();
        assert_eq!(
            (c.before.signups, c.before.votes, c.before.comments),
            (3, 3, 1)
        );
        assert_eq!(
            (c.after.signups, c.after.votes, c.after.comments),
            (1, 1, 0)
        );
        assert!((c.before.days - 2.125).abs() < 1e-9, "{}", c.before.days);
        assert!((c.after.days - 2.0).abs() < 1e-9, "{}", c.after.days);
        assert!((c.before.votes_per_day - 3.0 / 2.125).abs() < 1e-9);

        let svg = timeline::chart_svg("Talk <&>", t);
        assert!(svg.contains("Talk &lt;&amp;&gt;"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 3 * 5);
        assert_eq!(svg.matches("class=\"event-day\"").count(), 3);
        assert_eq!(svg.matches("class=\"extension\"").count(), 3);

        let full = build(&data, &options(View::Organisers));
        let c = full.timeline.comparison.as_ref().unwrap();
        assert_eq!(
            (c.after.votes, c.after.comments),
            (2, 1),
            "organisers count everything"
        );
        assert_eq!(full.items.len(), 2);
        assert_eq!(full.totals.hidden_comments, Some(1));
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.totals.hidden_comments, None);
        assert_eq!((r.items[0].strong, r.items[0].wrong), (3, 1));
    }

    #[test]
    fn results_are_public_live_when_visible_and_always_after_closing() {
        use crate::domain::results::{access, Access, Reader};
        use crate::domain::ResultsVisibility;
        let mut c = conversation(D0 + 3 * DAY);
        let open = Millis(D0 + DAY);
        let closed = Millis(D0 + 4 * DAY);
        assert_eq!(access(&c, Reader::Anyone, open), Access::Results);
        assert_eq!(access(&c, Reader::Anyone, Millis(D0)), Access::NotYet);
        c.results_while_open = false;
        assert_eq!(access(&c, Reader::Anyone, open), Access::NotYet);
        assert_eq!(access(&c, Reader::Anyone, closed), Access::Results);
        c.results_visibility = ResultsVisibility::Participants;
        assert_eq!(access(&c, Reader::Anyone, closed), Access::SignIn);
        assert_eq!(access(&c, Reader::Participant, closed), Access::Results);
        assert_eq!(access(&c, Reader::Participant, open), Access::NotYet);
        c.results_visibility = ResultsVisibility::Staff;
        assert_eq!(access(&c, Reader::Participant, closed), Access::StaffOnly);
        assert_eq!(access(&c, Reader::Staff, Millis(D0)), Access::Organisers);
    }
}
