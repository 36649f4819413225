//! What organisers do (docs/api.md): remove and reorder pledges live,
//! discussion topics, "About you" questions before opening, archiving,
//! deleting with a typed confirmation, the support contact, and who may
//! read a report (results visibility and series). On both backends.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::live::{subscribe, WAIT};
use chorus::domain::Role;

#[tokio::test]
async fn organising_on_sqlite() {
    if let Some(app) = spawn_app_with(Backend::Sqlite, |_| {}).await {
        organising(app).await;
    }
}

#[tokio::test]
async fn organising_on_postgres() {
    if let Some(app) = spawn_app_with(Backend::Postgres, |_| {}).await {
        organising(app).await;
    }
}

#[tokio::test]
async fn results_visibility_on_sqlite() {
    if let Some(app) = spawn_app_with(Backend::Sqlite, |_| {}).await {
        results_visibility(app).await;
    }
}

#[tokio::test]
async fn results_visibility_on_postgres() {
    if let Some(app) = spawn_app_with(Backend::Postgres, |_| {}).await {
        results_visibility(app).await;
    }
}

#[tokio::test]
async fn deleting_on_sqlite() {
    if let Some(app) = spawn_app_with(Backend::Sqlite, |_| {}).await {
        deleting(app).await;
    }
}

#[tokio::test]
async fn deleting_on_postgres() {
    if let Some(app) = spawn_app_with(Backend::Postgres, |_| {}).await {
        deleting(app).await;
    }
}

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

fn positions(snapshot: &Value) -> Vec<(String, i64)> {
    snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] != "idea")
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["position"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn organising(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, p) = app.conversation(&admin, json!({}), 3).await;
    let api = format!("/api/conversations/{slug}");
    let cookie = sign_up_cookie(&app, &slug).await;
    let person = client_with_cookie(&app, &cookie);
    let (mut socket, _) = subscribe(&app, Some(&cookie), &slug, None, None).await;

    // ---- Reorder: exact positions, live.
    let order = [p[2].clone(), p[0].clone(), p[1].clone()];
    let (status, body) = facilitator
        .put(
            &format!("{api}/order"),
            json!({"request_id": Uuid::new_v4(), "order": order}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only: {body}");
    let request_id = Uuid::new_v4();
    let (status, body) = admin
        .put(
            &format!("{api}/order"),
            json!({"request_id": request_id, "order": order}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answered: Vec<(String, i64)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["position"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, i64)> = order
        .iter()
        .enumerate()
        .map(|(n, id)| (id.clone(), n as i64 + 1))
        .collect();
    assert_eq!(answered, expected);
    // Every pledge moved (positions were 0, 1, 2): each one reaches the page.
    let mut moved = std::collections::HashMap::new();
    while moved.len() < 3 {
        let m = next_matching(&mut socket, WAIT, |m| m["type"] == "item").await;
        moved.insert(
            m["item"]["id"].as_str().unwrap().to_string(),
            m["item"]["position"].as_i64().unwrap(),
        );
    }
    for (id, position) in &expected {
        assert_eq!(moved[id], *position, "live position of {id}");
    }
    let (_, snapshot) = person.get(&api).await;
    assert_eq!(positions(&snapshot), expected, "the snapshot's order");
    // A retry answers the same; a stale or partial order is refused.
    let (status, again) = admin
        .put(
            &format!("{api}/order"),
            json!({"request_id": request_id, "order": order}),
        )
        .await;
    assert_eq!((status, again), (StatusCode::OK, body));
    for bad in [
        json!([p[0], p[1]]),
        json!([p[0], p[1], p[2], p[2]]),
        json!([p[0], p[1], Uuid::new_v4()]),
    ] {
        let (status, problem) = admin
            .put(
                &format!("{api}/order"),
                json!({"request_id": Uuid::new_v4(), "order": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(field(&problem), "order", "{problem}");
    }

    // ---- Remove a pledge with votes and comments: gone everywhere, kept for the record.
    let removed = &p[0];
    assert_eq!(
        person.vote(&slug, removed, Some("strong")).await.0,
        StatusCode::OK
    );
    let (_, status, _) = person.comment(&slug, removed, "Keep this one.").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("{api}/items/{removed}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["item"]["status"], "removed");
    let gone = next_matching(&mut socket, WAIT, |m| m["type"] == "item_removed").await;
    assert_eq!(gone["id"], removed.as_str());
    for who in [&person, &admin] {
        let (_, snapshot) = who.get(&api).await;
        assert!(
            !positions(&snapshot).iter().any(|(id, _)| id == removed),
            "removed from every snapshot"
        );
    }
    let (status, _) = person.vote(&slug, removed, Some("wrong")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no votes on a removed pledge"
    );
    let (_, report) = admin.get(&format!("{api}/report")).await;
    let kept = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == removed.as_str())
        .expect("the organisers' report keeps a removed pledge");
    assert_eq!(
        (kept["status"].as_str(), kept["strong"].as_i64()),
        (Some("removed"), Some(1))
    );
    let (_, public) = person.get(&format!("{api}/report")).await;
    assert!(!public["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == removed.as_str()));
    // The order now names the two left.
    let (status, body) = admin
        .put(
            &format!("{api}/order"),
            json!({"request_id": Uuid::new_v4(), "order": [p[1], p[2]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // ---- A discussion topic: comments, no votes, no vote figures.
    let topic = Uuid::new_v4().to_string();
    let (status, body) = admin
        .post(
            &format!("{api}/items"),
            json!({"id": topic, "kind": "topic", "title": "What gets in the way?", "position": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["item"]["kind"], "topic");
    let (status, problem) = admin
        .post(
            &format!("{api}/items"),
            json!({"id": Uuid::new_v4(), "kind": "idea", "title": "No"}),
        )
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "kind")
    );
    let (status, problem) = person.vote(&slug, &topic, Some("strong")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "choice");
    assert!(problem["detail"].as_str().unwrap().contains("topic"));
    let (comment, status, _) = person.comment(&slug, &topic, "Rotas.").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = person
        .post(
            &format!("{api}/items/{topic}/comments"),
            json!({"id": Uuid::new_v4(), "body": "Agreed.", "parent_id": comment}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "replies on a topic");
    let (_, report) = admin.get(&format!("{api}/report")).await;
    assert_eq!(report["totals"]["topics"], 1);
    let t = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == topic.as_str())
        .unwrap();
    assert_eq!(
        (
            t["voters"].as_i64(),
            t["comments"].as_i64(),
            t["replies"].as_i64()
        ),
        (Some(0), Some(1), Some(1))
    );
    assert!(t["support"].is_null() && t["interval"].is_null());
    assert!(!report["rankings"]["by_support"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == topic.as_str()));

    // ---- "About you" questions: editable before opening only.
    let questions = json!([{"key": "team", "label": "Which team?", "choices": ["A", "B"]}]);
    let (status, problem) = admin
        .patch(&api, json!({"profile_questions": questions}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "profile_questions");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("before the conversation opens"));
    let (later, _) = app
        .conversation(
            &admin,
            json!({"opens_at": "2099-01-01T09:00:00Z", "closes_at": "2099-02-01T09:00:00Z"}),
            0,
        )
        .await;
    let (status, body) = admin
        .patch(
            &format!("/api/conversations/{later}"),
            json!({"profile_questions": questions}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conversation"]["profile_questions"], questions);
    let (status, problem) = admin
        .patch(
            &format!("/api/conversations/{later}"),
            json!({"profile_questions": [{"key": "team", "label": "x", "choices": ["a", "a"]}]}),
        )
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "profile_questions")
    );

    // ---- The support contact is in the conversation, for everyone.
    let (status, body) = admin
        .patch(&api, json!({"support_contact": "  help@example.org "}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, snapshot) = app.client().get(&api).await;
    assert_eq!(
        snapshot["conversation"]["support_contact"],
        "help@example.org"
    );
    let (_, body) = admin.patch(&api, json!({"support_contact": ""})).await;
    assert!(body["conversation"]["support_contact"].is_null());

    // ---- Archive: off the list, still readable by link and report.
    let (status, _) = admin.patch(&api, json!({"archived": true})).await;
    assert_eq!(status, StatusCode::OK);
    let visitor = app.client();
    let listed = |list: &Value| {
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == slug.as_str())
    };
    let (_, list) = visitor.get("/api/conversations").await;
    assert!(!listed(&list), "archived conversations are not listed");
    let (_, list) = admin.get("/api/conversations").await;
    assert!(listed(&list), "staff still see it");
    let (status, _) = visitor.get(&api).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = visitor.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

/// Which results each kind of reader gets, under each visibility.
async fn results_visibility(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let (earlier, _) = app.conversation(&admin, json!({}), 1).await;
    let (later, _) = app
        .conversation(&admin, json!({"series": [earlier]}), 1)
        .await;
    let (unrelated, _) = app.conversation(&admin, json!({}), 1).await;
    let of_earlier = app.participant(&earlier).await;
    let of_later = app.participant(&later).await;
    let of_unrelated = app.participant(&unrelated).await;
    let anonymous = app.client();
    let api = format!("/api/conversations/{earlier}");

    // Series are checked: they exist, never the conversation itself, no loops.
    for (series, on) in [
        (json!(["no-such-talk"]), &later),
        (json!([later]), &later),
        (json!([later]), &earlier),
    ] {
        let (status, problem) = admin
            .patch(
                &format!("/api/conversations/{on}"),
                json!({"series": series}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{series} on {on}: {problem}"
        );
        assert_eq!(field(&problem), "series");
    }

    let readers: [(&str, &Client); 5] = [
        ("anonymous", &anonymous),
        ("a participant of it", &of_earlier),
        ("a participant of a later one in its series", &of_later),
        ("a participant of an unrelated one", &of_unrelated),
        ("staff", &admin),
    ];
    let cases = [
        ("public", [200, 200, 200, 200, 200]),
        ("participants", [401, 200, 200, 401, 200]),
        ("staff", [403, 403, 403, 403, 200]),
    ];
    for (visibility, expected) in cases {
        let (status, body) = admin
            .patch(&api, json!({"results_visibility": visibility}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["conversation"]["results_visibility"], visibility);
        for ((who, client), want) in readers.iter().zip(expected) {
            for path in [
                "report",
                "report.csv?table=items",
                "export.json",
                "report/chart.svg",
                "report/opinion.svg",
            ] {
                let (status, body) = client.get(&format!("{api}/{path}")).await;
                // The opinion map is for the public only once closed.
                let want = if path == "report/opinion.svg" && want == 200 && *who != "staff" {
                    403
                } else {
                    want
                };
                assert_eq!(
                    status.as_u16(),
                    want,
                    "{visibility}: {who} reading {path}: {body}"
                );
            }
        }
        // The list links the later conversation to its predecessor's report
        // for the readers who may read it.
        for ((who, client), want) in readers.iter().zip(expected) {
            let (_, list) = client.get("/api/conversations").await;
            let entry = list["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["slug"] == later.as_str())
                .unwrap()
                .clone();
            assert_eq!(entry["series"], json!([earlier]));
            let linked = entry["earlier_reports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["slug"] == earlier.as_str());
            assert_eq!(linked, want == 200, "{visibility}: link for {who}");
        }
    }
    // A signed-in reader who is refused is told what to do.
    admin
        .patch(&api, json!({"results_visibility": "participants"}))
        .await;
    let (_, problem) = anonymous.get(&format!("{api}/report")).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("sign in"),
        "{problem}"
    );
    // Timing still holds: participants read it live only if results_while_open.
    admin
        .patch(&api, json!({"results_while_open": false}))
        .await;
    let (status, problem) = of_earlier.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("published when it closes"));
    admin.patch(&api, json!({"closes_at": "now"})).await;
    let (status, _) = of_later.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

/// The tables with a `conversation_id` column, read from the schema itself
/// so a table added later is counted too.
async fn rows_of(url: &str, conversation: Uuid, comments: &[Uuid]) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'conversation_id'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for table in tables {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE conversation_id = $1"
            ))
            .bind(conversation)
            .fetch_one(&pool)
            .await
            .unwrap();
            counts.push((table, n));
        }
        for table in ["comment_votes", "flags"] {
            let mut n = 0;
            for c in comments {
                let k: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE comment_id = $1"
                ))
                .bind(c)
                .fetch_one(&pool)
                .await
                .unwrap();
                n += k;
            }
            counts.push((table.to_string(), n));
        }
        // Sessions point at participants: those of this conversation, and
        // any left pointing at a participant that no longer exists.
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE participant_id IN \
             (SELECT id FROM participants WHERE conversation_id = $1) \
             OR (participant_id IS NOT NULL AND participant_id NOT IN (SELECT id FROM participants))",
        )
        .bind(conversation)
        .fetch_one(&pool)
        .await
        .unwrap();
        counts.push(("sessions".into(), n));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(&pool)
            .await
            .unwrap();
        counts.push(("conversations".into(), n));
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name = 'conversation_id'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for table in tables {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE conversation_id = $1"
            ))
            .bind(conversation)
            .fetch_one(&pool)
            .await
            .unwrap();
            counts.push((table, n));
        }
        for table in ["comment_votes", "flags"] {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE comment_id = ANY($1)"
            ))
            .bind(comments)
            .fetch_one(&pool)
            .await
            .unwrap();
            counts.push((table.to_string(), n));
        }
        // Sessions point at participants: those of this conversation, and
        // any left pointing at a participant that no longer exists.
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE participant_id IN \
             (SELECT id FROM participants WHERE conversation_id = $1) \
             OR (participant_id IS NOT NULL AND participant_id NOT IN (SELECT id FROM participants))",
        )
        .bind(conversation)
        .fetch_one(&pool)
        .await
        .unwrap();
        counts.push(("sessions".into(), n));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(&pool)
            .await
            .unwrap();
        counts.push(("conversations".into(), n));
    }
    counts
}

async fn deleting(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, p) = app.conversation(&admin, json!({}), 2).await;
    let (kept, kept_pledges) = app.conversation(&admin, json!({}), 1).await;
    let (follower, _) = app.conversation(&admin, json!({"series": [slug]}), 0).await;
    let api = format!("/api/conversations/{slug}");
    let id = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap()
        .id;

    // Something in every table: votes, comments, up-votes, flags, ideas,
    // moderation events, a display token and a display day.
    let a = app.participant(&slug).await;
    let b = app.participant(&slug).await;
    a.vote(&slug, &p[0], Some("strong")).await;
    b.vote(&slug, &p[1], Some("wrong")).await;
    let (comment, _, _) = a.comment(&slug, &p[0], "A comment.").await;
    let comment = Uuid::parse_str(&comment).unwrap();
    let (status, _) = b
        .put(
            &format!("{api}/comments/{comment}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = b
        .post(
            &format!("{api}/comments/{comment}/flags"),
            json!({"id": Uuid::new_v4(), "reason": "rude"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = a
        .post(
            &format!("{api}/ideas"),
            json!({"id": Uuid::new_v4(), "title": "An idea"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, token) = admin
        .post(&format!("{api}/display-tokens"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(token["token"].is_string());
    let (socket, _) = {
        let cookie = staff_cookie(&app, Role::Facilitator).await;
        subscribe(&app, Some(&cookie), &slug, None, Some("display")).await
    };
    drop(socket);
    let other = app.participant(&kept).await;
    other.vote(&kept, &kept_pledges[0], Some("strong")).await;

    let before = rows_of(&app.database_url, id, &[comment]).await;
    for table in [
        "items",
        "votes",
        "comments",
        "participants",
        "sessions",
        "events",
        "display_tokens",
        "display_sessions",
        "comment_votes",
        "flags",
    ] {
        let n = before
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        assert!(n > 0, "the test put rows in {table}: {before:?}");
    }
    let other_id = app
        .store
        .conversation_by_slug(&kept)
        .await
        .unwrap()
        .unwrap()
        .id;
    let other_before = rows_of(&app.database_url, other_id, &[]).await;

    // The confirmation is required, and must be the address.
    let delete = |client: &Client, body: Option<Value>| {
        let path = api.clone();
        let client = Client {
            http: client.http.clone(),
            base: client.base.clone(),
        };
        async move { client.send(reqwest::Method::DELETE, &path, body).await }
    };
    let (status, problem) = delete(&admin, Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("confirm"));
    let (status, problem) = delete(&admin, Some(json!({"confirm": "talk"}))).await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "confirm")
    );
    let (status, _) = delete(&facilitator, Some(json!({"confirm": slug}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        rows_of(&app.database_url, id, &[comment]).await,
        before,
        "nothing changed"
    );

    let (status, body) = delete(&admin, Some(json!({"confirm": slug}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], slug.as_str());
    assert_eq!(body["rows"]["conversations"], 1);
    let after = rows_of(&app.database_url, id, &[comment]).await;
    let tables: HashSet<&str> = after.iter().map(|(t, _)| t.as_str()).collect();
    assert!(tables.contains("events") && tables.contains("display_sessions"));
    for (table, n) in &after {
        assert_eq!(*n, 0, "rows left in {table}: {after:?}");
    }
    assert_eq!(
        rows_of(&app.database_url, other_id, &[]).await,
        other_before,
        "other conversations untouched"
    );
    let (status, _) = admin.get(&api).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, f) = admin.get(&format!("/api/conversations/{follower}")).await;
    assert_eq!(
        f["conversation"]["series"],
        json!([]),
        "a later one no longer names it"
    );
    let (status, _) = delete(&admin, Some(json!({"confirm": slug}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}
