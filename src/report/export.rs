//! Exports: CSV tables and the JSON export. They are made from the
//! [`Report`] (so group figures are the protected ones: a withheld figure
//! is an empty cell, `null` in JSON) plus the comment
//! list, and carry no participant ids, no sessions, no emails, no IP
//! addresses and no individual profile answers: a comment is known by its
//! pseudonymous handle only. Hidden and pending comments appear (for
//! organisers only) with their status but without their text, which may
//! be why they were hidden.

use std::borrow::Cow;

use serde::Serialize;
use uuid::Uuid;

use super::{CommentRef, Report, View};
use crate::domain::{CommentStatus, Millis};
use crate::store::ReportData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Items,
    Comments,
    Groups,
    Days,
}

impl Table {
    pub const ALL: &'static str = "items, comments, groups, days";

    pub fn parse(s: &str) -> Option<Table> {
        match s {
            "items" => Some(Table::Items),
            "comments" => Some(Table::Comments),
            "groups" => Some(Table::Groups),
            "days" => Some(Table::Days),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Table::Items => "items",
            Table::Comments => "comments",
            Table::Groups => "groups",
            Table::Days => "days",
        }
    }
}

/// A comment as exported.
#[derive(Debug, Clone, Serialize)]
pub struct ExportComment {
    pub id: Uuid,
    pub item_id: Uuid,
    pub item_title: String,
    pub parent_id: Option<Uuid>,
    pub handle: String,
    pub status: CommentStatus,
    pub up: i64,
    pub created_at: Millis,
    /// The text of visible comments; `None` for hidden or pending ones.
    pub body: Option<String>,
    pub link: String,
}

/// The comments an audience may export, in the order they were made.
pub fn comments(data: &ReportData, report: &Report) -> Vec<ExportComment> {
    let titles: std::collections::HashMap<Uuid, &str> = report
        .items
        .iter()
        .map(|i| (i.id, i.title.as_str()))
        .collect();
    data.comments
        .iter()
        .filter_map(|(c, _author)| {
            let title = titles.get(&c.item_id)?;
            let visible = c.status == CommentStatus::Visible;
            if report.view == View::Public && !visible {
                return None;
            }
            let link = CommentRef::new(&report.conversation.slug, c).link;
            Some(ExportComment {
                id: c.id,
                item_id: c.item_id,
                item_title: title.to_string(),
                parent_id: c.parent_id,
                handle: c.handle.clone(),
                status: c.status,
                up: c.up,
                created_at: c.created_at,
                body: visible.then(|| c.body.clone()),
                link,
            })
        })
        .collect()
}

#[derive(Serialize)]
pub struct JsonExport<'a> {
    pub format: &'static str,
    pub report: &'a Report,
    pub comments: Vec<ExportComment>,
}

pub fn json(data: &ReportData, report: &Report) -> serde_json::Value {
    serde_json::to_value(JsonExport {
        format: "chorus-report/1",
        report,
        comments: comments(data, report),
    })
    .unwrap_or(serde_json::Value::Null)
}

/// A cell that a spreadsheet would run as a formula (starting with `=`,
/// `+`, `-`, `@`, tab or carriage return, per OWASP's CSV injection advice)
/// gets a leading `'`, which makes it text. Every CSV chorus writes passes
/// people's text through this one guard.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV writer into memory: RFC 4180 quoting, `\r\n` between rows.
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn row(out: &mut csv::Writer<Vec<u8>>, cells: &[Cell]) {
    let cells: Vec<Cow<'_, str>> = cells
        .iter()
        .map(|cell| match cell {
            Cell::Text(t) => spreadsheet_safe(t),
            Cell::Plain(t) => Cow::Borrowed(t.as_str()),
        })
        .collect();
    out.write_record(cells.iter().map(|cell| cell.as_bytes()))
        .expect("rows have the header's width and memory takes any write");
}

enum Cell {
    /// Text people wrote: guarded against spreadsheet formulas.
    Text(String),
    /// Numbers, ids, times and fixed words.
    Plain(String),
}

fn num(n: i64) -> Cell {
    Cell::Plain(n.to_string())
}
fn opt_num(n: Option<i64>) -> Cell {
    Cell::Plain(n.map(|n| n.to_string()).unwrap_or_default())
}
fn ratio(x: Option<f64>) -> Cell {
    Cell::Plain(x.map(|x| format!("{x:.4}")).unwrap_or_default())
}
fn plain(s: impl ToString) -> Cell {
    Cell::Plain(s.to_string())
}

pub const ITEM_COLUMNS: &[&str] = &[
    "item_id",
    "kind",
    "status",
    "title",
    "strong",
    "wrong",
    "voters",
    "support",
    "support_low",
    "support_high",
    "split",
    "group_gap",
    "comments",
    "replies",
    "hidden_comments",
    "pending_comments",
    "engagement",
    "support_rank",
    "engagement_rank",
];
pub const COMMENT_COLUMNS: &[&str] = &[
    "comment_id",
    "item_id",
    "item_title",
    "parent_id",
    "handle",
    "status",
    "up",
    "created_at",
    "body",
];
pub const GROUP_COLUMNS: &[&str] = &[
    "question",
    "group",
    "participants",
    "item_id",
    "item_title",
    "strong",
    "wrong",
    "voters",
    "support",
    "support_low",
    "support_high",
];
pub const DAY_COLUMNS: &[&str] = &[
    "date", "signups", "votes", "comments", "display", "extended",
];

pub fn csv(data: &ReportData, report: &Report, table: Table) -> String {
    let mut out = writer();
    let header = |out: &mut csv::Writer<Vec<u8>>, cols: &[&str]| {
        row(out, &cols.iter().map(plain).collect::<Vec<_>>());
    };
    match table {
        Table::Items => {
            header(&mut out, ITEM_COLUMNS);
            let rank_of = |list: &[super::Ranked], id: Uuid| {
                list.iter().find(|r| r.id == id).map(|r| r.rank as i64)
            };
            for i in &report.items {
                row(
                    &mut out,
                    &[
                        plain(i.id),
                        plain(i.kind.as_str()),
                        plain(i.status.as_str()),
                        Cell::Text(i.title.clone()),
                        num(i.strong),
                        num(i.wrong),
                        num(i.voters),
                        ratio(i.support),
                        ratio(i.interval.map(|x| x[0])),
                        ratio(i.interval.map(|x| x[1])),
                        ratio(i.divisiveness.split),
                        ratio(i.divisiveness.group_gap.as_ref().map(|g| g.gap)),
                        num(i.comments),
                        num(i.replies),
                        opt_num(i.hidden_comments),
                        opt_num(i.pending_comments),
                        num(i.engagement),
                        opt_num(rank_of(&report.rankings.by_support, i.id)),
                        opt_num(rank_of(&report.rankings.by_engagement, i.id)),
                    ],
                );
            }
        }
        Table::Comments => {
            header(&mut out, COMMENT_COLUMNS);
            for c in comments(data, report) {
                row(
                    &mut out,
                    &[
                        plain(c.id),
                        plain(c.item_id),
                        Cell::Text(c.item_title),
                        plain(c.parent_id.map(|p| p.to_string()).unwrap_or_default()),
                        Cell::Text(c.handle),
                        plain(c.status.as_str()),
                        num(c.up),
                        plain(c.created_at.to_rfc3339()),
                        Cell::Text(c.body.unwrap_or_default()),
                    ],
                );
            }
        }
        Table::Groups => {
            header(&mut out, GROUP_COLUMNS);
            let titles: std::collections::HashMap<Uuid, &str> = report
                .items
                .iter()
                .map(|i| (i.id, i.title.as_str()))
                .collect();
            for b in &report.groups {
                for g in &b.groups {
                    for cell in &g.items {
                        row(
                            &mut out,
                            &[
                                Cell::Text(b.question.clone()),
                                Cell::Text(g.name.clone()),
                                opt_num(g.participants),
                                plain(cell.item_id),
                                Cell::Text(
                                    titles
                                        .get(&cell.item_id)
                                        .copied()
                                        .unwrap_or_default()
                                        .to_string(),
                                ),
                                opt_num(cell.strong),
                                opt_num(cell.wrong),
                                opt_num(cell.voters),
                                ratio(cell.support),
                                ratio(cell.interval.map(|x| x[0])),
                                ratio(cell.interval.map(|x| x[1])),
                            ],
                        );
                    }
                }
            }
        }
        Table::Days => {
            header(&mut out, DAY_COLUMNS);
            for d in &report.timeline.days {
                row(
                    &mut out,
                    &[
                        plain(&d.date),
                        num(d.signups),
                        num(d.votes),
                        num(d.comments),
                        plain(d.display),
                        plain(d.extended),
                    ],
                );
            }
        }
    }
    let bytes = out.into_inner().expect("memory takes any write");
    String::from_utf8(bytes).expect("every cell is a str")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        for risky in [
            "=HYPERLINK(\"http://evil.example\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1+1",
            "\r=1+1",
        ] {
            assert_eq!(spreadsheet_safe(risky), format!("'{risky}"), "{risky:?}");
        }
        for fine in ["plain", "", " =1", "'=1", "a=b", "1-2", "\n=1"] {
            assert_eq!(spreadsheet_safe(fine), fine, "{fine:?}");
        }
    }

    #[test]
    fn rows_are_rfc_4180_and_text_is_defused() {
        let mut out = writer();
        row(
            &mut out,
            &[
                Cell::Text("plain".into()),
                Cell::Text("a, \"b\"\nc".into()),
                Cell::Text("=HYPERLINK(\"x\")".into()),
                Cell::Plain("-0.5".into()),
            ],
        );
        let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "plain,\"a, \"\"b\"\"\nc\",\"'=HYPERLINK(\"\"x\"\")\",-0.5\r\n"
        );
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(
            record.iter().collect::<Vec<_>>(),
            ["plain", "a, \"b\"\nc", "'=HYPERLINK(\"x\")", "-0.5"]
        );
    }
}
