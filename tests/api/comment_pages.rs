//! The participant page's comment orders (docs/api.md, the comments
//! endpoint): newest and most agreed, top-level only, a page at a time
//! with each comment's number of replies, and a comment's replies.

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Reads every page of `query` (`after` follows `next`); returns the
/// bodies in order and the `replies` maps merged.
async fn all_pages(
    client: &Client,
    url: &str,
    query: &str,
) -> (Vec<String>, serde_json::Map<String, Value>) {
    let mut bodies = Vec::new();
    let mut replies = serde_json::Map::new();
    let mut after: Option<i64> = None;
    for _ in 0..20 {
        let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let (status, page) = client.get(&format!("{url}?{query}{cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        let comments = page["comments"].as_array().unwrap();
        assert!(comments.len() <= 4, "a page holds at most `limit`");
        for c in comments {
            assert_eq!(c["parent_id"], Value::Null, "{query}: top-level only");
            bodies.push(c["body"].as_str().unwrap().to_string());
            let id = c["id"].as_str().unwrap();
            assert!(
                page["replies"].get(id).is_some(),
                "{query}: every comment has its reply count"
            );
        }
        replies.extend(page["replies"].as_object().unwrap().clone());
        match page["next"].as_i64() {
            Some(next) => after = Some(next),
            None => return (bodies, replies),
        }
    }
    panic!("{query}: more than 20 pages");
}

async fn sorts_page_and_fold_replies(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let api = format!("/api/conversations/{slug}");
    let item = &items[0];
    // Four participants, three comments each (under the per-participant
    // comment rate limit): c0 … c11 in the order they were made.
    let mut people = Vec::new();
    for _ in 0..4 {
        people.push(app.participant(&slug).await);
    }
    let mut ids = Vec::new();
    for round in 0..3 {
        for (p, person) in people.iter().enumerate() {
            let n = round * 4 + p;
            let (id, status, answer) = person.comment(&slug, item, &format!("c{n}")).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            ids.push(id);
        }
    }
    // Replies: two to c1, one to c6.
    let reply = |who: usize, parent: usize, body: &str| {
        let (person, parent, body) = (&people[who], ids[parent].clone(), body.to_string());
        let url = format!("{api}/items/{item}/comments");
        async move {
            let (status, answer) = person
                .post(
                    &url,
                    json!({"id": Uuid::new_v4(), "body": body, "parent_id": parent}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        }
    };
    reply(0, 1, "r1a").await;
    reply(2, 1, "r1b").await;
    reply(3, 6, "r6a").await;
    // Up-votes: c5 three, c2 two, c9 one (never one's own).
    for (comment, voters) in [(5, vec![0, 2, 3]), (2, vec![0, 1]), (9, vec![0])] {
        for v in voters {
            let (status, answer) = people[v]
                .put(
                    &format!("{api}/comments/{}/vote", ids[comment]),
                    json!({"request_id": Uuid::new_v4(), "up": true}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
    }
    // A facilitator hides c7: no order shows it.
    let (status, answer) = admin
        .post(
            &format!("{api}/comments/{}/moderation", ids[7]),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "off topic"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let url = format!("{api}/items/{item}/comments");
    let reader = app.client();
    let (newest, replies) = all_pages(&reader, &url, "sort=newest&limit=4").await;
    assert_eq!(
        newest,
        ["c11", "c10", "c9", "c8", "c6", "c5", "c4", "c3", "c2", "c1", "c0"]
    );
    assert_eq!(replies[&ids[1]], 2);
    assert_eq!(replies[&ids[6]], 1);
    assert_eq!(replies[&ids[0]], 0);
    assert_eq!(replies.len(), 11);

    let (agreed, _) = all_pages(&reader, &url, "sort=most_agreed&limit=4").await;
    assert_eq!(
        agreed,
        ["c5", "c2", "c9", "c0", "c1", "c3", "c4", "c6", "c8", "c10", "c11"],
        "most up-votes first, then oldest first"
    );
    // Staff read the same top-level orders (visible comments only).
    let (staff_view, _) = all_pages(&admin, &url, "sort=newest&limit=4").await;
    assert_eq!(staff_view, newest);

    // A comment's replies, in the order they were made.
    let (status, page) = reader
        .get(&format!("{url}?parent={}&limit=1", ids[1]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["comments"][0]["body"], "r1a");
    let next = page["next"].as_i64().expect("a second page");
    let (_, page) = reader
        .get(&format!("{url}?parent={}&limit=1&after={next}", ids[1]))
        .await;
    assert_eq!(page["comments"][0]["body"], "r1b");
    assert!(
        page.get("replies").is_none(),
        "replies carry no reply counts"
    );

    // Bad input names the field.
    for (query, field) in [
        ("sort=popular", "sort"),
        (&format!("sort=newest&parent={}", ids[1])[..], "sort"),
        ("parent=not-a-uuid", "parent"),
    ] {
        let (status, problem) = reader.get(&format!("{url}?{query}")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
}

#[tokio::test]
async fn comments_sort_page_and_fold_replies_on_sqlite() {
    sorts_page_and_fold_replies(spawn_app().await).await;
}

#[tokio::test]
async fn comments_sort_page_and_fold_replies_on_postgres() {
    match spawn_app_with(Backend::Postgres, |_| {}).await {
        Some(app) => sorts_page_and_fold_replies(app).await,
        None => eprintln!("skipped: PostgreSQL is not reachable"),
    }
}
