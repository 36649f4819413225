//! Cluster mode: several chorus processes sharing PostgreSQL, talking
//! through a redis-server that the test starts (and kills) itself. Watchers
//! are real WebSocket clients that reconnect to another node and resume
//! with their last sequence number, as the web client does.
//!
//! Over 600 lines on purpose: each failure scenario (Redis lost, a node
//! killed, a rolling restart) sets up its own cluster and says so in full.

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
    database_url: String,
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
            database_url: database,
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
    // The dead node's watchers notice and resubscribe to node a...
    let failed_over = async {
        while !watchers[..2]
            .iter()
            .all(|w| w.lock().unwrap().subscribed >= 2)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), failed_over)
        .await
        .expect("the watchers of the dead node resubscribed elsewhere");
    // ...and what is written afterwards reaches them too, with nothing
    // missed or doubled across the failover.
    burst(
        cluster.nodes[0].base.clone(),
        cluster.slug.clone(),
        cluster.items.clone(),
        5,
    )
    .await;
    assert_converged(&cluster, &watchers, since, Duration::from_secs(15)).await;
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

/// Sends one write to whichever node answers, retrying the same request
/// (same UUID) until it is acknowledged, as the web client's queue does.
async fn until_acknowledged(
    client: &reqwest::Client,
    nodes: &Mutex<Vec<String>>,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> Value {
    for attempt in 0..400 {
        let base = {
            let nodes = nodes.lock().unwrap();
            nodes[attempt % nodes.len()].clone()
        };
        let sent = client
            .request(method.clone(), format!("{base}{path}"))
            .json(body)
            .send()
            .await;
        if let Ok(response) = sent {
            if response.status().is_success() {
                return response.json().await.unwrap();
            }
            assert!(
                response.status().is_server_error(),
                "refused: {}",
                response.status()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no node acknowledged {path}");
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_rolling_restart_under_load_loses_no_acknowledged_write() {
    let Some(mut cluster) = Cluster::start(2).await else {
        return;
    };
    let nodes = Arc::new(Mutex::new(
        cluster
            .nodes
            .iter()
            .map(|n| n.base.clone())
            .collect::<Vec<_>>(),
    ));
    let stop = CancellationToken::new();
    let mut writers = Vec::new();
    for w in 0..6 {
        let nodes = nodes.clone();
        let stop = stop.clone();
        let slug = cluster.slug.clone();
        let items = cluster.items.clone();
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            until_acknowledged(
                &client,
                &nodes,
                reqwest::Method::POST,
                &format!("/api/conversations/{slug}/participants"),
                &json!({}),
            )
            .await;
            let mut last_choice: HashMap<String, Value> = HashMap::new();
            let mut comments = Vec::new();
            let mut round = 0usize;
            while !stop.is_cancelled() {
                let item = &items[(w + round) % items.len()];
                let choice = if round.is_multiple_of(2) {
                    json!("strong")
                } else {
                    json!("wrong")
                };
                let vote = json!({"request_id": Uuid::new_v4(), "choice": choice});
                until_acknowledged(
                    &client,
                    &nodes,
                    reqwest::Method::PUT,
                    &format!("/api/conversations/{slug}/items/{item}/vote"),
                    &vote,
                )
                .await;
                last_choice.insert(item.clone(), choice);
                let id = Uuid::new_v4().to_string();
                let comment = json!({"id": id, "body": format!("writer {w} round {round}")});
                until_acknowledged(
                    &client,
                    &nodes,
                    reqwest::Method::POST,
                    &format!("/api/conversations/{slug}/items/{item}/comments"),
                    &comment,
                )
                .await;
                comments.push(id);
                round += 1;
            }
            (last_choice, comments)
        }));
    }
    let database_url = cluster.database_url.clone();
    let redis_url = cluster.redis.url();
    for n in 0..cluster.nodes.len() {
        tokio::time::sleep(Duration::from_millis(400)).await;
        sigterm(&cluster.nodes[n].child);
        let exited =
            tokio::time::timeout(Duration::from_secs(15), cluster.nodes[n].child.wait()).await;
        assert!(
            exited
                .expect("the node exits within its shutdown bound")
                .unwrap()
                .success(),
            "clean exit"
        );
        let env = [
            ("CHORUS_REDIS_URL", redis_url.as_str()),
            ("CHORUS_NODE_ID", ["node-a", "node-b"][n]),
        ];
        let (child, base) = start_chorus(&database_url, &env).await;
        cluster.nodes[n] = Node {
            child,
            base: base.clone(),
        };
        nodes.lock().unwrap()[n] = base;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.cancel();
    let mut expected: HashMap<String, (i64, i64)> = HashMap::new();
    let mut acknowledged_comments = Vec::new();
    for writer in writers {
        let (choices, comments) = writer.await.unwrap();
        for (item, choice) in choices {
            let entry = expected.entry(item).or_default();
            if choice == "strong" {
                entry.0 += 1
            } else {
                entry.1 += 1
            }
        }
        acknowledged_comments.extend(comments);
    }
    assert!(
        acknowledged_comments.len() >= 12,
        "the writers kept writing through the restarts"
    );
    let snapshot = cluster.snapshot().await;
    for item in snapshot["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        let (strong, wrong) = expected.get(id).copied().unwrap_or((0, 0));
        assert_eq!(
            (
                item["strong"].as_i64().unwrap(),
                item["wrong"].as_i64().unwrap()
            ),
            (strong, wrong),
            "votes on {id}"
        );
    }
    let mut stored = Vec::new();
    for item in &cluster.items {
        let page: Value = reqwest::get(format!(
            "{}/api/conversations/{}/items/{item}/comments?limit=500",
            cluster.nodes[0].base, cluster.slug
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        stored.extend(
            page["comments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
    }
    for id in &acknowledged_comments {
        assert_eq!(
            stored.iter().filter(|s| *s == id).count(),
            1,
            "acknowledged comment {id} is stored once"
        );
    }
    assert_eq!(
        stored.len(),
        acknowledged_comments.len(),
        "nothing unacknowledged or doubled was stored"
    );
    for node in &mut cluster.nodes {
        let _ = node.child.start_kill();
    }
}
