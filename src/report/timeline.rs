//! Participation over time: sign-ups, votes and comments per UTC day, the
//! days a display screen was live at an event, the deadline extensions,
//! a before/after comparison around the first extension, and the SVG chart.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use uuid::Uuid;

use super::{Options, View};
use crate::domain::{CommentStatus, EventData, Millis};
use crate::store::ReportData;

const DAY_MS: i64 = 86_400_000;
/// A chart covers at most this many days (the most recent ones).
const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub days: Vec<Day>,
    pub extensions: Vec<Extension>,
    /// Days (YYYY-MM-DD) a display screen showed the conversation live.
    pub display_days: Vec<String>,
    pub comparison: Option<Comparison>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: String,
    pub signups: i64,
    pub votes: i64,
    pub comments: i64,
    pub display: bool,
    pub extended: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    /// When the organisers moved the deadline.
    pub at: Millis,
    pub date: String,
    /// The deadline before, when the record says (`None` for a first
    /// change made before any other recorded change).
    pub from: Option<Millis>,
    pub to: Millis,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub split_at: Millis,
    pub before: Period,
    pub after: Period,
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub from: Millis,
    pub to: Millis,
    pub days: f64,
    pub signups: i64,
    pub votes: i64,
    pub comments: i64,
    pub signups_per_day: f64,
    pub votes_per_day: f64,
    pub comments_per_day: f64,
}

pub fn date(day: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(day * 86_400) {
        Ok(t) => {
            let d = t.date();
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
        }
        Err(_) => day.to_string(),
    }
}

pub fn build(data: &ReportData, shown: &HashSet<Uuid>, options: &Options) -> Timeline {
    let public = options.view == View::Public;
    let signups: Vec<Millis> = data.participants.iter().map(|p| p.created_at).collect();
    let votes: Vec<Millis> = data
        .votes
        .iter()
        .filter(|v| shown.contains(&v.item_id))
        .map(|v| v.at)
        .collect();
    let comments: Vec<Millis> = data
        .comments
        .iter()
        .filter(|(c, _)| {
            shown.contains(&c.item_id) && (!public || c.status == CommentStatus::Visible)
        })
        .map(|(c, _)| c.created_at)
        .collect();

    // Extensions: each "extend" event, with the deadline before it taken
    // from the previous conversation event when there is one.
    let mut extensions = Vec::new();
    let mut last_deadline: Option<Millis> = None;
    for e in &data.conversation_events {
        if let EventData::Conversation {
            action,
            conversation,
        } = &e.data
        {
            if action == "extend" {
                extensions.push(Extension {
                    at: e.created_at,
                    date: date(e.created_at.day()),
                    from: last_deadline,
                    to: conversation.closes_at,
                });
            }
            last_deadline = Some(conversation.closes_at);
        }
    }

    let conversation = &data.conversation;
    let end_time = options
        .now
        .min(conversation.closes_at)
        .max(conversation.opens_at);
    let mut first = conversation.opens_at.day();
    let mut last = end_time.day();
    for t in signups.iter().chain(&votes).chain(&comments) {
        first = first.min(t.day());
        last = last.max(t.day());
    }
    first = first.max(last - MAX_DAYS + 1);
    let mut per_day: BTreeMap<i64, (i64, i64, i64)> =
        (first..=last).map(|d| (d, (0, 0, 0))).collect();
    for t in &signups {
        if let Some(d) = per_day.get_mut(&t.day()) {
            d.0 += 1;
        }
    }
    for t in &votes {
        if let Some(d) = per_day.get_mut(&t.day()) {
            d.1 += 1;
        }
    }
    for t in &comments {
        if let Some(d) = per_day.get_mut(&t.day()) {
            d.2 += 1;
        }
    }
    let display: HashSet<i64> = data.display_days.iter().copied().collect();
    let extended: HashSet<i64> = extensions.iter().map(|e| e.at.day()).collect();
    let days = per_day
        .into_iter()
        .map(|(d, (s, v, c))| Day {
            date: date(d),
            signups: s,
            votes: v,
            comments: c,
            display: display.contains(&d),
            extended: extended.contains(&d),
        })
        .collect();

    let comparison = extensions.first().map(|e| {
        let split = e.at;
        let start = conversation.opens_at.min(split);
        let end = end_time.max(split);
        let period = |from: Millis, to: Millis, before: bool| {
            let inside = |t: &&Millis| if before { **t < split } else { **t >= split };
            let s = signups.iter().filter(inside).count() as i64;
            let v = votes.iter().filter(inside).count() as i64;
            let c = comments.iter().filter(inside).count() as i64;
            let days = (to.0 - from.0) as f64 / DAY_MS as f64;
            let rate = |n: i64| if days > 0.0 { n as f64 / days } else { 0.0 };
            Period {
                from,
                to,
                days,
                signups: s,
                votes: v,
                comments: c,
                signups_per_day: rate(s),
                votes_per_day: rate(v),
                comments_per_day: rate(c),
            }
        };
        Comparison {
            split_at: split,
            before: period(start, split, true),
            after: period(split, end, false),
        }
    });

    Timeline {
        days,
        extensions,
        display_days: data.display_days.iter().map(|&d| date(d)).collect(),
        comparison,
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// One panel of the chart: its name, colour and value per day.
type Series = (&'static str, &'static str, fn(&Day) -> i64);

/// The participation chart: three panels (sign-ups, votes, comments per
/// day), each with its own scale, event days shaded and the deadline
/// extension drawn as a dashed line. Presentation attributes only (no
/// style element), so the strict CSP has nothing to refuse.
pub fn chart_svg(title: &str, timeline: &Timeline) -> String {
    const W: f64 = 760.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 16.0;
    const PANEL: f64 = 110.0;
    const GAP: f64 = 34.0;
    const TOP: f64 = 44.0;
    let n = timeline.days.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let step = plot_w / n as f64;
    let bar = (step * 0.7).max(1.0);
    let panels: [Series; 3] = [
        ("Sign-ups", "#1f5fa8", |d| d.signups),
        ("Votes", "#1b6e3a", |d| d.votes),
        ("Comments", "#8a4b08", |d| d.comments),
    ];
    let height = TOP + 3.0 * (PANEL + GAP) + 40.0;
    let total = |f: fn(&Day) -> i64| timeline.days.iter().map(f).sum::<i64>();
    let first = timeline
        .days
        .first()
        .map(|d| d.date.clone())
        .unwrap_or_default();
    let last = timeline
        .days
        .last()
        .map(|d| d.date.clone())
        .unwrap_or_default();
    let mut desc = format!(
        "Participation per day from {first} to {last}: {} sign-ups, {} votes, {} comments.",
        total(|d| d.signups),
        total(|d| d.votes),
        total(|d| d.comments)
    );
    if !timeline.display_days.is_empty() {
        let _ = write!(
            desc,
            " Event days with a live display (shaded): {}.",
            timeline.display_days.join(", ")
        );
    }
    for e in &timeline.extensions {
        let _ = write!(desc, " Deadline extended on {} (dashed line).", e.date);
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">"##
    );
    let _ = write!(
        s,
        r##"<title id="chart-title">{}</title><desc id="chart-desc">{}</desc>"##,
        escape(&format!("Participation per day: {title}")),
        escape(&desc)
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{W}" height="{height}" fill="#ffffff"/>"##
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="20" font-size="15" font-weight="600" fill="#1b1e22">Participation per day (UTC)</text>"##
    );
    // Legend for the marks.
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="28" width="12" height="10" fill="#e9c46a" fill-opacity="0.45"/><text x="{}" y="37" fill="#1b1e22">event day (display live)</text>"##,
        LEFT + 16.0
    );
    let _ = write!(
        s,
        r##"<line x1="{x}" y1="33" x2="{x2}" y2="33" stroke="#b00020" stroke-width="2" stroke-dasharray="5 3"/><text x="{t}" y="37" fill="#1b1e22">deadline extended</text>"##,
        x = LEFT + 190.0,
        x2 = LEFT + 214.0,
        t = LEFT + 220.0
    );
    let label_every = n.div_ceil(8).max(1);
    for (p, (name, colour, value)) in panels.iter().enumerate() {
        let y0 = TOP + p as f64 * (PANEL + GAP) + 18.0;
        let max = timeline.days.iter().map(value).max().unwrap_or(0).max(1);
        let _ = write!(
            s,
            r##"<g class="panel" data-series="{}">"##,
            name.to_lowercase()
        );
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="{}" font-weight="600" fill="#1b1e22">{name} per day</text>"##,
            y0 - 6.0
        );
        for (i, day) in timeline.days.iter().enumerate() {
            if day.display {
                let _ = write!(
                    s,
                    r##"<rect class="event-day" x="{:.1}" y="{y0}" width="{:.1}" height="{PANEL}" fill="#e9c46a" fill-opacity="0.45"><title>{} event day</title></rect>"##,
                    LEFT + i as f64 * step,
                    step,
                    day.date
                );
            }
        }
        // Axis and scale.
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="#5f6670"/><text x="{t}" y="{b}" text-anchor="end" fill="#3d434b">0</text><text x="{t}" y="{y}" text-anchor="end" fill="#3d434b">{max}</text><line x1="{LEFT}" y1="{y0}" x2="{r}" y2="{y0}" stroke="#c9cdd2" stroke-dasharray="2 3"/>"##,
            b = y0 + PANEL,
            r = W - RIGHT,
            t = LEFT - 6.0,
            y = y0 + 4.0
        );
        for (i, day) in timeline.days.iter().enumerate() {
            let v = value(day);
            let h = PANEL * v as f64 / max as f64;
            let _ = write!(
                s,
                r##"<rect class="bar" x="{:.1}" y="{:.1}" width="{bar:.1}" height="{h:.1}" fill="{colour}"><title>{}: {v} {}</title></rect>"##,
                LEFT + i as f64 * step + (step - bar) / 2.0,
                y0 + PANEL - h,
                day.date,
                name.to_lowercase()
            );
        }
        for e in &timeline.extensions {
            if let Some(i) = timeline.days.iter().position(|d| d.date == e.date) {
                let frac = (e.at.0.rem_euclid(DAY_MS)) as f64 / DAY_MS as f64;
                let x = LEFT + (i as f64 + frac) * step;
                let _ = write!(
                    s,
                    r##"<line class="extension" x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#b00020" stroke-width="2" stroke-dasharray="5 3"><title>Deadline extended on {}</title></line>"##,
                    y0 - 2.0,
                    y0 + PANEL,
                    e.date
                );
            }
        }
        let _ = write!(s, "</g>");
    }
    // Date labels under the last panel.
    let base = TOP + 2.0 * (PANEL + GAP) + 18.0 + PANEL;
    for (i, day) in timeline.days.iter().enumerate() {
        if i % label_every == 0 || i + 1 == n {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#3d434b">{}</text>"##,
                LEFT + (i as f64 + 0.5) * step,
                base + 16.0,
                day.date.get(5..).unwrap_or(&day.date)
            );
        }
    }
    s.push_str("</svg>");
    s
}
