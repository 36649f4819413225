//! Cluster mode: several chorus processes sharing PostgreSQL, talking
//! through a redis-server that the test starts (and kills) itself. Watchers
//! are real WebSocket clients that reconnect to another node and resume
//! with their last sequence number, as the web client does.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::crash::start_chorus;
use crate::helpers::*;

/// A redis-server of the test's own, on a unix socket in a temp dir.
struct Redis {
    child: Child,
    socket: String,
    _dir: tempfile::TempDir,
}

impl Redis {
    async fn start() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("redis.sock").display().to_string();
        let child = Redis::spawn(&socket);
        let redis = Redis {
            child,
            socket,
            _dir: dir,
        };
        redis.wait_ready().await;
        redis
    }

    fn spawn(socket: &str) -> Child {
        Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--unixsocket",
                socket,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed")
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if tokio::net::UnixStream::connect(&self.socket).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start");
    }

    fn url(&self) -> String {
        format!("redis+unix://{}", self.socket)
    }

    async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
        let _ = std::fs::remove_file(&self.socket);
    }

    async fn restart(&mut self) {
        self.child = Redis::spawn(&self.socket);
        self.wait_ready().await;
    }
}

struct Node {
    child: Child,
    base: String,
}

struct Cluster {
    redis: Redis,
    nodes: Vec<Node>,
    slug: String,
    items: Vec<String>,
}

impl Cluster {
    async fn start(nodes: usize) -> Option<Cluster> {
        let database = fresh_postgres().await?;
        let redis = Redis::start().await;
        let env = [("CHORUS_REDIS_URL", redis.url())];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut started = Vec::new();
        for n in 0..nodes {
            let node_env = [
                env.clone(),
                vec![
                    ("CHORUS_NODE_ID", ["node-a", "node-b", "node-c"][n]),
                    ("CHORUS_HUB__PRESENCE_TTL_MS", "3000"),
                ],
            ]
            .concat();
            let (child, base) = start_chorus(&database, &node_env).await;
            started.push(Node { child, base });
        }
        let snapshot: Value = reqwest::get(format!(
            "{}/api/conversations/best-place-to-work",
            started[0].base
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let items = snapshot["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        Some(Cluster {
            redis,
            nodes: started,
            slug: "best-place-to-work".into(),
            items,
        })
    }

    fn ws_urls(&self, first: usize) -> Vec<String> {
        let n = self.nodes.len();
        (0..n)
            .map(|i| self.nodes[(first + i) % n].base.replace("http://", "ws://") + "/ws")
            .collect()
    }

    async fn snapshot(&self) -> Value {
        reqwest::get(format!(
            "{}/api/conversations/{}",
            self.nodes[0].base, self.slug
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }
}

/// What one watcher has seen.
#[derive(Default, Debug)]
struct Seen {
    seqs: Vec<i64>,
    duplicates: Vec<i64>,
    tallies: HashMap<String, (i64, i64, i64)>,
    presence: Value,
    subscribed: usize,
}

/// Watches the conversation, reconnecting round-robin over `urls` and
/// resuming from the last sequence number applied.
fn watch(urls: Vec<String>, slug: String, since: i64, stop: CancellationToken) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let out = seen.clone();
    tokio::spawn(async move {
        let mut last = since;
        let mut attempt = 0usize;
        while !stop.is_cancelled() {
            let url = &urls[attempt % urls.len()];
            attempt += 1;
            let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let subscribe = json!({"type": "subscribe", "conversation": slug, "since": last});
            if socket
                .send(Message::Text(subscribe.to_string().into()))
                .await
                .is_err()
            {
                continue;
            }
            loop {
                let message = tokio::select! {
                    _ = stop.cancelled() => return,
                    m = socket.next() => m,
                };
                let Some(Ok(Message::Text(text))) = message else {
                    match message {
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        _ => break,
                    }
                };
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                let mut seen = seen.lock().unwrap();
                match value["type"].as_str().unwrap() {
                    "subscribed" => {
                        // Presence is counted afresh on every (re)subscription.
                        seen.subscribed += 1;
                        seen.presence = Value::Null;
                    }
                    "tallies" => {
                        for t in value["items"].as_array().unwrap() {
                            let id = t["id"].as_str().unwrap().to_string();
                            let new = (
                                t["strong"].as_i64().unwrap(),
                                t["wrong"].as_i64().unwrap(),
                                t["version"].as_i64().unwrap(),
                            );
                            let entry = seen.tallies.entry(id).or_insert(new);
                            if new.2 > entry.2 {
                                *entry = new;
                            }
                        }
                    }
                    "presence" => seen.presence = value.clone(),
                    _ => {
                        if let Some(seq) = value["seq"].as_i64() {
                            if seq <= last {
                                seen.duplicates.push(seq);
                            } else {
                                seen.seqs.push(seq);
                                last = seq;
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    out
}

/// Signs up on `node` and writes `votes` votes and one comment per round.
async fn burst(base: String, slug: String, items: Vec<String>, rounds: usize) -> usize {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/api/conversations/{slug}/participants"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut comments = 0;
    for round in 0..rounds {
        let item = &items[round % items.len()];
        let choice = if round % 3 == 0 {
            Value::Null
        } else if round % 2 == 0 {
            json!("strong")
        } else {
            json!("wrong")
        };
        let r = client
            .put(format!("{base}/api/conversations/{slug}/items/{item}/vote"))
            .json(&json!({"request_id": Uuid::new_v4(), "choice": choice}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = client
            .post(format!(
                "{base}/api/conversations/{slug}/items/{item}/comments"
            ))
            .json(&json!({"id": Uuid::new_v4(), "body": format!("round {round}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        comments += 1;
    }
    comments
}

/// Waits until every watcher holds every event up to the store's latest
/// sequence number and the store's tallies; then checks order and duplicates.
async fn assert_converged(
    cluster: &Cluster,
    watchers: &[Arc<Mutex<Seen>>],
    since: i64,
    within: Duration,
) {
    let snapshot = cluster.snapshot().await;
    let last = snapshot["seq"].as_i64().unwrap();
    let expected_seqs: Vec<i64> = (since + 1..=last).collect();
    let expected_tallies: HashMap<String, (i64, i64, i64)> = snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                (
                    i["strong"].as_i64().unwrap(),
                    i["wrong"].as_i64().unwrap(),
                    i["version"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let done = watchers.iter().all(|w| {
            let seen = w.lock().unwrap();
            seen.seqs == expected_seqs
                && expected_tallies
                    .iter()
                    .all(|(id, t)| t.2 == 0 || seen.tallies.get(id) == Some(t))
        });
        if done {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            for (n, w) in watchers.iter().enumerate() {
                let seen = w.lock().unwrap();
                let missing: Vec<_> = expected_seqs
                    .iter()
                    .filter(|s| !seen.seqs.contains(s))
                    .collect();
                eprintln!(
                    "watcher {n}: {} events, missing {missing:?}, duplicates {:?}",
                    seen.seqs.len(),
                    seen.duplicates
                );
                for (id, t) in &expected_tallies {
                    if seen.tallies.get(id) != Some(t) && t.2 > 0 {
                        eprintln!(
                            "  tally {id}: store {t:?}, watcher {:?}",
                            seen.tallies.get(id)
                        );
                    }
                }
            }
            panic!("watchers did not converge on the store within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in watchers {
        let seen = w.lock().unwrap();
        assert!(
            seen.duplicates.is_empty(),
            "duplicates {:?}",
            seen.duplicates
        );
        assert!(seen.seqs.windows(2).all(|p| p[0] < p[1]), "out of order");
    }
}

#[tokio::test]
async fn clients_on_every_node_converge_after_a_concurrent_burst() {
    let Some(mut cluster) = Cluster::start(3).await else {
        return;
    };
    let since = cluster.snapshot().await["seq"].as_i64().unwrap();
    let stop = CancellationToken::new();
    let watchers: Vec<_> = (0..6)
        .map(|n| {
            watch(
                cluster.ws_urls(n % 3),
                cluster.slug.clone(),
                since,
                stop.clone(),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut writers = Vec::new();
    for n in 0..12 {
        writers.push(tokio::spawn(burst(
            cluster.nodes[n % 3].base.clone(),
            cluster.slug.clone(),
            cluster.items.clone(),
            8,
        )));
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_converged(&cluster, &watchers, since, Duration::from_secs(15)).await;
    stop.cancel();
    for node in &mut cluster.nodes {
        let _ = node.child.start_kill();
    }
}

#[tokio::test]
async fn a_redis_outage_mid_burst_loses_nothing() {
    let Some(mut cluster) = Cluster::start(2).await else {
        return;
    };
    let since = cluster.snapshot().await["seq"].as_i64().unwrap();
    let stop = CancellationToken::new();
    let watchers: Vec<_> = (0..4)
        .map(|n| {
            watch(
                cluster.ws_urls(n % 2),
                cluster.slug.clone(),
                since,
                stop.clone(),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut writers = Vec::new();
    for n in 0..6 {
        writers.push(tokio::spawn(burst(
            cluster.nodes[n % 2].base.clone(),
            cluster.slug.clone(),
            cluster.items.clone(),
            15,
        )));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    cluster.redis.kill().await;
    // While Redis is down, nodes keep taking writes and say they are degraded.
    let degraded = async {
        loop {
            let ready: Value = reqwest::get(format!("{}/readyz", cluster.nodes[0].base))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if ready["bus"] == "degraded" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), degraded)
        .await
        .expect("/readyz reports the bus degraded");
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.redis.restart().await;
    for w in writers {
        w.await.unwrap();
    }
    assert_converged(&cluster, &watchers, since, Duration::from_secs(20)).await;
    let ready: Value = reqwest::get(format!("{}/readyz", cluster.nodes[0].base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["bus"], "ok", "{ready}");
    stop.cancel();
    for node in &mut cluster.nodes {
        let _ = node.child.start_kill();
    }
}

#[tokio::test]
async fn a_dead_nodes_clients_resume_elsewhere_and_its_presence_expires() {
    let Some(mut cluster) = Cluster::start(2).await else {
        return;
    };
    let since = cluster.snapshot().await["seq"].as_i64().unwrap();
    let stop = CancellationToken::new();
    // Two watchers start on node b (they fail over to a), one on a.
    let watchers = vec![
        watch(
            cluster.ws_urls(1),
            cluster.slug.clone(),
            since,
            stop.clone(),
        ),
        watch(
            cluster.ws_urls(1),
            cluster.slug.clone(),
            since,
            stop.clone(),
        ),
        watch(
            cluster.ws_urls(0),
            cluster.slug.clone(),
            since,
            stop.clone(),
        ),
    ];
    // Presence sums over nodes: three displays.
    let summed = async {
        loop {
            if watchers[2].lock().unwrap().presence["displays"] == 3 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), summed)
        .await
        .expect("presence sums over both nodes");
    let writer = tokio::spawn(burst(
        cluster.nodes[0].base.clone(),
        cluster.slug.clone(),
        cluster.items.clone(),
        20,
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Node b dies without a word.
    cluster.nodes[1].child.start_kill().unwrap();
    cluster.nodes[1].child.wait().await.unwrap();
    writer.await.unwrap();
    assert_converged(&cluster, &watchers, since, Duration::from_secs(15)).await;
    for w in &watchers[..2] {
        assert!(
            w.lock().unwrap().subscribed >= 2,
            "the watchers of the dead node resubscribed elsewhere"
        );
    }
    // All three now watch node a; the dead node's share has expired.
    let settled = async {
        loop {
            if watchers[2].lock().unwrap().presence["displays"] == 3
                && watchers[0].lock().unwrap().presence["displays"] == 3
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), settled)
        .await
        .expect("presence counts each watcher once after failover");
    stop.cancel();
    let _ = cluster.nodes[0].child.start_kill();
}
