//! The floor: a bare tokio-tungstenite broadcast server with no application
//! logic. Votes bump a counter; every tally interval one chorus-shaped
//! `tallies` frame with the changed items is serialised once and the same
//! bytes go to every connection. Whatever chorus adds on top (HTTP, store,
//! auth, audiences) is the distance to this floor.
//!
//! `/ws` subscribes; `/control` takes votes (`"<item> s|w"` answers the new
//! version) and `"state"` (answers a full tallies frame).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::subscriber::Held;

/// The line the floor prints once it listens.
pub const LISTENING_PREFIX: &str = "floor listening on ";

struct State {
    items: Vec<String>,
    tallies: Mutex<(Vec<Held>, Vec<bool>)>,
    full: Mutex<Utf8Bytes>,
    frames: broadcast::Sender<Utf8Bytes>,
}

impl State {
    fn frame(&self, tallies: &[Held], which: impl Iterator<Item = usize>) -> Utf8Bytes {
        let items: Vec<_> = which
            .map(|i| {
                let t = tallies[i];
                json!({"id": self.items[i], "strong": t.strong, "wrong": t.wrong, "version": t.version})
            })
            .collect();
        json!({"type": "tallies", "items": items, "comments": []})
            .to_string()
            .into()
    }
}

fn server_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// Serves until the task is dropped or the process ends.
pub async fn serve(
    listener: TcpListener,
    items: Vec<String>,
    interval: Duration,
) -> anyhow::Result<()> {
    let n = items.len();
    let state = Arc::new(State {
        items,
        tallies: Mutex::new((vec![Held::default(); n], vec![false; n])),
        full: Mutex::new(Utf8Bytes::from_static("")),
        frames: broadcast::channel(64).0,
    });
    {
        let full = state.frame(&vec![Held::default(); n], 0..n);
        *state.full.lock().expect("lock") = full;
    }
    tokio::spawn(tick(state.clone(), interval));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(state.clone(), stream));
    }
}

/// Every interval, one frame with the items that changed.
async fn tick(state: Arc<State>, interval: Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        let (frame, full) = {
            let mut guard = state.tallies.lock().expect("lock");
            let (tallies, dirty) = &mut *guard;
            if !dirty.iter().any(|d| *d) {
                continue;
            }
            let changed: Vec<usize> = (0..dirty.len()).filter(|&i| dirty[i]).collect();
            dirty.iter_mut().for_each(|d| *d = false);
            (
                state.frame(tallies, changed.into_iter()),
                state.frame(tallies, 0..tallies.len()),
            )
        };
        *state.full.lock().expect("lock") = full;
        let _ = state.frames.send(frame);
    }
}

// The callback's error type is tungstenite's, not ours to shrink.
#[allow(clippy::result_large_err)]
async fn connection(state: Arc<State>, stream: TcpStream) {
    let mut path = String::new();
    let callback = |req: &Request, resp: Response| {
        path = req.uri().path().to_string();
        Ok(resp)
    };
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(server_config()))
            .await
    else {
        return;
    };
    if path == "/control" {
        control(state, ws).await;
    } else {
        subscriber(state, ws).await;
    }
}

async fn subscriber(state: Arc<State>, mut ws: tokio_tungstenite::WebSocketStream<TcpStream>) {
    let mut frames = state.frames.subscribe();
    let full = state.full.lock().expect("lock").clone();
    if ws.send(Message::Text(full)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = frames.recv() => {
                let frame = match frame {
                    Ok(f) => f,
                    // Fell behind: send the latest full state, as chorus does.
                    Err(broadcast::error::RecvError::Lagged(_)) => state.full.lock().expect("lock").clone(),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if ws.send(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    }
}

async fn control(state: Arc<State>, mut ws: tokio_tungstenite::WebSocketStream<TcpStream>) {
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let reply = if text.as_str() == "state" {
            let guard = state.tallies.lock().expect("lock");
            state.frame(&guard.0, 0..guard.0.len())
        } else {
            let mut parts = text.split(' ');
            let item: Option<usize> = parts.next().and_then(|i| i.parse().ok());
            let side = parts.next();
            let mut guard = state.tallies.lock().expect("lock");
            let (tallies, dirty) = &mut *guard;
            match (item, side) {
                (Some(i), Some(side)) if i < tallies.len() => {
                    let t = &mut tallies[i];
                    if side == "s" {
                        t.strong += 1;
                    } else {
                        t.wrong += 1;
                    }
                    t.version += 1;
                    dirty[i] = true;
                    Utf8Bytes::from(t.version.to_string())
                }
                _ => Utf8Bytes::from_static("error"),
            }
        };
        if ws.send(Message::Text(reply)).await.is_err() {
            return;
        }
    }
}

/// The `__floor-server` process: `--items a,b,c --interval-ms 100`.
pub async fn main_from_args(args: &[String]) -> anyhow::Result<()> {
    let mut items = Vec::new();
    let mut interval = Duration::from_millis(100);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--items" => {
                items = it
                    .next()
                    .map(|s| s.split(',').map(str::to_string).collect())
                    .unwrap_or_default()
            }
            "--interval-ms" => {
                interval =
                    Duration::from_millis(it.next().and_then(|s| s.parse().ok()).unwrap_or(100))
            }
            _ => {}
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("{LISTENING_PREFIX}ws://{}", listener.local_addr()?);
    serve(listener, items, interval).await
}
