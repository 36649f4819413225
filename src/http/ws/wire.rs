//! The socket as the rest of the endpoint uses it: every send has a
//! deadline (a client that stops reading must not hold its task, or the
//! topic's memory, for ever), and every connection ends through
//! [`Wire::finish`].

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;

use super::CLOSE_TOO_SLOW;
use crate::hub::protocol::ServerMessage;

/// How long the close frame may take to go out.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// How long, after the close frame went out, to wait for the client's.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client went away or the socket failed: nothing more to send.
    Gone,
    /// The client sent a close frame: answer it (the library queued the
    /// echo; it goes out on the next flush) so the handshake completes.
    ClosedByClient,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

pub struct Wire {
    socket: WebSocket,
    send_timeout: Duration,
}

impl Wire {
    pub fn new(socket: WebSocket, send_timeout_s: u64) -> Wire {
        Wire {
            socket,
            send_timeout: Duration::from_secs(send_timeout_s),
        }
    }

    pub async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        self.socket.recv().await
    }

    pub async fn send(&mut self, text: Utf8Bytes) -> Result<(), End> {
        self.deliver(Message::Text(text)).await
    }

    pub async fn send_message(&mut self, message: ServerMessage<'_>) -> Result<(), End> {
        self.send(message.to_text()).await
    }

    /// Answers a message the server will not act on; the connection stays.
    pub async fn send_error(&mut self, code: &str, message: &str) -> Result<(), End> {
        metrics::counter!("chorus_ws_errors_total", "code" => code.to_string()).increment(1);
        self.send_message(ServerMessage::Error { code, message })
            .await
    }

    pub async fn ping(&mut self) -> Result<(), End> {
        self.deliver(Message::Ping(Default::default())).await
    }

    async fn deliver(&mut self, message: Message) -> Result<(), End> {
        match tokio::time::timeout(self.send_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => {
                metrics::counter!("chorus_ws_send_timeouts_total").increment(1);
                Err(End::Close(CLOSE_TOO_SLOW, "too slow"))
            }
        }
    }

    /// Ends the connection as `end` says.
    pub async fn finish(mut self, end: End) {
        match end {
            End::Close(code, reason) => self.close(code, reason).await,
            End::ClosedByClient => {
                let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, self.socket.flush()).await;
            }
            End::Gone => {}
        }
    }

    /// Sends the close frame, then reads (and drops) what the client sent
    /// before it heard, until its own close frame arrives or
    /// [`CLOSE_LINGER`] passes. Dropping a socket with unread data makes
    /// the kernel reset the connection, and a reset can overtake the close
    /// frame: a client sending fast (the very one closed with 4029) would
    /// see its connection fail (1006) without learning why.
    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let sent = tokio::time::timeout(
            CLOSE_SEND_TIMEOUT,
            self.socket.send(Message::Close(Some(frame))),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            // The frame cannot reach the client: nothing to wait for.
            return;
        }
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if let Message::Close(_) = message {
                    break;
                }
            }
        })
        .await;
    }
}
