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

async fn smoke(scenario: Scenario, options: Options) {
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
            _ => assert!(
                report.updates_delivered > 0 && report.latency_ms.p99 > 0.0,
                "{report:?}"
            ),
        }
    }
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
        return smoke(Scenario::Ingest, small()).await;
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
