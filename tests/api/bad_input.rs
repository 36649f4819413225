//! Bad input gets a clear 4xx problem answer and never changes stored data.
//!
//! Over 600 lines on purpose: a catalogue of hostile and malformed input,
//! one case per row, each checked to leave the stored data unchanged.

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// What a participant sees of a conversation: items and every comment.
async fn state_of(app: &TestApp, client: &Client, slug: &str, items: &[String]) -> Value {
    let (_, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    let mut comments = Vec::new();
    for item in items {
        let (_, page) = client
            .get(&format!("/api/conversations/{slug}/items/{item}/comments"))
            .await;
        comments.push(page["comments"].clone());
    }
    let last_seq = app
        .store
        .conversation_by_slug(slug)
        .await
        .unwrap()
        .map(|c| c.id)
        .unwrap();
    json!({"items": snapshot["items"], "seq": snapshot["seq"], "comments": comments, "last_seq": app.store.last_seq(last_seq).await.unwrap()})
}

/// A name, the request, and the status it must get.
type Case = (
    &'static str,
    reqwest::Method,
    String,
    Option<&'static str>,
    Vec<u8>,
    StatusCode,
);

async fn raw(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value, Option<String>) {
    let mut request = client
        .http
        .request(method, format!("{}{path}", client.base))
        .body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ct,
    )
}

#[tokio::test]
async fn bad_requests_get_problems_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    alice.vote(&slug, &items[0], Some("strong")).await;
    alice.comment(&slug, &items[0], "A first comment").await;
    let before = state_of(&app, &alice, &slug, &items).await;

    let comments = format!("/api/conversations/{slug}/items/{}/comments", items[0]);
    let vote = format!("/api/conversations/{slug}/items/{}/vote", items[0]);
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;
    let json_ct = Some("application/json");
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            post.clone(),
            comments.clone(),
            json_ct,
            b"{\"id\": ".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not an object",
            post.clone(),
            comments.clone(),
            json_ct,
            b"[1, 2, 3]".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong type",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": 42})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid uuid",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": "not-a-uuid", "body": "hi"})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown field",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "hi", "admin": true})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            post.clone(),
            comments.clone(),
            json_ct,
            b"{\"id\": \"\xff\xfe\", \"body\": \"\xc3\x28\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no content type",
            post.clone(),
            comments.clone(),
            None,
            json!({"id": Uuid::new_v4(), "body": "hi"})
                .to_string()
                .into_bytes(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "oversized body",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "x".repeat(100_000)})
                .to_string()
                .into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "empty comment",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "   "})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "10,000 characters",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "y".repeat(10_000)})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "control characters",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "ring \u{7} the bell \u{1b}[31m"})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown item",
            post.clone(),
            format!(
                "/api/conversations/{slug}/items/{}/comments",
                Uuid::new_v4()
            ),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "hi"})
                .to_string()
                .into_bytes(),
            StatusCode::NOT_FOUND,
        ),
        (
            "item id not a uuid",
            post.clone(),
            format!("/api/conversations/{slug}/items/1%20OR%201=1/comments"),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "hi"})
                .to_string()
                .into_bytes(),
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown conversation",
            post.clone(),
            format!("/api/conversations/nope/items/{}/comments", items[0]),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "hi"})
                .to_string()
                .into_bytes(),
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown parent",
            post.clone(),
            comments.clone(),
            json_ct,
            json!({"id": Uuid::new_v4(), "body": "hi", "parent_id": Uuid::new_v4()})
                .to_string()
                .into_bytes(),
            StatusCode::NOT_FOUND,
        ),
        (
            "bad vote choice",
            put.clone(),
            vote.clone(),
            json_ct,
            json!({"request_id": Uuid::new_v4(), "choice": "maybe"})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "vote without request id",
            put.clone(),
            vote.clone(),
            json_ct,
            json!({"choice": "strong"}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "idea title too long",
            post.clone(),
            format!("/api/conversations/{slug}/ideas"),
            json_ct,
            json!({"id": Uuid::new_v4(), "title": "t".repeat(121)})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown endpoint",
            post.clone(),
            "/api/nothing-here".into(),
            json_ct,
            b"{}".to_vec(),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (name, method, path, ct, body, expected) in cases {
        let (status, problem, content_type) = raw(&alice, method, &path, ct, body).await;
        assert_eq!(status, expected, "{name}: {problem}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{name}"
        );
        assert_eq!(problem["status"], expected.as_u16(), "{name}: {problem}");
        assert!(
            problem["type"].as_str().unwrap().starts_with("/problems/"),
            "{name}: {problem}"
        );
        assert!(
            !problem["detail"].as_str().unwrap().is_empty(),
            "{name}: {problem}"
        );
    }
    // Validation problems name the field.
    let (_, problem, _) = raw(
        &alice,
        post.clone(),
        &comments,
        json_ct,
        json!({"id": Uuid::new_v4(), "body": ""})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "body");
    let (_, problem, _) = raw(
        &alice,
        post.clone(),
        &comments,
        json_ct,
        json!({"id": Uuid::new_v4(), "body": 42})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("body"),
        "{problem}"
    );

    let after = state_of(&app, &alice, &slug, &items).await;
    assert_eq!(before, after, "bad input changed stored data");
    app.stop().await;
}

#[tokio::test]
async fn hostile_text_is_stored_and_returned_verbatim() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let hostile = [
        "<img src=x onerror=alert(1)>",
        "<script>alert('x')</script>",
        "'; DROP TABLE comments; --",
        "Robert'); DELETE FROM votes WHERE ('1'='1",
        "emoji 🎉👩🏽‍⚕️ and RTL \u{202e}txet",
        "tabs\tand\nnewlines",
    ];
    for text in hostile {
        let (_, status, body) = alice.comment(&slug, &items[0], text).await;
        assert_eq!(status, StatusCode::CREATED, "{text}: {body}");
        assert_eq!(body["comment"]["body"], text);
    }
    let (_, page) = alice
        .get(&format!(
            "/api/conversations/{slug}/items/{}/comments",
            items[0]
        ))
        .await;
    let bodies: Vec<&str> = page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, hostile);
    // Everything else is intact.
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let response = alice
        .http
        .put(format!(
            "{}/api/conversations/{slug}/items/{}/vote",
            app.base, items[0]
        ))
        .header("origin", "https://evil.example")
        .json(&json!({"request_id": Uuid::new_v4(), "choice": "strong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = alice
        .http
        .put(format!(
            "{}/api/conversations/{slug}/items/{}/vote",
            app.base, items[0]
        ))
        .header("origin", app.base.clone())
        .json(&json!({"request_id": Uuid::new_v4(), "choice": "strong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["items"][0]["strong"], 1);
    app.stop().await;
}

/// Every state-changing endpoint wants `Content-Type: application/json`,
/// including those whose body is empty or optional: a form post (which
/// any page can send) changes nothing.
#[tokio::test]
async fn writes_need_a_json_content_type_even_without_a_body() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let (comment, _, _) = alice.comment(&slug, &items[0], "A comment").await;
    let item = &items[0];
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;
    let patch = reqwest::Method::PATCH;
    let writes: Vec<(reqwest::Method, String)> = vec![
        (post.clone(), "/api/login".into()),
        (post.clone(), "/api/logout".into()),
        (post.clone(), "/api/users".into()),
        (post.clone(), "/api/conversations".into()),
        (patch.clone(), format!("/api/conversations/{slug}")),
        (post.clone(), format!("/api/conversations/{slug}/items")),
        (
            patch.clone(),
            format!("/api/conversations/{slug}/items/{item}"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/participants"),
        ),
        (
            put.clone(),
            format!("/api/conversations/{slug}/items/{item}/vote"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/items/{item}/comments"),
        ),
        (
            put.clone(),
            format!("/api/conversations/{slug}/comments/{comment}/vote"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/comments/{comment}/flags"),
        ),
        (post.clone(), format!("/api/conversations/{slug}/ideas")),
        (
            post.clone(),
            format!("/api/conversations/{slug}/comments/{comment}/moderation"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/items/{item}/moderation"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/display-tokens"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/comments/{comment}/edit"),
        ),
        (
            post.clone(),
            format!("/api/conversations/{slug}/comments/{comment}/author"),
        ),
    ];
    let not_json = [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
    ];
    let before = state_of(&app, &alice, &slug, &items).await;
    for (method, path) in &writes {
        for ct in not_json {
            let (status, problem, content_type) =
                raw(&admin, method.clone(), path, ct, Vec::new()).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {path} with {ct:?}: {problem}"
            );
            assert_eq!(
                content_type.as_deref(),
                Some("application/problem+json"),
                "{method} {path}"
            );
            assert_eq!(problem["type"], "/problems/unsupported-media-type");
            assert_eq!(problem["status"], 415);
        }
    }
    assert_eq!(before, state_of(&app, &alice, &slug, &items).await);
    // The admin is still logged in: the form-encoded logouts did nothing.
    let (_, me) = admin.get("/api/me").await;
    assert!(me["user"].is_object(), "{me}");

    // A form-encoded sign-up creates no participant and sets no cookie.
    let signups = format!("/api/conversations/{slug}/participants");
    for ct in not_json {
        let response = reqwest::Client::new()
            .post(format!("{}{signups}", app.base))
            .headers(
                ct.map(|ct| {
                    let mut h = reqwest::header::HeaderMap::new();
                    h.insert("content-type", ct.parse().unwrap());
                    h
                })
                .unwrap_or_default(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(response.headers().get("set-cookie").is_none());
    }

    // Where the body is optional, JSON's content type with no body is fine.
    let bob = app.client();
    let (status, body, _) = raw(
        &bob,
        post.clone(),
        &signups,
        Some("application/json"),
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body, _) = raw(
        &admin,
        post.clone(),
        &format!("/api/conversations/{slug}/display-tokens"),
        Some("application/json; charset=utf-8"),
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body, _) = raw(
        &admin,
        post.clone(),
        "/api/logout",
        Some("application/json"),
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, me) = admin.get("/api/me").await;
    assert!(me["user"].is_null(), "{me}");
    app.stop().await;
}

/// An empty body sent in chunks (no Content-Length) is still empty.
#[tokio::test]
async fn an_empty_chunked_sign_up_is_accepted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let mut tcp = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let request = format!(
        "POST /api/conversations/{slug}/participants HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n0\r\n\r\n",
        app.address
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_string(&mut answer),
    )
    .await
    .expect("an answer in time")
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("set-cookie: chorus_p_"),
        "{answer}"
    );
    app.stop().await;
}

/// A query string of the wrong shape is a 400 problem naming the
/// parameter, on every endpoint that reads one.
#[tokio::test]
async fn malformed_query_strings_get_problems_naming_the_parameter() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let comments = format!("/api/conversations/{slug}/items/{}/comments", items[0]);
    let cases = [
        (&alice, format!("{comments}?after=abc"), "after"),
        (&alice, format!("{comments}?limit=ten"), "limit"),
        (&alice, format!("{comments}?after=1&after=2"), "after"),
        (
            &admin,
            format!("/api/conversations/{slug}/events?after=x"),
            "after",
        ),
        (
            &admin,
            format!("/api/conversations/{slug}/events?limit=1.5"),
            "limit",
        ),
        (
            &admin,
            format!("/api/conversations/{slug}/moderation/comments?status=all&status=hidden"),
            "status",
        ),
        (
            &admin,
            format!("/api/conversations/{slug}/report.csv?table=items&table=days"),
            "table",
        ),
        (
            &admin,
            format!("/api/conversations/{slug}/qr.svg?token=a&token=b"),
            "token",
        ),
    ];
    for (client, path, parameter) in cases {
        let (status, problem, content_type) =
            raw(client, reqwest::Method::GET, &path, None, Vec::new()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{path}: {problem}"
        );
        assert_eq!(problem["type"], "/problems/malformed", "{path}");
        assert_eq!(problem["status"], 400, "{path}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(parameter), "{path}: {problem}");
    }
    // Well-formed ones still work.
    let (status, page) = alice.get(&format!("{comments}?after=0&limit=5")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    app.stop().await;
}

/// A page on `localhost` may write to the server at `127.0.0.1` and the
/// other way round (and `[::1]`), on the port the server listens on; other
/// loopback-looking origins are still refused.
#[tokio::test]
async fn loopback_pages_may_write_under_either_loopback_name() {
    let app = spawn_app().await;
    let port = app.address.port();
    let other_port = if port == u16::MAX { port - 1 } else { port + 1 };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let cookie = sign_up_cookie(&app, &slug).await;
    // "localhost" always reaches the test server, whatever the resolver says.
    let http = reqwest::Client::builder()
        .resolve("localhost", app.address)
        .build()
        .unwrap();
    let vote = |server: &'static str, origin: String, choice: &'static str| {
        let request = http
            .put(format!(
                "http://{server}:{port}/api/conversations/{slug}/items/{}/vote",
                items[0]
            ))
            .header("cookie", &cookie)
            .header("origin", origin)
            .json(&json!({"request_id": Uuid::new_v4(), "choice": choice}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    let accepted = [
        ("127.0.0.1", format!("http://localhost:{port}")),
        ("localhost", format!("http://127.0.0.1:{port}")),
        ("127.0.0.1", format!("http://[::1]:{port}")),
        ("localhost", format!("http://[::1]:{port}")),
    ];
    for (server, origin) in accepted {
        let (status, body) = vote(server, origin.clone(), "strong").await;
        assert_eq!(status, StatusCode::OK, "{origin} -> {server}: {body}");
    }
    let refused = [
        ("127.0.0.1", format!("http://localhost:{other_port}")),
        ("localhost", format!("http://127.0.0.1:{other_port}")),
        ("127.0.0.1", "http://localhost".to_string()),
        ("127.0.0.1", format!("https://localhost:{port}")),
        ("127.0.0.1", format!("http://127.0.0.2:{port}")),
        ("127.0.0.1", format!("http://localhost.evil.example:{port}")),
    ];
    for (server, origin) in refused {
        let (status, body) = vote(server, origin.clone(), "wrong").await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{origin} -> {server}: {body}"
        );
    }
    let (_, snapshot) = admin.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["items"][0]["strong"], 1, "{snapshot}");
    assert_eq!(snapshot["items"][0]["wrong"], 0, "{snapshot}");
    // The WebSocket applies the same rule.
    let socket = connect(
        &app,
        Some(&cookie),
        Some(&format!("http://localhost:{port}")),
    )
    .await;
    drop(socket);
    app.stop().await;
}

/// Text that a spreadsheet would run as a formula is defused, by the same
/// rule, in the audit CSV and in the report's CSV tables, and both parse
/// back as RFC 4180 CSV with every row as wide as its header.
#[tokio::test]
async fn formulas_are_defused_in_every_csv() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(
            &admin,
            json!({"profile_questions": [
                {"key": "=team", "label": "Your team", "choices": ["@ops", "+dev"]}
            ]}),
            1,
        )
        .await;
    let mut people = Vec::new();
    for _ in 0..5 {
        let client = app.client();
        let (status, body) = client
            .post(
                &format!("/api/conversations/{slug}/participants"),
                json!({"profile": {"=team": "@ops"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = client.vote(&slug, &items[0], Some("strong")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        people.push(client);
    }
    let bodies = [
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "-2+3",
        "+cmd|' /C calc'!A0",
        "@SUM(1,2)",
        "plain, with \"quotes\"\nand a second line",
    ];
    let mut ids = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        let (id, status, answer) = people[n].comment(&slug, &items[0], body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        ids.push(id);
    }
    let (status, body) = people[0]
        .post(
            &format!("/api/conversations/{slug}/ideas"),
            json!({"id": Uuid::new_v4(), "title": "=1+1 idea"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = people[1]
        .post(
            &format!("/api/conversations/{slug}/comments/{}/flags", ids[4]),
            json!({"id": Uuid::new_v4(), "reason": "@flag reason"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = admin
        .post(
            &format!("/api/conversations/{slug}/comments/{}/moderation", ids[0]),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "=1+1 off topic"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let download = |path: String| {
        let request = admin.http.get(format!("{}{path}", admin.base));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.text().await.unwrap()
        }
    };
    let parse = |text: &str| -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| {
                r.expect("a well-formed row")
                    .iter()
                    .map(String::from)
                    .collect()
            })
            .collect();
        (header, rows)
    };
    // No cell starts a formula, unless it is a plain number.
    let defused = |rows: &[Vec<String>], what: &str| {
        for cell in rows.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']) || cell.parse::<f64>().is_ok(),
                "{what}: {cell:?}"
            );
        }
    };

    let audit = download(format!("/api/conversations/{slug}/events.csv")).await;
    let (header, rows) = parse(&audit);
    assert_eq!(
        header,
        ["seq", "time", "actor", "kind", "action", "target", "status", "reason"]
    );
    defused(&rows, "events.csv");
    assert!(
        rows.iter()
            .any(|r| r[4] == "hide" && r[7] == "'=1+1 off topic"),
        "{audit}"
    );
    assert!(
        rows.iter()
            .any(|r| r[3] == "flag" && r[7] == "'@flag reason"),
        "{audit}"
    );

    let api = format!("/api/conversations/{slug}");
    let comments = download(format!("{api}/report.csv?table=comments")).await;
    assert!(comments.contains("\r\n"), "the report's tables use CRLF");
    let (header, rows) = parse(&comments);
    assert_eq!(header, chorus::report::export::COMMENT_COLUMNS);
    defused(&rows, "comments.csv");
    let body_of = |id: &str| rows.iter().find(|r| r[0] == id).unwrap()[8].clone();
    assert_eq!(
        body_of(&ids[0]),
        "",
        "a hidden comment's text is not exported"
    );
    assert_eq!(body_of(&ids[1]), "'-2+3");
    assert_eq!(body_of(&ids[2]), "'+cmd|' /C calc'!A0");
    assert_eq!(body_of(&ids[3]), "'@SUM(1,2)");
    assert_eq!(body_of(&ids[4]), bodies[4]);

    let (header, rows) = parse(&download(format!("{api}/report.csv?table=items")).await);
    assert_eq!(header, chorus::report::export::ITEM_COLUMNS);
    defused(&rows, "items.csv");
    assert!(rows.iter().any(|r| r[3] == "'=1+1 idea"), "{rows:?}");

    let (header, rows) = parse(&download(format!("{api}/report.csv?table=groups")).await);
    assert_eq!(header, chorus::report::export::GROUP_COLUMNS);
    defused(&rows, "groups.csv");
    assert!(
        rows.iter()
            .any(|r| r[0] == "'=team" && r[1] == "'@ops" && r[2] == "5"),
        "{rows:?}"
    );

    let (header, rows) = parse(&download(format!("{api}/report.csv?table=days")).await);
    assert_eq!(header, chorus::report::export::DAY_COLUMNS);
    defused(&rows, "days.csv");
    app.stop().await;
}
