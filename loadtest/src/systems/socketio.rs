//! The Socket.IO peer: `node loadtest/peers/socketio/server.js`, one process per node,
//! sharing counters and broadcasts through Redis; `socketio` broadcasts every
//! vote, `socketio-coalesced` (the same server, `EMIT_MODE=coalesced`) the
//! latest changed tallies every 100 ms.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use reqwest::Client;
use serde::Deserialize;
use serde_json::json;
use tokio::process::Command;

use super::{Choice, Voter, START_TIMEOUT, STOP_GRACE};
use crate::net::ws_base;
use crate::options::Options;
use crate::process::{run_with_input, spawn, ServerProcess};
use crate::subscriber::Held;

/// The line server.js prints once it listens.
const LISTENING_PREFIX: &str = "socketio listening on ";

/// How the server sends tallies (its `EMIT_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitMode {
    /// Every vote's tally to everyone at once (`"tally"` events).
    PerVote,
    /// The latest changed tallies every 100 ms to a room (`"tallies-changed"` events).
    Coalesced,
}

impl EmitMode {
    fn env(self) -> &'static str {
        match self {
            EmitMode::PerVote => "per-vote",
            EmitMode::Coalesced => "coalesced",
        }
    }
}

pub struct SocketIo {
    pub bases: Vec<String>,
    pub mode: EmitMode,
    pub item_ids: Vec<String>,
    http: Client,
    nodes: Vec<ServerProcess>,
    redis_url: String,
    key_prefix: String,
    _dir: tempfile::TempDir,
}

#[derive(Deserialize)]
struct VoteAnswer {
    tally: Held2,
}

#[derive(Deserialize)]
struct Held2 {
    strong: i64,
    wrong: i64,
    version: u64,
}

#[derive(Deserialize)]
struct Tallies {
    items: Vec<Tally>,
}

#[derive(Deserialize)]
struct Tally {
    id: String,
    strong: i64,
    wrong: i64,
    version: u64,
}

/// loadtest/peers/socketio, found from this crate's source directory.
pub fn peer_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/peers/socketio"))
}

/// `npm ci` once, so the peer runs from its lock file. One at a time: tests
/// start both modes in parallel, and two `npm ci` in one directory collide.
async fn ensure_installed(dir: &PathBuf) -> anyhow::Result<()> {
    static INSTALL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = INSTALL.lock().await;
    if dir.join("node_modules/socket.io").exists() {
        return Ok(());
    }
    let mut cmd = Command::new("npm");
    cmd.current_dir(dir).args(["ci", "--no-audit", "--no-fund"]);
    run_with_input(cmd, "")
        .await
        .context("npm ci in loadtest/peers/socketio")?;
    Ok(())
}

impl SocketIo {
    pub async fn start(opts: &Options, nodes: usize, mode: EmitMode) -> anyhow::Result<SocketIo> {
        let dir = peer_dir();
        ensure_installed(&dir).await?;
        let tmp = tempfile::Builder::new().prefix("socketio-lt-").tempdir()?;
        let key_prefix = format!("lt-sio-{}", uuid::Uuid::new_v4().simple());
        let mut peer = SocketIo {
            bases: Vec::new(),
            mode,
            item_ids: (0..opts.items)
                .map(|_| uuid::Uuid::new_v4().to_string())
                .collect(),
            http: Client::builder()
                .pool_max_idle_per_host(1024)
                .tcp_nodelay(true)
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            nodes: Vec::new(),
            redis_url: opts.redis_url.clone(),
            key_prefix,
            _dir: tmp,
        };
        for node in 0..nodes {
            let mut cmd = Command::new("node");
            cmd.current_dir(&dir)
                .arg("server.js")
                .env("PORT", "0")
                .env("HOST", "127.0.0.1")
                .env("REDIS_URL", &opts.redis_url)
                .env("KEY_PREFIX", &peer.key_prefix)
                .env("EMIT_MODE", mode.env())
                .env(
                    "EMIT_INTERVAL_MS",
                    opts.tally_interval.as_millis().to_string(),
                );
            let log = peer._dir.path().join(format!("socketio-{node}.log"));
            match spawn(cmd, LISTENING_PREFIX, &log, START_TIMEOUT).await {
                Ok(p) => {
                    peer.bases.push(p.base_url.clone());
                    peer.nodes.push(p);
                }
                Err(e) => {
                    peer.stop().await;
                    return Err(e);
                }
            }
        }
        Ok(peer)
    }

    /// `socketio` or `socketio-coalesced`.
    pub fn name(&self) -> &'static str {
        match self.mode {
            EmitMode::PerVote => "socketio",
            EmitMode::Coalesced => "socketio-coalesced",
        }
    }

    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.pid).collect()
    }

    pub fn ws_url(&self, node: usize) -> String {
        format!(
            "{}/socket.io/?EIO=4&transport=websocket",
            ws_base(&self.bases[node % self.bases.len()])
        )
    }

    pub async fn vote(
        &self,
        voter: &Voter,
        node: usize,
        item: usize,
        choice: Choice,
    ) -> anyhow::Result<Held> {
        let base = &self.bases[node % self.bases.len()];
        let resp = self
            .http
            .post(format!("{base}/vote"))
            .json(
                &json!({"item": self.item_ids[item], "voter": voter.id, "choice": choice.as_str()}),
            )
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "vote: HTTP {}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let a: VoteAnswer = resp.json().await?;
        Ok(Held {
            strong: a.tally.strong,
            wrong: a.tally.wrong,
            version: a.tally.version,
        })
    }

    /// The counters in Redis, by item index (items never voted on are zero).
    pub async fn tallies(&self) -> anyhow::Result<Vec<Held>> {
        let base = self.bases.first().ok_or_else(|| anyhow!("no node"))?;
        let t: Tallies = self
            .http
            .get(format!("{base}/tallies"))
            .send()
            .await?
            .json()
            .await?;
        Ok(self
            .item_ids
            .iter()
            .map(|id| {
                t.items
                    .iter()
                    .find(|i| &i.id == id)
                    .map(|i| Held {
                        strong: i.strong,
                        wrong: i.wrong,
                        version: i.version,
                    })
                    .unwrap_or_default()
            })
            .collect())
    }

    /// Stops the nodes and deletes this run's Redis keys.
    pub async fn stop(mut self) {
        for node in self.nodes.drain(..) {
            node.stop(STOP_GRACE).await;
        }
        let mut cmd = Command::new("redis-cli");
        cmd.args([
            "-u",
            &self.redis_url,
            "--scan",
            "--pattern",
            &format!("{}:*", self.key_prefix),
        ]);
        if let Ok(keys) = run_with_input(cmd, "").await {
            let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
            for chunk in keys.chunks(500) {
                let mut del = Command::new("redis-cli");
                del.args(["-u", &self.redis_url, "DEL"]).args(chunk);
                let _ = run_with_input(del, "").await;
            }
        }
    }
}
