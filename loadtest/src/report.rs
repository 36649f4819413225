//! The figures a run produces: one `Report` per scenario and system, a table, JSON.

use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// How many samples the percentiles are over.
    pub samples: u64,
}

impl Latency {
    /// From a histogram of microseconds.
    pub fn from_micros(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |v: u64| (v as f64 / 1000.0 * 100.0).round() / 100.0;
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
            samples: h.len(),
        }
    }
}

/// The outcome of one scenario against one system.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    /// `chorus/sqlite`, `chorus/postgres`, `socketio`, `socketio-coalesced`, `floor`.
    pub system: String,
    pub connections: usize,
    pub nodes: usize,
    pub duration_s: f64,
    /// Acknowledged (durable) votes per second.
    pub votes_per_s: f64,
    /// The rate the open-loop load offered (event-burst, cluster, restarts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_votes_per_s: Option<f64>,
    /// Acknowledged comments per second (comment-stream).
    pub comments_per_s: f64,
    /// Data frames received per second over all clients.
    pub frames_per_s: f64,
    /// Vote-to-screen (or comment delivery) latency over every subscriber.
    pub latency_ms: Latency,
    /// The same, only for deliveries to a node other than the one that took the write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_node_latency_ms: Option<Latency>,
    /// Time from sending a write to its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_latency_ms: Option<Latency>,
    /// (write, subscriber) pairs delivered: what `latency_ms` counts.
    pub updates_delivered: u64,
    /// Server resident memory growth per connection (idle), else resident memory / connections.
    pub rss_per_connection_kb: Option<f64>,
    pub server_rss_kb: Option<u64>,
    /// Server user+system CPU seconds during the measured phase (all nodes).
    pub server_cpu_s: Option<f64>,
    /// The load generator's own CPU seconds in the same phase: it shares the machine.
    pub client_cpu_s: Option<f64>,
    /// Server CPU microseconds per delivered update.
    pub cpu_us_per_update: Option<f64>,
    /// Writes that failed, and open-loop sends skipped because too many were in flight.
    pub write_errors: u64,
    pub skipped_sends: u64,
    /// big-conversation: the read endpoint this report measured (`latency_ms` is its answer time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// big-conversation: successful answers per second over all readers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_s: Option<f64>,
    /// big-conversation: bytes of one answer as sent (compressed when the server compresses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_bytes: Option<u64>,
    /// big-conversation: the conversation the reads ran against and how long seeding took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<Seed>,
    /// soak: the server's memory over the run and what the clients did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soak: Option<Soak>,
    /// restarts: each service restart and what the writers saw around it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restarts: Vec<crate::outage::Restart>,
    /// Every client's final state equals the store's; every comment once, in order.
    pub exact: bool,
    /// Why `exact` is false, or other things that went wrong.
    pub problems: Vec<String>,
}

/// What big-conversation seeded before reading, straight through the REST API.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Seed {
    pub participants: usize,
    pub pledges: usize,
    pub comments: usize,
    pub replies: usize,
    pub pledge_votes: usize,
    pub comment_up_votes: usize,
    /// Wall-clock seconds from the first sign-up to the last acknowledged write.
    pub seconds: f64,
}

/// What soak measured besides the common figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Soak {
    /// Server resident memory once settled (`measured_from_s` into the load) and at the end.
    pub rss_start_kb: Option<u64>,
    pub rss_end_kb: Option<u64>,
    pub rss_peak_kb: Option<u64>,
    pub measured_from_s: Option<f64>,
    /// (end - start) / start, per hour of load, in percent: the whole run
    /// from `measured_from_s`, bounded structures filling included.
    pub rss_growth_per_hour_pct: Option<f64>,
    /// From `steady_from_s` (half-way through the load) to the end: the
    /// slope of a least-squares line through the memory samples, per hour,
    /// in percent of the line's value at `steady_from_s`.
    pub steady_from_s: Option<f64>,
    pub rss_steady_growth_per_hour_pct: Option<f64>,
    /// From the server's /metrics at `measured_from_s`, `steady_from_s` and
    /// the end: the hub's replay ring (`chorus_replay_events`,
    /// `chorus_replay_bytes`) and SQLite's own memory (`chorus_sqlite_memory_bytes`).
    pub replay_events: [Option<u64>; 3],
    pub replay_kb: [Option<u64>; 3],
    pub sqlite_kb: [Option<u64>; 3],
    /// The figure the goal (< 5% per hour) is judged on: the steady slope
    /// when the replay ring was already full half-way (it held as many
    /// events then as at the end, so what grew before was it filling),
    /// else the whole run.
    pub judged_on_steady: bool,
    /// Connections dropped and resumed with `since`, and `resync`s among them.
    pub resumes: u64,
    pub resyncs: u64,
    /// Comments made and hidden by the moderator during the run.
    pub comments: u64,
    pub hidden: u64,
    /// Every sample: seconds into the load, RSS, and the /metrics figures.
    pub samples: Vec<MemorySample>,
}

/// One look at the server's memory during a soak.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MemorySample {
    pub t_s: f64,
    pub rss_kb: u64,
    pub replay_events: Option<u64>,
    pub replay_bytes: Option<u64>,
    pub sqlite_bytes: Option<u64>,
}

impl Soak {
    /// The growth the goal is judged on, per hour in percent.
    pub fn judged_growth(&self) -> Option<f64> {
        if self.judged_on_steady {
            self.rss_steady_growth_per_hour_pct
        } else {
            self.rss_growth_per_hour_pct
        }
    }

    /// One line for the table and the Markdown.
    pub fn summary(&self) -> String {
        let mb = |kb: Option<u64>| {
            kb.map_or("-".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0))
        };
        let pct = |g: Option<f64>| g.map_or("-".to_string(), |g| format!("{g:+.2}%"));
        let verdict = match self.judged_growth() {
            Some(g) if g < 5.0 => "goal < 5% met",
            Some(_) => "goal < 5% missed",
            None => "goal not judged",
        };
        let three = |v: &[Option<u64>; 3], unit: &str| {
            v.iter()
                .map(|x| x.map_or("-".to_string(), |x| format!("{x}")))
                .collect::<Vec<_>>()
                .join(" / ")
                + unit
        };
        format!(
            "server memory {} at {:.0} s, {} at the end (peak {}); growth per hour over the whole run {}, over the steady second half (linear fit from {:.0} s) {} ({verdict}, judged on the {}); replay ring {} events, {}, SQLite {} (start / half-way / end); {} resumes ({} resyncs), {} comments, {} hidden",
            mb(self.rss_start_kb),
            self.measured_from_s.unwrap_or_default(),
            mb(self.rss_end_kb),
            mb(self.rss_peak_kb),
            pct(self.rss_growth_per_hour_pct),
            self.steady_from_s.unwrap_or_default(),
            pct(self.rss_steady_growth_per_hour_pct),
            if self.judged_on_steady {
                "steady half: the ring was full by half-way and the first half grew no more than it and SQLite"
            } else {
                "whole run: the ring was not full by half-way, or memory grew beyond it and SQLite before"
            },
            three(&self.replay_events, ""),
            three(&self.replay_kb, " KB"),
            three(&self.sqlite_kb, " KB"),
            self.resumes,
            self.resyncs,
            self.comments,
            self.hidden
        )
    }
}

impl Report {
    pub fn new(scenario: &str, system: &str) -> Report {
        Report {
            scenario: scenario.to_string(),
            system: system.to_string(),
            exact: true,
            ..Report::default()
        }
    }

    /// Record a failed check: the report is no longer exact.
    pub fn fail(&mut self, problem: impl Into<String>) {
        self.exact = false;
        self.problems.push(problem.into());
    }
}

/// Writes the reports as a JSON array.
pub fn write_json(path: &Path, reports: &[Report]) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(reports)?;
    std::fs::write(path, text + "\n")?;
    Ok(())
}

/// What the ratio lines are: times, CPU and memory are better below 1, rates above.
const RATIOS_TITLE: &str =
    "chorus / reference in this run (latency, CPU, memory: below 1 is better; votes/s, frames/s: above)";

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

/// A plain text table of the reports, then chorus/peer ratios.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::new();
    let (reads, reports): (Vec<Report>, Vec<Report>) =
        reports.iter().cloned().partition(|r| r.endpoint.is_some());
    let reports = &reports[..];
    if !reads.is_empty() {
        out.push_str(&reads_table(&reads));
    }
    if reports.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{:<15} {:<18} {:>6} {:>9} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>7} {:>7} {:>5}",
        "scenario",
        "system",
        "conns",
        "writes/s",
        "frames/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "x-node99",
        "answer99",
        "KB/conn",
        "cpu s",
        "us/upd",
        "lt cpu",
        "exact"
    );
    for r in reports {
        let writes = r.votes_per_s + r.comments_per_s;
        let _ = writeln!(
            out,
            "{:<15} {:<18} {:>6} {:>9.0} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>9} {:>8} {:>9} {:>8} {:>7} {:>7} {:>5}",
            r.scenario,
            r.system,
            r.connections,
            writes,
            r.frames_per_s,
            r.latency_ms.p50,
            r.latency_ms.p99,
            r.latency_ms.max,
            r.cross_node_latency_ms
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", l.p99)),
            r.answer_latency_ms
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", l.p99)),
            opt(r.rss_per_connection_kb, 1),
            opt(r.server_cpu_s, 2),
            opt(r.cpu_us_per_update, 2),
            opt(r.client_cpu_s, 1),
            if r.exact { "yes" } else { "NO" }
        );
    }
    for r in reports {
        if let Some(soak) = &r.soak {
            let _ = writeln!(out, "\n{} {}: {}", r.scenario, r.system, soak.summary());
        }
        if !r.restarts.is_empty() {
            let _ = writeln!(
                out,
                "\n{} {}: {}",
                r.scenario,
                r.system,
                crate::ratios::acknowledged(r)
            );
        }
        for restart in &r.restarts {
            let _ = writeln!(out, "\n{} {}: {}", r.scenario, r.system, restart.summary());
        }
    }
    let ratios = crate::ratios::lines(reports);
    if !ratios.is_empty() {
        let _ = writeln!(out, "\n{RATIOS_TITLE}:");
        for line in ratios {
            let _ = writeln!(out, "  {line}");
        }
    }
    for r in reports.iter().filter(|r| !r.problems.is_empty()) {
        let _ = writeln!(out, "\n{} {}:", r.scenario, r.system);
        for p in r.problems.iter().take(20) {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

/// The seed line of the first report that has one.
fn seed_line(reports: &[Report]) -> Option<String> {
    let seed = reports.iter().find_map(|r| r.seed.as_ref())?;
    Some(format!(
        "seeded {} participants, {} pledges, {} comments + {} replies, {} pledge votes + {} comment up-votes in {:.1} s",
        seed.participants,
        seed.pledges,
        seed.comments,
        seed.replies,
        seed.pledge_votes,
        seed.comment_up_votes,
        seed.seconds
    ))
}

/// big-conversation's figures: one row per read endpoint.
fn reads_table(reads: &[Report]) -> String {
    let mut out = String::new();
    if let Some(line) = seed_line(reads) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "{:<44} {:<14} {:>7} {:>10} {:>8} {:>8} {:>8} {:>9} {:>7} {:>7} {:>5}",
        "endpoint",
        "system",
        "readers",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "bytes",
        "cpu s",
        "lt cpu",
        "ok"
    );
    for r in reads {
        let _ = writeln!(
            out,
            "{:<44} {:<14} {:>7} {:>10} {:>8.1} {:>8.1} {:>8.1} {:>9} {:>7} {:>7} {:>5}",
            r.endpoint.as_deref().unwrap_or("-"),
            r.system,
            r.connections,
            opt(r.requests_per_s, 0),
            r.latency_ms.p50,
            r.latency_ms.p99,
            r.latency_ms.max,
            r.response_bytes.map_or("-".to_string(), |b| b.to_string()),
            opt(r.server_cpu_s, 2),
            opt(r.client_cpu_s, 1),
            if r.exact { "yes" } else { "NO" }
        );
    }
    for r in reads.iter().filter(|r| !r.problems.is_empty()) {
        let _ = writeln!(
            out,
            "\n{} {}:",
            r.endpoint.as_deref().unwrap_or("-"),
            r.system
        );
        for p in r.problems.iter().take(20) {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

/// big-conversation's figures as a Markdown table.
fn reads_markdown(reads: &[Report]) -> String {
    let mut out = String::new();
    if let Some(line) = seed_line(reads) {
        let _ = writeln!(out, "{}.\n", capitalise(&line));
    }
    let _ = writeln!(
        out,
        "| endpoint | system | readers | requests/s | p50 ms | p90 ms | p99 ms | max ms | bytes | server CPU s | loadtest CPU s | ok |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in reads {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
            r.endpoint.as_deref().unwrap_or("-"),
            r.system,
            r.connections,
            opt(r.requests_per_s, 0),
            r.latency_ms.p50,
            r.latency_ms.p90,
            r.latency_ms.p99,
            r.latency_ms.max,
            r.response_bytes.map_or("-".to_string(), |b| b.to_string()),
            opt(r.server_cpu_s, 2),
            opt(r.client_cpu_s, 1),
            if r.exact { "yes" } else { "**no**" }
        );
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The reports as a Markdown section: the command, a table, the ratios.
pub fn markdown(command: &str, reports: &[Report]) -> String {
    let mut out = String::new();
    let title = reports.first().map_or("run", |r| r.scenario.as_str());
    let _ = writeln!(out, "### {title}\n\n```\n{command}\n```\n");
    let (reads, reports): (Vec<Report>, Vec<Report>) =
        reports.iter().cloned().partition(|r| r.endpoint.is_some());
    let reports = &reports[..];
    if !reads.is_empty() {
        out.push_str(&reads_markdown(&reads));
        let problems: Vec<&Report> = reads.iter().filter(|r| !r.problems.is_empty()).collect();
        if !problems.is_empty() {
            let _ = writeln!(out, "\nProblems:\n");
            for r in problems {
                for p in r.problems.iter().take(10) {
                    let _ = writeln!(
                        out,
                        "- {} `{}`: {p}",
                        r.system,
                        r.endpoint.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        if reports.is_empty() {
            out.push('\n');
            return out;
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "| system | conns | nodes | writes/s | frames/s | p50 ms | p90 ms | p99 ms | max ms | cross-node p99 ms | answer p99 ms | KB/conn | server CPU s | CPU µs/update | loadtest CPU s | exact |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            r.system,
            r.connections,
            r.nodes,
            r.votes_per_s + r.comments_per_s,
            r.frames_per_s,
            r.latency_ms.p50,
            r.latency_ms.p90,
            r.latency_ms.p99,
            r.latency_ms.max,
            r.cross_node_latency_ms
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", l.p99)),
            r.answer_latency_ms
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", l.p99)),
            opt(r.rss_per_connection_kb, 1),
            opt(r.server_cpu_s, 2),
            opt(r.cpu_us_per_update, 2),
            opt(r.client_cpu_s, 1),
            if r.exact { "yes" } else { "**no**" }
        );
    }
    for r in reports {
        if let Some(soak) = &r.soak {
            let _ = writeln!(out, "\n{}: {}.", r.system, soak.summary());
        }
        if !r.restarts.is_empty() {
            let _ = writeln!(out, "\n- {}: {}.", r.system, crate::ratios::acknowledged(r));
        }
        for restart in &r.restarts {
            let _ = writeln!(out, "- {}: {}.", r.system, restart.summary());
        }
    }
    let ratios = crate::ratios::lines(reports);
    if !ratios.is_empty() {
        let _ = writeln!(out, "\n{RATIOS_TITLE}:\n");
        for line in ratios {
            let _ = writeln!(out, "- {line}");
        }
    }
    let problems: Vec<&Report> = reports.iter().filter(|r| !r.problems.is_empty()).collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\nProblems:\n");
        for r in problems {
            for p in r.problems.iter().take(10) {
                let _ = writeln!(out, "- {} @{}: {p}", r.system, r.connections);
            }
        }
    }
    out.push('\n');
    out
}
