//! The Socket.IO peer end to end: loadtest starts `peers/socketio/server.js`,
//! speaks Engine.IO/Socket.IO over a raw WebSocket, and checks exactness.
//! Needs node (and npm for the first `npm ci`) and Redis on 127.0.0.1:6379;
//! says so and passes when they are missing.

use std::time::Duration;

use loadtest::{Options, Peer, Scenario};

fn available() -> bool {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok();
    let redis = std::net::TcpStream::connect("127.0.0.1:6379").is_ok();
    if !(node && redis) {
        eprintln!("skipped: the Socket.IO peer needs node and Redis on 127.0.0.1:6379");
    }
    node && redis
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_burst_against_socketio_is_exact_and_measured() {
    if !available() {
        return;
    }
    let opts = Options {
        connections: 30,
        rate: 50.0,
        duration: Duration::from_secs(2),
        peers: vec![Peer::Socketio],
        skip_chorus: true,
        ..Options::default()
    };
    let reports = loadtest::run(Scenario::EventBurst, opts).await.unwrap();
    let r = &reports[0];
    assert!(r.exact, "{}", loadtest::report::table(&reports));
    assert_eq!(r.system, "socketio");
    assert!(r.updates_delivered > 0 && r.server_cpu_s.is_some(), "{r:?}");
}
