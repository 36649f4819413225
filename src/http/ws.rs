//! The WebSocket endpoint: checks at the door (origin, connection cap,
//! per-IP rate), then one task per connection that pumps its
//! subscription: replay, then live events, coalesced tallies and presence,
//! with keepalive, inbound limits and a 1012 close at shutdown. The
//! messages and close codes are documented in `docs/protocol.md`.

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use governor::{DefaultDirectRateLimiter, RateLimiter};
use tokio::sync::broadcast::error::RecvError;

use super::auth::{hash_token, origin_allowed, Caller};
use super::error::ApiError;
use super::rate::{check, quota};
use super::AppState;
use crate::domain::event::project;
use crate::domain::{Audience, Millis, SignupMode};
use crate::hub::protocol::{decode, event_message, ClientMessage, RequestedRole, ServerMessage};
use crate::hub::topic::{Frame, Start, Subscription, UNSEQUENCED};
use crate::store::Session;

pub const CLOSE_IDLE: u16 = 4000;
pub const CLOSE_TOO_SLOW: u16 = 4008;
pub const CLOSE_TOO_MANY_MESSAGES: u16 = 4029;
pub const CLOSE_RESTARTING: u16 = 1012;
pub const CLOSE_TOO_BIG: u16 = 1009;

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        if !origin_allowed(
            origin,
            &headers,
            &state.settings.public_origins,
            state.listen_port,
        ) {
            metrics::counter!("chorus_ws_refused_total", "reason" => "origin").increment(1);
            return ApiError::Forbidden(format!(
                "WebSocket connections from {origin} are not accepted"
            ))
            .into_response();
        }
    }
    if state.shutdown.is_cancelled() {
        return ApiError::Unavailable("this node is restarting; connect again".into())
            .into_response();
    }
    if state.connections.load(Ordering::Relaxed) >= state.settings.ws.max_connections.get() {
        metrics::counter!("chorus_ws_refused_total", "reason" => "cap").increment(1);
        return ApiError::Unavailable("this node is at its connection limit".into())
            .into_response();
    }
    if let Err(e) = check(&state.limits.connect, &caller.ip, "ws_connect") {
        return e.into_response();
    }
    let settings = &state.settings.ws;
    let connection = Connection {
        counted: Counted::new(state.connections.clone()),
        state: state.clone(),
        session: caller.session,
    };
    let tracker = state.connection_tasks.clone();
    ws.read_buffer_size(settings.read_buffer_bytes.get())
        .write_buffer_size(0)
        .max_message_size(settings.max_message_bytes.get())
        .max_frame_size(settings.max_message_bytes.get())
        .on_upgrade(move |socket| tracker.track_future(connection.run(socket)))
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

/// Why a connection ends.
enum End {
    /// The client went away or the socket failed: nothing more to send.
    Gone,
    /// The client sent a close frame: answer it (the library queued the
    /// echo; it goes out on the next flush) so the handshake completes.
    ClosedByClient,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

struct Connection {
    state: AppState,
    /// The session from the cookie at upgrade time, if any.
    session: Option<Session>,
    /// Counts this connection towards the node's cap.
    counted: Counted,
}

/// Per-connection progress through the stream.
struct Live {
    subscription: Subscription,
    /// The largest sequence number sent; anything at or below is skipped.
    last_sent: i64,
    /// The tally epoch this client is current with.
    epoch: u64,
    /// The last presence frame sent (the same count is not sent twice).
    last_presence: Utf8Bytes,
}

impl Connection {
    async fn run(self, mut socket: WebSocket) {
        metrics::gauge!("chorus_ws_open").increment(1.0);
        let end = match self.pump(&mut socket).await {
            Err(end) => end,
            Ok(never) => match never {},
        };
        match end {
            End::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                };
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    socket.send(Message::Close(Some(frame))),
                )
                .await;
            }
            End::ClosedByClient => {
                let _ = tokio::time::timeout(Duration::from_secs(2), socket.flush()).await;
            }
            End::Gone => {}
        }
        metrics::gauge!("chorus_ws_open").decrement(1.0);
        drop(self.counted);
    }

    async fn pump(&self, socket: &mut WebSocket) -> Result<std::convert::Infallible, End> {
        let settings = &self.state.settings.ws;
        let mut live: Option<Live> = None;
        let inbound: DefaultDirectRateLimiter =
            RateLimiter::direct(quota(settings.messages_per_s, settings.message_burst));
        let mut ping = tokio::time::interval(Duration::from_secs(settings.ping_interval_s.get()));
        ping.reset();
        let idle_timeout = Duration::from_secs(settings.idle_timeout_s.get());
        let mut last_heard = Instant::now();
        let shutdown = self.state.shutdown.clone();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return Err(End::Close(CLOSE_RESTARTING, "server restarting")),
                message = socket.recv() => {
                    last_heard = Instant::now();
                    let text = match message {
                        None => return Err(End::Gone),
                        Some(Ok(Message::Close(_))) => return Err(End::ClosedByClient),
                        Some(Err(error)) => {
                            let text = error.to_string();
                            if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                                return Err(End::Close(CLOSE_TOO_BIG, "message too big"));
                            }
                            return Err(End::Gone);
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => None,
                        Some(Ok(Message::Text(text))) => Some(text),
                    };
                    if inbound.check().is_err() {
                        return Err(End::Close(CLOSE_TOO_MANY_MESSAGES, "too many messages"));
                    }
                    let Some(text) = text else {
                        self.send_error(socket, "binary_not_supported", "chorus speaks JSON text frames only").await?;
                        continue;
                    };
                    match decode(text.as_str()) {
                        Err(e) => self.send_error(socket, e.code, &e.message).await?,
                        Ok(ClientMessage::Ping { nonce }) => {
                            send(socket, ServerMessage::Pong { nonce }.to_text(), settings.send_timeout_s).await?;
                        }
                        Ok(ClientMessage::Focus { comment_id }) => {
                            let who = self.session.as_ref().and_then(|s| s.user.as_ref()).map(|u| u.name.clone());
                            match (&live, who) {
                                (Some(l), Some(who)) if l.subscription.audience == Audience::Moderators => {
                                    self.state.hub.focus(l.subscription.topic.conversation_id, &who, comment_id);
                                }
                                _ => self.send_error(socket, "forbidden", "only subscribed facilitators share focus").await?,
                            }
                        }
                        Ok(ClientMessage::Subscribe { conversation, since, role, display_token }) => {
                            // The new subscription replaces the old: end the old one
                            // first, so this connection is never counted twice.
                            drop(live.take());
                            live = self.subscribe(socket, &conversation, since, role, display_token.as_deref()).await?;
                        }
                    }
                }
                happened = next_live(&mut live) => {
                    let live_state = live.as_mut().expect("only polled when subscribed");
                    match happened {
                        Happened::Event(Ok(frame)) => {
                            if frame.seq == UNSEQUENCED {
                                send(socket, frame.text, settings.send_timeout_s).await?;
                            } else if frame.seq > live_state.last_sent {
                                live_state.last_sent = frame.seq;
                                send(socket, frame.text, settings.send_timeout_s).await?;
                            }
                        }
                        Happened::Event(Err(RecvError::Lagged(_))) => {
                            metrics::counter!("chorus_ws_too_slow_total").increment(1);
                            return Err(End::Close(CLOSE_TOO_SLOW, "too slow"));
                        }
                        Happened::Event(Err(RecvError::Closed)) => {
                            return Err(End::Close(CLOSE_RESTARTING, "server restarting"));
                        }
                        Happened::Tallies => {
                            let frame = live_state.subscription.tallies.borrow_and_update().clone();
                            let text = if frame.epoch == live_state.epoch + 1 {
                                live_state.epoch = frame.epoch;
                                frame.delta.clone()
                            } else {
                                // Missed a frame while busy: send everything instead.
                                let (epoch, full) = live_state.subscription.topic.full_tallies();
                                live_state.epoch = epoch;
                                full
                            };
                            send(socket, text, settings.send_timeout_s).await?;
                        }
                        Happened::Presence => {
                            let text = live_state.subscription.presence.borrow_and_update().clone();
                            if text != live_state.last_presence {
                                live_state.last_presence = text.clone();
                                send(socket, text, settings.send_timeout_s).await?;
                            }
                        }
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > idle_timeout {
                        return Err(End::Close(CLOSE_IDLE, "idle timeout"));
                    }
                    timed(socket.send(Message::Ping(Default::default())), settings.send_timeout_s).await?;
                }
            }
        }
    }

    async fn send_error(
        &self,
        socket: &mut WebSocket,
        code: &str,
        message: &str,
    ) -> Result<(), End> {
        metrics::counter!("chorus_ws_errors_total", "code" => code.to_string()).increment(1);
        send(
            socket,
            ServerMessage::Error { code, message }.to_text(),
            self.state.settings.ws.send_timeout_s,
        )
        .await
    }

    /// Decides the role, subscribes, and sends the start of the stream:
    /// `subscribed`, the replay, the full tallies and presence.
    async fn subscribe(
        &self,
        socket: &mut WebSocket,
        slug: &str,
        since: Option<i64>,
        requested: Option<RequestedRole>,
        display_token: Option<&str>,
    ) -> Result<Option<Live>, End> {
        let timeout = self.state.settings.ws.send_timeout_s;
        let store = &self.state.store;
        let conversation = match store.conversation_by_slug(slug).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                self.send_error(socket, "not_found", &format!("no conversation {slug:?}"))
                    .await?;
                return Ok(None);
            }
            Err(e) => {
                tracing::warn!(error = %e, "subscribe: store unavailable");
                return Err(End::Close(1011, "internal error"));
            }
        };
        let staff = self
            .session
            .as_ref()
            .and_then(|s| s.user.as_ref())
            .is_some();
        let participant = match &self.session {
            Some(session) => store
                .participant(conversation.id, session.id)
                .await
                .ok()
                .flatten()
                .is_some(),
            None => false,
        };
        let token_ok = match display_token {
            Some(token) => store
                .display_token_valid(conversation.id, &hash_token(token))
                .await
                .unwrap_or(false),
            None => false,
        };
        let may_display =
            staff || participant || token_ok || conversation.signup_mode == SignupMode::Open;
        let role = match requested {
            Some(RequestedRole::Facilitator) if staff => RequestedRole::Facilitator,
            Some(RequestedRole::Participant) if participant => RequestedRole::Participant,
            Some(RequestedRole::Display) if may_display => RequestedRole::Display,
            None if staff => RequestedRole::Facilitator,
            None if participant => RequestedRole::Participant,
            None if may_display => RequestedRole::Display,
            _ => {
                self.send_error(
                    socket,
                    "forbidden",
                    "this session may not watch this conversation with that role",
                )
                .await?;
                return Ok(None);
            }
        };
        let today = Millis::now().day();
        if role == RequestedRole::Display
            && self.state.hub.first_display_of_day(conversation.id, today)
        {
            // Event days for the report: one row per conversation and day.
            let write = crate::store::Write::DisplaySeen {
                conversation_id: conversation.id,
                day: today,
            };
            if let Err(e) = self.state.store.write(write).await {
                tracing::warn!(error = %e, "could not record the display day");
            }
        }
        let mut subscription = match self.state.hub.subscribe(conversation.id, role, since).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "subscribe failed");
                return Err(End::Close(1011, "internal error"));
            }
        };
        let since = subscription.since;
        let start = std::mem::replace(
            &mut subscription.start,
            Start::Replay {
                store_range: None,
                ring: Vec::new(),
            },
        );
        let (store_range, ring) = match start {
            Start::Resync { seq, reason } => {
                send(
                    socket,
                    ServerMessage::Resync { seq, reason }.to_text(),
                    timeout,
                )
                .await?;
                return Ok(None);
            }
            Start::Replay { store_range, ring } => (store_range, ring),
        };
        if since > subscription.topic.head() {
            // Ahead of this node: fine if the store has it (another node was
            // faster), a resync if not even the store does.
            let last = match store.last_seq(conversation.id).await {
                Ok(last) => last,
                Err(e) => {
                    // Not knowing is not "ahead": a resync would send the
                    // client to reload for nothing.
                    tracing::warn!(error = %e, "subscribe: store unavailable");
                    return Err(End::Close(1011, "internal error"));
                }
            };
            if since > last {
                send(
                    socket,
                    ServerMessage::Resync {
                        seq: last,
                        reason: "ahead_of_server",
                    }
                    .to_text(),
                    timeout,
                )
                .await?;
                return Ok(None);
            }
        }
        send(
            socket,
            ServerMessage::Subscribed {
                conversation: &conversation.slug,
                role,
                seq: since,
            }
            .to_text(),
            timeout,
        )
        .await?;
        let mut last_sent = since;
        if let Some((mut after, before)) = store_range {
            let now = Millis::now();
            while after + 1 < before {
                let events = match store
                    .events(conversation.id, after, (before - after - 1).min(500))
                    .await
                {
                    Ok(events) if !events.is_empty() => events,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "replay from store failed");
                        return Err(End::Close(1011, "internal error"));
                    }
                };
                for event in &events {
                    after = event.seq;
                    if let Some(projection) = project(event, subscription.audience) {
                        if event.seq > last_sent {
                            send(
                                socket,
                                event_message(
                                    event.seq,
                                    projection,
                                    (subscription.audience == Audience::Moderators)
                                        .then_some(event.actor.as_str()),
                                    now,
                                )
                                .to_text(),
                                timeout,
                            )
                            .await?;
                            last_sent = event.seq;
                        }
                    }
                }
            }
        }
        for Frame { seq, text } in ring {
            if seq > last_sent {
                send(socket, text, timeout).await?;
                last_sent = seq;
            }
        }
        let last_sent = last_sent.max(since);
        let (epoch, full) = subscription.topic.full_tallies();
        send(socket, full, timeout).await?;
        let presence = subscription.topic.presence_now();
        send(socket, presence.clone(), timeout).await?;
        Ok(Some(Live {
            subscription,
            last_sent,
            epoch,
            last_presence: presence,
        }))
    }
}

async fn timed<F, E>(future: F, seconds: NonZeroU64) -> Result<(), End>
where
    F: std::future::Future<Output = Result<(), E>>,
{
    match tokio::time::timeout(Duration::from_secs(seconds.get()), future).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Gone),
        Err(_) => {
            metrics::counter!("chorus_ws_send_timeouts_total").increment(1);
            Err(End::Close(CLOSE_TOO_SLOW, "too slow"))
        }
    }
}

async fn send(socket: &mut WebSocket, text: Utf8Bytes, timeout_s: NonZeroU64) -> Result<(), End> {
    timed(socket.send(Message::Text(text)), timeout_s).await
}

/// Something for a subscribed connection to send.
enum Happened {
    Event(Result<Frame, RecvError>),
    Tallies,
    Presence,
}

/// Waits for the next thing to send; never resolves before a subscription.
async fn next_live(live: &mut Option<Live>) -> Happened {
    let Some(live) = live else {
        return std::future::pending().await;
    };
    let subscription = &mut live.subscription;
    tokio::select! {
        biased;
        frame = subscription.live.recv() => Happened::Event(frame),
        Ok(()) = subscription.tallies.changed() => Happened::Tallies,
        Ok(()) = subscription.presence.changed() => Happened::Presence,
    }
}
