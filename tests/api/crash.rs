//! Durability: kill the server with SIGKILL right after it acknowledged
//! writes, start it again on the same SQLite file, and find every
//! acknowledged vote and comment there.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

/// Starts the real binary; returns the child and its base URL.
pub async fn start_chorus(database_url: &str, extra_env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chorus"));
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database_url,
            "--demo",
        ])
        .env("CHORUS_RATE__SIGNUP_PER_IP_BURST", "100000")
        .env("CHORUS_RATE__VOTE_BURST", "100000")
        .env("CHORUS_RATE__COMMENT_BURST", "100000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("chorus starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("chorus listening on ") {
                return url.to_string();
            }
        }
        panic!("chorus exited before listening");
    })
    .await
    .expect("chorus listens in time");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/chorus.db", dir.path().display());
    let (mut child, base) = start_chorus(&url, &[]).await;
    let slug = "best-place-to-work";
    let snapshot: serde_json::Value = http()
        .get(format!("{base}/api/conversations/{slug}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items: Vec<String> = snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();

    // Twenty participants write concurrently; we remember what was acknowledged.
    let mut tasks = Vec::new();
    for n in 0..20 {
        let base = base.clone();
        let items = items.clone();
        tasks.push(tokio::spawn(async move {
            let client = http();
            let signed = client
                .post(format!("{base}/api/conversations/{slug}/participants"))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(signed.status(), StatusCode::CREATED);
            let mut acked_votes = Vec::new();
            let mut acked_comments = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let choice = if (n + i) % 2 == 0 { "strong" } else { "wrong" };
                let r = client
                    .put(format!("{base}/api/conversations/{slug}/items/{item}/vote"))
                    .json(&json!({"request_id": Uuid::new_v4(), "choice": choice}))
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::OK {
                    acked_votes.push((item.clone(), choice));
                }
                let id = Uuid::new_v4().to_string();
                let r = client
                    .post(format!(
                        "{base}/api/conversations/{slug}/items/{item}/comments"
                    ))
                    .json(&json!({"id": id, "body": format!("comment {n}-{i}")}))
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::CREATED {
                    acked_comments.push(id);
                }
            }
            (acked_votes, acked_comments)
        }));
    }
    let mut votes = Vec::new();
    let mut comments = Vec::new();
    for task in tasks {
        let (v, c) = task.await.unwrap();
        votes.extend(v);
        comments.extend(c);
    }
    // Kill at once after the last acknowledgement: no clean shutdown.
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    assert_eq!(votes.len(), 20 * items.len());
    assert_eq!(comments.len(), 20 * items.len());

    let (mut child, base) = start_chorus(&url, &[]).await;
    let snapshot: serde_json::Value = http()
        .get(format!("{base}/api/conversations/{slug}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for item in snapshot["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        let strong = votes
            .iter()
            .filter(|(i, c)| i == id && *c == "strong")
            .count() as i64;
        let wrong = votes
            .iter()
            .filter(|(i, c)| i == id && *c == "wrong")
            .count() as i64;
        assert_eq!(
            item["strong"].as_i64().unwrap(),
            strong,
            "strong votes of {id} after the crash"
        );
        assert_eq!(
            item["wrong"].as_i64().unwrap(),
            wrong,
            "wrong votes of {id} after the crash"
        );
    }
    let mut stored = Vec::new();
    for item in &items {
        let page: serde_json::Value = http()
            .get(format!(
                "{base}/api/conversations/{slug}/items/{item}/comments?limit=500"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stored.extend(
            page["comments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
    }
    for id in &comments {
        assert!(
            stored.contains(id),
            "acknowledged comment {id} lost in the crash"
        );
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    drop(dir);
}
