//! big-conversation: seed one conversation the size of a big event straight
//! through the REST API (participants, pledges, comments and replies, votes
//! on pledges and up-votes on comments), then measure the read endpoints a
//! page and the desk call, one after another, each under N concurrent
//! readers for the run's duration: answer time p50/p99 and requests/s.
//!
//! The seeded store is checked against what was acknowledged (the snapshot's
//! comment counts and tallies); a read that fails marks its row not exact.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::common::{self, Kind};
use crate::latency::Histograms;
use crate::options::Options;
use crate::progress;
use crate::report::{Latency, Report, Seed};
use crate::systems::chorus::Chorus;
use crate::systems::{System, Voter};

/// Writes in flight while seeding: enough to fill chorus's group commits.
const SEED_IN_FLIGHT: usize = 64;
/// Of the comments, this share are top-level; the rest are replies.
const TOP_LEVEL_PERCENT: usize = 60;
/// A pledge vote goes against the voter's camp this often (so groups are not perfect).
const NOISE: f64 = 0.15;
/// Opinion camps the participants fall in (by index), so the analysis finds groups.
const CAMPS: usize = 3;

const WORDS: &[&str] = &[
    "protected",
    "time",
    "training",
    "rota",
    "breaks",
    "managers",
    "listen",
    "parking",
    "night",
    "shifts",
    "flexible",
    "working",
    "career",
    "progression",
    "wellbeing",
    "support",
    "team",
    "meetings",
    "recognition",
    "pay",
    "workload",
    "staffing",
    "volunteers",
    "induction",
    "mentoring",
    "feedback",
    "quiet",
    "rooms",
    "childcare",
    "travel",
    "equipment",
    "IT",
    "systems",
    "paperwork",
    "appraisals",
    "bullying",
    "respect",
    "communication",
    "leadership",
    "kindness",
];

/// One comment to make: its id, pledge, author and (for a reply) parent comment.
struct Planned {
    id: String,
    item: usize,
    author: usize,
    parent: Option<usize>,
}

/// What to send, decided before sending so the check knows what to expect.
struct Plan {
    comments: Vec<Planned>,
    top_level: usize,
    /// (participant, pledge, strong?)
    pledge_votes: Vec<(usize, usize, bool)>,
    /// (participant, comment index): never the comment's author, never twice.
    up_votes: Vec<(usize, usize)>,
}

fn plan(opts: &Options, participants: usize, items: usize, rng: &mut StdRng) -> Plan {
    let total = opts.comments;
    let top_level = if total == 0 {
        0
    } else {
        (total * TOP_LEVEL_PERCENT / 100).max(1)
    };
    let mut comments: Vec<Planned> = Vec::with_capacity(total);
    for k in 0..total {
        let (item, parent) = if k < top_level {
            (k % items, None)
        } else {
            // Replies gather under the earlier comments, as in a real thread.
            let p = skewed(rng, top_level);
            (comments[p].item, Some(p))
        };
        comments.push(Planned {
            id: uuid::Uuid::new_v4().to_string(),
            item,
            author: rng.gen_range(0..participants),
            parent,
        });
    }
    let pledge_count = opts.votes.min(participants * items);
    let pledge_votes = (0..pledge_count)
        .map(|k| {
            let (p, i) = (k % participants, k / participants);
            let camp_says = !(i + p % CAMPS).is_multiple_of(CAMPS);
            let strong = if rng.gen_bool(NOISE) {
                !camp_says
            } else {
                camp_says
            };
            (p, i, strong)
        })
        .collect();
    let room = total.saturating_mul(participants.saturating_sub(1));
    let up_count = (opts.votes - pledge_count).min(room);
    let mut ups = vec![0usize; total];
    let mut up_votes = Vec::with_capacity(up_count);
    while up_votes.len() < up_count {
        // Some comments are far more agreed with than others; a full one passes to the next.
        let mut c = skewed(rng, total);
        while ups[c] >= participants - 1 {
            c = (c + 1) % total;
        }
        let j = ups[c];
        ups[c] += 1;
        // Up-voter j of a comment: the j-th participant after its author, so never the author.
        let voter = (comments[c].author + 1 + j) % participants;
        up_votes.push((voter, c));
    }
    Plan {
        comments,
        top_level,
        pledge_votes,
        up_votes,
    }
}

/// An index below `n`, the low ones more likely (n > 0).
fn skewed(rng: &mut StdRng, n: usize) -> usize {
    let r: f64 = rng.gen();
    ((r * r * n as f64) as usize).min(n - 1)
}

fn sentence(rng: &mut StdRng, k: usize) -> String {
    let len = rng.gen_range(6..20);
    let words: Vec<&str> = (0..len)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect();
    format!("{} (comment {k}).", words.join(" "))
}

/// Sends `n` writes, `SEED_IN_FLIGHT` at a time; fails with the first error.
async fn send_all<F, Fut>(label: &str, n: usize, opts: &Options, f: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let bar = progress::bar(opts.progress, n as u64, label);
    let errors: Vec<anyhow::Error> = stream::iter(0..n)
        .map(|k| {
            let write = f(k);
            let bar = bar.clone();
            async move {
                let r = write.await;
                bar.inc(1);
                r
            }
        })
        .buffer_unordered(SEED_IN_FLIGHT)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    bar.finish_and_clear();
    if let Some(first) = errors.first() {
        bail!("{label}: {} of {n} failed; first: {first:#}", errors.len());
    }
    Ok(())
}

fn cookie(voters: &[Voter], p: usize) -> &str {
    voters[p].cookie.as_deref().unwrap_or_default()
}

/// Seeds the conversation; returns the participants and what was made.
async fn seed(
    chorus: &Chorus,
    system: &Arc<System>,
    opts: &Options,
) -> anyhow::Result<(Vec<Voter>, Seed)> {
    let start = Instant::now();
    let items = chorus.item_ids.len();
    if items == 0 {
        bail!("big-conversation needs at least one pledge (--items)");
    }
    let participants = opts.participants.max(2);
    let voters = common::sign_up(system, participants, opts).await?;
    let mut rng = StdRng::from_entropy();
    let plan = plan(opts, participants, items, &mut rng);
    let bodies: Vec<String> = (0..plan.comments.len())
        .map(|k| sentence(&mut rng, k))
        .collect();
    let api = chorus.api(0);
    let slug = chorus.slug.as_str();
    let comment = |k: usize| {
        let c = &plan.comments[k];
        let parent = c.parent.map(|p| plan.comments[p].id.as_str());
        api.comment(
            cookie(&voters, c.author),
            slug,
            &chorus.item_ids[c.item],
            &c.id,
            &bodies[k],
            parent,
        )
    };
    send_all("comments", plan.top_level, opts, comment).await?;
    let replies = plan.comments.len() - plan.top_level;
    send_all("replies", replies, opts, |k| comment(plan.top_level + k)).await?;
    send_all("pledge votes", plan.pledge_votes.len(), opts, |k| {
        let (p, i, strong) = plan.pledge_votes[k];
        let choice = if strong { "strong" } else { "wrong" };
        let vote = api.vote(cookie(&voters, p), slug, &chorus.item_ids[i], choice);
        async move { vote.await.map(|_| ()) }
    })
    .await?;
    send_all("comment up-votes", plan.up_votes.len(), opts, |k| {
        let (p, c) = plan.up_votes[k];
        api.up_vote(cookie(&voters, p), slug, &plan.comments[c].id)
    })
    .await?;
    let seed = Seed {
        participants,
        pledges: items,
        comments: plan.top_level,
        replies,
        pledge_votes: plan.pledge_votes.len(),
        comment_up_votes: plan.up_votes.len(),
        seconds: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    };
    Ok((voters, seed))
}

/// The store holds what was acknowledged: every comment and every pledge vote.
async fn check_seed(chorus: &Chorus, seed: &Seed) -> Vec<String> {
    let mut problems = Vec::new();
    match chorus.snapshot().await {
        Ok(snapshot) => {
            let comments: u64 = snapshot.items.iter().map(|i| i.comments).sum();
            let votes: i64 = snapshot.items.iter().map(|i| i.strong + i.wrong).sum();
            let made = seed.comments + seed.replies;
            if comments != made as u64 {
                problems.push(format!(
                    "the snapshot counts {comments} comments and replies; {made} were acknowledged"
                ));
            }
            if votes != seed.pledge_votes as i64 {
                problems.push(format!(
                    "the snapshot's tallies add up to {votes} votes; {} were acknowledged",
                    seed.pledge_votes
                ));
            }
        }
        Err(e) => problems.push(format!("could not read the snapshot: {e:#}")),
    }
    problems
}

/// One read endpoint: what the table calls it, its paths (one is picked per
/// request) and whether staff read it.
struct Endpoint {
    name: &'static str,
    paths: Vec<String>,
    staff: bool,
}

fn endpoints(chorus: &Chorus) -> Vec<Endpoint> {
    let base = format!("/api/conversations/{}", chorus.slug);
    let per_item = |query: &str| {
        chorus
            .item_ids
            .iter()
            .map(|id| format!("{base}/items/{id}/comments{query}"))
            .collect()
    };
    vec![
        Endpoint {
            name: "GET /api/conversations/{slug}",
            paths: vec![base.clone()],
            staff: false,
        },
        Endpoint {
            name: "GET …/items/{id}/comments?limit=20",
            paths: per_item("?limit=20"),
            staff: false,
        },
        Endpoint {
            name: "GET …/items/{id}/comments?sort=most_agreed&limit=20",
            paths: per_item("?sort=most_agreed&limit=20"),
            staff: false,
        },
        Endpoint {
            name: "GET …/items/{id}/comments?sort=newest&limit=20",
            paths: per_item("?sort=newest&limit=20"),
            staff: false,
        },
        Endpoint {
            name: "GET …/items/{id}/comments?sort=across_groups&limit=20",
            paths: per_item("?sort=across_groups&limit=20"),
            staff: false,
        },
        Endpoint {
            name: "GET …/moderation/comments?status=all&limit=100",
            paths: vec![format!("{base}/moderation/comments?status=all&limit=100")],
            staff: true,
        },
        Endpoint {
            name: "GET …/report",
            paths: vec![format!("{base}/report")],
            staff: true,
        },
    ]
}

pub async fn run(kind: Kind, opts: &Options) -> anyhow::Result<Vec<Report>> {
    let system = common::start(kind, opts, 1).await?;
    let result = measure(&system, opts).await;
    common::stop(system).await;
    result
}

async fn measure(system: &Arc<System>, opts: &Options) -> anyhow::Result<Vec<Report>> {
    let System::Chorus(chorus) = system.as_ref() else {
        bail!("big-conversation runs against chorus only");
    };
    if opts.slug.is_some() {
        bail!("big-conversation seeds a conversation of its own: drop --slug");
    }
    let admin = chorus
        .admin
        .clone()
        .context("big-conversation reads as staff: with --target it needs --admin NAME:PASSWORD")?;
    let (voters, seed) = seed(chorus, system, opts).await?;
    let seed_problems = check_seed(chorus, &seed).await;
    let voters = Arc::new(voters);
    let mut reports = Vec::new();
    for endpoint in endpoints(chorus) {
        let mut report = Report::new("big-conversation", &system.name());
        report.endpoint = Some(endpoint.name.to_string());
        report.seed = Some(seed.clone());
        for p in &seed_problems {
            report.fail(p.clone());
        }
        read(system, &endpoint, &admin, &voters, opts, &mut report).await;
        reports.push(report);
    }
    Ok(reports)
}

/// N readers ask `endpoint` back to back for the run's duration.
async fn read(
    system: &Arc<System>,
    endpoint: &Endpoint,
    admin: &str,
    voters: &Arc<Vec<Voter>>,
    opts: &Options,
    report: &mut Report,
) {
    let System::Chorus(chorus) = system.as_ref() else {
        return;
    };
    let readers = opts.connections.max(1);
    let cookie_of = |r: usize| -> String {
        if endpoint.staff {
            admin.to_string()
        } else {
            cookie(voters, r % voters.len()).to_string()
        }
    };
    // Warm-up: each path once, so the first computation (an analysis, a cold
    // cache) is reported apart and not in the percentiles.
    let warm = Instant::now();
    for path in &endpoint.paths {
        if let Err(e) = chorus.api(0).get_bytes(path, Some(&cookie_of(0))).await {
            report.fail(format!("warm-up: {e:#}"));
            return;
        }
    }
    eprintln!(
        "big-conversation: {} warm-up ({} path{}) {:.0} ms",
        endpoint.name,
        endpoint.paths.len(),
        if endpoint.paths.len() == 1 { "" } else { "s" },
        warm.elapsed().as_secs_f64() * 1000.0
    );

    let histograms = Arc::new(Histograms::default());
    let ok = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let paths = Arc::new(endpoint.paths.clone());
    let bar = progress::bar(
        opts.progress,
        opts.duration.as_secs(),
        &format!("reading {}", endpoint.name.trim_start_matches("GET ")),
    );
    let before = common::usage(system);
    let start = Instant::now();
    let deadline = start + opts.duration;
    let tasks: Vec<_> = (0..readers)
        .map(|r| {
            let (system, histograms, ok, bytes, errors, first_errors, paths) = (
                system.clone(),
                histograms.clone(),
                ok.clone(),
                bytes.clone(),
                errors.clone(),
                first_errors.clone(),
                paths.clone(),
            );
            let cookie = cookie_of(r);
            tokio::spawn(async move {
                let System::Chorus(chorus) = system.as_ref() else {
                    return;
                };
                let mut rng = StdRng::from_entropy();
                let api = chorus.api(0);
                while Instant::now() < deadline {
                    let path = &paths[rng.gen_range(0..paths.len())];
                    let sent = Instant::now();
                    match api.get_bytes(path, Some(&cookie)).await {
                        Ok(n) => {
                            let micros = sent.elapsed().as_micros() as u64;
                            histograms.record(r, &[micros]);
                            ok.fetch_add(1, Ordering::Relaxed);
                            bytes.store(n as u64, Ordering::Relaxed);
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            {
                                let mut first = first_errors.lock().expect("lock");
                                if first.len() < 3 {
                                    first.push(format!("{e:#}"));
                                }
                            }
                            // Do not spin on a failing endpoint.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            })
        })
        .collect();
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    ticker.abort();
    bar.finish_and_clear();
    let elapsed = start.elapsed();
    let after = common::usage(system);

    let secs = elapsed.as_secs_f64().max(1e-9);
    report.connections = readers;
    report.nodes = system.nodes();
    report.duration_s = (secs * 100.0).round() / 100.0;
    report.latency_ms = Latency::from_micros(&histograms.merged());
    report.requests_per_s = Some((ok.load(Ordering::Relaxed) as f64 / secs).round());
    report.response_bytes = Some(bytes.load(Ordering::Relaxed));
    let client = after.client_cpu.saturating_sub(before.client_cpu);
    report.client_cpu_s = Some((client.as_secs_f64() * 1000.0).round() / 1000.0);
    if before.known && after.known {
        let cpu = after.cpu.saturating_sub(before.cpu).as_secs_f64();
        report.server_cpu_s = Some((cpu * 1000.0).round() / 1000.0);
        report.server_rss_kb = Some(after.rss_kb);
    }
    let failed = errors.load(Ordering::Relaxed);
    if failed > 0 {
        report.fail(format!(
            "{failed} reads failed; first: {}",
            first_errors.lock().expect("lock").join(" | ")
        ));
    }
    if ok.load(Ordering::Relaxed) == 0 {
        report.fail("no read succeeded");
    }
}
