//! docs/operations.md, "PostgreSQL is unreachable": writes fail with 503
//! and Retry-After (nothing is acknowledged that is not durable), and the
//! web client retries them with the same UUIDs. Found by loadtest's
//! `restarts` scenario (issue 15): a write waited out the connection
//! pool's 10 s acquire timeout (src/store/postgres.rs) and was answered 500
//! without Retry-After (`sqlx::Error::PoolTimedOut` became
//! `ApiError::Internal` in src/http/error.rs), and a batch that failed so
//! was retried write by write, each waiting again (answers up to ~17 s).
//! Now an unreachable database is `StoreError::Unavailable`: 503 within
//! the writer's 1 s wait for its connection.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::crash::start_chorus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_while_postgresql_is_down_is_refused_at_once_with_503_and_kept_once_it_is_back() {
    let mut postgres = loadtest::services::PrivatePostgres::start()
        .await
        .expect("a private PostgreSQL (initdb and pg_ctl)");
    {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", postgres.url()))
            .await
            .unwrap();
        sqlx::query("CREATE DATABASE chorus_outage")
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
    let (_node, base) = start_chorus(&format!("{}/chorus_outage", postgres.url()), &[]).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let slug = "best-place-to-work";
    let snapshot: Value = http
        .get(format!("{base}/api/conversations/{slug}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = snapshot["items"][0]["id"].as_str().unwrap().to_string();
    let signed_up = http
        .post(format!("{base}/api/conversations/{slug}/participants"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    let cookie = signed_up
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("chorus_p_"))
        .and_then(|v| v.split(';').next())
        .expect("a participant cookie")
        .to_string();
    let vote = |request_id: Uuid, choice: &str| {
        http.put(format!("{base}/api/conversations/{slug}/items/{item}/vote"))
            .header("cookie", &cookie)
            .json(&json!({"request_id": request_id, "choice": choice}))
            .send()
    };
    // The session is known to the node before PostgreSQL goes.
    let first = vote(Uuid::new_v4(), "strong").await.unwrap();
    assert!(first.status().is_success());
    let before: Value = first.json().await.unwrap();
    let wrong_before = before["tally"]["wrong"].as_i64().unwrap();

    postgres.stop_fast().await.unwrap();
    let request_id = Uuid::new_v4();
    let asked = Instant::now();
    let refused = vote(request_id, "wrong").await.unwrap();
    let took = asked.elapsed();
    let (status, retry_after) = (
        refused.status(),
        refused.headers().get("retry-after").cloned(),
    );
    postgres.start_again().await.unwrap();
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "answered after {took:?}"
    );
    assert!(retry_after.is_some(), "a 503 carries Retry-After");
    assert!(took < Duration::from_secs(3), "refused only after {took:?}");

    // The same request, retried once PostgreSQL is back, is kept.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = vote(request_id, "wrong").await.unwrap();
        if answer.status().is_success() {
            let tally: Value = answer.json().await.unwrap();
            assert_eq!(
                tally["tally"]["wrong"].as_i64(),
                Some(wrong_before + 1),
                "{tally}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} 30 s after PostgreSQL came back",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
