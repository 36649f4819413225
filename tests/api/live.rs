//! The live hub (issue 3), seen from real WebSocket clients: tallies reach
//! every subscriber within a tally interval and end equal to the store's;
//! comments and moderation reach each audience as documented; a slow
//! reader is closed with 4008 without delaying anyone else; bad input gets
//! documented errors and closes; presence is counted and rate-limited.
//! Resume is in `live_resume.rs`, shutdown in `shutdown.rs`.
//!
//! Over 600 lines on purpose: this is the live hub's acceptance list, one
//! test per item, sharing the socket helpers at its top.

use std::collections::HashMap;
use std::num::NonZero;
use std::time::{Duration, Instant};

use chorus::domain::Role;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::*;

pub const WAIT: Duration = Duration::from_secs(5);

/// What a subscription starts with: the `subscribed` answer, the replayed
/// events, then the full `tallies` frame and the `presence` frame.
pub struct Start {
    pub subscribed: Value,
    pub replay: Vec<Value>,
    pub tallies: Value,
    pub presence: Value,
}

/// Connects (with a cookie, or none), subscribes and reads the start of the stream.
pub async fn subscribe(
    app: &TestApp,
    cookie: Option<&str>,
    slug: &str,
    since: Option<i64>,
    role: Option<&str>,
) -> (Socket, Start) {
    let mut socket = connect(app, cookie, None).await;
    let start = subscribe_on(&mut socket, slug, since, role).await;
    (socket, start)
}

/// Sends `subscribe` on an open socket and reads the start of the stream;
/// panics on `error` or `resync`.
pub async fn subscribe_on(
    socket: &mut Socket,
    slug: &str,
    since: Option<i64>,
    role: Option<&str>,
) -> Start {
    let mut message = json!({"type": "subscribe", "conversation": slug, "since": since});
    if let Some(role) = role {
        message["as"] = role.into();
    }
    send_json(socket, message).await;
    let subscribed = next_json(socket, WAIT).await;
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
    let mut replay = Vec::new();
    let tallies = loop {
        let message = next_json(socket, WAIT).await;
        if message["type"] == "tallies" {
            break message;
        }
        assert!(
            message["seq"].is_i64(),
            "only events come before the tallies: {message}"
        );
        replay.push(message);
    };
    let presence = next_json(socket, WAIT).await;
    assert_eq!(presence["type"], "presence", "{presence}");
    Start {
        subscribed,
        replay,
        tallies,
        presence,
    }
}

/// Reads until the server closes; returns the close code and reason.
/// Text frames on the way are skipped (and counted).
pub async fn expect_close(socket: &mut Socket, within: Duration) -> (u16, String, usize) {
    let deadline = tokio::time::Instant::now() + within;
    let mut skipped = 0;
    loop {
        let next = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("the server closes in time");
        match next {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string(), skipped)
            }
            Some(Ok(Message::Close(None))) => panic!("closed without a code"),
            Some(Ok(_)) => skipped += 1,
            Some(Err(e)) => {
                panic!("socket failed before a close frame: {e} (after {skipped} frames)")
            }
            None => panic!("socket ended without a close frame (after {skipped} frames)"),
        }
    }
}

/// A client's copy of the tallies, applied by the documented rule: a
/// tally is taken only if its version is greater than the one held.
#[derive(Default, Debug)]
pub struct TallyBook {
    pub items: HashMap<String, (i64, i64, i64)>,
}

impl TallyBook {
    pub fn apply(&mut self, frame: &Value) {
        assert_eq!(frame["type"], "tallies");
        for item in frame["items"].as_array().expect("items array") {
            let id = item["id"].as_str().unwrap().to_string();
            let tally = (
                item["strong"].as_i64().unwrap(),
                item["wrong"].as_i64().unwrap(),
                item["version"].as_i64().unwrap(),
            );
            let held = self.items.entry(id).or_insert((0, 0, -1));
            if tally.2 > held.2 {
                *held = tally;
            }
        }
    }
}

/// The stored tallies, from the REST snapshot.
async fn stored_tallies(client: &Client, slug: &str) -> HashMap<String, (i64, i64, i64)> {
    let (status, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    snapshot["items"]
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
        .collect()
}

pub async fn snapshot_seq(client: &Client, slug: &str) -> i64 {
    let (status, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(status, StatusCode::OK, "{snapshot}");
    snapshot["seq"].as_i64().expect("snapshot seq")
}

pub async fn moderate(staff: &Client, slug: &str, comment: &str, action: &str) -> Value {
    let (status, answer) = staff
        .post(
            &format!("/api/conversations/{slug}/comments/{comment}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": action, "reason": "names a colleague"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    answer
}

fn is_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |m| m["type"] == kind
}

#[tokio::test]
async fn a_vote_reaches_every_subscriber_within_one_tally_interval() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.hub.tally_interval_ms = NonZero::new(100).unwrap()
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 2).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let cookie = sign_up_cookie(&app, &slug).await;
        sockets.push(subscribe(&app, Some(&cookie), &slug, None, None).await.0);
    }
    let facilitator = staff_cookie(&app, Role::Facilitator).await;
    sockets.push(
        subscribe(&app, Some(&facilitator), &slug, None, None)
            .await
            .0,
    );
    sockets.push(subscribe(&app, None, &slug, None, Some("display")).await.0);

    let voter = app.participant(&slug).await;
    for (round, choice) in ["strong", "wrong", "strong"].into_iter().enumerate() {
        let (status, answer) = voter.vote(&slug, &items[1], Some(choice)).await;
        let answered = Instant::now();
        assert_eq!(status, StatusCode::OK, "{answer}");
        let version = answer["tally"]["version"].as_i64().unwrap();
        for socket in sockets.iter_mut() {
            let frame = next_matching(socket, WAIT, |m| {
                m["type"] == "tallies"
                    && m["items"].as_array().unwrap().iter().any(|i| {
                        i["id"] == items[1].as_str() && i["version"].as_i64() >= Some(version)
                    })
            })
            .await;
            let elapsed = answered.elapsed();
            assert!(
                elapsed <= Duration::from_millis(100 + 400),
                "round {round}: tally arrived {elapsed:?} after the vote's answer"
            );
            let tally = frame["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == items[1].as_str())
                .unwrap();
            assert_eq!(tally["strong"], answer["tally"]["strong"]);
            assert_eq!(tally["wrong"], answer["tally"]["wrong"]);
        }
    }

    // A comment's up-vote reaches every subscriber the same way.
    let (comment, _, _) = voter.comment(&slug, &items[0], "Up-vote me").await;
    let fan = app.participant(&slug).await;
    let (status, answer) = fan
        .put(
            &format!("/api/conversations/{slug}/comments/{comment}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    let answered = Instant::now();
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["tally"]["up"], 1);
    let version = answer["tally"]["version"].as_i64().unwrap();
    for socket in sockets.iter_mut() {
        next_matching(socket, WAIT, |m| {
            m["type"] == "tallies"
                && m["comments"].as_array().unwrap().iter().any(|c| {
                    c["id"] == comment.as_str()
                        && c["up"] == 1
                        && c["version"].as_i64() >= Some(version)
                })
        })
        .await;
        let elapsed = answered.elapsed();
        assert!(
            elapsed <= Duration::from_millis(500),
            "up-vote tally arrived {elapsed:?} after the answer"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_voters_end_with_every_subscriber_holding_the_stored_tallies() {
    fifty_concurrent_voters(Backend::Sqlite).await;
}

#[tokio::test]
async fn fifty_concurrent_voters_on_postgres_end_with_every_subscriber_holding_the_stored_tallies()
{
    fifty_concurrent_voters(Backend::Postgres).await;
}

async fn fifty_concurrent_voters(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.hub.tally_interval_ms = NonZero::new(50).unwrap()
    })
    .await
    else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 4).await;

    let mut subscribers = Vec::new();
    for role in ["participant", "participant", "facilitator", "display"] {
        let cookie = match role {
            "participant" => Some(sign_up_cookie(&app, &slug).await),
            "facilitator" => Some(staff_cookie(&app, Role::Facilitator).await),
            _ => None,
        };
        let (socket, start) = subscribe(&app, cookie.as_deref(), &slug, None, Some(role)).await;
        assert_eq!(start.subscribed["role"], role);
        let mut book = TallyBook::default();
        book.apply(&start.tallies);
        subscribers.push((socket, book));
    }
    // Each subscriber reads all the time, applying tallies by version,
    // until it holds the target it is given at the end (or a deadline).
    let (target_tx, target_rx) =
        tokio::sync::watch::channel(None::<HashMap<String, (i64, i64, i64)>>);
    let readers: Vec<_> = subscribers
        .into_iter()
        .map(|(mut socket, mut book)| {
            let mut target = target_rx.clone();
            tokio::spawn(async move {
                loop {
                    let done = target.borrow().as_ref().is_some_and(|t| *t == book.items);
                    if done {
                        return book;
                    }
                    tokio::select! {
                        changed = target.changed() => changed.expect("the test holds the sender"),
                        message = next_json(&mut socket, Duration::from_secs(60)) => {
                            if message["type"] == "tallies" {
                                book.apply(&message);
                            }
                        }
                    }
                }
            })
        })
        .collect();

    let voters: Vec<_> = (0..50)
        .map(|v| {
            let slug = slug.clone();
            let items = items.clone();
            let app_client = app.client();
            tokio::spawn(async move {
                let (status, _) = app_client
                    .post(
                        &format!("/api/conversations/{slug}/participants"),
                        json!({}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED);
                for (i, item) in items.iter().enumerate() {
                    let first = if (v + i) % 3 == 0 { "wrong" } else { "strong" };
                    let (status, body) = app_client.vote(&slug, item, Some(first)).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                }
                // Every third voter changes their mind on one item, every
                // fifth withdraws another.
                if v % 3 == 0 {
                    let (status, _) = app_client
                        .vote(&slug, &items[v % items.len()], Some("wrong"))
                        .await;
                    assert_eq!(status, StatusCode::OK);
                }
                if v % 5 == 0 {
                    let (status, _) = app_client
                        .vote(&slug, &items[(v + 1) % items.len()], None)
                        .await;
                    assert_eq!(status, StatusCode::OK);
                }
            })
        })
        .collect();
    for voter in voters {
        voter.await.unwrap();
    }

    let observer = app.client();
    let stored = stored_tallies(&observer, &slug).await;
    let total: i64 = stored.values().map(|t| t.0 + t.1).sum();
    assert!(total > 150, "the votes were stored: {stored:?}");
    target_tx.send_replace(Some(stored.clone()));
    for (n, reader) in readers.into_iter().enumerate() {
        // Bounded: the last votes' frame is at most one interval away.
        let book = tokio::time::timeout(Duration::from_secs(2), reader)
            .await
            .unwrap_or_else(|_| {
                panic!("subscriber {n} never reached the stored tallies {stored:?}")
            })
            .unwrap();
        assert_eq!(
            book.items, stored,
            "subscriber {n} holds the stored tallies"
        );
    }
    // A subscriber arriving now starts from exactly the stored tallies.
    let (_late, start) = subscribe(&app, None, &slug, None, None).await;
    let mut book = TallyBook::default();
    book.apply(&start.tallies);
    assert_eq!(book.items, stored, "a new subscriber's full tallies frame");
    app.stop().await;
}

#[tokio::test]
async fn comments_and_moderation_reach_each_audience_as_documented() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let mut participants = Vec::new();
    for _ in 0..3 {
        let cookie = sign_up_cookie(&app, &slug).await;
        participants.push(subscribe(&app, Some(&cookie), &slug, None, None).await.0);
    }
    let (mut display, start) = subscribe(&app, None, &slug, None, None).await;
    assert_eq!(start.subscribed["role"], "display");
    let facilitator_cookie = staff_cookie(&app, Role::Facilitator).await;
    let facilitator_client = client_with_cookie(&app, &facilitator_cookie);
    let (mut desk, start) = subscribe(&app, Some(&facilitator_cookie), &slug, None, None).await;
    assert_eq!(start.subscribed["role"], "facilitator");

    let writer = app.participant(&slug).await;
    let (id, status, answer) = writer
        .comment(&slug, &items[0], "Protected time would change everything.")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let mut created_seq = 0;
    for socket in participants.iter_mut().chain([&mut display, &mut desk]) {
        let event = next_matching(socket, WAIT, is_type("comment")).await;
        assert_eq!(event["comment"]["id"], id.as_str());
        assert_eq!(event["comment"]["status"], "visible");
        assert_eq!(
            event["comment"]["body"],
            "Protected time would change everything."
        );
        assert!(
            created_seq == 0 || event["seq"] == created_seq,
            "one seq for every audience"
        );
        created_seq = event["seq"].as_i64().unwrap();
    }

    moderate(&facilitator_client, &slug, &id, "hide").await;
    for socket in participants.iter_mut().chain([&mut display]) {
        let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
        assert_eq!(event["type"], "comment_removed", "{event}");
        assert_eq!(event["id"], id.as_str());
        assert!(event["seq"].as_i64().unwrap() > created_seq);
    }
    let event = next_matching(&mut desk, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(event["type"], "comment", "{event}");
    assert_eq!(event["comment"]["status"], "hidden");
    assert_eq!(event["comment"]["hidden_reason"], "names a colleague");

    moderate(&facilitator_client, &slug, &id, "restore").await;
    for socket in participants.iter_mut().chain([&mut display, &mut desk]) {
        let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
        assert_eq!(event["type"], "comment", "{event}");
        assert_eq!(event["comment"]["status"], "visible");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_pending_comment_reaches_facilitators_only_until_approved() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"moderation": "pre"}), 1)
        .await;
    let participant_cookie = sign_up_cookie(&app, &slug).await;
    let (mut participant, _) = subscribe(&app, Some(&participant_cookie), &slug, None, None).await;
    let (mut display, _) = subscribe(&app, None, &slug, None, Some("display")).await;
    let facilitator_cookie = staff_cookie(&app, Role::Facilitator).await;
    let facilitator_client = client_with_cookie(&app, &facilitator_cookie);
    let (mut desk, _) = subscribe(&app, Some(&facilitator_cookie), &slug, None, None).await;

    let writer = app.participant(&slug).await;
    let (pending, status, answer) = writer
        .comment(&slug, &items[0], "Waiting for a facilitator.")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["comment"]["status"], "pending");
    let event = next_matching(&mut desk, WAIT, is_type("comment")).await;
    assert_eq!(event["comment"]["id"], pending.as_str());
    assert_eq!(event["comment"]["status"], "pending");
    let pending_seq = event["seq"].as_i64().unwrap();

    // A ping answered proves the participant's stream carried nothing
    // before it: the pending comment was not sent to it.
    for socket in [&mut participant, &mut display] {
        send_json(socket, json!({"type": "ping", "nonce": 1})).await;
        let next = next_matching(socket, WAIT, |m| {
            m["type"] != "tallies" && m["type"] != "presence"
        })
        .await;
        assert_eq!(next["type"], "pong", "nothing but the pong: {next}");
    }

    moderate(&facilitator_client, &slug, &pending, "approve").await;
    for socket in [&mut participant, &mut display, &mut desk] {
        let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
        assert_eq!(event["type"], "comment", "{event}");
        assert_eq!(event["comment"]["id"], pending.as_str());
        assert_eq!(event["comment"]["status"], "visible");
        assert!(event["seq"].as_i64().unwrap() > pending_seq);
    }
    app.stop().await;
}

/// A client that subscribes and then never reads is closed with 4008;
/// meanwhile a fast client gets every event promptly and the server
/// answers other requests.
#[tokio::test]
async fn a_slow_client_does_not_delay_others_and_is_closed_with_4008() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.hub.event_queue = NonZero::new(8).unwrap();
        s.hub.presence_interval_ms = NonZero::new(100).unwrap();
        s.ws.send_timeout_s = NonZero::new(1).unwrap();
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;

    // The slow client: a tiny receive buffer, and it never reads.
    let slow_cookie = sign_up_cookie(&app, &slug).await;
    let mut slow = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(4096).unwrap();
        let stream = tcp.connect(app.address).await.unwrap();
        let mut request = app.ws_url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("cookie", slow_cookie.parse().unwrap());
        let (socket, _) = tokio_tungstenite::client_async(
            request,
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap();
        socket
    };
    subscribe_on(&mut slow, &slug, None, None).await;

    let facilitator_cookie = staff_cookie(&app, Role::Facilitator).await;
    let (mut fast, start) = subscribe(&app, Some(&facilitator_cookie), &slug, None, None).await;
    assert_eq!(start.presence["participants"], 1, "{}", start.presence);

    // Big comments (2,000 four-byte characters: 8 KB a frame) until the
    // server gives up on the slow client, which the fast one sees as the
    // participant count dropping to zero.
    let body = "\u{1F600}".repeat(2000);
    let writer = app.participant(&slug).await;
    let mut worst = Duration::ZERO;
    let mut sent = 0;
    let began = Instant::now();
    'writing: loop {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the slow client was never closed ({sent} comments)"
        );
        let (id, status, _) = writer.comment(&slug, &items[0], &body).await;
        let answered = Instant::now();
        assert_eq!(status, StatusCode::CREATED);
        sent += 1;
        loop {
            let message = next_json(&mut fast, WAIT).await;
            if message["type"] == "presence" && message["participants"] == 0 {
                break 'writing;
            }
            if message["type"] == "comment" && message["comment"]["id"] == id.as_str() {
                worst = worst.max(answered.elapsed());
                break;
            }
        }
    }
    assert!(
        worst < Duration::from_millis(500),
        "the fast client waited {worst:?} for a comment"
    );
    let (status, _) = app.client().get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the server stays responsive");

    // The slow client reads at last: what was in flight, then 4008. It
    // remembers the last comment it applied.
    let mut last_seq = 0;
    let mut frames = 0;
    let (code, reason) = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), slow.next())
            .await
            .expect("the slow client is closed in time");
        match next {
            Some(Ok(Message::Text(text))) => {
                frames += 1;
                let message: Value = serde_json::from_str(text.as_str()).unwrap();
                if message["type"] == "comment" {
                    let seq = message["seq"].as_i64().unwrap();
                    assert!(seq > last_seq, "in order");
                    last_seq = seq;
                }
            }
            Some(Ok(Message::Close(Some(frame)))) => {
                break (u16::from(frame.code), frame.reason.to_string())
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame after {frames} frames, got {other:?}"),
        }
    };
    assert_eq!(
        (code, reason.as_str()),
        (4008, "too slow"),
        "after {frames} frames"
    );
    assert!(
        frames < sent + 4,
        "the slow client got at most what was sent ({frames} of {sent})"
    );

    // The fast client still gets live events.
    let (id, _, _) = writer.comment(&slug, &items[0], "still here").await;
    next_matching(&mut fast, WAIT, |m| {
        m["type"] == "comment" && m["comment"]["id"] == id.as_str()
    })
    .await;

    // The slow client resumes from its last seq and gets everything it missed.
    let latest = snapshot_seq(&app.client(), &slug).await;
    let (_, start) = subscribe(&app, Some(&slow_cookie), &slug, Some(last_seq), None).await;
    let seqs: Vec<i64> = start
        .replay
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (last_seq + 1..=latest).collect::<Vec<_>>(),
        "the rest, once each, in order"
    );
    eprintln!("slow client: closed after {sent} comments of 8 KB, {frames} reached it; fast client's worst wait {worst:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_cross_site_origin_is_refused_before_the_upgrade() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let mut request = app.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
    // The server's own origin is accepted.
    let own = format!("http://{}", app.address);
    let mut socket = connect(&app, None, Some(&own)).await;
    send_json(&mut socket, json!({"type": "ping", "nonce": "x"})).await;
    assert_eq!(
        next_json(&mut socket, WAIT).await,
        json!({"type": "pong", "nonce": "x"})
    );
    app.stop().await;

    // So are the configured public origins, and only those.
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.public_origins = vec!["https://chorus.example.org".into()]
    })
    .await
    .unwrap();
    let mut socket = connect(&app, None, Some("https://chorus.example.org")).await;
    send_json(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut socket, WAIT).await["type"], "pong");
    for origin in [
        "https://chorus.example.org.evil.example",
        "http://chorus.example.org",
        "null",
    ] {
        let mut request = app.ws_url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}")
            }
            other => panic!(
                "{origin}: expected 403, got {:?}",
                other.map(|(_, r)| r.status())
            ),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_documented_errors_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;

    // A well-behaved subscriber, reading throughout.
    let cookie = sign_up_cookie(&app, &slug).await;
    let (mut good, _) = subscribe(&app, Some(&cookie), &slug, None, None).await;

    let mut bad = connect(&app, None, None).await;
    let cases: Vec<(Message, &str)> = vec![
        (Message::Text("{not json".into()), "invalid_json"),
        (Message::Text("[1,2,3]".into()), "invalid_json"),
        (
            Message::Text(r#"{"type":"subscribe"}"#.into()),
            "invalid_json",
        ),
        (
            Message::Text(r#"{"type":"subscribe","conversation":"x","since":"soon"}"#.into()),
            "invalid_json",
        ),
        (
            Message::Text(r#"{"type":"vote","item":"x"}"#.into()),
            "unknown_type",
        ),
        (
            Message::Binary(vec![0, 159, 146, 150].into()),
            "binary_not_supported",
        ),
        (
            Message::Text(r#"{"type":"subscribe","conversation":"no-such-talk"}"#.into()),
            "not_found",
        ),
        (
            Message::Text(
                json!({"type": "subscribe", "conversation": slug, "as": "facilitator"})
                    .to_string()
                    .into(),
            ),
            "forbidden",
        ),
    ];
    let writer = app.participant(&slug).await;
    for (n, (message, code)) in cases.into_iter().enumerate() {
        bad.send(message).await.unwrap();
        let error = next_json(&mut bad, WAIT).await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["code"], code, "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        // Meanwhile the good client keeps receiving.
        let (id, _, _) = writer
            .comment(&slug, &items[0], &format!("comment {n}"))
            .await;
        let event = next_matching(&mut good, WAIT, is_type("comment")).await;
        assert_eq!(event["comment"]["id"], id.as_str());
    }
    // Still usable: a ping is answered and a valid subscribe works.
    send_json(&mut bad, json!({"type": "ping", "nonce": 7})).await;
    assert_eq!(
        next_json(&mut bad, WAIT).await,
        json!({"type": "pong", "nonce": 7})
    );
    let start = subscribe_on(&mut bad, &slug, None, None).await;
    assert_eq!(start.subscribed["role"], "display");

    // An oversized frame closes with 1009; the others carry on.
    let mut big = connect(&app, None, None).await;
    let huge = json!({"type": "ping", "nonce": "x".repeat(20_000)}).to_string();
    big.send(Message::Text(huge.into())).await.unwrap();
    let (code, reason, _) = expect_close(&mut big, WAIT).await;
    assert_eq!((code, reason.as_str()), (1009, "message too big"));
    // So does a message over the limit in frames under it (tungstenite
    // refuses it while putting the message together, not frame by frame).
    let mut fragmented = connect(&app, None, None).await;
    {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        let half = "x".repeat(10_000);
        for (opcode, last) in [(Data::Text, false), (Data::Continue, true)] {
            let frame = Frame::message(half.clone(), OpCode::Data(opcode), last);
            fragmented.send(Message::Frame(frame)).await.unwrap();
        }
    }
    let (code, reason, _) = expect_close(&mut fragmented, WAIT).await;
    assert_eq!((code, reason.as_str()), (1009, "message too big"));
    let (id, _, _) = writer.comment(&slug, &items[0], "after the big one").await;
    for socket in [&mut good, &mut bad] {
        let event = next_matching(socket, WAIT, is_type("comment")).await;
        assert_eq!(event["comment"]["id"], id.as_str());
    }
    app.stop().await;
}

#[tokio::test]
async fn too_many_inbound_messages_close_with_4029() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.ws.messages_per_s = 1.0;
        s.ws.message_burst = NonZero::new(3).unwrap();
    })
    .await
    .unwrap();
    let mut socket = connect(&app, None, None).await;
    for nonce in 0..10 {
        if socket
            .send(Message::Text(
                json!({"type": "ping", "nonce": nonce}).to_string().into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    let (code, reason, pongs) = expect_close(&mut socket, WAIT).await;
    assert_eq!((code, reason.as_str()), (4029, "too many messages"));
    assert_eq!(pongs, 3, "the burst was answered");
    app.stop().await;
}

/// A client that sends as fast as it can, reading on the side, gets the
/// 4029 close frame, never a bare connection reset: the flood still in
/// flight when the server closes must not cost the client its close frame.
#[tokio::test]
async fn a_flooding_client_receives_the_4029_close_frame() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.ws.messages_per_s = 1.0;
        s.ws.message_burst = NonZero::new(3).unwrap();
    })
    .await
    .unwrap();
    // Several rounds: the reset this guards against depends on timing.
    for round in 0..8 {
        let (mut sink, mut stream) = connect(&app, None, None).await.split();
        let flood = tokio::spawn(async move {
            let frame = Message::Text(
                json!({"type": "ping", "nonce": "x".repeat(2000)})
                    .to_string()
                    .into(),
            );
            let began = Instant::now();
            let mut sent = 0u64;
            // Stops when the socket refuses: after the close frame arrived
            // (tungstenite refuses to send after closing) or on failure.
            while began.elapsed() < Duration::from_secs(10)
                && sink.send(frame.clone()).await.is_ok()
            {
                sent += 1;
            }
            sent
        });
        let mut pongs = 0;
        let (code, reason) = loop {
            let next = tokio::time::timeout(WAIT, stream.next())
                .await
                .unwrap_or_else(|_| panic!("round {round}: no close frame in time"));
            match next {
                Some(Ok(Message::Close(Some(frame)))) => {
                    break (u16::from(frame.code), frame.reason.to_string())
                }
                Some(Ok(Message::Text(_))) => pongs += 1,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!(
                    "round {round}: expected the 4029 close frame after {pongs} pongs, got {other:?}"
                ),
            }
        };
        assert_eq!(
            (code, reason.as_str()),
            (4029, "too many messages"),
            "round {round}"
        );
        assert_eq!(pongs, 3, "round {round}: the burst was answered");
        let sent = flood.await.unwrap();
        assert!(sent > 3, "round {round}: the client flooded ({sent} sent)");
    }
    app.stop().await;
}

#[tokio::test]
async fn presence_counts_each_kind_and_is_sent_at_most_once_a_second() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let (mut display, start) = subscribe(&app, None, &slug, None, None).await;
    assert_eq!(
        start.presence,
        json!({"type": "presence", "participants": 0, "facilitators": 0, "displays": 1})
    );

    // Five people connect in a burst; the display hears of it in at most
    // one frame per presence interval (not one per connection).
    let mut cookies = Vec::new();
    for _ in 0..4 {
        cookies.push(Some(sign_up_cookie(&app, &slug).await));
    }
    cookies.push(Some(staff_cookie(&app, Role::Facilitator).await));
    let burst = Instant::now();
    let mut others = Vec::new();
    for cookie in &cookies {
        others.push(subscribe(&app, cookie.as_deref(), &slug, None, None).await);
    }
    let burst = burst.elapsed();
    let (_, last) = others.last().unwrap();
    assert_eq!(
        last.presence["facilitators"], 1,
        "a new subscriber counts itself: {}",
        last.presence
    );
    assert_eq!(last.presence["participants"], 4, "{}", last.presence);
    let mut others: Vec<Socket> = others.into_iter().map(|(socket, _)| socket).collect();
    let desk = others.pop();

    let want = json!({"type": "presence", "participants": 4, "facilitators": 1, "displays": 1});
    let mut frames = 0;
    loop {
        let message =
            next_matching(&mut display, Duration::from_secs(4), is_type("presence")).await;
        frames += 1;
        if message == want {
            break;
        }
    }
    let allowed = burst.as_secs() + 2;
    assert!(
        frames as u64 <= allowed,
        "{frames} presence frames for a burst of 5 connections in {burst:?} (at most {allowed})"
    );
    drop(desk);

    // Two leave: the count drops within about a second.
    drop(others.pop());
    let want = json!({"type": "presence", "participants": 3, "facilitators": 0, "displays": 1});
    next_matching(&mut display, Duration::from_secs(3), |m| *m == want).await;
    app.stop().await;
}

/// Ideas, flags and conversation changes reach the audiences the protocol
/// names: pending ideas and flags go to facilitators only; an approved idea
/// reaches everyone; a hidden one is removed; a deadline change reaches all.
#[tokio::test]
async fn ideas_flags_and_conversation_changes_reach_the_right_audiences() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"ideas_need_approval": true}), 1)
        .await;
    let participant_cookie = sign_up_cookie(&app, &slug).await;
    let participant_client = client_with_cookie(&app, &participant_cookie);
    let (mut participant, _) = subscribe(&app, Some(&participant_cookie), &slug, None, None).await;
    let (mut display, _) = subscribe(&app, None, &slug, None, None).await;
    let facilitator_cookie = staff_cookie(&app, Role::Facilitator).await;
    let facilitator = client_with_cookie(&app, &facilitator_cookie);
    let (mut desk, _) = subscribe(&app, Some(&facilitator_cookie), &slug, None, None).await;
    let next_event = |socket: &'static str| {
        move |m: &Value| m["seq"].is_i64() || (m["type"] == "pong" && m["nonce"] == socket)
    };

    // A pending idea: facilitators only.
    let idea = Uuid::new_v4().to_string();
    let (status, answer) = participant_client
        .post(
            &format!("/api/conversations/{slug}/ideas"),
            json!({"id": idea, "title": "Quiet rooms", "body": "On every ward."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let event = next_matching(&mut desk, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(
        (event["type"].as_str(), event["item"]["status"].as_str()),
        (Some("item"), Some("pending")),
        "{event}"
    );
    assert_eq!(event["item"]["id"], idea.as_str());

    // A flag on a visible comment: facilitators only.
    let (comment, _, _) = participant_client
        .comment(&slug, &items[0], "Flag me")
        .await;
    let flagger = app.participant(&slug).await;
    let (status, answer) = flagger
        .post(
            &format!("/api/conversations/{slug}/comments/{comment}/flags"),
            json!({"id": Uuid::new_v4(), "reason": "names a colleague"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let event = next_matching(&mut desk, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(event["type"], "comment", "{event}");
    let event = next_matching(&mut desk, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(event["type"], "flag", "{event}");
    assert_eq!(event["flag"]["comment_id"], comment.as_str());
    assert_eq!(event["flag"]["flags"], 1);
    for (socket, name) in [(&mut participant, "p"), (&mut display, "d")] {
        let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
        assert_eq!(
            event["type"], "comment",
            "the comment, not the idea: {event}"
        );
        assert_eq!(
            event["comment"]["flags"], 0,
            "flags are 0 for the public: {event}"
        );
        send_json(socket, json!({"type": "ping", "nonce": name})).await;
        let next = next_matching(socket, WAIT, next_event(name)).await;
        assert_eq!(
            next["type"], "pong",
            "no idea and no flag for the public: {next}"
        );
    }

    // Approval: everyone gets the item, visible. Hiding: the public get item_removed.
    for (action, public_type, status) in [
        ("approve", "item", "visible"),
        ("hide", "item_removed", "hidden"),
    ] {
        let (code, answer) = facilitator
            .post(
                &format!("/api/conversations/{slug}/items/{idea}/moderation"),
                json!({"request_id": Uuid::new_v4(), "action": action, "reason": "off topic"}),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{action}: {answer}");
        for socket in [&mut participant, &mut display] {
            let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
            assert_eq!(event["type"], public_type, "{event}");
        }
        let event = next_matching(&mut desk, WAIT, |m| m["seq"].is_i64()).await;
        assert_eq!(
            (event["type"].as_str(), event["item"]["status"].as_str()),
            (Some("item"), Some(status)),
            "{event}"
        );
    }

    // The deadline is extended: a conversation event for everyone.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (code, answer) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": later}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    for socket in [&mut participant, &mut display, &mut desk] {
        let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
        assert_eq!(event["type"], "conversation", "{event}");
        assert_eq!(event["conversation"]["slug"], slug.as_str());
        assert_eq!(event["conversation"]["state"], "open");
    }
    app.stop().await;
}

/// Comments written by many participants at once reach every subscriber
/// once each, in sequence order, with no gaps against the store's order.
#[tokio::test]
async fn concurrent_comments_arrive_once_each_in_sequence_order() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 2).await;
    let first_seq = snapshot_seq(&app.client(), &slug).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let cookie = sign_up_cookie(&app, &slug).await;
        sockets.push(subscribe(&app, Some(&cookie), &slug, None, None).await.0);
    }
    let writers: Vec<_> = (0..20)
        .map(|w| {
            let client = app.client();
            let slug = slug.clone();
            let item = items[w % 2].clone();
            tokio::spawn(async move {
                let (status, _) = client
                    .post(
                        &format!("/api/conversations/{slug}/participants"),
                        json!({}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED);
                let mut ids = Vec::new();
                for n in 0..5 {
                    let (id, status, _) = client
                        .comment(&slug, &item, &format!("writer {w} comment {n}"))
                        .await;
                    assert_eq!(status, StatusCode::CREATED);
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    let mut written = std::collections::HashSet::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    for socket in sockets.iter_mut() {
        let mut seqs = Vec::new();
        let mut ids = std::collections::HashSet::new();
        while seqs.len() < written.len() {
            let event = next_matching(socket, WAIT, |m| m["seq"].is_i64()).await;
            assert_eq!(event["type"], "comment", "{event}");
            assert!(
                ids.insert(event["comment"]["id"].as_str().unwrap().to_string()),
                "once each"
            );
            seqs.push(event["seq"].as_i64().unwrap());
        }
        let expected: Vec<i64> = (first_seq + 1..=first_seq + written.len() as i64).collect();
        assert_eq!(seqs, expected, "every comment, in commit order, no gaps");
        assert_eq!(ids, written);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_display_token_lets_a_screen_watch_a_conversation_that_needs_a_code() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app
        .conversation(
            &admin,
            json!({"signup_mode": "code", "access_code": "NHS-2026"}),
            1,
        )
        .await;
    let mut socket = connect(&app, None, None).await;
    send_json(
        &mut socket,
        json!({"type": "subscribe", "conversation": slug}),
    )
    .await;
    let refused = next_json(&mut socket, WAIT).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("forbidden")),
        "{refused}"
    );
    send_json(
        &mut socket,
        json!({"type": "subscribe", "conversation": slug, "display_token": "forged"}),
    )
    .await;
    assert_eq!(next_json(&mut socket, WAIT).await["code"], "forbidden");

    let facilitator = app.staff(Role::Facilitator).await;
    let (status, created) = facilitator
        .post(
            &format!("/api/conversations/{slug}/display-tokens"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap();
    send_json(
        &mut socket,
        json!({"type": "subscribe", "conversation": slug, "display_token": token}),
    )
    .await;
    let subscribed = next_json(&mut socket, WAIT).await;
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
    assert_eq!(subscribed["role"], "display");
    app.stop().await;
}

/// A store that fails while the server decides who may watch is an
/// internal error (1011), never a refusal: a participant or a screen with
/// a valid token must not be told it is not allowed.
#[tokio::test]
async fn a_store_failure_while_authorising_a_socket_closes_with_1011() {
    use sqlx::Connection;
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (open, _) = app.conversation(&admin, json!({}), 1).await;
    let (coded, _) = app
        .conversation(
            &admin,
            json!({"signup_mode": "code", "access_code": "NHS-2026"}),
            1,
        )
        .await;
    let participant = sign_up_cookie(&app, &open).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (status, created) = facilitator
        .post(
            &format!("/api/conversations/{coded}/display-tokens"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    let subscribe_with_token =
        json!({"type": "subscribe", "conversation": coded, "display_token": token});

    // Both are let in while the store works.
    let (_, start) = subscribe(&app, Some(&participant), &open, None, Some("participant")).await;
    assert_eq!(start.subscribed["role"], "participant");
    let mut screen = connect(&app, None, None).await;
    send_json(&mut screen, subscribe_with_token.clone()).await;
    assert_eq!(next_json(&mut screen, WAIT).await["type"], "subscribed");

    // The tables the checks read disappear from under the server.
    let mut database = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .unwrap();
    for table in ["participants", "display_tokens"] {
        sqlx::query(&format!("ALTER TABLE {table} RENAME TO {table}_gone"))
            .execute(&mut database)
            .await
            .unwrap();
    }

    let mut socket = connect(&app, Some(&participant), None).await;
    send_json(
        &mut socket,
        json!({"type": "subscribe", "conversation": open, "as": "participant"}),
    )
    .await;
    let (code, reason, skipped) = expect_close(&mut socket, WAIT).await;
    assert_eq!(
        (code, reason.as_str(), skipped),
        (1011, "internal error", 0)
    );

    let mut screen = connect(&app, None, None).await;
    send_json(&mut screen, subscribe_with_token).await;
    let (code, reason, skipped) = expect_close(&mut screen, WAIT).await;
    assert_eq!(
        (code, reason.as_str(), skipped),
        (1011, "internal error", 0)
    );
    app.stop().await;
}

/// Upgrades past the node's connection cap get 503, and an IP connecting
/// too fast gets 429, both with Retry-After, before any WebSocket exists.
#[tokio::test]
async fn the_connection_cap_and_the_per_ip_connect_rate_refuse_upgrades() {
    async fn refused(app: &TestApp) -> (StatusCode, Option<String>) {
        match tokio_tungstenite::connect_async(app.ws_url()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => (
                response.status(),
                response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string()),
            ),
            other => panic!(
                "expected a refusal, got {:?}",
                other.map(|(_, r)| r.status())
            ),
        }
    }
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.ws.max_connections = NonZero::new(2).unwrap()
    })
    .await
    .unwrap();
    let mut first = connect(&app, None, None).await;
    let _second = connect(&app, None, None).await;
    let (status, retry) = refused(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry.is_some(), "503 carries Retry-After");
    // A slot frees when a connection ends.
    // The client closes; the server completes the closing handshake.
    first.close(None).await.unwrap();
    let echo = tokio::time::timeout(WAIT, first.next())
        .await
        .expect("the close is answered");
    assert!(
        matches!(echo, Some(Ok(Message::Close(_)))),
        "a close frame in answer: {echo:?}"
    );
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok((mut socket, _)) = tokio_tungstenite::connect_async(app.ws_url()).await {
            send_json(&mut socket, json!({"type": "ping"})).await;
            assert_eq!(next_json(&mut socket, WAIT).await["type"], "pong");
            break;
        }
        assert!(Instant::now() < deadline, "the freed slot is reusable");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;

    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.ws.connects_per_ip_per_s = 0.5;
        s.ws.connects_per_ip_burst = NonZero::new(3).unwrap();
    })
    .await
    .unwrap();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(connect(&app, None, None).await);
    }
    let (status, retry) = refused(&app).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1),
        "429 carries Retry-After"
    );
    app.stop().await;
}

/// A client that answers pings stays connected past the idle timeout; one
/// that is silent (does not even read the pings) is closed with 4000.
#[tokio::test]
async fn keepalive_reaps_silent_connections_with_4000() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.ws.ping_interval_s = NonZero::new(1).unwrap();
        s.ws.idle_timeout_s = NonZero::new(2).unwrap();
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let (mut alive, _) = subscribe(&app, None, &slug, None, None).await;
    let mut silent = connect(&app, None, None).await;

    // The live client reads (its library answers pings) for 3.5 s: it
    // must see pings and no close.
    let until = tokio::time::Instant::now() + Duration::from_millis(3500);
    let mut pings = 0;
    while let Ok(next) = tokio::time::timeout_at(until, alive.next()).await {
        match next {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Text(_))) => {}
            other => panic!("the answering client was closed: {other:?}"),
        }
    }
    assert!(
        pings >= 2,
        "the server pings every ping_interval_s ({pings})"
    );

    // The silent one was reaped meanwhile.
    let (code, reason, _) = expect_close(&mut silent, WAIT).await;
    assert_eq!((code, reason.as_str()), (4000, "idle timeout"));
    app.stop().await;
}

/// A second `subscribe` on the same socket replaces the first: the old
/// conversation's events stop, the new one's start, nothing twice.
#[tokio::test]
async fn subscribing_again_replaces_the_subscription() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (first, first_items) = app.conversation(&admin, json!({}), 1).await;
    let (second, second_items) = app.conversation(&admin, json!({}), 1).await;
    let (mut socket, _) = subscribe(&app, None, &first, None, None).await;
    let writer_first = app.participant(&first).await;
    let writer_second = app.participant(&second).await;
    let (id, _, _) = writer_first.comment(&first, &first_items[0], "one").await;
    let event = next_matching(&mut socket, WAIT, is_type("comment")).await;
    assert_eq!(event["comment"]["id"], id.as_str());
    let last = event["seq"].as_i64().unwrap();

    // Re-subscribing to the same conversation from the last seq: no repeat.
    let start = subscribe_on(&mut socket, &first, Some(last), None).await;
    assert!(start.replay.is_empty(), "{:?}", start.replay);
    assert_eq!(
        start.presence["displays"], 1,
        "one connection, counted once: {}",
        start.presence
    );

    let start = subscribe_on(&mut socket, &second, None, None).await;
    assert_eq!(start.subscribed["conversation"], second.as_str());
    writer_first
        .comment(&first, &first_items[0], "not for this socket")
        .await;
    let (id, _, _) = writer_second
        .comment(&second, &second_items[0], "two")
        .await;
    let event = next_matching(&mut socket, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(
        event["comment"]["id"],
        id.as_str(),
        "only the second conversation's events: {event}"
    );
    app.stop().await;
}

/// A gauge's value in the Prometheus text of /metrics.
fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// The memory the bounded structures hold is on /metrics (docs/operations.md,
/// "Health checks and metrics"). Gauges are process-wide and other tests
/// run beside this one, so it checks lower bounds that its own topic sets.
#[tokio::test]
async fn metrics_show_what_the_replay_ring_and_sqlite_hold() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let (mut display, _) = subscribe(&app, None, &slug, None, None).await;
    let writer = app.participant(&slug).await;
    let (_, status, answer) = writer
        .comment(&slug, &items[0], "Keep the replay ring in view.")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let event = next_matching(&mut display, WAIT, is_type("comment")).await;

    let (status, metrics) = app.client().get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics.as_str().expect("text").to_string();
    let events = gauge(&metrics, "chorus_replay_events").expect(&metrics);
    assert!(events >= 1.0, "{metrics}");
    // The ring keeps the frame this display received, and the facilitators' copy.
    let bytes = gauge(&metrics, "chorus_replay_bytes").expect(&metrics);
    assert!(bytes >= event.to_string().len() as f64, "{bytes}: {event}");
    let sqlite = gauge(&metrics, "chorus_sqlite_memory_bytes").expect(&metrics);
    assert!(sqlite > 0.0, "{metrics}");
    assert!(
        metrics.contains("chorus_cache_entries{cache=\"participants\"}"),
        "{metrics}"
    );
    app.stop().await;
}
