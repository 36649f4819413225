//! The report (docs/report.md): JSON, CSV tables, the JSON export and the
//! participation chart. Facilitators and admins get the organisers' view
//! at any time; everyone else gets the public results when the
//! conversation's `results_visibility` admits them (see `results`): while
//! it runs if `results_while_open` is set, and always once it has closed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::report_cache::Built;
use super::{conversation, results};
use crate::domain::{Invalid, Millis};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::AppState;
use crate::report::{self, export, View};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations/{slug}/report", get(json_report))
        .route("/conversations/{slug}/report.csv", get(csv))
        .route("/conversations/{slug}/export.json", get(export_json))
        .route("/conversations/{slug}/report/chart.svg", get(chart))
        .route("/conversations/{slug}/report/opinion.svg", get(opinion_map))
}

/// The caller's view's report and the data it was built from (kept per
/// conversation and view: `report_cache`), or 403 when the results are not
/// public yet.
async fn load(state: &AppState, caller: &Caller, slug: &str) -> Result<Arc<Built>, ApiError> {
    let conversation = conversation(state, slug).await?;
    let now = Millis::now();
    let view = results::view(state, caller, &conversation, now).await?;
    // The conversation above may come from a cache seconds old (another
    // node's change), and the kept report may be older: decide again on
    // the conversation as it is now, and never serve a report made in
    // another state (open, closed) than the conversation is in now.
    let current = state
        .store
        .conversation_by_slug(slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("conversation {slug:?}")))?;
    if view == View::Public {
        results::view(state, caller, &current, now).await?;
    }
    state
        .reports
        .get(state, conversation.id, view, current.state(now))
        .await
}

pub(super) fn private(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

fn download(content_type: &'static str, filename: String, body: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    private(
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response(),
    )
}

/// Served from the bytes kept with the report (no serialising or
/// compressing per request).
async fn json_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let built = load(&state, &caller, &slug).await?;
    Ok(private(built.json.respond(&headers)))
}

#[derive(Deserialize)]
pub struct CsvQuery {
    table: Option<String>,
}

async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiQuery(query): ApiQuery<CsvQuery>,
) -> Result<Response, ApiError> {
    let name = query.table.as_deref().unwrap_or("items");
    let table = export::Table::parse(name).ok_or_else(|| {
        Invalid::field(
            "table",
            format!("{name:?} is not one of {}", export::Table::ALL),
        )
    })?;
    let built = load(&state, &caller, &slug).await?;
    let (data, report) = (&built.data, &built.report);
    let body = export::csv(data, report, table);
    Ok(download(
        "text/csv; charset=utf-8",
        format!("{}-{}.csv", report.conversation.slug, table.as_str()),
        body,
    ))
}

async fn export_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let built = load(&state, &caller, &slug).await?;
    let (data, report) = (&built.data, &built.report);
    let body = serde_json::to_string_pretty(&export::json(data, report))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(download(
        "application/json",
        format!("{}-export.json", report.conversation.slug),
        body,
    ))
}

async fn chart(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let built = load(&state, &caller, &slug).await?;
    let report = &built.report;
    svg(report::timeline::chart_svg(
        &report.conversation.title,
        &report.timeline,
    ))
}

/// The opinion map of the report (the same view rules as the report).
async fn opinion_map(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let built = load(&state, &caller, &slug).await?;
    let opinion = built.report.opinion.as_ref().ok_or_else(|| {
        ApiError::Forbidden("the opinion groups are published when the conversation closes".into())
    })?;
    svg(report::opinion_map::map_svg(
        &built.report.conversation.title,
        opinion,
    ))
}

pub(super) fn svg(body: String) -> Result<Response, ApiError> {
    Ok(private(
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            )],
            body,
        )
            .into_response(),
    ))
}
