//! Sessions (issue 12): a staff login and each conversation's participant
//! sign-in are separate rows with separate cookies and no link; sessions
//! expire on the server, participant ones sliding; logout ends the token
//! on the server; staff logins are limited per account. Each test runs on
//! SQLite and on PostgreSQL, and reads the tables directly.

use std::num::NonZero;
use std::time::Duration;

use chorus::domain::Role;
use chorus::http::auth::{hash_password, hash_token};
use chorus::store::write;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app_with, Backend, TestApp};

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];
const PASSWORD: &str = "correct horse battery";

/// One `sessions` row as stored.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: Uuid,
    token_hash: Vec<u8>,
    user_id: Option<Uuid>,
    participant_id: Option<Uuid>,
    expires_at: i64,
    refreshed_at: i64,
}

type RowTuple = (Uuid, Vec<u8>, Option<Uuid>, Option<Uuid>, i64, i64);

/// The database behind a test app, read and written without chorus.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn of(app: &TestApp) -> Db {
        if app.database_url.starts_with("sqlite") {
            Db::Sqlite(sqlx::SqlitePool::connect(&app.database_url).await.unwrap())
        } else {
            Db::Postgres(sqlx::PgPool::connect(&app.database_url).await.unwrap())
        }
    }

    async fn sessions(&self) -> Vec<Row> {
        const SQL: &str = "SELECT id, token_hash, user_id, participant_id, expires_at, refreshed_at FROM sessions";
        let rows: Vec<RowTuple> = match self {
            Db::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        };
        rows.into_iter()
            .map(
                |(id, token_hash, user_id, participant_id, expires_at, refreshed_at)| Row {
                    id,
                    token_hash,
                    user_id,
                    participant_id,
                    expires_at,
                    refreshed_at,
                },
            )
            .collect()
    }

    async fn session_of(&self, token: &str) -> Row {
        let hash = hash_token(token);
        self.sessions()
            .await
            .into_iter()
            .find(|row| row.token_hash == hash)
            .expect("a row for the token")
    }

    /// The column names of `table`.
    async fn columns(&self, table: &str) -> Vec<String> {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(
                "SELECT column_name::TEXT FROM information_schema.columns WHERE table_name = $1",
            )
            .bind(table)
            .fetch_all(pool)
            .await
            .unwrap(),
        }
    }

    async fn set_times(&self, token: &str, expires_at: i64, refreshed_at: i64) {
        const SQL: &str =
            "UPDATE sessions SET expires_at = $1, refreshed_at = $2 WHERE token_hash = $3";
        let hash = hash_token(token);
        let done = match self {
            Db::Sqlite(pool) => sqlx::query(SQL)
                .bind(expires_at)
                .bind(refreshed_at)
                .bind(hash)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
            Db::Postgres(pool) => sqlx::query(SQL)
                .bind(expires_at)
                .bind(refreshed_at)
                .bind(hash)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
        };
        assert_eq!(done, 1);
    }
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() * 1000
}

/// A cookie a response set: (name, token).
fn set_cookie(response: &reqwest::Response) -> (String, String) {
    let set = response.headers()["set-cookie"].to_str().unwrap();
    let pair = set.split(';').next().unwrap();
    let (name, token) = pair.split_once('=').unwrap();
    (name.to_string(), token.to_string())
}

/// A raw request with exactly the cookies given (a browser's jar, by hand).
async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    cookies: &[(String, String)],
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.base));
    if !cookies.is_empty() {
        let header = cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        request = request.header("cookie", header);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn sign_up(app: &TestApp, slug: &str, cookies: &[(String, String)]) -> reqwest::Response {
    send(
        app,
        reqwest::Method::POST,
        &format!("/api/conversations/{slug}/participants"),
        cookies,
        Some(json!({})),
    )
    .await
}

/// Who the snapshot says the caller is in `slug` (`null` if nobody).
async fn me_in(app: &TestApp, slug: &str, cookies: &[(String, String)]) -> Value {
    let response = send(
        app,
        reqwest::Method::GET,
        &format!("/api/conversations/{slug}"),
        cookies,
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["me"]["participant"].clone()
}

async fn add_user(app: &TestApp, role: Role) -> (Uuid, String) {
    let id = Uuid::new_v4();
    let name = format!(
        "{}-{}",
        role.as_str(),
        &Uuid::new_v4().simple().to_string()[..6]
    );
    app.store
        .write(write::CreateUser {
            id,
            name: name.clone(),
            role,
            password_hash: hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
    (id, name)
}

async fn log_in(
    app: &TestApp,
    name: &str,
    password: &str,
    cookies: &[(String, String)],
) -> reqwest::Response {
    send(
        app,
        reqwest::Method::POST,
        "/api/login",
        cookies,
        Some(json!({"name": name, "password": password})),
    )
    .await
}

async fn app_with_conversations(backend: Backend, n: usize) -> Option<(TestApp, Vec<String>)> {
    let app = spawn_app_with(backend, |_| {}).await?;
    let admin = app.staff(Role::Admin).await;
    let mut slugs = Vec::new();
    for _ in 0..n {
        slugs.push(app.conversation(&admin, json!({}), 1).await.0);
    }
    Some((app, slugs))
}

#[tokio::test]
async fn a_staff_login_in_a_participant_browser_is_a_separate_unlinked_session() {
    for backend in BACKENDS {
        let Some((app, slugs)) = app_with_conversations(backend, 1).await else {
            continue;
        };
        let slug = &slugs[0];
        let db = Db::of(&app).await;
        let signed = sign_up(&app, slug, &[]).await;
        assert_eq!(signed.status(), StatusCode::CREATED);
        let participant_cookie = set_cookie(&signed);
        let participant: Value = signed.json().await.unwrap();
        let participant_id: Uuid = participant["participant"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();

        let (user_id, name) = add_user(&app, Role::Facilitator).await;
        let login = log_in(
            &app,
            &name,
            PASSWORD,
            std::slice::from_ref(&participant_cookie),
        )
        .await;
        assert_eq!(login.status(), StatusCode::OK, "{backend:?}");
        let staff_cookie = set_cookie(&login);
        assert_eq!(staff_cookie.0, "chorus_staff");
        assert_ne!(staff_cookie.1, participant_cookie.1, "a new token");

        // Two rows, each naming one party only; nothing names both.
        let p_row = db.session_of(&participant_cookie.1).await;
        let s_row = db.session_of(&staff_cookie.1).await;
        assert_ne!(p_row.id, s_row.id);
        assert_eq!(p_row.participant_id, Some(participant_id));
        assert_eq!(p_row.user_id, None);
        assert_eq!(s_row.user_id, Some(user_id));
        assert_eq!(s_row.participant_id, None);
        let participant_columns = db.columns("participants").await;
        assert!(
            participant_columns
                .iter()
                .all(|c| !c.contains("session") && !c.contains("user")),
            "{participant_columns:?}"
        );
        let user_columns = db.columns("users").await;
        assert!(
            user_columns
                .iter()
                .all(|c| !c.contains("session") && !c.contains("participant")),
            "{user_columns:?}"
        );

        // Both still work side by side in the one browser.
        let both = [participant_cookie.clone(), staff_cookie.clone()];
        assert_eq!(
            me_in(&app, slug, &both).await["id"],
            participant["participant"]["id"]
        );
        let me: Value = send(&app, reqwest::Method::GET, "/api/me", &both, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["name"], name.as_str());
        app.stop().await;
    }
}

#[tokio::test]
async fn one_browser_in_two_conversations_holds_two_unlinked_sessions() {
    for backend in BACKENDS {
        let Some((app, slugs)) = app_with_conversations(backend, 2).await else {
            continue;
        };
        let db = Db::of(&app).await;
        let first = sign_up(&app, &slugs[0], &[]).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first_cookie = set_cookie(&first);
        let first_body: Value = first.json().await.unwrap();
        // The same browser (sending its first cookie) signs up to the second.
        let second = sign_up(&app, &slugs[1], std::slice::from_ref(&first_cookie)).await;
        assert_eq!(second.status(), StatusCode::CREATED, "{backend:?}");
        let second_cookie = set_cookie(&second);
        let second_body: Value = second.json().await.unwrap();
        assert_ne!(first_cookie.0, second_cookie.0, "a cookie per conversation");
        assert_ne!(first_cookie.1, second_cookie.1);
        assert_ne!(
            first_body["participant"]["id"],
            second_body["participant"]["id"]
        );

        let a = db.session_of(&first_cookie.1).await;
        let b = db.session_of(&second_cookie.1).await;
        assert_ne!(a.id, b.id);
        assert_ne!(a.participant_id, b.participant_id);
        assert_eq!((a.user_id, b.user_id), (None, None));
        for row in db.sessions().await {
            assert!(
                row.user_id.is_some() != row.participant_id.is_some(),
                "each row names exactly one party: {row:?}"
            );
        }

        // A token counts only in its own conversation, whatever the cookie.
        let jar = [first_cookie.clone(), second_cookie.clone()];
        assert_eq!(
            me_in(&app, &slugs[0], &jar).await["id"],
            first_body["participant"]["id"]
        );
        assert_eq!(
            me_in(&app, &slugs[1], &jar).await["id"],
            second_body["participant"]["id"]
        );
        let forged = (second_cookie.0.clone(), first_cookie.1.clone());
        assert!(me_in(&app, &slugs[1], &[forged]).await.is_null());

        // Signing up again from the same browser finds the same participant.
        let again = sign_up(&app, &slugs[0], &jar).await;
        assert_eq!(again.status(), StatusCode::OK);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["participant"]["id"], first_body["participant"]["id"]);
        app.stop().await;
    }
}

#[tokio::test]
async fn expired_and_logged_out_sessions_are_refused() {
    for backend in BACKENDS {
        let Some((app, slugs)) = app_with_conversations(backend, 1).await else {
            continue;
        };
        let slug = &slugs[0];
        let db = Db::of(&app).await;

        // A participant session past its expiry is no session.
        let signed = sign_up(&app, slug, &[]).await;
        let cookie = set_cookie(&signed);
        db.set_times(&cookie.1, now_ms() - 1000, now_ms() - 60_000)
            .await;
        assert!(me_in(&app, slug, std::slice::from_ref(&cookie))
            .await
            .is_null());
        let snapshot: Value = send(
            &app,
            reqwest::Method::GET,
            &format!("/api/conversations/{slug}"),
            &[],
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let item = snapshot["items"][0]["id"].as_str().unwrap().to_string();
        let vote = send(
            &app,
            reqwest::Method::PUT,
            &format!("/api/conversations/{slug}/items/{item}/vote"),
            std::slice::from_ref(&cookie),
            Some(json!({"request_id": Uuid::new_v4(), "choice": "strong"})),
        )
        .await;
        assert_eq!(vote.status(), StatusCode::UNAUTHORIZED, "{backend:?}");

        // A staff session past its expiry is refused.
        let (_, name) = add_user(&app, Role::Admin).await;
        let staff = set_cookie(&log_in(&app, &name, PASSWORD, &[]).await);
        let users = |cookies: Vec<(String, String)>| {
            let app = &app;
            async move {
                send(app, reqwest::Method::GET, "/api/users", &cookies, None)
                    .await
                    .status()
            }
        };
        assert_eq!(users(vec![staff.clone()]).await, StatusCode::OK);
        db.set_times(&staff.1, now_ms() - 1000, now_ms() - 60_000)
            .await;
        assert_eq!(users(vec![staff.clone()]).await, StatusCode::UNAUTHORIZED);

        // Logout deletes the row; replaying the old cookie is refused.
        let staff = set_cookie(&log_in(&app, &name, PASSWORD, &[]).await);
        assert_eq!(users(vec![staff.clone()]).await, StatusCode::OK);
        let logout = send(
            &app,
            reqwest::Method::POST,
            "/api/logout",
            std::slice::from_ref(&staff),
            Some(json!({})),
        )
        .await;
        assert_eq!(logout.status(), StatusCode::NO_CONTENT);
        let cleared = logout.headers()["set-cookie"].to_str().unwrap();
        assert!(
            cleared.starts_with("chorus_staff=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
        let hash = hash_token(&staff.1);
        assert!(db.sessions().await.iter().all(|row| row.token_hash != hash));
        assert_eq!(users(vec![staff.clone()]).await, StatusCode::UNAUTHORIZED);
        let me: Value = send(&app, reqwest::Method::GET, "/api/me", &[staff], None)
            .await
            .json()
            .await
            .unwrap();
        assert!(me["user"].is_null());

        // The upkeep's prune removes expired rows.
        let before = db.sessions().await.len();
        let removed = app
            .store
            .write(write::PruneSessions {
                before: chorus::domain::Millis(now_ms()),
            })
            .await
            .unwrap()
            .answer;
        assert_eq!(removed, 2, "the expired participant and staff sessions");
        assert_eq!(db.sessions().await.len(), before - 2);
        app.stop().await;
    }
}

#[tokio::test]
async fn staff_logins_are_limited_per_account_from_any_address() {
    for backend in BACKENDS {
        let Some(app) = spawn_app_with(backend, |s| {
            s.trust_forwarded_for = true;
            s.rate.login_per_account_per_s = 0.001;
            s.rate.login_per_account_burst = NonZero::new(3).unwrap();
        })
        .await
        else {
            continue;
        };
        let (_, name) = add_user(&app, Role::Facilitator).await;
        let unknown = "nobody-by-this-name".to_string();
        let mut seen = Vec::new();
        for account in [&name, &unknown] {
            let mut statuses = Vec::new();
            for i in 0..5u8 {
                let response = reqwest::Client::new()
                    .post(format!("{}/api/login", app.base))
                    .header("x-forwarded-for", format!("10.1.{}.{i}", seen.len()))
                    .json(&json!({"name": account, "password": "wrong password"}))
                    .send()
                    .await
                    .unwrap();
                if response.status() == StatusCode::TOO_MANY_REQUESTS {
                    let wait: u64 = response.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(wait >= 1);
                }
                statuses.push(response.status());
            }
            seen.push(statuses);
        }
        let expected = [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
        ];
        assert_eq!(seen[0], expected, "{backend:?}: an existing account");
        assert_eq!(seen[1], expected, "{backend:?}: an unknown name, the same");
        // Even the right password waits while the account is limited.
        let right = reqwest::Client::new()
            .post(format!("{}/api/login", app.base))
            .header("x-forwarded-for", "10.9.9.9")
            .json(&json!({"name": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_used_participant_session_slides_its_expiry_forward() {
    for backend in BACKENDS {
        let Some((app, slugs)) = app_with_conversations(backend, 1).await else {
            continue;
        };
        let slug = &slugs[0];
        let db = Db::of(&app).await;
        let cookie = set_cookie(&sign_up(&app, slug, &[]).await);
        let fresh = db.session_of(&cookie.1).await;
        let thirty_days = 30 * 86_400_000;
        assert!(fresh.expires_at >= now_ms() + thirty_days - 60_000);

        // A day left, last renewed two hours ago: using it renews it.
        let day_left = now_ms() + 86_400_000;
        let renewed_before = now_ms() - 2 * 3_600_000;
        db.set_times(&cookie.1, day_left, renewed_before).await;
        assert!(me_in(&app, slug, std::slice::from_ref(&cookie))
            .await
            .is_object());
        let slid = db.session_of(&cookie.1).await;
        assert!(
            slid.expires_at >= now_ms() + thirty_days - 60_000,
            "{backend:?}: {slid:?}"
        );
        assert!(slid.refreshed_at > renewed_before);

        // Renewed within the hour: used again, it is not written again.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(me_in(&app, slug, std::slice::from_ref(&cookie))
            .await
            .is_object());
        assert_eq!(db.session_of(&cookie.1).await, slid);
        app.stop().await;
    }
}

/// A value to bind in [`old_database`]'s hand-written rows.
enum Bind {
    Id(Uuid),
    Int(i64),
    Text(&'static str),
    Bytes(Vec<u8>),
}

/// Runs `sql` with `binds` on whichever database `pool` is.
async fn execute(db: &Db, sql: &str, binds: Vec<Bind>) {
    match db {
        Db::Sqlite(pool) => {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = match bind {
                    Bind::Id(v) => query.bind(v),
                    Bind::Int(v) => query.bind(v),
                    Bind::Text(v) => query.bind(v),
                    Bind::Bytes(v) => query.bind(v),
                };
            }
            query.execute(pool).await.unwrap();
        }
        Db::Postgres(pool) => {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = match bind {
                    Bind::Id(v) => query.bind(v),
                    Bind::Int(v) => query.bind(v),
                    Bind::Text(v) => query.bind(v),
                    Bind::Bytes(v) => query.bind(v),
                };
            }
            query.execute(pool).await.unwrap();
        }
    }
}

/// A database at migration 0004 (before issue 12's sessions), holding one
/// browser's old session with participants in two conversations, and an
/// old staff session.
async fn old_database(backend: Backend, url: &str, old_token: &str) -> (Uuid, Uuid) {
    let dir = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= 4)
        .cloned()
        .collect();
    migrator.migrations = old.into();
    let db = match backend {
        Backend::Sqlite => {
            use std::str::FromStr;
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            Db::Sqlite(pool)
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            Db::Postgres(pool)
        }
    };
    let now = now_ms();
    let conversations = [Uuid::new_v4(), Uuid::new_v4()];
    for (n, id) in conversations.iter().enumerate() {
        execute(
            &db,
            "INSERT INTO conversations (id, slug, title, introduction, opens_at, closes_at, signup_mode, \
             moderation, ideas_need_approval, profile_questions, results_visible, created_at) \
             VALUES ($1, $2, 'Old', 'An old one.', $3, $4, 'open', 'post', FALSE, '[]', TRUE, $3)",
            vec![
                Bind::Id(*id),
                Bind::Text(["old-a", "old-b"][n]),
                Bind::Int(now - 3_600_000),
                Bind::Int(now + 86_400_000),
            ],
        )
        .await;
    }
    let user = Uuid::new_v4();
    execute(
        &db,
        "INSERT INTO users (id, name, role, password_hash, created_at) VALUES ($1, 'old-admin', 'admin', 'x', $2)",
        vec![Bind::Id(user), Bind::Int(now)],
    )
    .await;
    let (browser, staff) = (Uuid::new_v4(), Uuid::new_v4());
    execute(
        &db,
        "INSERT INTO sessions (id, token_hash, user_id, created_at) VALUES ($1, $2, NULL, $3)",
        vec![
            Bind::Id(browser),
            Bind::Bytes(hash_token(old_token)),
            Bind::Int(now),
        ],
    )
    .await;
    execute(
        &db,
        "INSERT INTO sessions (id, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4)",
        vec![
            Bind::Id(staff),
            Bind::Bytes(hash_token(&"f".repeat(64))),
            Bind::Id(user),
            Bind::Int(now),
        ],
    )
    .await;
    let participants = [Uuid::new_v4(), Uuid::new_v4()];
    for (n, id) in participants.iter().enumerate() {
        execute(
            &db,
            "INSERT INTO participants (id, conversation_id, session_id, handle, profile, suspended, created_at) \
             VALUES ($1, $2, $3, 'Amber Heron', '{}', FALSE, $4)",
            vec![
                Bind::Id(*id),
                Bind::Id(conversations[n]),
                Bind::Id(browser),
                Bind::Int(now + n as i64),
            ],
        )
        .await;
    }
    (participants[0], participants[1])
}

#[tokio::test]
async fn an_old_database_migrates_and_its_browsers_stay_signed_in_once() {
    for backend in BACKENDS {
        let Some((url, dir)) = crate::helpers::fresh_database(backend).await else {
            continue;
        };
        let old_token = "a".repeat(64);
        let (first, second) = old_database(backend, &url, &old_token).await;
        let mut settings = crate::helpers::test_settings();
        settings.database_url = url;
        let app = crate::helpers::spawn_on(settings, dir).await;
        let db = Db::of(&app).await;

        // One session per old participant, none for the old staff login.
        let rows = db.sessions().await;
        assert_eq!(rows.len(), 2, "{backend:?}: {rows:?}");
        assert!(rows.iter().all(|r| r.user_id.is_none()));
        let mut owners: Vec<_> = rows.iter().map(|r| r.participant_id.unwrap()).collect();
        owners.sort();
        let mut expected = vec![first, second];
        expected.sort();
        assert_eq!(owners, expected);
        assert!(rows.iter().all(|r| r.expires_at > now_ms()));
        assert!(!db
            .columns("participants")
            .await
            .contains(&"session_id".to_string()));

        // The old cookie still signs its browser in to the first
        // conversation it joined, and to no other.
        let legacy = [("chorus_session".to_string(), old_token.clone())];
        assert_eq!(
            me_in(&app, "old-a", &legacy).await["id"],
            first.to_string().as_str()
        );
        assert!(me_in(&app, "old-b", &legacy).await.is_null());
        app.stop().await;
    }
}
