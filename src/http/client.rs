//! The web client: plain HTML, CSS and ES modules from `client/`, embedded
//! in release builds and read from disk in debug builds (rust-embed), so
//! `cargo run` serves it with no build step.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

use super::AppState;

#[derive(RustEmbed)]
#[folder = "client/"]
struct Assets;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page("index.html") }))
        .route("/c/{slug}", get(|| async { page("participant.html") }))
        .route("/desk/{slug}", get(|| async { page("desk.html") }))
        .route("/display/{slug}", get(|| async { page("display.html") }))
        .route("/report/{slug}", get(|| async { page("report.html") }))
        .route("/admin", get(|| async { page("admin.html") }))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>| async move { asset(&path) }),
        )
}

fn page(name: &str) -> Response {
    let mut response = asset(name);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn asset(path: &str) -> Response {
    if path.split('/').any(|part| part == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match Assets::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_string()),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
