//! Many participants voting at once: the final tallies equal a count of
//! the stored votes, and every tally version a voter saw only grows.

use std::collections::HashMap;

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn two_hundred_voters(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 3).await;
    let mut voters = Vec::new();
    for _ in 0..200 {
        voters.push(app.participant(&slug).await);
    }
    let mut tasks = Vec::new();
    for (n, voter) in voters.into_iter().enumerate() {
        let slug = slug.clone();
        let items = items.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen: HashMap<String, Vec<i64>> = HashMap::new();
            for round in 0..4 {
                let item = &items[(n + round) % items.len()];
                let choice = match (n + round) % 3 {
                    0 => Some("strong"),
                    1 => Some("wrong"),
                    _ => None,
                };
                let (status, answer) = voter.vote(&slug, item, choice).await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                seen.entry(item.clone())
                    .or_default()
                    .push(answer["tally"]["version"].as_i64().unwrap());
            }
            seen
        }));
    }
    for task in tasks {
        for (_, versions) in task.await.unwrap() {
            assert!(
                versions.windows(2).all(|w| w[0] <= w[1]),
                "versions went backwards: {versions:?}"
            );
        }
    }
    // The tallies equal a count of the stored votes.
    let (_, snapshot) = admin.get(&format!("/api/conversations/{slug}")).await;
    let conversation = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap();
    let counted = count_votes(&app.database_url, conversation.id).await;
    for item in snapshot["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        let (strong, wrong) = counted.get(id).copied().unwrap_or((0, 0));
        assert_eq!(item["strong"].as_i64().unwrap(), strong, "strong of {id}");
        assert_eq!(item["wrong"].as_i64().unwrap(), wrong, "wrong of {id}");
        assert!(item["version"].as_i64().unwrap() >= strong + wrong);
    }
    app.stop().await;
}

/// Counts votes per item straight from the database, bypassing chorus.
async fn count_votes(url: &str, conversation: uuid::Uuid) -> HashMap<String, (i64, i64)> {
    let rows: Vec<(uuid::Uuid, String, i64)> = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_as("SELECT item_id, choice, COUNT(*) FROM votes WHERE conversation_id = $1 GROUP BY item_id, choice")
            .bind(conversation)
            .fetch_all(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_as("SELECT item_id, choice, COUNT(*) FROM votes WHERE conversation_id = $1 GROUP BY item_id, choice")
            .bind(conversation)
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let mut counted: HashMap<String, (i64, i64)> = HashMap::new();
    for (item, choice, n) in rows {
        let entry = counted.entry(item.to_string()).or_default();
        match choice.as_str() {
            "strong" => entry.0 += n,
            _ => entry.1 += n,
        }
    }
    counted
}

#[tokio::test]
async fn two_hundred_concurrent_voters_on_sqlite() {
    two_hundred_voters(Backend::Sqlite).await;
}

#[tokio::test]
async fn two_hundred_concurrent_voters_on_postgres() {
    two_hundred_voters(Backend::Postgres).await;
}
