//! Exact retries, as an outside client sees them: the first commit of a
//! request id stores its answer, and any later request with that id gets
//! exactly that answer back (same status, same bytes) and changes nothing,
//! whenever it arrives. The same id used for anything else is a 409.
//! Every test runs on SQLite and on PostgreSQL.

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Sends a JSON request and returns the status and the raw body.
async fn raw(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, String) {
    let response = client
        .http
        .request(method, format!("{}{path}", client.base))
        .json(&body)
        .send()
        .await
        .expect("sent");
    (response.status(), response.text().await.expect("body"))
}

async fn vote(
    client: &Client,
    slug: &str,
    item: &str,
    request: Uuid,
    choice: Value,
) -> (StatusCode, String) {
    let path = format!("/api/conversations/{slug}/items/{item}/vote");
    raw(
        client,
        reqwest::Method::PUT,
        &path,
        json!({"request_id": request, "choice": choice}),
    )
    .await
}

/// The item's stored tally, from a fresh snapshot.
async fn tally(client: &Client, slug: &str, item: &str) -> Value {
    let (_, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    let item = snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == item)
        .expect("item in snapshot")
        .clone();
    json!({"strong": item["strong"], "wrong": item["wrong"], "version": item["version"]})
}

async fn my_vote(client: &Client, slug: &str, item: &str) -> Value {
    let (_, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    snapshot["me"]["votes"][item].clone()
}

async fn a_retry_after_later_votes_gets_its_first_answer(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let first = Uuid::new_v4();
    let (status, answer) = vote(&alice, &slug, &items[0], first, json!("strong")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    vote(&alice, &slug, &items[0], Uuid::new_v4(), json!("wrong")).await;
    vote(&alice, &slug, &items[0], Uuid::new_v4(), Value::Null).await;
    let before = tally(&alice, &slug, &items[0]).await;

    let (status, again) = vote(&alice, &slug, &items[0], first, json!("strong")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, answer, "the first answer, byte for byte");
    assert_eq!(
        tally(&alice, &slug, &items[0]).await,
        before,
        "nothing changed"
    );
    assert_eq!(my_vote(&alice, &slug, &items[0]).await, Value::Null);
}

#[tokio::test]
async fn a_retry_after_later_votes_gets_its_first_answer_on_sqlite() {
    a_retry_after_later_votes_gets_its_first_answer(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_retry_after_later_votes_gets_its_first_answer_on_postgres() {
    a_retry_after_later_votes_gets_its_first_answer(Backend::Postgres).await;
}

/// The web client's offline queue re-sends a withdrawal; it must not
/// remove a vote made since.
async fn a_withdrawal_of_nothing_is_remembered(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let withdraw = Uuid::new_v4();
    let (status, answer) = vote(&alice, &slug, &items[0], withdraw, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = vote(&alice, &slug, &items[0], Uuid::new_v4(), json!("strong")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, again) = vote(&alice, &slug, &items[0], withdraw, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, answer);
    assert_eq!(my_vote(&alice, &slug, &items[0]).await, json!("strong"));
    assert_eq!(
        tally(&alice, &slug, &items[0]).await,
        json!({"strong": 1, "wrong": 0, "version": 1})
    );
}

#[tokio::test]
async fn a_withdrawal_of_nothing_is_remembered_on_sqlite() {
    a_withdrawal_of_nothing_is_remembered(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_withdrawal_of_nothing_is_remembered_on_postgres() {
    a_withdrawal_of_nothing_is_remembered(Backend::Postgres).await;
}

/// Another item, another choice, another participant or another endpoint:
/// the id is taken, the answer is 409, and nothing is written.
async fn a_request_id_used_for_something_else_is_a_conflict(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 2).await;
    let alice = app.participant(&slug).await;
    let bob = app.participant(&slug).await;
    let id = Uuid::new_v4();
    let (status, _) = vote(&alice, &slug, &items[0], id, json!("strong")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = vote(&alice, &slug, &items[1], id, json!("strong")).await;
    assert_eq!(status, StatusCode::CONFLICT, "another item: {body}");
    assert!(body.contains("/problems/conflict"), "{body}");
    assert_eq!(my_vote(&alice, &slug, &items[1]).await, Value::Null);

    let (status, _) = vote(&alice, &slug, &items[0], id, json!("wrong")).await;
    assert_eq!(status, StatusCode::CONFLICT, "another choice");
    assert_eq!(my_vote(&alice, &slug, &items[0]).await, json!("strong"));

    let (status, body) = vote(&bob, &slug, &items[0], id, json!("strong")).await;
    assert_eq!(status, StatusCode::CONFLICT, "another participant");
    assert!(
        !body.contains("tally"),
        "reveals nothing of alice's vote: {body}"
    );
    assert_eq!(my_vote(&bob, &slug, &items[0]).await, Value::Null);
    assert_eq!(
        tally(&alice, &slug, &items[0]).await,
        json!({"strong": 1, "wrong": 0, "version": 1})
    );

    let path = format!("/api/conversations/{slug}/items/{}/comments", items[0]);
    let (status, _) = raw(
        &alice,
        reqwest::Method::POST,
        &path,
        json!({"id": id, "body": "Hello"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "another endpoint");
    let (_, page) = alice.get(&path).await;
    assert_eq!(page["comments"], json!([]));
}

#[tokio::test]
async fn a_request_id_used_for_something_else_is_a_conflict_on_sqlite() {
    a_request_id_used_for_something_else_is_a_conflict(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_request_id_used_for_something_else_is_a_conflict_on_postgres() {
    a_request_id_used_for_something_else_is_a_conflict(Backend::Postgres).await;
}

/// Identical requests sent at the same moment count once and all get the
/// same answer.
async fn concurrent_duplicates_get_one_answer(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let id = Uuid::new_v4();
    let sends = (0..12).map(|_| vote(&alice, &slug, &items[0], id, json!("strong")));
    let answers = futures_util::future::join_all(sends).await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body, &answers[0].1, "every copy gets the same bytes");
    }
    assert_eq!(
        tally(&alice, &slug, &items[0]).await,
        json!({"strong": 1, "wrong": 0, "version": 1})
    );

    let up = Uuid::new_v4();
    let (_, comment) = alice
        .post(
            &format!("/api/conversations/{slug}/items/{}/comments", items[0]),
            json!({"id": Uuid::new_v4(), "body": "Protected time"}),
        )
        .await;
    let comment_id = comment["comment"]["id"].as_str().unwrap().to_string();
    let bob = app.participant(&slug).await;
    let path = format!("/api/conversations/{slug}/comments/{comment_id}/vote");
    let sends = (0..8).map(|_| {
        raw(
            &bob,
            reqwest::Method::PUT,
            &path,
            json!({"request_id": up, "up": true}),
        )
    });
    let answers = futures_util::future::join_all(sends).await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body, &answers[0].1);
    }
    let first: Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(first["tally"]["up"], 1);
}

#[tokio::test]
async fn concurrent_duplicates_get_one_answer_on_sqlite() {
    concurrent_duplicates_get_one_answer(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_duplicates_get_one_answer_on_postgres() {
    concurrent_duplicates_get_one_answer(Backend::Postgres).await;
}

/// Comments, up-votes and moderation keep their first answer too, after
/// the state has moved on, and a retry after the close still gets it.
async fn other_writes_keep_their_first_answer(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let bob = app.participant(&slug).await;
    let comments = format!("/api/conversations/{slug}/items/{}/comments", items[0]);
    let id = Uuid::new_v4();
    let post = json!({"id": id, "body": "Protected time would change everything."});
    let (status, first) = raw(&alice, reqwest::Method::POST, &comments, post.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");

    let up = Uuid::new_v4();
    let path = format!("/api/conversations/{slug}/comments/{id}/vote");
    let (_, up_first) = raw(
        &bob,
        reqwest::Method::PUT,
        &path,
        json!({"request_id": up, "up": true}),
    )
    .await;
    raw(
        &bob,
        reqwest::Method::PUT,
        &path,
        json!({"request_id": Uuid::new_v4(), "up": false}),
    )
    .await;
    let (status, up_again) = raw(
        &bob,
        reqwest::Method::PUT,
        &path,
        json!({"request_id": up, "up": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(up_again, up_first);

    let hide = Uuid::new_v4();
    let moderation = format!("/api/conversations/{slug}/comments/{id}/moderation");
    let order = json!({"request_id": hide, "action": "hide", "reason": "names a colleague"});
    let (status, hidden) = raw(
        &facilitator,
        reqwest::Method::POST,
        &moderation,
        order.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{hidden}");
    let restore = json!({"request_id": Uuid::new_v4(), "action": "restore"});
    raw(&facilitator, reqwest::Method::POST, &moderation, restore).await;
    let (_, hidden_again) = raw(&facilitator, reqwest::Method::POST, &moderation, order).await;
    assert_eq!(hidden_again, hidden, "the hide's first answer");
    let (_, page) = alice.get(&comments).await;
    assert_eq!(
        page["comments"].as_array().unwrap().len(),
        1,
        "still restored: {page}"
    );

    let pledges = format!("/api/conversations/{slug}/items");
    let pledge_id = Uuid::new_v4();
    let add = json!({"id": pledge_id, "title": "Protected time", "body": "", "position": 5});
    let (status, added) = raw(&admin, reqwest::Method::POST, &pledges, add.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (status, _) = admin
        .patch(
            &format!("{pledges}/{pledge_id}"),
            json!({"title": "Protected learning time"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, added_again) = raw(&admin, reqwest::Method::POST, &pledges, add).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(added_again, added, "the pledge's first answer");
    let (_, snapshot) = admin.get(&format!("/api/conversations/{slug}")).await;
    let titles: Vec<&Value> = snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["title"])
        .collect();
    assert!(
        titles.contains(&&json!("Protected learning time")),
        "the edit stands: {titles:?}"
    );

    let (status, again) = raw(&alice, reqwest::Method::POST, &comments, post.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        again, first,
        "the comment's first answer, though it was hidden since"
    );

    let (status, _) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": "now"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, late) = raw(&alice, reqwest::Method::POST, &comments, post).await;
    assert_eq!(status, StatusCode::CREATED, "a late retry: {late}");
    assert_eq!(late, first);
    let (status, _) = raw(
        &alice,
        reqwest::Method::POST,
        &comments,
        json!({"id": Uuid::new_v4(), "body": "Too late"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "new contributions are refused"
    );
}

#[tokio::test]
async fn other_writes_keep_their_first_answer_on_sqlite() {
    other_writes_keep_their_first_answer(Backend::Sqlite).await;
}

#[tokio::test]
async fn other_writes_keep_their_first_answer_on_postgres() {
    other_writes_keep_their_first_answer(Backend::Postgres).await;
}

#[tokio::test]
async fn a_vote_without_choice_is_refused_not_withdrawn() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    alice.vote(&slug, &items[0], Some("strong")).await;
    let path = format!("/api/conversations/{slug}/items/{}/vote", items[0]);
    let (status, body) = alice
        .put(&path, json!({"request_id": Uuid::new_v4()}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("choice"),
        "{body}"
    );
    assert_eq!(my_vote(&alice, &slug, &items[0]).await, json!("strong"));
}

/// Two facilitators change different fields in the same moment; both
/// changes stay.
async fn concurrent_patches_keep_both_changes(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let path = format!("/api/conversations/{slug}");
    for round in 0..5 {
        let word = format!("word{round}");
        let mode = if round % 2 == 0 { "comments" } else { "all" };
        let (a, b) = tokio::join!(
            admin.patch(&path, json!({"word_list": [word]})),
            facilitator.patch(&path, json!({"display": {"mode": mode}})),
        );
        assert_eq!(a.0, StatusCode::OK, "{}", a.1);
        assert_eq!(b.0, StatusCode::OK, "{}", b.1);
        let (_, snapshot) = admin.get(&path).await;
        assert_eq!(snapshot["word_list"], json!([word]), "round {round}");
        assert_eq!(
            snapshot["conversation"]["display"]["mode"], mode,
            "round {round}"
        );
    }
}

#[tokio::test]
async fn concurrent_patches_keep_both_changes_on_sqlite() {
    concurrent_patches_keep_both_changes(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_patches_keep_both_changes_on_postgres() {
    concurrent_patches_keep_both_changes(Backend::Postgres).await;
}

/// When the deadline passes, the event log (and so every live screen)
/// hears of it once, as for a manual close.
#[tokio::test]
async fn a_passing_deadline_is_announced_once() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let closes_at = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, body) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": closes_at}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let (_, events) = admin
        .get(&format!("/api/conversations/{slug}/events"))
        .await;
    let closes: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["kind"] == "conversation" && e["data"]["action"] == "close")
        .collect();
    assert_eq!(closes.len(), 1, "{events}");
    assert_eq!(closes[0]["actor"], "chorus");

    // An early close is announced when it is made, and not again.
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let path = format!("/api/conversations/{slug}");
    let (status, _) = admin.patch(&path, json!({"closes_at": "now"})).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (_, events) = admin.get(&format!("{path}/events")).await;
    let closes = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["kind"] == "conversation" && e["data"]["action"] == "close")
        .count();
    assert_eq!(closes, 1, "{events}");
}
