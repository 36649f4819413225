//! No address is stored: the real binary, logging at debug, signs people in
//! by email through a real SMTP server; then every byte of the SQLite
//! files and of everything the server printed is searched for the test
//! addresses (and for the client's IP address in the database).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus::config::Settings;
use chorus::domain::Role;
use chorus::http::auth::hash_password;
use chorus::store::{self, write};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use uuid::Uuid;

use crate::smtp::{code_in, SmtpSink};

const ADDRESSES: [&str; 3] = [
    "robin.private@uhb.nhs.uk",
    "alex.hidden@nhs.net",
    "kim.refused@example.org",
];

#[tokio::test]
async fn no_address_or_ip_reaches_the_database_or_the_logs() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/chorus.db", dir.path().display());
    let store = store::connect(&database, &Settings::defaults().store)
        .await
        .unwrap();
    store
        .write(write::CreateUser {
            id: Uuid::new_v4(),
            name: "organiser".into(),
            role: Role::Admin,
            password_hash: hash_password("correct horse battery").unwrap(),
        })
        .await
        .unwrap();
    store.close().await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .env("RUST_LOG", "debug")
        .env("CHORUS_MAIL__SMTP_URL", sink.url())
        .env(
            "CHORUS_IDENTITY__KEY_FILE",
            dir.path().join("identity.key").display().to_string(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("chorus starts");
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut stderr = child.stderr.take().unwrap();
    let err_logs = logs.clone();
    let drain_err = tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            err_logs.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("chorus listens");
            logs.lock().unwrap().extend_from_slice(line.as_bytes());
            if let Some(url) = line.strip_prefix("chorus listening on ") {
                return url.to_string();
            }
        }
    })
    .await
    .unwrap();
    let out_logs = logs.clone();
    let drain_out = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            out_logs.lock().unwrap().extend_from_slice(line.as_bytes());
        }
    });

    let client = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
    };
    let post = |c: reqwest::Client, path: String, body: Value| {
        let base = base.clone();
        async move {
            let r = c
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let admin = client();
    let (status, _) = post(
        admin.clone(),
        "/api/login".into(),
        json!({"name": "organiser", "password": "correct horse battery"}),
    )
    .await;
    assert!(status.is_success());
    let (status, created) = post(
        admin.clone(),
        "/api/conversations".into(),
        json!({"slug": "private-talk", "title": "Private", "opens_at": "2026-01-01T00:00:00Z",
               "closes_at": "2036-01-01T00:00:00Z", "ways_in": ["email"],
               "email_domains": ["nhs.net", "*.nhs.uk"]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    for address in &ADDRESSES[..2] {
        for _device in 0..2 {
            let c = client();
            let path = "/api/conversations/private-talk/email-codes";
            let before = sink
                .messages()
                .iter()
                .filter(|m| m.contains(address))
                .count();
            let (status, _) = post(c.clone(), path.into(), json!({"address": address})).await;
            assert_eq!(status, 202);
            let code = code_in(&sink.nth_to(address, before + 1).await);
            // A wrong try first, then the right code.
            let verify = format!("{path}/verify");
            let wrong = if code == "000000" { "111111" } else { "000000" };
            post(
                c.clone(),
                verify.clone(),
                json!({"address": address, "code": wrong}),
            )
            .await;
            let (status, body) = post(
                c.clone(),
                verify,
                json!({"address": address.to_uppercase(), "code": code}),
            )
            .await;
            assert!(status.is_success(), "{body}");
        }
    }
    let (status, _) = post(
        client(),
        "/api/conversations/private-talk/email-codes".into(),
        json!({"address": ADDRESSES[2]}),
    )
    .await;
    assert_eq!(status, 422);
    // One still waiting, never used.
    post(
        client(),
        "/api/conversations/private-talk/email-codes".into(),
        json!({"address": "pending.person@nhs.net"}),
    )
    .await;
    sink.nth_to("pending.person@nhs.net", 1).await;
    // The mail did go out, to the addresses.
    assert!(sink.messages().iter().any(|m| m.contains(ADDRESSES[0])));

    let files = ["chorus.db", "chorus.db-wal", "chorus.db-shm"];
    let scan = |when: &str| {
        let mut scanned = 0;
        for file in files {
            let Ok(bytes) = std::fs::read(dir.path().join(file)) else {
                continue;
            };
            scanned += bytes.len();
            for needle in ADDRESSES
                .iter()
                .copied()
                .chain(["pending.person@nhs.net", "127.0.0.1"])
            {
                for form in [needle.to_string(), needle.to_uppercase()] {
                    assert!(
                        !contains(&bytes, form.as_bytes()),
                        "{when}: {file} holds {form:?}"
                    );
                }
                if let Some((local, _)) = needle.split_once('@') {
                    assert!(
                        !contains(&bytes, local.as_bytes()),
                        "{when}: {file} holds {local:?}"
                    );
                }
            }
        }
        assert!(scanned > 0, "the database files were read");
    };
    scan("while running");
    // Stop the server (SIGTERM: a clean shutdown checkpoints the WAL).
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), drain_err).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), drain_out).await;
    scan("after stopping");
    let logs = logs.lock().unwrap().clone();
    assert!(logs.len() > 1000, "debug logging ran: {} bytes", logs.len());
    for needle in ADDRESSES.iter().copied().chain(["pending.person@nhs.net"]) {
        let local = needle.split_once('@').unwrap().0;
        for form in [needle.to_string(), needle.to_uppercase(), local.to_string()] {
            assert!(
                !contains(&logs, form.as_bytes()),
                "the logs hold {form:?}:\n{}",
                String::from_utf8_lossy(&logs)
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
