//! `tallies_visible` (docs/api.md, docs/protocol.md): participants see a
//! pledge's tally always, after voting on it, or after the conversation
//! closes, in the snapshot, in vote answers and on the live stream alike;
//! facilitators and screens holding a display token always see them.

use std::num::NonZero;
use std::time::Duration;

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::live::{subscribe, Start, WAIT};

/// Long enough for several tally ticks (50 ms in these tests).
const QUIET: Duration = Duration::from_millis(600);

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

/// The tally entry for `item` in a `tallies` frame, if it has one.
fn entry<'a>(frame: &'a Value, item: &str) -> Option<&'a Value> {
    frame["items"]
        .as_array()?
        .iter()
        .find(|t| t["id"].as_str() == Some(item))
}

/// The counts the snapshot gives this client for `item`.
async fn snapshot_counts(client: &Client, slug: &str, item: &str) -> (Value, Value) {
    let (status, snapshot) = client.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(status, StatusCode::OK, "{snapshot}");
    let it = snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str() == Some(item))
        .unwrap_or_else(|| panic!("{item} in {snapshot}"))
        .clone();
    (it["strong"].clone(), it["wrong"].clone())
}

/// Reads the socket for `QUIET` and panics if any frame carries a count
/// for `item` (a tally entry, or an item event with numbers).
async fn hears_no_count_for(socket: &mut Socket, item: &str) {
    let until = tokio::time::Instant::now() + QUIET;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, {
        use futures_util::StreamExt;
        socket.next()
    })
    .await
    {
        let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(text.as_str()).unwrap();
        assert!(entry(&value, item).is_none(), "leaked: {value}");
        if value["type"] == "item" && value["item"]["id"] == item {
            assert!(value["item"]["strong"].is_null(), "leaked: {value}");
        }
    }
}

/// Reads until a tally frame gives `item` `n` votes for `side`.
async fn until_count(socket: &mut Socket, item: &str, side: &str, n: i64) {
    next_matching(socket, WAIT, |m| {
        m["type"] == "tallies" && entry(m, item).is_some_and(|t| t[side] == n)
    })
    .await;
}

async fn display_token(app: &TestApp, slug: &str) -> String {
    let facilitator = app.staff(Role::Facilitator).await;
    let (status, created) = facilitator
        .post(
            &format!("/api/conversations/{slug}/display-tokens"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn after_voting_on_sqlite_a_vote_reveals_that_pledges_tally_only() {
    after_voting(Backend::Sqlite).await;
}

#[tokio::test]
async fn after_voting_on_postgres_a_vote_reveals_that_pledges_tally_only() {
    after_voting(Backend::Postgres).await;
}

async fn after_voting(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.hub.tally_interval_ms = NonZero::new(50).unwrap()
    })
    .await
    else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"tallies_visible": "after_voting"}), 2)
        .await;
    let (a, b) = (items[0].as_str(), items[1].as_str());

    let me_cookie = sign_up_cookie(&app, &slug).await;
    let me = client_with_cookie(&app, &me_cookie);
    let other = app.participant(&slug).await;
    let third = app.participant(&slug).await;
    let (status, snapshot) = me.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snapshot["conversation"]["tallies_visible"], "after_voting");

    let (mut mine, start) = subscribe(&app, Some(&me_cookie), &slug, None, None).await;
    assert_eq!(start.subscribed["role"], "participant");
    let desk_cookie = staff_cookie(&app, Role::Facilitator).await;
    let (mut desk, _) = subscribe(&app, Some(&desk_cookie), &slug, None, None).await;
    let token = display_token(&app, &slug).await;
    let mut screen = connect(&app, None, None).await;
    send_json(
        &mut screen,
        json!({"type": "subscribe", "conversation": slug, "display_token": token}),
    )
    .await;
    assert_eq!(next_json(&mut screen, WAIT).await["role"], "display");

    // Someone else votes: the desk and the screen see it, I do not.
    let (status, voted) = other.vote(&slug, a, Some("strong")).await;
    assert_eq!(status, StatusCode::OK, "{voted}");
    assert_eq!(voted["tally"]["strong"], 1, "their own vote shows them");
    until_count(&mut desk, a, "strong", 1).await;
    until_count(&mut screen, a, "strong", 1).await;
    hears_no_count_for(&mut mine, a).await;
    assert_eq!(
        snapshot_counts(&me, &slug, a).await,
        (Value::Null, Value::Null)
    );
    // Nor do I get it by watching as a screen instead, without a token.
    let (mut sneaky, start) = subscribe(&app, Some(&me_cookie), &slug, None, Some("display")).await;
    assert_eq!(start.subscribed["role"], "display");
    assert!(entry(&start.tallies, a).is_none(), "{}", start.tallies);

    // I vote on a: its tally is mine to see, now and live; b's is not.
    let (status, voted) = me.vote(&slug, a, Some("wrong")).await;
    assert_eq!(status, StatusCode::OK, "{voted}");
    assert_eq!(voted["tally"]["wrong"], 1);
    send_json(&mut mine, json!({"type": "voted", "item_id": a})).await;
    let revealed = next_matching(&mut mine, WAIT, |m| entry(m, a).is_some()).await;
    let revealed = entry(&revealed, a).unwrap();
    assert_eq!(
        (revealed["strong"].as_i64(), revealed["wrong"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(snapshot_counts(&me, &slug, a).await, (json!(1), json!(1)));
    third.vote(&slug, a, Some("strong")).await;
    until_count(&mut mine, a, "strong", 2).await;
    third.vote(&slug, b, Some("strong")).await;
    until_count(&mut desk, b, "strong", 1).await;
    hears_no_count_for(&mut mine, b).await;
    hears_no_count_for(&mut sneaky, b).await;
    // Claiming a vote I never cast reveals nothing.
    send_json(&mut mine, json!({"type": "voted", "item_id": b})).await;
    hears_no_count_for(&mut mine, b).await;
    assert_eq!(
        snapshot_counts(&me, &slug, b).await,
        (Value::Null, Value::Null)
    );

    // Resubscribing, the full frame holds a (voted) and not b.
    drop(mine);
    let (_mine, Start { tallies, .. }) = subscribe(&app, Some(&me_cookie), &slug, None, None).await;
    assert!(entry(&tallies, a).is_some(), "{tallies}");
    assert!(entry(&tallies, b).is_none(), "{tallies}");
    // The staff snapshot has every count.
    assert_eq!(
        snapshot_counts(&admin, &slug, b).await,
        (json!(1), json!(0))
    );
    app.stop().await;
}

#[tokio::test]
async fn after_close_no_participant_sees_a_tally_until_the_conversation_closes() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.hub.tally_interval_ms = NonZero::new(50).unwrap()
    })
    .await
    else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"tallies_visible": "after_close"}), 1)
        .await;
    let a = items[0].as_str();
    let me_cookie = sign_up_cookie(&app, &slug).await;
    let me = client_with_cookie(&app, &me_cookie);
    let other = app.participant(&slug).await;
    let (mut mine, _) = subscribe(&app, Some(&me_cookie), &slug, None, None).await;
    // A screen anyone may open (sign-up is open) gets no counts either.
    let (mut stranger, start) = subscribe(&app, None, &slug, None, None).await;
    assert_eq!(start.subscribed["role"], "display");

    let (status, voted) = other.vote(&slug, a, Some("strong")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(voted["tally"]["strong"].is_null(), "{voted}");
    let (_, voted) = me.vote(&slug, a, Some("strong")).await;
    assert!(voted["tally"]["strong"].is_null(), "{voted}");
    send_json(&mut mine, json!({"type": "voted", "item_id": a})).await;
    hears_no_count_for(&mut mine, a).await;
    hears_no_count_for(&mut stranger, a).await;
    assert_eq!(
        snapshot_counts(&me, &slug, a).await,
        (Value::Null, Value::Null)
    );
    // An edit of the pledge carries it to participants without its counts.
    let (status, _) = admin
        .patch(
            &format!("/api/conversations/{slug}/items/{a}"),
            json!({"title": "Pledge zero, edited"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let edited = next_matching(&mut mine, WAIT, |m| m["type"] == "item").await;
    assert!(edited["item"]["strong"].is_null(), "{edited}");

    // Closing: a conversation event tells the page, and the counts show.
    let (status, closed) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": "now"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let event = next_matching(&mut mine, WAIT, |m| m["type"] == "conversation").await;
    assert_eq!(event["conversation"]["state"], "closed");
    assert_eq!(snapshot_counts(&me, &slug, a).await, (json!(2), json!(0)));
    let (_, Start { tallies, .. }) = subscribe(&app, Some(&me_cookie), &slug, None, None).await;
    assert_eq!(entry(&tallies, a).unwrap()["strong"], 2);
    app.stop().await;
}

#[tokio::test]
async fn the_setting_is_named_values_only_and_changes_live() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let api = format!("/api/conversations/{slug}");
    let (_, snapshot) = admin.get(&api).await;
    assert_eq!(snapshot["conversation"]["tallies_visible"], "always");
    let (status, problem) = admin
        .patch(&api, json!({"tallies_visible": "sometimes"}))
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "tallies_visible"),
        "{problem}"
    );
    let bad = json!({
        "slug": "bad-setting", "title": "T", "tallies_visible": "later",
        "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2036-01-01T00:00:00Z",
    });
    let (status, problem) = admin.post("/api/conversations", bad).await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "tallies_visible"),
        "{problem}"
    );

    // A participant watching under "always" loses the counts when the
    // organisers switch to "after_close", without reconnecting.
    let me_cookie = sign_up_cookie(&app, &slug).await;
    let other = app.participant(&slug).await;
    let (mut mine, _) = subscribe(&app, Some(&me_cookie), &slug, None, None).await;
    let (status, changed) = admin
        .patch(&api, json!({"tallies_visible": "after_close"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["conversation"]["tallies_visible"], "after_close");
    let event = next_matching(&mut mine, WAIT, |m| m["type"] == "conversation").await;
    assert_eq!(event["conversation"]["tallies_visible"], "after_close");
    other.vote(&slug, &items[0], Some("wrong")).await;
    hears_no_count_for(&mut mine, &items[0]).await;
    // Facilitators may not change it: it is the organisers'.
    let facilitator = app.staff(Role::Facilitator).await;
    let (status, _) = facilitator
        .patch(&api, json!({"tallies_visible": "always"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}
