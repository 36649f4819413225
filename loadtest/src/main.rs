//! The loadtest command line: `loadtest SCENARIO [options]`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use loadtest::{report, Database, Options, Peer, Scenario};

/// Drive a real chorus over real sockets and report latency, throughput,
/// memory per connection and exactness, side by side with peer baselines.
#[derive(Parser, Debug)]
#[command(name = "loadtest", version)]
struct Cli {
    /// The workload.
    #[arg(value_enum)]
    scenario: Scenario,
    /// Connected clients (participants, watchers, idle connections; ingest: concurrent voters; big-conversation: concurrent readers) [default: 50; soak: 2000].
    #[arg(long, short = 'n')]
    connections: Option<usize>,
    /// Votes (comment-stream: comments) per second.
    #[arg(long, short = 'r', default_value_t = 100.0)]
    rate: f64,
    /// Seconds the measured phase lasts (big-conversation: per endpoint) [default: 3; soak: 600; restarts: 20].
    #[arg(long, short = 'd')]
    duration: Option<f64>,
    /// chorus nodes (cluster: at least 2).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Run the same workload against a peer too (repeatable): socketio, socketio-coalesced, floor.
    #[arg(long, value_enum, value_delimiter = ',')]
    peer: Vec<Peer>,
    /// Measure only the peers, not chorus.
    #[arg(long)]
    skip_chorus: bool,
    /// Write the reports as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Append the reports as a Markdown section (command, table, ratios) to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// The Markdown section's heading [default: the scenario's name].
    #[arg(long)]
    title: Option<String>,
    /// A running chorus to load (no server CPU/RSS figures then).
    #[arg(long)]
    target: Option<String>,
    /// With --target: admin credentials to create the conversation.
    #[arg(long, value_name = "NAME:PASSWORD")]
    admin: Option<String>,
    /// With --target: an existing conversation to use.
    #[arg(long)]
    slug: Option<String>,
    /// The chorus binary (default: $CARGO_TARGET_DIR/release/chorus, /work/target/release/chorus, target/release/chorus).
    #[arg(long)]
    chorus_bin: Option<PathBuf>,
    /// Stores chorus runs on (ingest runs each, in order; the others use the first).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite")]
    database: Vec<Database>,
    /// PostgreSQL server (a fresh database is created and dropped on it).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Redis for the cluster and the Socket.IO peer.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Pledges in the conversation (default 8; big-conversation: 10).
    #[arg(long)]
    items: Option<usize>,
    /// big-conversation: participants to sign up.
    #[arg(long, default_value_t = 2_000)]
    participants: usize,
    /// big-conversation: comments and replies to make (60% comments, 40% replies).
    #[arg(long, default_value_t = 20_000)]
    comments: usize,
    /// big-conversation: votes to cast, on pledges (one per participant per pledge) then up-votes on comments.
    #[arg(long, default_value_t = 100_000)]
    votes: usize,
    /// fanout: stop adding watchers once p99 passes this many milliseconds.
    #[arg(long, default_value_t = 250)]
    p99_bound_ms: u64,
    /// fanout: watcher counts to step through (default: N/8, N/4, N/2, N).
    #[arg(long, value_delimiter = ',')]
    steps: Vec<usize>,
    /// Loopback source addresses 127.0.0.1..=127.0.0.K to spread connections over.
    #[arg(long, default_value_t = 8)]
    source_ips: u8,
    /// Concurrent connection attempts while setting up.
    #[arg(long, default_value_t = 256)]
    connect_batch: usize,
    /// Votes in flight at most; sends beyond it are skipped and counted.
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// The tally interval the floor and socketio-coalesced use, in milliseconds (chorus's default is 100).
    #[arg(long, default_value_t = 100)]
    tally_interval_ms: u64,
    /// restarts: seconds each service stays down before it is started again.
    #[arg(long, default_value_t = 2.0)]
    outage_s: f64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Keep the servers' temporary data and logs.
    #[arg(long)]
    keep: bool,
}

impl Cli {
    fn options(self) -> anyhow::Result<Options> {
        let default_items = if self.scenario == Scenario::BigConversation {
            10
        } else {
            8
        };
        let admin = match self.admin {
            Some(a) => {
                let (name, password) = a
                    .split_once(':')
                    .ok_or_else(|| anyhow::anyhow!("--admin takes NAME:PASSWORD"))?;
                Some((name.to_string(), password.to_string()))
            }
            None => None,
        };
        let soak = self.scenario == Scenario::Soak;
        let duration = self.duration.unwrap_or(match self.scenario {
            Scenario::Soak => 600.0,
            Scenario::Restarts => 20.0,
            _ => 3.0,
        });
        if !(duration > 0.0 && duration.is_finite()) {
            anyhow::bail!("--duration takes a positive number of seconds");
        }
        Ok(Options {
            connections: self.connections.unwrap_or(if soak { 2_000 } else { 50 }),
            rate: self.rate,
            duration: Duration::from_secs_f64(duration),
            nodes: self.nodes,
            peers: self.peer,
            skip_chorus: self.skip_chorus,
            target: self.target,
            admin,
            slug: self.slug,
            chorus_bin: self.chorus_bin,
            databases: self.database,
            postgres_url: self.postgres,
            redis_url: self.redis,
            items: self.items.unwrap_or(default_items),
            participants: self.participants,
            comments: self.comments,
            votes: self.votes,
            p99_bound: Duration::from_millis(self.p99_bound_ms),
            fanout_steps: self.steps,
            source_ips: self.source_ips,
            connect_batch: self.connect_batch,
            max_in_flight: self.max_in_flight,
            tally_interval: Duration::from_millis(self.tally_interval_ms),
            outage: Duration::from_secs_f64(self.outage_s.max(0.0)),
            progress: !self.quiet,
            keep: self.keep,
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // The floor server runs as its own process so its CPU and memory are its own.
    if args.get(1).map(String::as_str) == Some("__floor-server") {
        return match runtime.block_on(loadtest::floor_server::main_from_args(&args[2..])) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("floor server: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    let json = cli.json.clone();
    let markdown = cli.markdown.clone();
    let title = cli.title.clone();
    let scenario = cli.scenario;
    let opts = match cli.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let reports = match runtime.block_on(loadtest::run(scenario, opts)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report::table(&reports));
    if let Some(path) = json {
        if let Err(e) = report::write_json(&path, &reports) {
            eprintln!("error: writing {}: {e:#}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if let Some(path) = markdown {
        let command = command_line(&args);
        let mut section = report::markdown(&command, &reports);
        if let Some(title) = title {
            // The first line is the heading: `### scenario`.
            let rest = section.split_once('\n').map_or("", |(_, rest)| rest);
            section = format!("### {title}\n{rest}");
        }
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, section.as_bytes()));
        if let Err(e) = appended {
            eprintln!("error: writing {}: {e:#}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if reports.iter().all(|r| r.exact) {
        ExitCode::SUCCESS
    } else {
        eprintln!("\nEXACTNESS CHECK FAILED (see problems above)");
        ExitCode::FAILURE
    }
}

/// The command as typed, without the options that only say where files are.
fn command_line(args: &[String]) -> String {
    const WHERE: [&str; 4] = ["--markdown", "--json", "--chorus-bin", "--title"];
    let mut words = vec!["loadtest".to_string()];
    let mut skip = false;
    for a in &args[1..] {
        if skip {
            skip = false;
        } else if WHERE.contains(&a.as_str()) {
            skip = true;
        } else if !WHERE.iter().any(|w| a.starts_with(&format!("{w}="))) {
            words.push(a.clone());
        }
    }
    words.join(" ")
}
