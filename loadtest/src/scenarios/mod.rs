//! The scenarios of issue 4 (and big-conversation, issue 13), each against
//! chorus and the peers that apply.

pub mod big_conversation;
pub mod comment_stream;
pub mod common;
pub mod event_burst;
pub mod fanout;
pub mod idle;
pub mod ingest;
pub mod restarts;
pub mod soak;

use common::Kind;

use crate::options::{Database, Options, Peer, Scenario};
use crate::report::Report;

/// A report for a system that could not be measured at all.
fn failed(scenario: Scenario, kind: Kind, e: anyhow::Error) -> Report {
    let system = match kind {
        Kind::Chorus(db) => format!("chorus/{}", db.name()),
        Kind::Peer(peer) => peer.name().into(),
    };
    let mut r = Report::new(scenario.name(), &system);
    r.fail(format!("{e:#}"));
    r
}

/// Runs one scenario against every system it applies to. A system that
/// fails is reported (not exact) and the others still run.
pub async fn run(scenario: Scenario, opts: &Options) -> Vec<Report> {
    let mut reports = Vec::new();
    match scenario {
        Scenario::EventBurst => {
            for kind in common::kinds(opts, true) {
                let nodes = if matches!(kind, Kind::Peer(Peer::Floor)) {
                    1
                } else {
                    opts.nodes.max(1)
                };
                push(
                    &mut reports,
                    scenario,
                    kind,
                    event_burst::run("event-burst", kind, opts, nodes).await,
                );
            }
        }
        Scenario::Cluster => {
            // Several nodes need shared truth: chorus runs on PostgreSQL and Redis here,
            // after its reference, one node on SQLite under the same workload.
            let nodes = opts.nodes.max(2);
            for kind in common::kinds(opts, true) {
                let runs = match kind {
                    Kind::Chorus(_) => vec![
                        (Kind::Chorus(Database::Sqlite), 1),
                        (Kind::Chorus(Database::Postgres), nodes),
                    ],
                    Kind::Peer(Peer::Floor) => continue,
                    other => vec![(other, nodes)],
                };
                for (kind, nodes) in runs {
                    let mut report = match event_burst::run("cluster", kind, opts, nodes).await {
                        Ok(r) => r,
                        Err(e) => failed(scenario, kind, e),
                    };
                    report.nodes = nodes;
                    reports.push(report);
                }
            }
        }
        Scenario::CommentStream => {
            for kind in common::kinds(opts, false) {
                push(
                    &mut reports,
                    scenario,
                    kind,
                    comment_stream::run(kind, opts).await,
                );
            }
        }
        Scenario::Idle => {
            for kind in common::kinds(opts, true) {
                push(&mut reports, scenario, kind, idle::run(kind, opts).await);
            }
        }
        Scenario::Ingest => {
            let mut kinds: Vec<Kind> = Vec::new();
            if !opts.skip_chorus {
                kinds.extend(opts.databases.iter().map(|&d| Kind::Chorus(d)));
            }
            for kind in kinds {
                push(&mut reports, scenario, kind, ingest::run(kind, opts).await);
            }
        }
        Scenario::BigConversation => {
            for kind in common::kinds(opts, false) {
                match big_conversation::run(kind, opts).await {
                    Ok(rows) => reports.extend(rows),
                    Err(e) => reports.push(failed(scenario, kind, e)),
                }
            }
        }
        Scenario::Restarts => {
            if !opts.skip_chorus {
                let kind = Kind::Chorus(Database::Postgres);
                push(&mut reports, scenario, kind, restarts::run(opts).await);
            }
        }
        Scenario::Soak => {
            for kind in common::kinds(opts, false) {
                push(&mut reports, scenario, kind, soak::run(kind, opts).await);
            }
        }
        Scenario::Fanout => {
            for kind in common::kinds(opts, true) {
                match fanout::run(kind, opts).await {
                    Ok(steps) => reports.extend(steps),
                    Err(e) => reports.push(failed(scenario, kind, e)),
                }
            }
        }
    }
    reports
}

fn push(reports: &mut Vec<Report>, scenario: Scenario, kind: Kind, result: anyhow::Result<Report>) {
    reports.push(match result {
        Ok(r) => r,
        Err(e) => failed(scenario, kind, e),
    });
}
