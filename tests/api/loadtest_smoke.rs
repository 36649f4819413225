//! A small run of every loadtest scenario against this build of chorus:
//! the figures come out and every exactness check holds. Speed itself is
//! measured at full size by `loadtest/bench.sh`, never asserted here.

use std::time::Duration;

use loadtest::{Database, Options, Scenario};

fn small() -> Options {
    Options {
        connections: 50,
        rate: 100.0,
        duration: Duration::from_secs(3),
        chorus_bin: Some(env!("CARGO_BIN_EXE_chorus").into()),
        progress: false,
        ..Options::default()
    }
}

async fn smoke(scenario: Scenario, options: Options) -> Vec<loadtest::Report> {
    let reports = loadtest::run(scenario, options)
        .await
        .expect("the scenario runs");
    assert!(!reports.is_empty());
    for report in &reports {
        assert!(
            report.exact,
            "{scenario:?} not exact: {:?}",
            report.problems
        );
        assert!(report.system.starts_with("chorus"), "{report:?}");
        assert!(report.duration_s > 0.0);
        match scenario {
            Scenario::Idle => assert!(report.rss_per_connection_kb.is_some(), "{report:?}"),
            Scenario::Ingest => assert!(report.votes_per_s > 0.0, "{report:?}"),
            Scenario::BigConversation => assert!(
                report.requests_per_s.unwrap_or_default() > 0.0
                    && report.latency_ms.p99 > 0.0
                    && report.seed.is_some(),
                "{report:?}"
            ),
            _ => assert!(
                report.updates_delivered > 0 && report.latency_ms.p99 > 0.0,
                "{report:?}"
            ),
        }
    }
    reports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_event_burst() {
    smoke(Scenario::EventBurst, small()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_comment_stream() {
    smoke(
        Scenario::CommentStream,
        Options {
            rate: 20.0,
            ..small()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_idle() {
    smoke(Scenario::Idle, small()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_ingest_on_both_stores() {
    if !crate::helpers::postgres_reachable().await {
        smoke(Scenario::Ingest, small()).await;
        return;
    }
    smoke(
        Scenario::Ingest,
        Options {
            databases: vec![Database::Sqlite, Database::Postgres],
            ..small()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_fanout() {
    smoke(
        Scenario::Fanout,
        Options {
            fanout_steps: vec![10, 40],
            ..small()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_cluster() {
    if !crate::helpers::postgres_reachable().await {
        return;
    }
    smoke(
        Scenario::Cluster,
        Options {
            nodes: 2,
            ..small()
        },
    )
    .await;
}

/// Tiny sizes: 30 participants, 3 pledges, 60 comments and replies, 300
/// votes (90 on pledges, 210 up-votes), then 5 readers for a second on each
/// of the seven read endpoints (the snapshot, comments in four orders, the
/// moderation queue and the report).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_big_conversation() {
    let options = Options {
        connections: 5,
        duration: Duration::from_secs(1),
        items: 3,
        participants: 30,
        comments: 60,
        votes: 300,
        ..small()
    };
    let reports = smoke(Scenario::BigConversation, options).await;
    assert_eq!(reports.len(), 7, "{}", loadtest::report::table(&reports));
    let seed = reports[0].seed.clone().expect("a seed");
    assert_eq!(
        (
            seed.participants,
            seed.pledges,
            seed.comments + seed.replies
        ),
        (30, 3, 60)
    );
    assert_eq!(seed.pledge_votes + seed.comment_up_votes, 300);
}

/// A short soak: 40 connections, 4 of which drop and resume (the first at
/// once), 20 votes/s and 2 comments/s for 8 s, a moderator hiding comments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_soak() {
    let reports = smoke(
        Scenario::Soak,
        Options {
            connections: 40,
            rate: 20.0,
            duration: Duration::from_secs(8),
            ..small()
        },
    )
    .await;
    let soak = reports[0].soak.as_ref().expect("soak figures");
    assert!(
        soak.rss_start_kb.is_some() && soak.rss_end_kb.is_some(),
        "{soak:?}"
    );
    assert!(soak.resumes >= 1 && soak.comments > 0, "{soak:?}");
    // The bounded structures are read from /metrics: the comments are in
    // the replay ring by the end, and SQLite holds its caches.
    assert!(soak.replay_events[2].unwrap_or(0) >= 1, "{soak:?}");
    assert!(
        soak.replay_kb[2].is_some() && soak.sqlite_kb[2].unwrap_or(0) > 0,
        "{soak:?}"
    );
    assert!(soak.samples.len() >= 2, "{soak:?}");
}

/// Two nodes on a PostgreSQL and a Redis of the scenario's own; 20 voters at
/// 20 votes/s for 13 s while PostgreSQL, then Redis, is down for a second.
/// Every vote is retried with its request id until acknowledged; the store
/// and every watcher must agree with the acknowledged votes, every 503 must
/// carry Retry-After, and no answer may take longer than 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_restarts() {
    if !crate::helpers::postgres_reachable().await {
        return;
    }
    let reports = smoke(
        Scenario::Restarts,
        Options {
            connections: 20,
            rate: 20.0,
            duration: Duration::from_secs(13),
            outage: Duration::from_secs(1),
            ..small()
        },
    )
    .await;
    let restarts = &reports[0].restarts;
    assert_eq!(
        restarts
            .iter()
            .map(|r| r.service.as_str())
            .collect::<Vec<_>>(),
        ["postgresql", "redis"],
        "{}",
        loadtest::report::table(&reports)
    );
    // Only what docs/operations.md promises: refusals are 503s with
    // Retry-After, nothing else fails, nothing hangs, and writes are
    // accepted again once the service is back.
    for r in restarts {
        assert!(
            r.attempts > 0 && r.accepted_again_after_s.is_some() && r.as_promised(),
            "{}",
            r.summary()
        );
    }
    assert_eq!(reports[0].write_errors, 0, "{:?}", reports[0].problems);
}
