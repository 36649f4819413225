//! Shutdown (issue 3): on SIGTERM the real binary closes every WebSocket
//! with 1012 "server restarting" and exits within `shutdown_timeout_s`;
//! in process, cancelling the token does the same for every connection.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chorus::domain::Role;
use serde_json::json;

use crate::helpers::*;
use crate::live::{expect_close, subscribe, subscribe_on, WAIT};

/// Kills the child if the test fails before it exits.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real binary with the demo conversation, configured through the
/// environment; returns it with its address and the demo's slug.
fn start_chorus(env: &[(&str, &str)]) -> (Child, tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_chorus"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(format!("sqlite://{}/c.db", dir.path().display()))
        .arg("--demo")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = Child(command.spawn().expect("the chorus binary starts"));
    // Read the address and the demo conversation's slug from stdout.
    let stdout = child.0.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut address, mut slug) = (None, None);
    while address.is_none() || slug.is_none() {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chorus prints its address");
        if let Some(rest) = line.strip_prefix("chorus listening on http://") {
            address = Some(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("demo conversation: ") {
            slug = Some(rest.rsplit('/').next().unwrap().trim().to_string());
        }
    }
    (child, dir, address.unwrap(), slug.unwrap())
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (bounded) for the child to exit; returns how long after `since`.
async fn exited(child: &mut Child, since: Instant, bound: Duration) -> Duration {
    loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            assert!(exit.success(), "clean exit: {exit:?}");
            return since.elapsed();
        }
        assert!(
            since.elapsed() < bound,
            "chorus did not exit within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_closes_clients_with_1012_and_exits_in_time() {
    let (mut child, _dir, address, slug) = start_chorus(&[("CHORUS_SHUTDOWN_TIMEOUT_S", "5")]);
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
            .await
            .unwrap();
        let start = subscribe_on(&mut socket, &slug, None, None).await;
        assert_eq!(start.subscribed["role"], "display");
        sockets.push(socket);
    }

    let signalled = Instant::now();
    sigterm(&child);
    for socket in sockets.iter_mut() {
        let (code, reason, _) = expect_close(socket, Duration::from_secs(5)).await;
        assert_eq!((code, reason.as_str()), (1012, "server restarting"));
    }
    // shutdown_timeout_s (5 s) and a margin for the process to end.
    exited(&mut child, signalled, Duration::from_secs(5 + 2)).await;
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
            .await
            .is_err(),
        "nothing listens after exit"
    );
}

#[tokio::test]
async fn stopping_the_application_closes_every_connection_with_1012() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let cookie = sign_up_cookie(&app, &slug).await;
    let facilitator = staff_cookie(&app, Role::Facilitator).await;
    let (mut participant, _) = subscribe(&app, Some(&cookie), &slug, None, None).await;
    let (mut desk, _) = subscribe(&app, Some(&facilitator), &slug, None, None).await;
    // One connection that never subscribed.
    let mut idle = connect(&app, None, None).await;
    send_json(&mut idle, json!({"type": "ping"})).await;
    next_json(&mut idle, WAIT).await;

    let shutdown = app.shutdown.clone();
    let server = app.server;
    let stopped = Instant::now();
    shutdown.cancel();
    for socket in [&mut participant, &mut desk, &mut idle] {
        let (code, reason, _) = expect_close(socket, WAIT).await;
        assert_eq!((code, reason.as_str()), (1012, "server restarting"));
    }
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops within shutdown_timeout_s")
        .unwrap();
    assert!(stopped.elapsed() < Duration::from_secs(10));
}

/// A client stuck mid-send (it never reads, its buffers are full) cannot
/// hold the process past `shutdown_timeout_s`; the others still get 1012.
#[tokio::test]
async fn a_stuck_connection_does_not_hold_shutdown_past_its_bound() {
    let (mut child, _dir, address, slug) = start_chorus(&[
        ("CHORUS_SHUTDOWN_TIMEOUT_S", "3"),
        ("CHORUS_WS__SEND_TIMEOUT_S", "60"),
        ("CHORUS_RATE__COMMENT_PER_S", "100000"),
        ("CHORUS_RATE__COMMENT_BURST", "100000"),
    ]);
    let base = format!("http://{address}");
    let writer = Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        base: base.clone(),
    };
    let (status, _) = writer
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert!(status.is_success());
    let (_, snapshot) = writer.get(&format!("/api/conversations/{slug}")).await;
    let item = snapshot["items"][0]["id"].as_str().unwrap().to_string();

    let mut stuck = {
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(4096).unwrap();
        let stream = tcp.connect(address.parse().unwrap()).await.unwrap();
        let (socket, _) = tokio_tungstenite::client_async(
            format!("ws://{address}/ws"),
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap();
        socket
    };
    subscribe_on(&mut stuck, &slug, None, None).await;
    let (mut healthy, _) = tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
        .await
        .unwrap();
    subscribe_on(&mut healthy, &slug, None, None).await;

    // 6 MB of comments: far more than the stuck client's buffers hold, so
    // its connection task ends up waiting in a send (for up to 60 s).
    let body = "\u{1F600}".repeat(2000);
    for _ in 0..750 {
        let (_, status, _) = writer.comment(&slug, &item, &body).await;
        assert!(status.is_success());
    }
    drop(healthy);
    let (mut healthy, _) = tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
        .await
        .unwrap();
    subscribe_on(&mut healthy, &slug, None, None).await;

    let signalled = Instant::now();
    sigterm(&child);
    let (code, _, _) = expect_close(&mut healthy, Duration::from_secs(5)).await;
    assert_eq!(code, 1012);
    let took = exited(&mut child, signalled, Duration::from_secs(3 + 2)).await;
    assert!(
        took >= Duration::from_millis(2500),
        "the stuck connection should have held shutdown until the bound ({took:?}): the test did not get it stuck"
    );
    drop(stuck);
}
