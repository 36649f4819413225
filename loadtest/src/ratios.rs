//! chorus against its references in the same run, as ratios, and the goals
//! issue 15 sets for some of them (met or missed). Ratios from one run are
//! what this noisy machine can compare; absolute figures drift with load.

use crate::report::Report;

/// A bound a ratio should keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

impl Goal {
    fn met(self, value: f64) -> bool {
        match self {
            Goal::AtMost(bound) => value <= bound,
            Goal::AtLeast(bound) => value >= bound,
        }
    }

    fn describe(self) -> String {
        match self {
            Goal::AtMost(bound) => format!("goal ≤ {bound}×"),
            Goal::AtLeast(bound) => format!("goal ≥ {bound}×"),
        }
    }
}

/// `a / b`, when both are measured and `b` is not zero.
fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// `1.32`, and with a goal `1.32 (goal ≤ 1.5×: met)`.
pub fn judged(value: Option<f64>, goal: Option<Goal>) -> String {
    let shown = value.map_or("-".to_string(), |v| format!("{v:.2}"));
    match (goal, value) {
        (None, _) => shown,
        (Some(goal), Some(v)) => format!(
            "{shown} ({}: {})",
            goal.describe(),
            if goal.met(v) { "met" } else { "MISSED" }
        ),
        (Some(goal), None) => format!("{shown} ({}: not measured)", goal.describe()),
    }
}

fn p99(r: &Report) -> Option<f64> {
    (r.latency_ms.samples > 0).then_some(r.latency_ms.p99)
}

fn answer_p99(r: &Report) -> Option<f64> {
    r.answer_latency_ms
        .as_ref()
        .filter(|l| l.samples > 0)
        .map(|l| l.p99)
}

fn is_chorus(r: &Report) -> bool {
    r.system.starts_with("chorus")
}

/// The cluster scenario's single-node reference: chorus on one node, same workload.
pub fn is_single_node_reference(r: &Report) -> bool {
    r.scenario == "cluster" && is_chorus(r) && r.nodes == 1
}

/// Every ratio line of a run: chorus / each peer per scenario (and fanout
/// step), PostgreSQL / SQLite ingest, and the cluster / its single node.
pub fn lines(reports: &[Report]) -> Vec<String> {
    let mut lines = cluster_lines(reports);
    lines.extend(peer_lines(reports));
    lines.extend(ingest_line(reports));
    lines
}

/// Whether every vote offered was acknowledged: none failed, none skipped.
pub fn acknowledged(r: &Report) -> String {
    if !r.restarts.is_empty() {
        // Here a voter whose vote waits out an outage sends no other, as the
        // web client's outbox: skips are expected, failures are not.
        return format!(
            "{:.0} of {} votes/s acknowledged, {} never acknowledged, {} sends skipped while the voter's vote waited",
            r.votes_per_s,
            r.offered_votes_per_s
                .map_or("-".to_string(), |o| format!("{o:.0}")),
            r.write_errors,
            r.skipped_sends
        );
    }
    let offered = r
        .offered_votes_per_s
        .map_or("-".to_string(), |o| format!("{o:.0}"));
    let all = r.write_errors == 0 && r.skipped_sends == 0 && r.votes_per_s > 0.0;
    format!(
        "{:.0} of {offered} votes/s acknowledged, {} failed, {} skipped ({})",
        r.votes_per_s,
        r.write_errors,
        r.skipped_sends,
        if all {
            "goal every vote: met"
        } else {
            "goal every vote: MISSED"
        }
    )
}

/// cluster: the nodes against one node on SQLite under the same workload,
/// goal ≤ 1.5× for vote-to-screen p99 and for cross-node p99.
fn cluster_lines(reports: &[Report]) -> Vec<String> {
    let Some(single) = reports.iter().find(|r| is_single_node_reference(r)) else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "cluster @{} {} on 1 node (the reference): {}",
        single.connections,
        single.system,
        acknowledged(single)
    )];
    for c in reports
        .iter()
        .filter(|r| r.scenario == "cluster" && is_chorus(r) && r.nodes > 1)
    {
        let cross = c
            .cross_node_latency_ms
            .as_ref()
            .filter(|l| l.samples > 0)
            .map(|l| l.p99);
        lines.push(format!(
            "cluster @{} {} on {} nodes vs {} on 1 node: {}; p99 {}, cross-node p99 {}, answer p99 {}",
            c.connections,
            c.system,
            c.nodes,
            single.system,
            acknowledged(c),
            judged(ratio(p99(c), p99(single)), Some(Goal::AtMost(1.5))),
            judged(ratio(cross, p99(single)), Some(Goal::AtMost(1.5))),
            judged(ratio(answer_p99(c), answer_p99(single)), None),
        ));
    }
    lines
}

/// chorus / peer: p99, vote answer p99, CPU per update, memory per
/// connection, frames/s. The floor carries the goals for
/// event-burst (p99 ≤ 1.5×, answer p99 ≤ 2×, CPU/update ≤ 1.3×) and idle
/// (memory per connection ≤ 1.2×); the other peers only the ratio.
fn peer_lines(reports: &[Report]) -> Vec<String> {
    let mut lines = Vec::new();
    for c in reports
        .iter()
        .filter(|r| is_chorus(r) && !is_single_node_reference(r))
    {
        for p in reports
            .iter()
            .filter(|r| !is_chorus(r) && r.scenario == c.scenario && r.connections == c.connections)
        {
            let floor = p.system == "floor";
            let burst = (floor && c.scenario == "event-burst").then_some(());
            let idle = (floor && c.scenario == "idle").then_some(());
            let lat = judged(ratio(p99(c), p99(p)), burst.map(|_| Goal::AtMost(1.5)));
            let answer = judged(
                ratio(answer_p99(c), answer_p99(p)),
                burst.map(|_| Goal::AtMost(2.0)),
            );
            let cpu = judged(
                ratio(c.cpu_us_per_update, p.cpu_us_per_update),
                burst.map(|_| Goal::AtMost(1.3)),
            );
            let mem = judged(
                ratio(c.rss_per_connection_kb, p.rss_per_connection_kb),
                idle.map(|_| Goal::AtMost(1.2)),
            );
            let frames = judged(ratio(Some(c.frames_per_s), Some(p.frames_per_s)), None);
            lines.push(format!(
                "{} @{} {} vs {}: p99 {lat}, answer p99 {answer}, cpu/update {cpu}, mem/conn {mem}, frames/s {frames}",
                c.scenario, c.connections, c.system, p.system
            ));
        }
    }
    lines
}

/// ingest: chorus/postgres durable votes/s against chorus/sqlite's, goal ≥ 0.8×.
fn ingest_line(reports: &[Report]) -> Option<String> {
    let on = |system: &str| {
        reports
            .iter()
            .find(|r| r.scenario == "ingest" && r.system == system && r.votes_per_s > 0.0)
    };
    let (postgres, sqlite) = (on("chorus/postgres")?, on("chorus/sqlite")?);
    Some(format!(
        "ingest @{} chorus/postgres vs chorus/sqlite: durable votes/s {}",
        postgres.connections,
        judged(
            ratio(Some(postgres.votes_per_s), Some(sqlite.votes_per_s)),
            Some(Goal::AtLeast(0.8))
        )
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cluster_is_judged_against_its_single_node_reference() {
        let mut single = report("cluster", "chorus/sqlite", 200.0, 50.0);
        single.offered_votes_per_s = Some(100.0);
        single.votes_per_s = 100.0;
        let mut cluster = report("cluster", "chorus/postgres", 250.0, 100.0);
        cluster.nodes = 2;
        cluster.offered_votes_per_s = Some(100.0);
        cluster.votes_per_s = 80.0;
        cluster.write_errors = 3;
        cluster.cross_node_latency_ms = Some(Latency {
            p99: 400.0,
            samples: 5,
            ..Latency::default()
        });
        let socketio = report("cluster", "socketio", 100.0, 10.0);
        let lines = lines(&[single, cluster, socketio]);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].ends_with(
                "100 of 100 votes/s acknowledged, 0 failed, 0 skipped (goal every vote: met)"
            ),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with("80 of 100 votes/s acknowledged, 3 failed, 0 skipped (goal every vote: MISSED); p99 1.25 (goal ≤ 1.5×: met), cross-node p99 2.00 (goal ≤ 1.5×: MISSED), answer p99 2.00"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("cluster @100 chorus/postgres vs socketio: p99 2.50"),
            "{}",
            lines[2]
        );
    }

    use super::*;
    use crate::report::Latency;

    fn report(scenario: &str, system: &str, p99: f64, answer: f64) -> Report {
        let mut r = Report::new(scenario, system);
        r.connections = 100;
        r.nodes = 1;
        r.latency_ms = Latency {
            p99,
            samples: 10,
            ..Latency::default()
        };
        r.answer_latency_ms = Some(Latency {
            p99: answer,
            samples: 10,
            ..Latency::default()
        });
        r.cpu_us_per_update = Some(1.0);
        r.rss_per_connection_kb = Some(10.0);
        r.frames_per_s = 100.0;
        r
    }

    #[test]
    fn event_burst_against_the_floor_is_judged_and_the_coalesced_peer_only_compared() {
        let chorus = report("event-burst", "chorus/sqlite", 300.0, 100.0);
        let floor = report("event-burst", "floor", 100.0, 100.0);
        let coalesced = report("event-burst", "socketio-coalesced", 600.0, 50.0);
        let lines = lines(&[chorus, floor, coalesced]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("vs floor: p99 3.00 (goal ≤ 1.5×: MISSED), answer p99 1.00 (goal ≤ 2×: met), cpu/update 1.00 (goal ≤ 1.3×: met), mem/conn 1.00,"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("vs socketio-coalesced: p99 0.50, answer p99 2.00, cpu/update 1.00, mem/conn 1.00, frames/s 1.00"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn idle_memory_and_ingest_throughput_have_goals() {
        let mut chorus = report("idle", "chorus/sqlite", 0.0, 0.0);
        chorus.rss_per_connection_kb = Some(13.0);
        let floor = report("idle", "floor", 0.0, 0.0);
        let mut postgres = report("ingest", "chorus/postgres", 1.0, 1.0);
        postgres.votes_per_s = 900.0;
        let mut sqlite = report("ingest", "chorus/sqlite", 1.0, 1.0);
        sqlite.votes_per_s = 1000.0;
        let lines = lines(&[chorus, floor, sqlite, postgres]);
        assert!(
            lines[0].contains("mem/conn 1.30 (goal ≤ 1.2×: MISSED)"),
            "{}",
            lines[0]
        );
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("durable votes/s 0.90 (goal ≥ 0.8×: met)")),
            "{lines:?}"
        );
    }
}
