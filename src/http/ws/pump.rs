//! A connection's loop: it acts on whichever comes first of shutdown, a
//! message from the client, something to forward from the topic, and the
//! keepalive tick, until one of them ends the connection.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes};
use governor::{DefaultDirectRateLimiter, RateLimiter};
use uuid::Uuid;

use super::live::{self, Live};
use super::wire::{End, Wire};
use super::{Connection, CLOSE_IDLE, CLOSE_RESTARTING, CLOSE_TOO_BIG, CLOSE_TOO_MANY_MESSAGES};
use crate::config::WsSettings;
use crate::domain::Audience;
use crate::http::rate::quota;
use crate::hub::protocol::{decode, ClientMessage, ServerMessage};

/// A message from the client that the loop acts on (the library answers
/// pings by itself, and pongs only show the client is there).
enum Inbound {
    Text(Utf8Bytes),
    Binary,
}

impl Connection {
    pub(super) async fn pump(&self, wire: &mut Wire) -> End {
        let settings = &self.state.settings.ws;
        let mut live: Option<Live> = None;
        let mut keepalive = Keepalive::new(settings);
        let inbound: DefaultDirectRateLimiter =
            RateLimiter::direct(quota(settings.messages_per_s, settings.message_burst));
        // A token of its own, waited on by one future for the whole loop:
        // re-registering with the node's token every time round would put
        // every connection through one shared lock at every tally tick.
        let shutdown = self.state.shutdown.child_token();
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        loop {
            let step = tokio::select! {
                // Shutdown first: a connection with a steady stream to
                // forward must still close promptly when the node stops.
                biased;
                _ = &mut cancelled => Err(End::Close(CLOSE_RESTARTING, "server restarting")),
                message = wire.recv() => {
                    keepalive.heard();
                    match sort(message) {
                        // Boxed: clients seldom send, and what acting on a
                        // message needs (a store read, an answer) would
                        // otherwise make every connection's task that large.
                        Ok(Some(message)) => Box::pin(self.receive(wire, &mut live, &inbound, message)).await,
                        Ok(None) => Ok(()),
                        Err(end) => Err(end),
                    }
                }
                next = live::next(&live) => {
                    let live = live.as_mut().expect("only resolves when subscribed");
                    live.forward(wire, next).await
                }
                _ = keepalive.tick() => keepalive.check(wire).await,
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    async fn receive(
        &self,
        wire: &mut Wire,
        live: &mut Option<Live>,
        limiter: &DefaultDirectRateLimiter,
        message: Inbound,
    ) -> Result<(), End> {
        // Counted before decoding: a message refused costs the server an
        // answer too, so a client stuck sending bad input is stopped as well.
        if limiter.check().is_err() {
            return Err(End::Close(CLOSE_TOO_MANY_MESSAGES, "too many messages"));
        }
        match message {
            Inbound::Binary => {
                wire.send_error(
                    "binary_not_supported",
                    "chorus speaks JSON text frames only",
                )
                .await
            }
            Inbound::Text(text) => self.dispatch(wire, live, text.as_str()).await,
        }
    }

    async fn dispatch(
        &self,
        wire: &mut Wire,
        live: &mut Option<Live>,
        text: &str,
    ) -> Result<(), End> {
        match decode(text) {
            Err(e) => wire.send_error(e.code, &e.message).await,
            Ok(ClientMessage::Ping { nonce }) => {
                wire.send_message(ServerMessage::Pong { nonce }).await
            }
            Ok(ClientMessage::Focus { comment_id }) => {
                self.focus(wire, live.as_ref(), comment_id).await
            }
            Ok(ClientMessage::Voted { item_id }) => self.voted(wire, live.as_mut(), item_id).await,
            Ok(ClientMessage::Subscribe {
                conversation,
                since,
                role,
                display_token,
            }) => {
                // The new subscription replaces the old: end the old one
                // first, so this connection is never counted twice.
                drop(live.take());
                // Boxed: its state is large and needed once, and the
                // connection's task would otherwise be that size for life.
                *live = Box::pin(self.subscribe(
                    wire,
                    &conversation,
                    since,
                    role,
                    display_token.as_deref(),
                ))
                .await?;
                Ok(())
            }
        }
    }

    /// A participant says it voted on `item_id`. Checked against the store
    /// (the vote may have gone through another node): with a vote there,
    /// the pledge's tally passes this connection's veil from now on, and
    /// its current tally is sent at once. Without one, nothing happens.
    async fn voted(
        &self,
        wire: &mut Wire,
        live: Option<&mut Live>,
        item_id: Uuid,
    ) -> Result<(), End> {
        let Some(live) = live else {
            return Ok(());
        };
        let Some(participant) = live.veil.as_ref().and_then(|v| v.participant) else {
            return Ok(());
        };
        let (votes, _) = self.state.store.votes_of(participant).await.map_err(|e| {
            tracing::warn!(error = %e, "store unavailable");
            End::Close(super::CLOSE_INTERNAL, "internal error")
        })?;
        if votes.iter().any(|(item, _)| *item == item_id) {
            live.reveal(wire, item_id).await?;
        }
        Ok(())
    }

    async fn focus(
        &self,
        wire: &mut Wire,
        live: Option<&Live>,
        comment_id: Option<Uuid>,
    ) -> Result<(), End> {
        let user = self.caller.user();
        match (live, user) {
            (Some(live), Some(user)) if live.subscription.audience == Audience::Moderators => {
                let conversation_id = live.subscription.topic.conversation_id;
                self.state
                    .hub
                    .focus(conversation_id, &user.name, comment_id);
                Ok(())
            }
            _ => {
                wire.send_error("forbidden", "only subscribed facilitators share focus")
                    .await
            }
        }
    }
}

/// What the loop does with what the socket read: `None` to read on.
fn sort(message: Option<Result<Message, axum::Error>>) -> Result<Option<Inbound>, End> {
    match message {
        None => Err(End::Gone),
        Some(Err(error)) => Err(read_failure(&error)),
        Some(Ok(Message::Close(_))) => Err(End::ClosedByClient),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(None),
        Some(Ok(Message::Binary(_))) => Ok(Some(Inbound::Binary)),
        Some(Ok(Message::Text(text))) => Ok(Some(Inbound::Text(text))),
    }
}

/// How a failed read ends the connection: a message over the size limit
/// is the client's to fix, and the close code says so; anything else
/// means the socket is gone.
fn read_failure(error: &axum::Error) -> End {
    if is_too_big(error) {
        return End::Close(CLOSE_TOO_BIG, "message too big");
    }
    End::Gone
}

/// Whether tungstenite refused a frame or a message over the configured
/// maximum (axum wraps its error; the type, unlike the wording, is part of
/// tungstenite's API).
fn is_too_big(error: &axum::Error) -> bool {
    use std::error::Error as _;
    use tungstenite::error::{CapacityError, Error};
    matches!(
        error.source().and_then(|e| e.downcast_ref::<Error>()),
        Some(Error::Capacity(CapacityError::MessageTooLong { .. }))
    )
}

/// Pings on a timer and reaps connections nothing was heard from (a pong
/// counts): a client that vanished without closing would otherwise hold
/// its slot and its topic until TCP gives up, which can take hours.
struct Keepalive {
    ticks: tokio::time::Interval,
    last_heard: Instant,
    idle_timeout: Duration,
}

impl Keepalive {
    fn new(settings: &WsSettings) -> Keepalive {
        let mut ticks = tokio::time::interval(Duration::from_secs(settings.ping_interval_s.get()));
        // A new connection was just heard from: no ping at once.
        ticks.reset();
        Keepalive {
            ticks,
            last_heard: Instant::now(),
            idle_timeout: Duration::from_secs(settings.idle_timeout_s.get()),
        }
    }

    fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    async fn tick(&mut self) {
        self.ticks.tick().await;
    }

    async fn check(&self, wire: &mut Wire) -> Result<(), End> {
        if self.last_heard.elapsed() > self.idle_timeout {
            return Err(End::Close(CLOSE_IDLE, "idle timeout"));
        }
        wire.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::error::{CapacityError, Error, ProtocolError};

    #[test]
    fn an_oversized_message_is_told_by_its_type() {
        let too_long = axum::Error::new(Error::Capacity(CapacityError::MessageTooLong {
            size: 20_000,
            max_size: 16_384,
        }));
        assert_eq!(
            read_failure(&too_long),
            End::Close(CLOSE_TOO_BIG, "message too big")
        );
    }

    #[test]
    fn other_failures_are_not_oversized_whatever_they_say() {
        let failures = [
            axum::Error::new(Error::Capacity(CapacityError::TooManyHeaders)),
            axum::Error::new(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)),
            axum::Error::new(Error::Io(std::io::Error::other(
                "Space limit exceeded: Message too long, too big",
            ))),
            axum::Error::new(std::io::Error::other("Message too long: 20000 > 16384")),
        ];
        for failure in &failures {
            assert_eq!(read_failure(failure), End::Gone, "{failure}");
        }
    }
}
