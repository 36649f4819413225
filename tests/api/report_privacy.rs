//! Issue 14: the two attacks on small-group suppression, run from outside
//! through the public report (no login), over real sockets, on SQLite and
//! on PostgreSQL.
//!
//! - **Differencing over time**: a report shows small groups pooled; two
//!   people then sign up into one of the pooled groups until it is large
//!   enough to show on its own; the attacker subtracts the two reports.
//! - **Padding**: four throw-away sign-ups claim the same organisation as
//!   one real participant, without voting, so the group counts five.
//!
//! The check does not guess what an attacker might try. The test knows
//! everyone's answers and votes, so every figure a report publishes about
//! one pledge (the item's own tally, every group cell of the page's JSON,
//! of `export.json` and of the groups CSV) is the sum of the votes of a
//! known set of people. Together with the votes the attacker cast
//! themselves, those sums are linear equations in everyone's votes. The
//! test then asks linear algebra whether any combination of them, over
//! every report fetched, gives the sum of the votes of fewer than
//! `min_group_size` people the attacker does not control, which the
//! pledge's own tallies (public, live) and the attacker's votes alone do
//! not give. It must not. (The attacker is assumed to know who is in
//! which group and who voted between two reports: the worst case.)

use std::num::NonZero;

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend, Client, TestApp};

const K: usize = 5;
const COMBINED: &str = "Other groups (combined)";
const QUESTIONS: [&str; 2] = ["organisation_type", "role"];

/// Someone in the conversation, as the test knows them.
struct Person {
    answers: [&'static str; 2],
    /// Their vote on the pledge: Some(true) for strong.
    vote: Option<bool>,
    /// Signed up (and voted) by the attacker, who knows the vote.
    attacker: bool,
}

/// One published figure: the number of strong votes among a set of people.
struct Equation {
    people: Vec<bool>,
    strong: i64,
    what: String,
    /// The pledge's own tally, public live with or without any breakdown.
    tally: bool,
}

struct Attack {
    app: TestApp,
    admin: Client,
    slug: String,
    pledge: String,
    people: Vec<Person>,
    equations: Vec<Equation>,
    reports: usize,
}

impl Attack {
    async fn new(backend: Backend) -> Option<Attack> {
        let app = spawn_app_with(backend, |s| {
            s.report.min_group_size = NonZero::new(K as u32).unwrap();
        })
        .await?;
        let admin = app.staff(Role::Admin).await;
        let (slug, pledges) = app.conversation(&admin, json!({}), 1).await;
        Some(Attack {
            app,
            admin,
            slug,
            pledge: pledges[0].clone(),
            people: Vec::new(),
            equations: Vec::new(),
            reports: 0,
        })
    }

    /// Signs someone up with these answers and, if given, votes.
    async fn join(
        &mut self,
        org: &'static str,
        role: &'static str,
        vote: Option<bool>,
        attacker: bool,
    ) {
        let client = self.app.client();
        let (status, body) = client
            .post(
                &format!("/api/conversations/{}/participants", self.slug),
                json!({"profile": {"organisation_type": org, "role": role}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "sign up: {body}");
        if let Some(strong) = vote {
            let choice = if strong { "strong" } else { "wrong" };
            let (status, body) = client.vote(&self.slug, &self.pledge, Some(choice)).await;
            assert_eq!(status, StatusCode::OK, "vote: {body}");
        }
        self.people.push(Person {
            answers: [org, role],
            vote,
            attacker,
        });
    }

    /// Reads what anyone without a login may read, and records every
    /// figure about the pledge as an equation.
    async fn read_public_report(&mut self) {
        self.reports += 1;
        let n = self.reports;
        let visitor = self.app.client();
        let api = format!("/api/conversations/{}", self.slug);
        let (status, report) = visitor.get(&format!("{api}/report")).await;
        assert_eq!(status, StatusCode::OK, "public report: {report}");
        assert_eq!(report["view"], "public");
        self.record_report(&report, &format!("report {n}"));

        let (status, export) = visitor.get(&format!("{api}/export.json")).await;
        assert_eq!(status, StatusCode::OK, "export.json: {export}");
        self.record_report(&export["report"], &format!("export.json {n}"));

        let response = visitor
            .http
            .get(format!("{}{api}/report.csv?table=groups", visitor.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        self.record_csv(&text, &format!("groups.csv {n}"));
    }

    /// The voters on the pledge (as of now) among those who answered `q`
    /// with `group`; `None` for the group means "not in any of `named`".
    fn members(&self, q: usize, group: Option<&str>, named: &[String]) -> Vec<bool> {
        self.people
            .iter()
            .map(|p| {
                p.vote.is_some()
                    && match group {
                        Some(g) => p.answers[q] == g,
                        None => !named.iter().any(|n| n == p.answers[q]),
                    }
            })
            .collect()
    }

    fn equation(
        &mut self,
        people: Vec<bool>,
        strong: i64,
        voters: Option<i64>,
        what: String,
        tally: bool,
    ) {
        let truth: i64 = people
            .iter()
            .zip(&self.people)
            .filter(|(inside, p)| **inside && p.vote == Some(true))
            .count() as i64;
        let size = people.iter().filter(|x| **x).count() as i64;
        assert_eq!(
            strong, truth,
            "{what}: the test reads this figure as the strong votes of a set it knows"
        );
        if let Some(voters) = voters {
            assert_eq!(voters, size, "{what}: voters");
        }
        self.equations.push(Equation {
            people,
            strong,
            what,
            tally,
        });
    }

    fn record_report(&mut self, report: &Value, what: &str) {
        let item = report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == self.pledge.as_str())
            .unwrap()
            .clone();
        let everyone = self.people.iter().map(|p| p.vote.is_some()).collect();
        self.equation(
            everyone,
            item["strong"].as_i64().unwrap(),
            item["voters"].as_i64(),
            format!("{what}: the pledge's tally"),
            true,
        );
        for breakdown in report["groups"].as_array().unwrap() {
            let q = QUESTIONS
                .iter()
                .position(|q| breakdown["question"] == *q)
                .unwrap_or_else(|| panic!("{what}: unknown question {}", breakdown["question"]));
            let groups = breakdown["groups"].as_array().unwrap();
            let named: Vec<String> = groups
                .iter()
                .map(|g| g["name"].as_str().unwrap().to_string())
                .filter(|n| n != COMBINED)
                .collect();
            for g in groups {
                let name = g["name"].as_str().unwrap();
                let Some(cell) = g["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["item_id"] == self.pledge.as_str())
                else {
                    continue;
                };
                let Some(strong) = cell["strong"].as_i64() else {
                    continue; // suppressed
                };
                let people = self.members(q, (name != COMBINED).then_some(name), &named);
                self.equation(
                    people,
                    strong,
                    cell["voters"].as_i64(),
                    format!("{what}: {} = {name}", QUESTIONS[q]),
                    false,
                );
            }
        }
    }

    fn record_csv(&mut self, text: &str, what: &str) {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        for (q, question) in QUESTIONS.iter().enumerate() {
            let named: Vec<String> = rows
                .iter()
                .filter(|r| r[col("question")] == *question && r[col("group")] != COMBINED)
                .map(|r| r[col("group")].clone())
                .collect();
            let pledge = self.pledge.clone();
            for r in rows
                .iter()
                .filter(|r| r[col("question")] == *question && r[col("item_id")] == pledge)
            {
                let Ok(strong) = r[col("strong")].parse::<i64>() else {
                    continue; // suppressed
                };
                let name = r[col("group")].as_str();
                let people = self.members(q, (name != COMBINED).then_some(name), &named);
                self.equation(
                    people,
                    strong,
                    r[col("voters")].parse().ok(),
                    format!("{what}: {question} = {name}"),
                    false,
                );
            }
        }
    }

    /// Panics if the published figures, with the attacker's own votes,
    /// give the sum of the votes of fewer than K people the attacker does
    /// not control.
    fn assert_nothing_about_fewer_than_k(&self) {
        let n = self.people.len();
        let mut rows: Vec<Vec<f64>> = self
            .equations
            .iter()
            .map(|e| {
                (0..n)
                    .map(|i| f64::from(u8::from(e.people.get(i).copied().unwrap_or(false))))
                    .collect()
            })
            .collect();
        for (i, p) in self.people.iter().enumerate() {
            if p.attacker {
                rows.push((0..n).map(|j| f64::from(u8::from(i == j))).collect());
            }
        }
        // What is known without any group figure: the tallies and the
        // attacker's own votes.
        let baseline: Vec<Vec<f64>> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| *i >= self.equations.len() || self.equations[*i].tally)
            .map(|(_, r)| r.clone())
            .collect();
        let null = null_space(rows, n);
        let null_baseline = null_space(baseline, n);
        let victims: Vec<usize> = (0..n)
            .filter(|&i| !self.people[i].attacker && self.people[i].vote.is_some())
            .collect();
        // Every set of 1 to K - 1 victims: is the sum of their votes known?
        let mut found = Vec::new();
        let mut chosen = Vec::new();
        subsets(&victims, K - 1, 0, &mut chosen, &mut |set| {
            let known = |null: &[Vec<f64>]| {
                null.iter()
                    .all(|v| set.iter().map(|&i| v[i]).sum::<f64>().abs() < 1e-9)
            };
            if known(&null) && !known(&null_baseline) && found.len() < 5 {
                found.push(set.to_vec());
            }
        });
        if !found.is_empty() {
            let describe = |set: &Vec<usize>| {
                let who: Vec<String> = set
                    .iter()
                    .map(|&i| {
                        let p = &self.people[i];
                        format!("#{i} {}/{}", p.answers[0], p.answers[1])
                    })
                    .collect();
                let strong = set
                    .iter()
                    .filter(|&&i| self.people[i].vote == Some(true))
                    .count();
                format!("{} (strong {strong} of {})", who.join(", "), set.len())
            };
            let figures: Vec<String> = self
                .equations
                .iter()
                .map(|e| format!("{} -> {} strong", e.what, e.strong))
                .collect();
            panic!(
                "the public reports give away the votes of fewer than {K} people:\n  {}\nfrom the figures:\n  {}",
                found.iter().map(describe).collect::<Vec<_>>().join("\n  "),
                figures.join("\n  ")
            );
        }
    }

    async fn close(&self) {
        let (status, body) = self
            .admin
            .patch(
                &format!("/api/conversations/{}", self.slug),
                json!({"closes_at": "now"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "close: {body}");
    }
}

/// Calls `each` with every subset of `from` of 1 to `max` elements.
fn subsets(
    from: &[usize],
    max: usize,
    start: usize,
    chosen: &mut Vec<usize>,
    each: &mut dyn FnMut(&[usize]),
) {
    for i in start..from.len() {
        chosen.push(from[i]);
        each(chosen);
        if chosen.len() < max {
            subsets(from, max, i + 1, chosen, each);
        }
        chosen.pop();
    }
}

/// A basis of { v : rows · v = 0 }: a set's sum is determined by the rows
/// exactly when its indicator is orthogonal to all of these.
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
        for i in 0..rows.len() {
            if i != r && rows[i][c].abs() > 1e-12 {
                let f = rows[i][c];
                let pivot_row = rows[r].clone();
                rows[i]
                    .iter_mut()
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

/// Primary Care 5, Hospital trust 6, Local Authority 4, VCFSE 2: the old
/// report pooled Local Authority and VCFSE into "Other groups (combined)".
const BASE: &[(&str, &str, bool)] = &[
    ("Primary Care", "staff", true),
    ("Primary Care", "staff", true),
    ("Primary Care", "staff", false),
    ("Primary Care", "volunteer", true),
    ("Primary Care", "volunteer", true),
    ("Hospital trust", "staff", true),
    ("Hospital trust", "staff", false),
    ("Hospital trust", "staff", true),
    ("Hospital trust", "volunteer", false),
    ("Hospital trust", "volunteer", true),
    ("Hospital trust", "volunteer", true),
    ("Local Authority", "staff", true),
    ("Local Authority", "staff", false),
    ("Local Authority", "volunteer", true),
    ("Local Authority", "volunteer", false),
    ("VCFSE sector", "staff", false),
    ("VCFSE sector", "volunteer", true),
];

/// Differencing over time, as reported: a report shows Local Authority (4)
/// and VCFSE (2) pooled; two more sign up as Local Authority, which the
/// old rule (sign-ups) then showed on its own; the attacker subtracts.
async fn differencing_over_time(backend: Backend) {
    let Some(mut attack) = Attack::new(backend).await else {
        return;
    };
    for &(org, role, strong) in BASE {
        attack.join(org, role, Some(strong), false).await;
    }
    attack.read_public_report().await;
    for _ in 0..2 {
        attack.join("Local Authority", "staff", None, true).await;
    }
    attack.read_public_report().await;
    attack.assert_nothing_about_fewer_than_k();
    // And the final report, which the public may always read.
    attack.close().await;
    attack.read_public_report().await;
    attack.assert_nothing_about_fewer_than_k();
    attack.app.stop().await;
}

/// Differencing as the suppression pattern changes: between two reports
/// real people join and vote (two in Local Authority, which now has enough
/// voters, three in Hospital trust), so that a live rule would show other
/// cells than before. The attacker compares every report.
async fn differencing_as_groups_grow(backend: Backend) {
    let Some(mut attack) = Attack::new(backend).await else {
        return;
    };
    for &(org, role, strong) in BASE {
        attack.join(org, role, Some(strong), false).await;
    }
    attack.read_public_report().await;
    for (org, strong) in [
        ("Local Authority", true),
        ("Hospital trust", false),
        ("Local Authority", false),
        ("Hospital trust", true),
        ("Hospital trust", true),
    ] {
        attack.join(org, "staff", Some(strong), false).await;
    }
    attack.read_public_report().await;
    attack.assert_nothing_about_fewer_than_k();
    attack.close().await;
    attack.read_public_report().await;
    attack.assert_nothing_about_fewer_than_k();
    attack.app.stop().await;
}

/// Padding: four throw-away sign-ups in one real participant's
/// organisation, none of them voting.
async fn padding(backend: Backend) {
    let Some(mut attack) = Attack::new(backend).await else {
        return;
    };
    for &(org, role, strong) in &BASE[..11] {
        attack.join(org, role, Some(strong), false).await;
    }
    attack
        .join("Local Authority", "staff", Some(false), false)
        .await;
    for _ in 0..4 {
        attack.join("Local Authority", "staff", None, true).await;
    }
    attack.read_public_report().await;
    attack.assert_nothing_about_fewer_than_k();
    attack.close().await;
    attack.read_public_report().await;
    attack.assert_nothing_about_fewer_than_k();
    attack.app.stop().await;
}

#[tokio::test]
async fn differencing_over_time_reveals_nothing_on_sqlite() {
    differencing_over_time(Backend::Sqlite).await;
}

#[tokio::test]
async fn differencing_over_time_reveals_nothing_on_postgres() {
    differencing_over_time(Backend::Postgres).await;
}

#[tokio::test]
async fn differencing_as_groups_grow_reveals_nothing_on_sqlite() {
    differencing_as_groups_grow(Backend::Sqlite).await;
}

#[tokio::test]
async fn differencing_as_groups_grow_reveals_nothing_on_postgres() {
    differencing_as_groups_grow(Backend::Postgres).await;
}

#[tokio::test]
async fn padding_with_throwaway_signups_reveals_nothing_on_sqlite() {
    padding(Backend::Sqlite).await;
}

#[tokio::test]
async fn padding_with_throwaway_signups_reveals_nothing_on_postgres() {
    padding(Backend::Postgres).await;
}
