//! The web done properly (issue 13), over real sockets: answers compressed
//! with gzip or brotli when the client asks (and small ones, WebSocket
//! upgrades and unasked-for ones not), static files and pages with an
//! `ETag` that a second visit sends back for a body-less `304`, the
//! favicon, and a `404` page for a conversation address that names none.
//!
//! The raw client here has no gzip or brotli support of its own (reqwest's
//! features are off), so it sees exactly what the server sent: the tests
//! decode the bodies themselves.

use std::io::Read;

use chorus::domain::Role;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// A client that sends only the headers it is given (no cookies, no
/// `Accept-Encoding` of its own) and decodes nothing.
fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Status, headers and the body as sent.
async fn fetch(
    app: &TestApp,
    path: &str,
    headers: &[(reqwest::header::HeaderName, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = raw().get(format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

fn header<'a>(
    headers: &'a reqwest::header::HeaderMap,
    name: &reqwest::header::HeaderName,
) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII header"))
        .unwrap_or("")
}

/// The body decoded by its `Content-Encoding`.
fn decode(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match header(headers, &CONTENT_ENCODING) {
        "" => out.extend_from_slice(body),
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        "br" => {
            brotli_decompressor::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        other => panic!("unexpected Content-Encoding {other:?}"),
    }
    out
}

fn client_file(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/client/{path}", env!("CARGO_MANIFEST_DIR"))).expect("client file")
}

#[tokio::test]
async fn json_answers_and_static_files_are_compressed_when_asked() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    // Enough pledges that the snapshot is well over the 1 KB threshold.
    let (slug, _) = app.conversation(&admin, json!({}), 12).await;
    let snapshot = format!("/api/conversations/{slug}");

    let (status, headers, plain) = fetch(&app, &snapshot, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, &CONTENT_ENCODING),
        "",
        "nothing asked, nothing encoded"
    );
    assert!(plain.len() > 2048, "the snapshot is {} bytes", plain.len());
    let plain: Value = serde_json::from_slice(&plain).expect("JSON");

    for (asked, expected) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("identity", ""),
    ] {
        let (status, headers, body) = fetch(&app, &snapshot, &[(ACCEPT_ENCODING, asked)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header(&headers, &CONTENT_ENCODING),
            expected,
            "asked for {asked}"
        );
        assert!(
            header(&headers, &VARY)
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "Vary names Accept-Encoding"
        );
        let decoded: Value = serde_json::from_slice(&decode(&headers, &body)).expect("JSON");
        assert_eq!(decoded, plain, "{asked}: the same answer");
        if !expected.is_empty() {
            assert!(
                body.len() * 2 < serde_json::to_vec(&plain).unwrap().len(),
                "{asked}: smaller"
            );
        }
    }

    // The pages and their files, as the browser asks for them.
    for (path, file) in [
        (format!("/c/{slug}"), "participant.html"),
        (
            "/assets/app/participant.js".to_string(),
            "app/participant.js",
        ),
        ("/assets/style.css".to_string(), "style.css"),
    ] {
        for encoding in ["gzip", "br"] {
            let (status, headers, body) = fetch(&app, &path, &[(ACCEPT_ENCODING, encoding)]).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(header(&headers, &CONTENT_ENCODING), encoding, "{path}");
            assert_eq!(
                decode(&headers, &body),
                client_file(file),
                "{path}: the file as it is"
            );
            assert!(
                body.len() < client_file(file).len() / 2,
                "{path}: less than half"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn small_answers_and_websocket_upgrades_are_not_compressed() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;

    let (status, headers, _) = fetch(&app, "/healthz", &[(ACCEPT_ENCODING, "gzip, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, &CONTENT_ENCODING),
        "",
        "a tiny answer goes as it is"
    );

    // A vote's answer is small: not worth compressing on the hottest path.
    let alice = app.participant(&slug).await;
    let (status, vote) = alice.vote(&slug, &items[0], Some("strong")).await;
    assert_eq!(status, StatusCode::OK, "{vote}");
    assert!(vote.to_string().len() < 1024);

    // Browsers send Accept-Encoding with the WebSocket handshake too.
    let mut request = app.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("accept-encoding", "gzip, deflate, br".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade succeeds");
    assert_eq!(response.status(), 101);
    assert!(response.headers().get("content-encoding").is_none());
    send_json(&mut socket, json!({"type": "ping", "nonce": 7})).await;
    let pong = next_matching(&mut socket, std::time::Duration::from_secs(5), |m| {
        m["type"] == "pong"
    })
    .await;
    assert_eq!(pong["nonce"], 7, "frames flow as usual");
    app.stop().await;
}

#[tokio::test]
async fn static_files_and_pages_answer_304_to_their_etag() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    for (path, file) in [
        ("/assets/style.css".to_string(), "style.css"),
        ("/assets/app/api.js".to_string(), "app/api.js"),
        ("/".to_string(), "index.html"),
        (format!("/c/{slug}"), "participant.html"),
        (format!("/report/{slug}"), "report.html"),
        ("/admin".to_string(), "admin.html"),
        ("/favicon.svg".to_string(), "favicon.svg"),
    ] {
        let (status, headers, body) = fetch(&app, &path, &[(ACCEPT_ENCODING, "gzip, br")]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(decode(&headers, &body), client_file(file), "{path}");
        let hash = Sha256::digest(client_file(file));
        let etag = format!("W/\"{}\"", hex::encode(&hash[..16]));
        assert_eq!(
            header(&headers, &ETAG),
            etag,
            "{path}: the ETag is the content's hash"
        );
        assert_eq!(header(&headers, &CACHE_CONTROL), "no-cache", "{path}");

        // The second visit: the browser sends the ETag back.
        let (status, again, body) = fetch(
            &app,
            &path,
            &[(ACCEPT_ENCODING, "gzip, br"), (IF_NONE_MATCH, &etag)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(body.is_empty(), "{path}: a 304 has no body");
        assert_eq!(
            header(&again, &ETAG),
            etag,
            "{path}: the 304 names the ETag"
        );
        assert_eq!(header(&again, &CACHE_CONTROL), "no-cache");
        assert_eq!(header(&again, &CONTENT_ENCODING), "");

        // Strong or in a list, it still matches; another file's tag does not.
        let strong = etag.trim_start_matches("W/");
        let list = format!("\"0000\", {strong}");
        let (status, _, _) = fetch(&app, &path, &[(IF_NONE_MATCH, &list)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}: {list}");
        let (status, _, body) = fetch(&app, &path, &[(IF_NONE_MATCH, "W/\"0000\"")]).await;
        assert_eq!(status, StatusCode::OK, "{path}: a stale tag gets the file");
        assert_eq!(body, client_file(file));
    }
    app.stop().await;
}

#[tokio::test]
async fn the_favicon_is_served_under_both_names() {
    let app = spawn_app().await;
    for path in ["/favicon.svg", "/favicon.ico", "/assets/favicon.svg"] {
        let (status, headers, body) = fetch(&app, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&headers, &CONTENT_TYPE), "image/svg+xml", "{path}");
        assert_eq!(body, client_file("favicon.svg"), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_conversation_address_is_a_404_page() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    for page in ["c", "desk", "display", "report"] {
        let (status, headers, body) = fetch(&app, &format!("/{page}/{slug}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "/{page}/{slug}");
        assert!(header(&headers, &CONTENT_TYPE).starts_with("text/html"));
        assert!(!String::from_utf8_lossy(&body).contains("find that conversation"));

        for (path, encoding) in [
            (format!("/{page}/no-such-talk"), ""),
            (format!("/{page}/{slug}x"), "gzip, br"),
        ] {
            let (status, headers, body) = fetch(&app, &path, &[(ACCEPT_ENCODING, encoding)]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(
                header(&headers, &CONTENT_TYPE),
                "text/html; charset=utf-8",
                "{path}"
            );
            assert_eq!(header(&headers, &CACHE_CONTROL), "no-cache", "{path}");
            let html = String::from_utf8(decode(&headers, &body)).expect("UTF-8");
            assert!(
                html.contains("<h1>We can't find that conversation</h1>"),
                "{path}: {html}"
            );
            assert!(
                html.contains(r#"<a class="go" href="/">"#),
                "{path}: links home"
            );
            assert!(html.contains(r#"<html lang="en">"#));
            assert!(html.contains("<title>Conversation not found · chorus</title>"));
        }
        // Not even a cached page is revalidated for a slug that is gone.
        let (_, headers, _) = fetch(&app, &format!("/{page}/{slug}"), &[]).await;
        let etag = header(&headers, &ETAG).to_string();
        let (status, _, _) = fetch(
            &app,
            &format!("/{page}/nothing-here"),
            &[(IF_NONE_MATCH, &etag)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // The API's own 404 stays problem JSON.
    let (status, headers, _) = fetch(&app, "/api/conversations/no-such-talk", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(header(&headers, &CONTENT_TYPE), "application/problem+json");
    app.stop().await;
}

/// The report is kept already serialised and compressed (src/http/encoded.rs):
/// it must still answer in the coding each client asks for, the same JSON
/// in every coding, with `Vary` and the report's own `Cache-Control`.
#[tokio::test]
async fn the_kept_report_answers_in_the_coding_asked_for() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 12).await;
    let cookie = staff_cookie(&app, Role::Admin).await;
    let path = format!("/api/conversations/{slug}/report");

    let (status, headers, plain) = fetch(&app, &path, &[(reqwest::header::COOKIE, &cookie)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, &CONTENT_ENCODING), "");
    assert_eq!(header(&headers, &CONTENT_TYPE), "application/json");
    assert!(plain.len() > 2048, "the report is {} bytes", plain.len());
    let plain: Value = serde_json::from_slice(&plain).expect("JSON");

    for (asked, expected) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", ""),
        ("identity", ""),
    ] {
        let (status, headers, body) = fetch(
            &app,
            &path,
            &[(ACCEPT_ENCODING, asked), (reqwest::header::COOKIE, &cookie)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{asked}");
        assert_eq!(
            header(&headers, &CONTENT_ENCODING),
            expected,
            "asked for {asked}"
        );
        assert!(
            header(&headers, &VARY)
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{asked}: Vary names Accept-Encoding"
        );
        assert_eq!(header(&headers, &CACHE_CONTROL), "private, no-cache");
        let decoded: Value = serde_json::from_slice(&decode(&headers, &body)).expect("JSON");
        assert_eq!(decoded, plain, "{asked}: the same report");
        if !expected.is_empty() {
            assert!(
                body.len() * 2 < serde_json::to_vec(&plain).unwrap().len(),
                "{asked}: smaller"
            );
        }
    }
    app.stop().await;
}
