//! The Socket.IO peer end to end, in both modes (`socketio`, `socketio-coalesced`):
//! loadtest starts `peers/socketio/server.js`, speaks Engine.IO/Socket.IO over a
//! raw WebSocket, and checks exactness.
//! Needs node (and npm for the first `npm ci`) and Redis on 127.0.0.1:6379;
//! says so and passes when they are missing.

use std::time::Duration;

use loadtest::systems::socketio::{EmitMode, SocketIo};
use loadtest::systems::{Choice, Voter};
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

async fn event_burst_is_exact_and_measured(peer: Peer) {
    if !available() {
        return;
    }
    let opts = Options {
        connections: 30,
        rate: 50.0,
        duration: Duration::from_secs(2),
        peers: vec![peer],
        skip_chorus: true,
        ..Options::default()
    };
    let reports = loadtest::run(Scenario::EventBurst, opts).await.unwrap();
    let r = &reports[0];
    assert!(r.exact, "{}", loadtest::report::table(&reports));
    assert_eq!(r.system, peer.name());
    assert!(r.updates_delivered > 0 && r.server_cpu_s.is_some(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_burst_against_socketio_is_exact_and_measured() {
    event_burst_is_exact_and_measured(Peer::Socketio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_burst_against_socketio_coalesced_is_exact_and_measured() {
    event_burst_is_exact_and_measured(Peer::SocketioCoalesced).await;
}

/// Many changes of one voter's vote at once, over two nodes: the vote stays
/// one vote (the peer once read the previous vote outside its transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_by_one_voter_count_once() {
    if !available() {
        return;
    }
    let opts = Options {
        items: 1,
        ..Options::default()
    };
    let peer = SocketIo::start(&opts, 2, EmitMode::Coalesced)
        .await
        .unwrap();
    let voter = Voter {
        id: "voter-0".into(),
        cookie: None,
    };
    let changes = (0..200).map(|i| {
        let choice = if i % 2 == 0 {
            Choice::Strong
        } else {
            Choice::Wrong
        };
        peer.vote(&voter, i % 2, 0, choice)
    });
    let results = futures_util::future::join_all(changes).await;
    let tallies = peer.tallies().await;
    peer.stop().await;
    for r in results {
        r.unwrap();
    }
    let t = tallies.unwrap()[0];
    assert_eq!((t.strong + t.wrong, t.version), (1, 200), "{t:?}");
}
