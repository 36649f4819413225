//! The floor as a system under test: a separate `loadtest __floor-server`
//! process when this is the loadtest binary (so its CPU and memory are its
//! own), else the same server on a task in this process (no CPU/RSS figures).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::{Choice, START_TIMEOUT, STOP_GRACE};
use crate::floor_server::{self, LISTENING_PREFIX};
use crate::net::connect_ws;
use crate::options::Options;
use crate::process::{spawn, ServerProcess};
use crate::subscriber::Held;
use crate::wire::{decode_chorus, Update};

/// Control connections votes are spread over.
const CONTROL_CONNECTIONS: usize = 16;

type ControlRequest = (String, oneshot::Sender<anyhow::Result<String>>);

pub struct Floor {
    pub item_ids: Vec<String>,
    base: String,
    process: Option<ServerProcess>,
    task: Option<JoinHandle<()>>,
    control: Vec<mpsc::Sender<ControlRequest>>,
    next: AtomicUsize,
    _dir: tempfile::TempDir,
}

fn this_is_the_loadtest_binary() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n == "loadtest"))
        .unwrap_or(false)
}

impl Floor {
    pub async fn start(opts: &Options) -> anyhow::Result<Floor> {
        let item_ids: Vec<String> = (0..opts.items)
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        let dir = tempfile::Builder::new().prefix("floor-lt-").tempdir()?;
        let interval_ms = opts.tally_interval.as_millis().to_string();
        let (base, process, task) = if this_is_the_loadtest_binary() {
            let mut cmd = Command::new(std::env::current_exe()?);
            cmd.args([
                "__floor-server",
                "--items",
                &item_ids.join(","),
                "--interval-ms",
                &interval_ms,
            ]);
            let p = spawn(
                cmd,
                LISTENING_PREFIX,
                &dir.path().join("floor.log"),
                START_TIMEOUT,
            )
            .await?;
            (p.base_url.clone(), Some(p), None)
        } else {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let base = format!("ws://{}", listener.local_addr()?);
            let ids = item_ids.clone();
            let interval = opts.tally_interval;
            let task = tokio::spawn(async move {
                let _ = floor_server::serve(listener, ids, interval).await;
            });
            (base, None, Some(task))
        };
        let mut control = Vec::new();
        for i in 0..CONTROL_CONNECTIONS {
            let ws = connect_ws(&format!("{base}/control"), None, i, 1).await?;
            let (tx, rx) = mpsc::channel(1024);
            tokio::spawn(control_worker(ws, rx));
            control.push(tx);
        }
        Ok(Floor {
            item_ids,
            base,
            process,
            task,
            control,
            next: AtomicUsize::new(0),
            _dir: dir,
        })
    }

    pub fn pids(&self) -> Vec<u32> {
        self.process.iter().map(|p| p.pid).collect()
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base)
    }

    async fn call(&self, request: String) -> anyhow::Result<String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.control.len();
        let (tx, rx) = oneshot::channel();
        self.control[i]
            .send((request, tx))
            .await
            .map_err(|_| anyhow!("floor control connection closed"))?;
        rx.await
            .map_err(|_| anyhow!("floor control connection closed"))?
    }

    pub async fn vote(&self, item: usize, choice: Choice) -> anyhow::Result<Held> {
        let side = if choice == Choice::Strong { "s" } else { "w" };
        let answer = self.call(format!("{item} {side}")).await?;
        let version: u64 = answer
            .parse()
            .map_err(|_| anyhow!("floor answered {answer:?}"))?;
        Ok(Held {
            version,
            ..Held::default()
        })
    }

    pub async fn tallies(&self) -> anyhow::Result<Vec<Held>> {
        let frame = self.call("state".into()).await?;
        let Update::Tallies(items) = decode_chorus(&frame)? else {
            bail!("floor state is not a tallies frame");
        };
        Ok(self
            .item_ids
            .iter()
            .map(|id| {
                items
                    .iter()
                    .find(|t| t.id == id.as_str())
                    .map(|t| Held {
                        strong: t.strong,
                        wrong: t.wrong,
                        version: t.version,
                    })
                    .unwrap_or_default()
            })
            .collect())
    }

    pub async fn stop(mut self) {
        self.control.clear();
        if let Some(p) = self.process.take() {
            p.stop(STOP_GRACE).await;
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// One control connection, pipelined: requests go out as they come and the
/// answers, which the floor sends in order, are matched first in, first out.
async fn control_worker(ws: crate::net::Ws, mut requests: mpsc::Receiver<ControlRequest>) {
    let (mut sink, mut stream) = ws.split();
    let waiting: Arc<Mutex<VecDeque<oneshot::Sender<anyhow::Result<String>>>>> = Arc::default();
    let reader_waiting = waiting.clone();
    let reader = tokio::spawn(async move {
        while let Some(msg) = stream.next().await {
            match msg {
                Ok(Message::Text(t)) => {
                    if let Some(reply) = reader_waiting.lock().expect("lock").pop_front() {
                        let _ = reply.send(Ok(t.to_string()));
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        for reply in reader_waiting.lock().expect("lock").drain(..) {
            let _ = reply.send(Err(anyhow!("floor control connection ended")));
        }
    });
    while let Some((request, reply)) = requests.recv().await {
        waiting.lock().expect("lock").push_back(reply);
        if sink.send(Message::text(request)).await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
}
