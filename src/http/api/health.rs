//! Liveness, readiness and metrics for load balancers and Prometheus.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::http::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// What `/readyz` says: whether to send this node traffic, and why not.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub store: &'static str,
    pub bus: &'static str,
    pub node: String,
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let store_ok = state.store.ping().await.is_ok();
    let bus = state.hub.bus_health();
    let shutting_down = state.shutdown.is_cancelled();
    let status = if store_ok && !shutting_down {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if shutting_down {
            "stopping"
        } else if !store_ok {
            "down"
        } else if bus != "ok" {
            "degraded"
        } else {
            "ready"
        },
        store: if store_ok { "ok" } else { "down" },
        bus,
        node: state.hub.node_id.clone(),
    };
    (status, Json(body))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("chorus_ws_connections")
        .set(state.connections.load(std::sync::atomic::Ordering::Relaxed) as f64);
    metrics::gauge!("chorus_cache_entries", "cache" => "conversations")
        .set(state.conversations.entries() as f64);
    metrics::gauge!("chorus_cache_entries", "cache" => "participants")
        .set(state.participants.entries() as f64);
    // SQLite's page caches, schemas and prepared statements, process-wide:
    // it grows with the database until each connection's cache is full.
    // SAFETY: a plain read of SQLite's thread-safe memory counter.
    let sqlite = unsafe { libsqlite3_sys::sqlite3_memory_used() };
    metrics::gauge!("chorus_sqlite_memory_bytes").set(sqlite as f64);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
