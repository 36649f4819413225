//! "My contributions": a participant edits, deletes, downloads and leaves,
//! over real sockets on both databases, and every screen hears it live.
//! What must be gone is looked for in the database itself.

use std::time::Duration;

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::live::{subscribe, WAIT};

const PROFILE: &str = r#"[{"key": "role", "label": "Are you staff or a volunteer?", "choices": ["staff", "volunteer"]}]"#;

/// A conversation with profile questions and `pledges` pledges.
async fn setup(app: &TestApp, pledges: usize) -> (Client, String, Vec<String>) {
    let admin = app.staff(Role::Admin).await;
    let questions: Value = serde_json::from_str(PROFILE).unwrap();
    let (slug, items) = app
        .conversation(&admin, json!({"profile_questions": questions}), pledges)
        .await;
    (admin, slug, items)
}

/// Signs up with a profile answer; returns the client, its cookie and id.
async fn join(app: &TestApp, slug: &str, role: &str) -> (Client, String, String) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/conversations/{slug}/participants",
            app.base
        ))
        .json(&json!({"profile": {"role": role}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    let id = body["participant"]["id"].as_str().unwrap().to_string();
    (client_with_cookie(app, &cookie), cookie, id)
}

async fn delete(client: &Client, path: &str, request_id: Uuid) -> (StatusCode, Value) {
    client
        .send(
            reqwest::Method::DELETE,
            path,
            Some(json!({"request_id": request_id})),
        )
        .await
}

async fn reply(client: &Client, slug: &str, item: &str, parent: &str, body: &str) -> String {
    let id = Uuid::new_v4().to_string();
    let (status, answer) = client
        .post(
            &format!("/api/conversations/{slug}/items/{item}/comments"),
            json!({"id": id, "body": body, "parent_id": parent}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    id
}

async fn idea(client: &Client, slug: &str, title: &str) -> String {
    let id = Uuid::new_v4().to_string();
    let (status, answer) = client
        .post(
            &format!("/api/conversations/{slug}/ideas"),
            json!({"id": id, "title": title, "body": format!("{title}, in detail")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    id
}

/// Every text column and JSON copy the store keeps, as one string per
/// row, read straight from the database.
async fn stored_text(url: &str) -> Vec<String> {
    let mut all = Vec::new();
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for sql in [
            "SELECT body || ' ' || handle || ' ' || COALESCE(original_body, '') FROM comments",
            "SELECT title || ' ' || body || ' ' || COALESCE(handle, '') || ' ' || COALESCE(original_title, '') || ' ' || COALESCE(original_body, '') FROM items",
            "SELECT actor || ' ' || data FROM events",
            "SELECT handle || ' ' || profile FROM participants",
        ] {
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            all.extend(rows.into_iter().map(|r| r.0));
        }
        let answers: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT answer FROM requests")
            .fetch_all(&pool)
            .await
            .unwrap();
        all.extend(
            answers
                .into_iter()
                .map(|r| String::from_utf8_lossy(&r.0).into_owned()),
        );
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for sql in [
            "SELECT body || ' ' || handle || ' ' || COALESCE(original_body, '') FROM comments",
            "SELECT title || ' ' || body || ' ' || COALESCE(handle, '') || ' ' || COALESCE(original_title, '') || ' ' || COALESCE(original_body, '') FROM items",
            "SELECT actor || ' ' || data FROM events",
            "SELECT handle || ' ' || profile FROM participants",
        ] {
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            all.extend(rows.into_iter().map(|r| r.0));
        }
        let answers: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT answer FROM requests")
            .fetch_all(&pool)
            .await
            .unwrap();
        all.extend(
            answers
                .into_iter()
                .map(|r| String::from_utf8_lossy(&r.0).into_owned()),
        );
    }
    all
}

/// `SELECT COUNT(*)` of an item's votes with `choice`, from the database.
async fn counted(url: &str, item: &str, choice: &str) -> i64 {
    let item = Uuid::parse_str(item).unwrap();
    let sql = "SELECT COUNT(*) FROM votes WHERE item_id = $1 AND choice = $2";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(item)
            .bind(choice)
            .fetch_one(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(item)
            .bind(choice)
            .fetch_one(&pool)
            .await
            .unwrap()
    }
}

/// A participant's stored profile and whether any session is linked to them.
async fn participant_row(url: &str, id: &str) -> (String, i64) {
    let id = Uuid::parse_str(id).unwrap();
    let profile = "SELECT profile FROM participants WHERE id = $1";
    let sessions = "SELECT COUNT(*) FROM sessions WHERE participant_id = $1";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        (
            sqlx::query_scalar(profile)
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap(),
            sqlx::query_scalar(sessions)
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap(),
        )
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        (
            sqlx::query_scalar(profile)
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap(),
            sqlx::query_scalar(sessions)
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap(),
        )
    }
}

async fn comments_of(client: &Client, slug: &str, item: &str) -> Vec<Value> {
    let (status, page) = client
        .get(&format!("/api/conversations/{slug}/items/{item}/comments"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["comments"].as_array().unwrap().clone()
}

async fn item_of(client: &Client, slug: &str, item: &str) -> Option<Value> {
    let (_, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == item)
        .cloned()
}

async fn edits_stop_at_a_reply(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (admin, slug, items) = setup(&app, 1).await;
    let (alice, _, _) = join(&app, &slug, "staff").await;
    let (bob, _, _) = join(&app, &slug, "volunteer").await;
    let (comment, status, _) = alice.comment(&slug, &items[0], "First thoughts").await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/conversations/{slug}/comments/{comment}");

    let edit = Uuid::new_v4();
    let (status, edited) = alice
        .patch(
            &path,
            json!({"request_id": edit, "body": "Second thoughts"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["comment"]["body"], "Second thoughts");
    assert_eq!(edited["comment"]["edited"], true);

    // Participants see the new text, marked edited, and nothing of the old.
    let seen = comments_of(&bob, &slug, &items[0]).await;
    assert_eq!(seen[0]["body"], "Second thoughts");
    assert_eq!(seen[0]["edited"], true);
    assert!(!serde_json::to_string(&seen)
        .unwrap()
        .contains("First thoughts"));
    // Admins keep the original, as for a facilitator's edit.
    let (status, original) = admin
        .get(&format!(
            "/api/conversations/{slug}/comments/{comment}/original"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(original["original"], "First thoughts");
    let (status, _) = bob
        .get(&format!(
            "/api/conversations/{slug}/comments/{comment}/original"
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Someone else may neither edit nor delete it, and learns nothing.
    let (status, _) = bob
        .patch(
            &path,
            json!({"request_id": Uuid::new_v4(), "body": "Mine now"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = delete(&bob, &path, Uuid::new_v4()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin
        .patch(
            &path,
            json!({"request_id": Uuid::new_v4(), "body": "Staff"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "staff are not its author");

    // Bad input names the field.
    let (status, problem) = alice
        .patch(&path, json!({"request_id": Uuid::new_v4(), "body": "  "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "body", "{problem}");

    // Once Bob replies, it can no longer be edited.
    reply(&bob, &slug, &items[0], &comment, "I agree").await;
    let (status, problem) = alice
        .patch(
            &path,
            json!({"request_id": Uuid::new_v4(), "body": "Third thoughts"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("responded"),
        "{problem}"
    );
    // A retry of the first edit still gets its first answer.
    let (status, again) = alice
        .patch(
            &path,
            json!({"request_id": edit, "body": "Second thoughts"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, edited);
    app.stop().await;
}

#[tokio::test]
async fn edits_stop_at_a_reply_on_sqlite() {
    edits_stop_at_a_reply(Backend::Sqlite).await;
}

#[tokio::test]
async fn edits_stop_at_a_reply_on_postgres() {
    edits_stop_at_a_reply(Backend::Postgres).await;
}

async fn edits_stop_when_the_window_closes(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.participation.edit_window_s = std::num::NonZero::new(1).unwrap();
    })
    .await
    else {
        return;
    };
    let (_, slug, items) = setup(&app, 1).await;
    let (alice, _, _) = join(&app, &slug, "staff").await;
    let (comment, _, _) = alice.comment(&slug, &items[0], "Quick").await;
    let idea_id = idea(&alice, &slug, "Quiet rooms").await;
    let (_, mine) = alice
        .get(&format!("/api/conversations/{slug}/me/contributions"))
        .await;
    assert_eq!(mine["edit_window_s"], 1);
    assert!(mine["comments"][0]["editable_until"].is_string(), "{mine}");
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (status, problem) = alice
        .patch(
            &format!("/api/conversations/{slug}/comments/{comment}"),
            json!({"request_id": Uuid::new_v4(), "body": "Too late"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("time"));
    let (status, _) = alice
        .patch(
            &format!("/api/conversations/{slug}/ideas/{idea_id}"),
            json!({"request_id": Uuid::new_v4(), "title": "Too late"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, mine) = alice
        .get(&format!("/api/conversations/{slug}/me/contributions"))
        .await;
    assert!(mine["comments"][0]["editable_until"].is_null(), "{mine}");
    app.stop().await;
}

#[tokio::test]
async fn edits_stop_when_the_window_closes_on_sqlite() {
    edits_stop_when_the_window_closes(Backend::Sqlite).await;
}

#[tokio::test]
async fn edits_stop_when_the_window_closes_on_postgres() {
    edits_stop_when_the_window_closes(Backend::Postgres).await;
}

async fn deleting_leaves_no_text(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (admin, slug, items) = setup(&app, 1).await;
    let (alice, _, _) = join(&app, &slug, "staff").await;
    let (bob, _, _) = join(&app, &slug, "volunteer").await;
    let (answered, _, _) = alice.comment(&slug, &items[0], "secret-answered").await;
    let (alone, _, _) = alice.comment(&slug, &items[0], "secret-alone").await;
    reply(&bob, &slug, &items[0], &answered, "bob-reply").await;
    // A facilitator's moderation keeps a copy of the text in its answer.
    let (status, _) = admin
        .post(
            &format!("/api/conversations/{slug}/comments/{alone}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "pin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        item_of(&bob, &slug, &items[0]).await.unwrap()["comments"],
        3
    );

    let first = Uuid::new_v4();
    let path = format!("/api/conversations/{slug}/comments/{answered}");
    let (status, kept) = delete(&alice, &path, first).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["comment"]["deleted"], true);
    assert_eq!(kept["comment"]["body"], "");
    assert_eq!(kept["comment"]["handle"], "");
    assert_eq!(kept["comment"]["status"], "visible");
    let (status, again) = delete(&alice, &path, first).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, kept, "a retry gets the first answer");

    let (status, gone) = delete(
        &alice,
        &format!("/api/conversations/{slug}/comments/{alone}"),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["comment"]["deleted"], true);

    // The answered one stays as the anchor of the reply; the other is gone.
    let seen = comments_of(&bob, &slug, &items[0]).await;
    let ids: Vec<&str> = seen.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{seen:?}");
    assert_eq!(ids[0], answered);
    assert_eq!(seen[0]["deleted"], true);
    assert_eq!(seen[1]["body"], "bob-reply");
    assert_eq!(
        item_of(&bob, &slug, &items[0]).await.unwrap()["comments"],
        1,
        "only Bob's reply counts"
    );

    // Ideas: one with a comment stays emptied, one without goes.
    let commented = idea(&alice, &slug, "secret-idea-commented").await;
    let lonely = idea(&alice, &slug, "secret-idea-lonely").await;
    bob.comment(&slug, &commented, "on the idea").await;
    let (status, kept) = delete(
        &alice,
        &format!("/api/conversations/{slug}/ideas/{commented}"),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["item"]["deleted"], true);
    assert_eq!(kept["item"]["title"], "");
    let (status, _) = delete(
        &bob,
        &format!("/api/conversations/{slug}/ideas/{lonely}"),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not Bob's idea");
    let (status, _) = delete(
        &alice,
        &format!("/api/conversations/{slug}/ideas/{lonely}"),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(item_of(&bob, &slug, &lonely).await.is_none());
    assert_eq!(
        item_of(&bob, &slug, &commented).await.unwrap()["deleted"],
        true
    );

    // Nothing of the deleted text is anywhere in the database.
    let stored = stored_text(&app.database_url).await;
    for secret in ["secret-answered", "secret-alone", "secret-idea"] {
        let found: Vec<&String> = stored.iter().filter(|s| s.contains(secret)).collect();
        assert!(found.is_empty(), "{secret} is still stored: {found:?}");
    }
    assert!(stored.iter().any(|s| s.contains("bob-reply")));
    app.stop().await;
}

#[tokio::test]
async fn deleting_leaves_no_text_on_sqlite() {
    deleting_leaves_no_text(Backend::Sqlite).await;
}

#[tokio::test]
async fn deleting_leaves_no_text_on_postgres() {
    deleting_leaves_no_text(Backend::Postgres).await;
}

async fn the_export_holds_only_the_callers_data(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (admin, slug, items) = setup(&app, 2).await;
    let (alice, _, _) = join(&app, &slug, "staff").await;
    let (bob, _, _) = join(&app, &slug, "volunteer").await;
    alice.vote(&slug, &items[0], Some("strong")).await;
    alice.vote(&slug, &items[1], Some("wrong")).await;
    bob.vote(&slug, &items[0], Some("wrong")).await;
    let (mine, _, _) = alice.comment(&slug, &items[0], "alice-says").await;
    let (theirs, _, _) = bob.comment(&slug, &items[0], "bob-says").await;
    let alice_idea = idea(&alice, &slug, "alice-idea").await;
    idea(&bob, &slug, "bob-idea").await;
    alice
        .put(
            &format!("/api/conversations/{slug}/comments/{theirs}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    alice
        .post(
            &format!("/api/conversations/{slug}/comments/{theirs}/flags"),
            json!({"id": Uuid::new_v4(), "reason": "alice-flag"}),
        )
        .await;
    admin
        .post(
            &format!("/api/conversations/{slug}/comments/{mine}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "names a colleague"}),
        )
        .await;

    let response = alice
        .http
        .get(format!("{}/api/conversations/{slug}/me/export", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"chorus-{slug}-my-data.json\"").as_str()
    );
    let text = response.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    let (_, me) = alice.get(&format!("/api/conversations/{slug}")).await;
    let handle = me["me"]["participant"]["handle"].as_str().unwrap();
    let (_, bob_me) = bob.get(&format!("/api/conversations/{slug}")).await;
    let bob_handle = bob_me["me"]["participant"]["handle"].as_str().unwrap();
    assert_eq!(export["participant"]["handle"], handle);
    assert_eq!(export["participant"]["profile"], json!({"role": "staff"}));
    assert_eq!(export["votes"].as_array().unwrap().len(), 2);
    assert_eq!(export["votes"][0]["choice"], "strong");
    assert_eq!(export["comments"].as_array().unwrap().len(), 1);
    assert_eq!(export["comments"][0]["id"], mine.as_str());
    assert_eq!(export["comments"][0]["status"], "hidden");
    assert_eq!(export["comments"][0]["hidden_reason"], "names a colleague");
    assert_eq!(export["ideas"][0]["id"], alice_idea.as_str());
    assert_eq!(export["comment_votes"][0]["comment_id"], theirs.as_str());
    assert_eq!(export["flags"][0]["reason"], "alice-flag");
    for other in ["bob-says", "bob-idea", bob_handle, "volunteer"] {
        assert!(!text.contains(other), "the export holds {other:?}: {text}");
    }

    // The page's view: the same contributions, with status and reason.
    let (status, mine_view) = alice
        .get(&format!("/api/conversations/{slug}/me/contributions"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        mine_view["comments"][0]["comment"]["hidden_reason"],
        "names a colleague"
    );
    assert_eq!(mine_view["ideas"][0]["item"]["status"], "visible");
    let (status, _) = app
        .client()
        .get(&format!("/api/conversations/{slug}/me/export"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn the_export_holds_only_the_callers_data_on_sqlite() {
    the_export_holds_only_the_callers_data(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_export_holds_only_the_callers_data_on_postgres() {
    the_export_holds_only_the_callers_data(Backend::Postgres).await;
}

async fn leaving_withdraws_everything(backend: Backend, keep: bool) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (_, slug, items) = setup(&app, 3).await;
    let (alice, alice_cookie, alice_id) = join(&app, &slug, "staff").await;
    let (bob, _, _) = join(&app, &slug, "volunteer").await;
    let (carol, _, _) = join(&app, &slug, "staff").await;
    for (who, choices) in [
        (&alice, ["strong", "wrong", "strong"]),
        (&bob, ["strong", "strong", "wrong"]),
        (&carol, ["wrong", "strong", "strong"]),
    ] {
        for (item, choice) in items.iter().zip(choices) {
            let (status, _) = who.vote(&slug, item, Some(choice)).await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    let (answered, _, _) = alice.comment(&slug, &items[0], "alice-answered").await;
    let (alone, _, _) = alice.comment(&slug, &items[1], "alice-alone").await;
    reply(&bob, &slug, &items[0], &answered, "bob-reply").await;
    let (bobs, _, _) = bob.comment(&slug, &items[2], "bob-comment").await;
    alice
        .put(
            &format!("/api/conversations/{slug}/comments/{bobs}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    let (_, me) = alice.get(&format!("/api/conversations/{slug}")).await;
    let handle = me["me"]["participant"]["handle"]
        .as_str()
        .unwrap()
        .to_string();
    let versions: Vec<i64> = {
        let mut v = Vec::new();
        for item in &items {
            v.push(
                item_of(&bob, &slug, item).await.unwrap()["version"]
                    .as_i64()
                    .unwrap(),
            );
        }
        v
    };

    // A return phrase of alice's, to check that leaving erases it.
    let (status, phrase) = alice
        .post(
            &format!("/api/conversations/{slug}/me/return-phrase"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{phrase}");
    let phrase = phrase["return_phrase"].as_str().unwrap().to_string();

    let request = Uuid::new_v4();
    let choice = if keep {
        "keep_without_handle"
    } else {
        "delete"
    };
    let path = format!("/api/conversations/{slug}/me/leave");
    let (status, left) = alice
        .post(&path, json!({"request_id": request, "comments": choice}))
        .await;
    assert_eq!(status, StatusCode::OK, "{left}");
    assert_eq!(left["left"]["votes_withdrawn"], 3);
    assert_eq!(left["left"]["comment_votes_withdrawn"], 1);
    if keep {
        assert_eq!(left["left"]["comments_kept"], 2);
    } else {
        assert_eq!(left["left"]["comments_deleted"], 2);
    }

    // Every tally equals a COUNT of the votes that remain, and moved on.
    for (n, item) in items.iter().enumerate() {
        let shown = item_of(&bob, &slug, item).await.unwrap();
        assert_eq!(
            shown["strong"].as_i64().unwrap(),
            counted(&app.database_url, item, "strong").await
        );
        assert_eq!(
            shown["wrong"].as_i64().unwrap(),
            counted(&app.database_url, item, "wrong").await
        );
        assert_eq!(shown["version"].as_i64().unwrap(), versions[n] + 1);
        assert_eq!(
            shown["strong"].as_i64().unwrap() + shown["wrong"].as_i64().unwrap(),
            2
        );
    }
    let bobs_now = comments_of(&bob, &slug, &items[2]).await;
    assert_eq!(bobs_now[0]["up"], 0, "the up-vote is withdrawn");

    // Comments as chosen.
    let first = comments_of(&bob, &slug, &items[0]).await;
    let second = comments_of(&bob, &slug, &items[1]).await;
    if keep {
        assert_eq!(first[0]["body"], "alice-answered");
        assert_eq!(first[0]["handle"], "a former participant");
        assert_eq!(second[0]["id"], alone.as_str());
        assert_eq!(second[0]["handle"], "a former participant");
    } else {
        assert_eq!(first[0]["deleted"], true);
        assert_eq!(first[0]["body"], "");
        assert!(
            !second.iter().any(|c| c["id"] == alone.as_str()),
            "{second:?}"
        );
    }

    // Profile erased, no session, the handle gone from the store.
    let (profile, sessions) = participant_row(&app.database_url, &alice_id).await;
    assert_eq!(profile, "{}");
    assert_eq!(sessions, 0);
    let stored = stored_text(&app.database_url).await;
    let found: Vec<&String> = stored.iter().filter(|s| s.contains(&handle)).collect();
    assert!(found.is_empty(), "{handle} is still stored: {found:?}");
    if !keep {
        assert!(!stored.iter().any(|s| s.contains("alice-")));
    }

    // The return phrase is erased: it brings nobody back.
    let (status, back) = app
        .client()
        .post(
            &format!("/api/conversations/{slug}/return"),
            json!({"phrase": phrase}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{back}");

    // The old cookie no longer works...
    let old = client_with_cookie(&app, &alice_cookie);
    let (status, _) = old.vote(&slug, &items[0], Some("strong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = old
        .get(&format!("/api/conversations/{slug}/me/contributions"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // ...but a retry of the leave still gets its first answer.
    let (status, again) = old
        .post(&path, json!({"request_id": request, "comments": choice}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, left);
    let (status, _) = old
        .post(
            &path,
            json!({"request_id": Uuid::new_v4(), "comments": choice}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn leaving_and_deleting_on_sqlite() {
    leaving_withdraws_everything(Backend::Sqlite, false).await;
}

#[tokio::test]
async fn leaving_and_deleting_on_postgres() {
    leaving_withdraws_everything(Backend::Postgres, false).await;
}

#[tokio::test]
async fn leaving_and_keeping_on_sqlite() {
    leaving_withdraws_everything(Backend::Sqlite, true).await;
}

#[tokio::test]
async fn leaving_and_keeping_on_postgres() {
    leaving_withdraws_everything(Backend::Postgres, true).await;
}

/// Reads until an event of `kind` about `id` arrives.
async fn event_about(socket: &mut Socket, kind: &str, id: &str) -> Value {
    next_matching(socket, WAIT, |m| {
        m["type"] == kind && (m["id"] == id || m["comment"]["id"] == id || m["item"]["id"] == id)
    })
    .await
}

async fn every_change_reaches_other_screens(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (_, slug, items) = setup(&app, 2).await;
    let (alice, _, _) = join(&app, &slug, "staff").await;
    let bob_cookie = sign_up_cookie(&app, &slug).await;
    let bob = client_with_cookie(&app, &bob_cookie);
    let desk_cookie = staff_cookie(&app, Role::Facilitator).await;
    let (mut watcher, _) = subscribe(&app, Some(&bob_cookie), &slug, None, None).await;
    let (mut desk, _) = subscribe(&app, Some(&desk_cookie), &slug, None, None).await;

    let (edited, _, _) = alice.comment(&slug, &items[0], "before").await;
    alice
        .patch(
            &format!("/api/conversations/{slug}/comments/{edited}"),
            json!({"request_id": Uuid::new_v4(), "body": "after"}),
        )
        .await;
    event_about(&mut watcher, "comment", &edited).await; // created
    let seen = event_about(&mut watcher, "comment", &edited).await;
    assert_eq!(seen["comment"]["body"], "after");
    assert_eq!(seen["comment"]["edited"], true);

    // Deleted with a reply: a placeholder; without: removed.
    reply(&bob, &slug, &items[0], &edited, "reply").await;
    delete(
        &alice,
        &format!("/api/conversations/{slug}/comments/{edited}"),
        Uuid::new_v4(),
    )
    .await;
    let seen = next_matching(&mut watcher, WAIT, |m| {
        m["type"] == "comment"
            && m["comment"]["id"] == edited.as_str()
            && m["comment"]["deleted"] == true
    })
    .await;
    assert_eq!(seen["comment"]["body"], "");
    let on_desk = next_matching(&mut desk, WAIT, |m| {
        m["type"] == "comment"
            && m["comment"]["id"] == edited.as_str()
            && m["comment"]["deleted"] == true
    })
    .await;
    assert_eq!(on_desk["comment"]["body"], "");
    let (alone, _, _) = alice.comment(&slug, &items[1], "alone").await;
    event_about(&mut watcher, "comment", &alone).await;
    delete(
        &alice,
        &format!("/api/conversations/{slug}/comments/{alone}"),
        Uuid::new_v4(),
    )
    .await;
    event_about(&mut watcher, "comment_removed", &alone).await;

    // Leaving: the tallies move for everyone.
    alice.vote(&slug, &items[1], Some("strong")).await;
    next_matching(&mut watcher, WAIT, |m| {
        m["type"] == "tallies"
            && m["items"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|t| t["id"] == items[1].as_str() && t["strong"] == 1)
            })
    })
    .await;
    let (status, _) = alice
        .post(
            &format!("/api/conversations/{slug}/me/leave"),
            json!({"request_id": Uuid::new_v4(), "comments": "delete"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    next_matching(&mut watcher, WAIT, |m| {
        m["type"] == "tallies"
            && m["items"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|t| t["id"] == items[1].as_str() && t["strong"] == 0)
            })
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn every_change_reaches_other_screens_on_sqlite() {
    every_change_reaches_other_screens(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_change_reaches_other_screens_on_postgres() {
    every_change_reaches_other_screens(Backend::Postgres).await;
}

/// A participant's own pending idea is theirs to see in the snapshot.
#[tokio::test]
async fn own_pending_ideas_show_to_their_author() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app
        .conversation(&admin, json!({"ideas_need_approval": true}), 1)
        .await;
    let alice = app.participant(&slug).await;
    let bob = app.participant(&slug).await;
    let id = idea(&alice, &slug, "Awaiting approval").await;
    let mine = item_of(&alice, &slug, &id)
        .await
        .expect("the author sees it");
    assert_eq!(mine["status"], "pending");
    assert!(item_of(&bob, &slug, &id).await.is_none());
    assert!(item_of(&app.client(), &slug, &id).await.is_none());
    app.stop().await;
}
