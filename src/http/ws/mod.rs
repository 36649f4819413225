//! The WebSocket endpoint, `GET /ws`. An upgrade is refused at the door
//! (cross-site origin, shutdown, the node's connection cap, the per-IP
//! connect rate) before any socket exists; past it, one task per
//! connection runs until the connection ends:
//!
//! - `pump`: the connection's loop over inbound messages, live frames,
//!   keepalive and shutdown;
//! - `subscribe`: who may watch as what, and the start of the stream
//!   (replay, full tallies, presence);
//! - `live`: what a subscribed connection forwards from its topic;
//! - `veil`: what a participant's connection leaves out of the tallies
//!   while `tallies_visible` hides them;
//! - `wire`: sending under a deadline, and closing.
//!
//! The messages and close codes are documented in `docs/protocol.md`.

mod live;
mod pump;
mod subscribe;
mod veil;
mod wire;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::auth::{origin_allowed, Caller};
use super::error::ApiError;
use super::rate::check;
use super::AppState;
use wire::Wire;

pub const CLOSE_IDLE: u16 = 4000;
pub const CLOSE_TOO_SLOW: u16 = 4008;
pub const CLOSE_TOO_MANY_MESSAGES: u16 = 4029;
pub const CLOSE_RESTARTING: u16 = 1012;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_INTERNAL: u16 = 1011;

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = refusal(&state, &caller, &headers) {
        return refusal.into_response();
    }
    let settings = &state.settings.ws;
    let connection = Connection {
        counted: Counted::new(state.connections.clone()),
        state: state.clone(),
        caller,
    };
    let tracker = state.connection_tasks.clone();
    let fanout = state.hub.fanout().clone();
    let send_timeout_s = settings.send_timeout_s.get();
    ws.read_buffer_size(settings.read_buffer_bytes.get())
        .write_buffer_size(0)
        .max_message_size(settings.max_message_bytes.get())
        .max_frame_size(settings.max_message_bytes.get())
        .on_upgrade(move |socket| {
            // The wire is made here, not in `run`: an async fn keeps its
            // arguments in its state for its whole life, so a socket moved
            // into a wire inside it would be held twice by every
            // connection (368 bytes each, measured by the size test below).
            let wire = Wire::new(socket, send_timeout_s);
            // Off the API's runtime: see `hub::fanout`.
            tracker.spawn_on(connection.run(wire), &fanout);
            std::future::ready(())
        })
}

/// Why an upgrade is refused, if it is. Refusing before the upgrade costs
/// no socket and gives the client an HTTP status it can act on.
fn refusal(state: &AppState, caller: &Caller, headers: &HeaderMap) -> Option<ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        // A browser sends the session cookie with any page's WebSocket:
        // without this, another site could watch as the participant.
        if !origin_allowed(
            origin,
            headers,
            &state.settings.public_origins,
            state.listen_port,
        ) {
            metrics::counter!("chorus_ws_refused_total", "reason" => "origin").increment(1);
            return Some(ApiError::Forbidden(format!(
                "WebSocket connections from {origin} are not accepted"
            )));
        }
    }
    if state.shutdown.is_cancelled() {
        return Some(ApiError::Unavailable(
            "this node is restarting; connect again".into(),
        ));
    }
    if state.connections.load(Ordering::Relaxed) >= state.settings.ws.max_connections.get() {
        metrics::counter!("chorus_ws_refused_total", "reason" => "cap").increment(1);
        return Some(ApiError::Unavailable(
            "this node is at its connection limit".into(),
        ));
    }
    check(&state.limits.connect, &caller.ip, "ws_connect").err()
}

/// Keeps the node's connection count while a connection lives.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(count: Arc<AtomicUsize>) -> Counted {
        count.fetch_add(1, Ordering::Relaxed);
        Counted(count)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Connection {
    state: AppState,
    /// The caller at upgrade time: the staff session then, and the
    /// cookies that find a participant per subscribed conversation.
    caller: Caller,
    /// Counts this connection towards the node's cap.
    counted: Counted,
}

impl Connection {
    /// Not an `async fn`: one moves its arguments into locals, so the
    /// task would hold the connection and its wire twice, for life (600
    /// bytes a connection; see the size test below). An async block uses
    /// what it captured in place.
    #[allow(clippy::manual_async_fn)]
    fn run(self, mut wire: Wire) -> impl std::future::Future<Output = ()> {
        async move {
            metrics::gauge!("chorus_ws_open").increment(1.0);
            let end = self.pump(&mut wire).await;
            // Boxed: closing happens once, and its state would otherwise
            // be part of every connection's task for its whole life.
            Box::pin(wire.finish(end)).await;
            metrics::gauge!("chorus_ws_open").decrement(1.0);
            drop(self.counted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `f` returns, from its type alone.
    fn size_of_future<A, B, F: std::future::Future>(_: &impl Fn(A, B) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every open connection's task is this future, for as long as the
    /// connection lives: at ten thousand idle connections a kilobyte here
    /// is ten megabytes. In a test build it is 1,744 bytes; it was 2,936
    /// with the socket moved into a wire inside `run`, `run` an `async fn`,
    /// and inbound messages and the close handled unboxed.
    #[test]
    fn a_connection_task_stays_small() {
        let run = |connection: Connection, wire: Wire| connection.run(wire);
        let size = size_of_future(&run);
        assert!(
            size <= 2048,
            "a connection's task is {size} bytes (the wire alone is {})",
            std::mem::size_of::<Wire>()
        );
    }
}
