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

#[tokio::test]
async fn sigterm_closes_clients_with_1012_and_exits_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_chorus"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(format!("sqlite://{}/c.db", dir.path().display()))
            .arg("--demo")
            .env("CHORUS_SHUTDOWN_TIMEOUT_S", "5")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the chorus binary starts"),
    );
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
    let (address, slug) = (address.unwrap(), slug.unwrap());

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
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for socket in sockets.iter_mut() {
        let (code, reason, _) = expect_close(socket, Duration::from_secs(5)).await;
        assert_eq!((code, reason.as_str()), (1012, "server restarting"));
    }
    let exit = loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5 + 2),
            "chorus did not exit within shutdown_timeout_s (5 s) and a margin"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "clean exit: {exit:?}");
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
