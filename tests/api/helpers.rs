//! The test harness: a real chorus on port 0 with a fresh database per
//! test (a SQLite file in a temp dir, or a new PostgreSQL database), and
//! HTTP and WebSocket clients that talk to it over real sockets. Logs stay
//! silent unless `TEST_LOG` is set.

use std::net::SocketAddr;
use std::num::NonZero;
use std::sync::Arc;
use std::time::Duration;

use chorus::config::Settings;
use chorus::domain::Role;
use chorus::http::auth::hash_password;
use chorus::startup::Application;
use chorus::store::{write, Store};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: SocketAddr,
    pub base: String,
    pub store: Arc<dyn Store>,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<()>,
    pub database_url: String,
    /// Keeps the SQLite file's folder alive for the test's duration.
    pub _dir: Option<tempfile::TempDir>,
}

/// Settings for tests: port 0, limits high enough not to interfere unless a
/// test lowers them.
pub fn test_settings() -> Settings {
    let mut s = Settings::defaults();
    s.listen = "127.0.0.1:0".into();
    s.rate.vote_per_s = 10_000.0;
    s.rate.vote_burst = NonZero::new(10_000).unwrap();
    s.rate.comment_per_s = 10_000.0;
    s.rate.comment_burst = NonZero::new(10_000).unwrap();
    s.rate.idea_per_s = 10_000.0;
    s.rate.idea_burst = NonZero::new(10_000).unwrap();
    s.rate.flag_per_s = 10_000.0;
    s.rate.flag_burst = NonZero::new(10_000).unwrap();
    s.rate.self_service_per_s = 10_000.0;
    s.rate.self_service_burst = NonZero::new(10_000).unwrap();
    s.rate.signup_per_ip_per_s = 10_000.0;
    s.rate.signup_per_ip_burst = NonZero::new(10_000).unwrap();
    s.rate.login_per_ip_per_s = 10_000.0;
    s.rate.login_per_ip_burst = NonZero::new(10_000).unwrap();
    s.rate.login_per_account_per_s = 10_000.0;
    s.rate.login_per_account_burst = NonZero::new(10_000).unwrap();
    s.ws.connects_per_ip_per_s = 10_000.0;
    s.ws.connects_per_ip_burst = NonZero::new(10_000).unwrap();
    s.ws.messages_per_s = 1_000.0;
    s.ws.message_burst = NonZero::new(1_000).unwrap();
    // Tests read the report right after writing: check the data each time.
    s.report.refresh_secs = 0;
    s.rate.sign_in_per_ip_per_s = 10_000.0;
    s.rate.sign_in_per_ip_burst = NonZero::new(10_000).unwrap();
    s.rate.sign_in_per_conversation_per_s = 10_000.0;
    s.rate.sign_in_per_conversation_burst = NonZero::new(10_000).unwrap();
    // One identity key per test process, outside the checkout.
    s.identity.key_file = std::env::temp_dir()
        .join(format!("chorus-test-identity-{}.key", std::process::id()))
        .display()
        .to_string();
    s
}

fn init_logging() {
    let quiet = std::env::var_os("TEST_LOG").is_none();
    chorus::telemetry::init_logging(&Settings::defaults().log, quiet);
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |_| {})
        .await
        .expect("sqlite is always available")
}

/// Whether PostgreSQL answers; when it does not, says so (the test skips)
/// unless `CHORUS_REQUIRE_SERVICES=1`, which makes it a failure.
pub async fn postgres_reachable() -> bool {
    use sqlx::Connection;
    match sqlx::PgConnection::connect(PG_ADMIN_URL).await {
        Ok(connection) => {
            let _ = connection.close().await;
            true
        }
        Err(e) => {
            if std::env::var("CHORUS_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("PostgreSQL is required (CHORUS_REQUIRE_SERVICES=1) but unreachable: {e}");
            }
            eprintln!("SKIPPED: PostgreSQL is not reachable at {PG_ADMIN_URL} ({e}); set CHORUS_REQUIRE_SERVICES=1 to make this a failure");
            false
        }
    }
}

/// A fresh PostgreSQL database URL, or `None` when PostgreSQL is not
/// reachable (see [`postgres_reachable`]).
pub async fn fresh_postgres() -> Option<String> {
    use sqlx::Connection;
    if !postgres_reachable().await {
        return None;
    }
    let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL)
        .await
        .expect("PostgreSQL answered a moment ago");
    let name = format!("chorus_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    Some(format!("postgres://postgres@127.0.0.1:5432/{name}"))
}

/// A fresh database URL for the backend, and the temp dir that holds it.
pub async fn fresh_database(backend: Backend) -> Option<(String, Option<tempfile::TempDir>)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/chorus.db", dir.path().display());
            Some((url, Some(dir)))
        }
        Backend::Postgres => fresh_postgres().await.map(|url| (url, None)),
    }
}

pub async fn spawn_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    init_logging();
    let (database_url, dir) = fresh_database(backend).await?;
    let mut settings = test_settings();
    settings.database_url = database_url.clone();
    tweak(&mut settings);
    Some(spawn_on(settings, dir).await)
}

pub async fn spawn_on(settings: Settings, dir: Option<tempfile::TempDir>) -> TestApp {
    let database_url = settings.database_url.clone();
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = app.address();
    let store = app.store();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(async move {
        app.run_until_stopped().await.expect("server runs");
    });
    TestApp {
        address,
        base: format!("http://{address}"),
        store,
        shutdown,
        server,
        database_url,
        _dir: dir,
    }
}

impl TestApp {
    /// A new browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: self.base.clone(),
        }
    }

    /// Creates an account directly in the store and logs a client in as it.
    pub async fn staff(&self, role: Role) -> Client {
        let name = format!(
            "{}-{}",
            role.as_str(),
            &Uuid::new_v4().simple().to_string()[..6]
        );
        let password = "correct horse battery";
        self.store
            .write(write::CreateUser {
                id: Uuid::new_v4(),
                name: name.clone(),
                role,
                password_hash: hash_password(password).unwrap(),
            })
            .await
            .expect("create user");
        let client = self.client();
        let (status, body) = client
            .post("/api/login", json!({"name": name, "password": password}))
            .await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        client
    }

    /// An open conversation with `pledges` pledges, created through the
    /// admin API. Returns its slug and the pledge ids in order.
    pub async fn conversation(
        &self,
        admin: &Client,
        extra: Value,
        pledges: usize,
    ) -> (String, Vec<String>) {
        let slug = format!("talk-{}", &Uuid::new_v4().simple().to_string()[..8]);
        let now = time::OffsetDateTime::now_utc();
        let fmt = &time::format_description::well_known::Rfc3339;
        let mut body = json!({
            "slug": slug,
            "title": "Best place to work",
            "introduction": "Tell us what you think.",
            "opens_at": (now - time::Duration::hours(1)).format(fmt).unwrap(),
            "closes_at": (now + time::Duration::days(14)).format(fmt).unwrap(),
        });
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        let (status, created) = admin.post("/api/conversations", body).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "create conversation: {created}"
        );
        let mut ids = Vec::new();
        for i in 0..pledges {
            let id = Uuid::new_v4().to_string();
            let (status, item) = admin
                .post(
                    &format!("/api/conversations/{slug}/items"),
                    json!({"id": id, "title": format!("Pledge {i}"), "body": "A pledge.", "position": i}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "add pledge: {item}");
            ids.push(id);
        }
        (slug, ids)
    }

    /// A client signed up to the conversation.
    pub async fn participant(&self, slug: &str) -> Client {
        let client = self.client();
        let (status, body) = client
            .post(
                &format!("/api/conversations/{slug}/participants"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "sign up: {body}");
        client
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.address)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(15), self.server).await;
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// Votes on an item with a fresh request id.
    pub async fn vote(&self, slug: &str, item: &str, choice: Option<&str>) -> (StatusCode, Value) {
        self.put(
            &format!("/api/conversations/{slug}/items/{item}/vote"),
            json!({"request_id": Uuid::new_v4(), "choice": choice}),
        )
        .await
    }

    /// Comments on an item with a fresh id; returns the id and the answer.
    pub async fn comment(&self, slug: &str, item: &str, body: &str) -> (String, StatusCode, Value) {
        let id = Uuid::new_v4().to_string();
        let (status, answer) = self
            .post(
                &format!("/api/conversations/{slug}/items/{item}/comments"),
                json!({"id": id, "body": body}),
            )
            .await;
        (id, status, answer)
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket, optionally with a session cookie and an Origin.
pub async fn connect(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.ws_url().into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    socket
}

/// Sends one JSON message.
pub async fn send_json(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .expect("send");
}

/// The next JSON text message, skipping pings; panics after `within`.
pub async fn next_json(socket: &mut Socket, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("no socket error");
        match message {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str()).expect("server sends JSON")
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Reads messages until one satisfies `want`; panics after `within`.
pub async fn next_matching(
    socket: &mut Socket,
    within: Duration,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let value = next_json(socket, left).await;
        if want(&value) {
            return value;
        }
    }
}

/// Logs in a session by cookie for WebSocket use: signs up through a raw
/// request and returns the `Cookie` header value.
pub async fn sign_up_cookie(app: &TestApp, slug: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/conversations/{slug}/participants",
            app.base
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    cookie_of(&response)
}

/// Logs a new staff account in through a raw request; returns the cookie.
pub async fn staff_cookie(app: &TestApp, role: Role) -> String {
    let name = format!(
        "{}-{}",
        role.as_str(),
        &Uuid::new_v4().simple().to_string()[..6]
    );
    app.store
        .write(write::CreateUser {
            id: Uuid::new_v4(),
            name: name.clone(),
            role,
            password_hash: hash_password("correct horse battery").unwrap(),
        })
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/api/login", app.base))
        .json(&json!({"name": name, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    cookie_of(&response)
}

fn cookie_of(response: &reqwest::Response) -> String {
    let set = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_string()
}

/// A client that sends a given cookie (to share a session between HTTP and WebSocket).
pub fn client_with_cookie(app: &TestApp, cookie: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    Client {
        http: reqwest::Client::builder()
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        base: app.base.clone(),
    }
}
