//! The load generator measures the floor end to end (no chorus needed):
//! figures come out and the exactness check holds.

use std::time::Duration;

use loadtest::{Options, Peer, Scenario};

fn small() -> Options {
    Options {
        connections: 40,
        rate: 100.0,
        duration: Duration::from_secs(2),
        peers: vec![Peer::Floor],
        skip_chorus: true,
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_burst_against_the_floor_is_exact_and_measured() {
    let reports = loadtest::run(Scenario::EventBurst, small()).await.unwrap();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert!(r.exact, "{}", loadtest::report::table(&reports));
    assert_eq!(r.system, "floor");
    assert!(r.votes_per_s > 50.0, "{r:?}");
    assert!(r.updates_delivered > 0 && r.latency_ms.p99 > 0.0, "{r:?}");
}

/// On the default current-thread test runtime too, as a caller's test may use it.
#[tokio::test]
async fn fanout_against_the_floor_reports_each_step() {
    let opts = Options {
        fanout_steps: vec![10, 40],
        ..small()
    };
    let reports = loadtest::run(Scenario::Fanout, opts).await.unwrap();
    assert_eq!(
        reports.iter().map(|r| r.connections).collect::<Vec<_>>(),
        vec![10, 40]
    );
    assert!(
        reports.iter().all(|r| r.exact && r.frames_per_s > 0.0),
        "{}",
        loadtest::report::table(&reports)
    );
}
