//! The web client: plain HTML, CSS and ES modules from `client/`, embedded
//! in release builds and read from disk in debug builds (rust-embed), so
//! `cargo run` serves it with no build step.
//!
//! Caching: every file is sent with `Cache-Control: no-cache` and an
//! `ETag`, and a request whose `If-None-Match` names the current `ETag`
//! gets `304 Not Modified` with no body. So a second visit downloads
//! almost nothing (a few hundred bytes of headers per file), yet a deploy
//! is seen on the very next page load. The other common choice, names
//! with the content hash in them and a year's `max-age`, would save even
//! those revalidations, but it needs a build step: the modules import each
//! other by plain relative names (`./api.js`), and rewriting those is
//! exactly the bundler the client does without.
//!
//! The `ETag` is the first 128 bits of the file's SHA-256, which rust-embed
//! computes at compile time for the embedded files (and on each read of
//! the file on disk in debug builds, so an edit is seen at once). It is
//! weak (`W/"…"`) because the compression layer (see `super::router`) may
//! send the same file gzip, brotli or as it is: the representations differ
//! byte for byte, but each is as good as the others for the cache.
//!
//! Compression itself is the router's: the static files are compressed on
//! each first visit (brotli at quality 4, where the API's answers use the
//! fastest level; about
//! 74 KB in for the participant page). Should that ever show in a profile,
//! the embedded files could be compressed once at startup instead.
//!
//! A conversation's pages (`/c/{slug}`, `/desk/{slug}`, `/display/{slug}`,
//! `/report/{slug}`) answer `404` with a small page of their own
//! (`not-found.html`) when no conversation has that slug, rather than a
//! page that would wait for a conversation that will never come.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use rust_embed::{EmbeddedFile, RustEmbed};

use super::error::ApiError;
use super::AppState;

#[derive(RustEmbed)]
#[folder = "client/"]
struct Assets;

/// Revalidate on every use (see the module's comment).
fn cache_control() -> HeaderValue {
    HeaderValue::from_static("no-cache")
}

/// The page for a conversation address that names no conversation.
const NOT_FOUND_PAGE: &str = "not-found.html";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|headers: HeaderMap| async move { asset("index.html", &headers) }))
        .route("/c/{slug}", conversation_page("participant.html"))
        .route("/c/{slug}/mine", conversation_page("mine.html"))
        .route("/desk/{slug}", conversation_page("desk.html"))
        .route("/display/{slug}", conversation_page("display.html"))
        .route("/report/{slug}", conversation_page("report.html"))
        .route("/admin", get(|headers: HeaderMap| async move { asset("admin.html", &headers) }))
        // Browsers ask for /favicon.ico on their own (a JSON answer opened
        // in a tab, say) even though every page links the SVG: both are
        // the same SVG, which every current browser takes as an icon.
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move { asset(&path, &headers) }),
        )
}

async fn favicon(headers: HeaderMap) -> Response {
    asset("favicon.svg", &headers)
}

/// A page about one conversation: the page when the slug names one, the
/// not-found page with `404` when it does not.
fn conversation_page(name: &'static str) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>, Path(slug): Path<String>, headers: HeaderMap| async move {
            match super::api::conversation(&state, &slug).await {
                Ok(_) => asset(name, &headers),
                Err(ApiError::NotFound(_)) => not_found_page(),
                // The page copes with a store that does not answer (it
                // shows the error and retries); better that than a 500 page.
                Err(e) => {
                    tracing::warn!(error = %e, slug = %slug, "looking up a conversation for its page");
                    asset(name, &headers)
                }
            }
        },
    )
}

fn not_found_page() -> Response {
    match Assets::get(NOT_FOUND_PAGE) {
        Some(file) => (
            StatusCode::NOT_FOUND,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, cache_control()),
            ],
            body(file),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn asset(path: &str, headers: &HeaderMap) -> Response {
    if path.split('/').any(|part| part == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = etag(&file);
    let validators = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, cache_control()),
        // Sent with the 304 too, as the 200 would have it.
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if fresh(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = HeaderValue::from_str(mime.as_ref())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        validators,
        [(header::CONTENT_TYPE, content_type)],
        body(file),
    )
        .into_response()
}

/// The file's bytes, without a copy when they are embedded.
fn body(file: EmbeddedFile) -> Body {
    match file.data {
        Cow::Borrowed(bytes) => Body::from(Bytes::from_static(bytes)),
        Cow::Owned(bytes) => Body::from(bytes),
    }
}

/// `W/"<first 128 bits of the SHA-256, in hex>"`.
fn etag(file: &EmbeddedFile) -> HeaderValue {
    let hash = file.metadata.sha256_hash();
    HeaderValue::from_str(&format!("W/\"{}\"", hex::encode(&hash[..16])))
        .expect("hex is a valid header value")
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`), by the
/// weak comparison RFC 9110 asks for: `W/` prefixes do not count.
fn fresh(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = opaque(etag.to_str().unwrap_or_default());
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let etag = HeaderValue::from_static("W/\"abc\"");
        assert!(fresh(&with("W/\"abc\""), &etag));
        assert!(fresh(&with("\"abc\""), &etag));
        assert!(fresh(&with("\"x\", W/\"abc\""), &etag));
        assert!(fresh(&with("*"), &etag));
        assert!(!fresh(&with("W/\"abd\""), &etag));
        assert!(!fresh(&with("abc"), &etag));
        assert!(!fresh(&HeaderMap::new(), &etag));
    }

    #[test]
    fn every_page_and_the_not_found_page_link_the_favicon() {
        for name in [
            "index.html",
            "participant.html",
            "desk.html",
            "display.html",
            "report.html",
            "admin.html",
            NOT_FOUND_PAGE,
        ] {
            let file = Assets::get(name).unwrap_or_else(|| panic!("{name} is embedded"));
            let text = String::from_utf8_lossy(&file.data);
            assert!(
                text.contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#),
                "{name} links the favicon"
            );
        }
        assert!(Assets::get("favicon.svg").is_some());
    }
}
