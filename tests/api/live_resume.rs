//! Resume without gaps (issue 3): a client that reconnects with the last
//! sequence number it applied gets exactly what it missed, once each, in
//! order, from the ring or from the store; a client too far behind, or
//! ahead of the server, is told to resync.

use std::num::NonZero;
use std::time::Duration;

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::live::{snapshot_seq, subscribe, WAIT};

/// Subscribes, sees one comment live, disconnects, misses 20 comments
/// (written while it is away), resumes with its last seq: exactly those 20,
/// once each, in order; then live events continue without overlap.
async fn misses_twenty_then_resumes(backend: Backend, ring_size: usize) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.hub.ring_size = NonZero::new(ring_size).unwrap()
    })
    .await
    else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let cookie = sign_up_cookie(&app, &slug).await;
    let (mut socket, _) = subscribe(&app, Some(&cookie), &slug, None, None).await;
    let writer = app.participant(&slug).await;
    let (first, _, _) = writer.comment(&slug, &items[0], "before").await;
    let event = next_matching(&mut socket, WAIT, |m| m["type"] == "comment").await;
    assert_eq!(event["comment"]["id"], first.as_str());
    let last_seq = event["seq"].as_i64().unwrap();
    drop(socket);

    let mut missed = Vec::new();
    for n in 0..20 {
        let (id, status, _) = writer
            .comment(&slug, &items[0], &format!("missed {n}"))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        missed.push(id);
    }

    let (mut socket, start) = subscribe(&app, Some(&cookie), &slug, Some(last_seq), None).await;
    assert_eq!(start.subscribed["seq"], last_seq);
    let replayed: Vec<&str> = start
        .replay
        .iter()
        .map(|e| e["comment"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        replayed, missed,
        "exactly the 20 missed, in order, once each"
    );
    let seqs: Vec<i64> = start
        .replay
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "increasing: {seqs:?}");
    assert!(seqs[0] > last_seq);

    let (after, _, _) = writer.comment(&slug, &items[0], "after").await;
    let event = next_matching(&mut socket, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(
        event["comment"]["id"],
        after.as_str(),
        "the next event is the new one, not a repeat"
    );
    assert!(event["seq"].as_i64().unwrap() > *seqs.last().unwrap());
    app.stop().await;
}

#[tokio::test]
async fn a_resuming_client_gets_the_twenty_it_missed_from_the_ring() {
    misses_twenty_then_resumes(Backend::Sqlite, 2048).await;
}

#[tokio::test]
async fn a_resuming_client_gets_the_twenty_it_missed_from_the_store() {
    misses_twenty_then_resumes(Backend::Sqlite, 5).await;
}

#[tokio::test]
async fn a_resuming_client_gets_the_twenty_it_missed_from_postgres() {
    misses_twenty_then_resumes(Backend::Postgres, 5).await;
}

/// Resuming while writes keep coming: across the old and the new
/// connection the client sees every comment once, in order.
#[tokio::test]
async fn resuming_during_a_stream_of_writes_loses_and_repeats_nothing() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.hub.ring_size = NonZero::new(8).unwrap()
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let cookie = sign_up_cookie(&app, &slug).await;
    let (mut socket, _) = subscribe(&app, Some(&cookie), &slug, None, None).await;

    let writer_slug = slug.clone();
    let item = items[0].clone();
    const TOTAL: usize = 60;
    let writer = app.participant(&slug).await;
    let writing = tokio::spawn(async move {
        let mut ids = Vec::new();
        for n in 0..TOTAL {
            let (id, status, _) = writer
                .comment(&writer_slug, &item, &format!("stream {n}"))
                .await;
            assert_eq!(status, StatusCode::CREATED);
            ids.push(id);
        }
        ids
    });

    let mut seen: Vec<(i64, String)> = Vec::new();
    async fn next_comment(socket: &mut Socket, seen: &mut Vec<(i64, String)>) {
        let event = tokio::time::timeout(
            WAIT,
            next_matching(socket, WAIT * 2, |m| m["type"] == "comment"),
        )
        .await
        .unwrap_or_else(|_| panic!("no comment after {} seen: {seen:?}", seen.len()));
        seen.push((
            event["seq"].as_i64().unwrap(),
            event["comment"]["id"].as_str().unwrap().to_string(),
        ));
    }
    // Read a few live, then drop and resume from the last applied seq,
    // three times over while the writer runs.
    for _ in 0..3 {
        for _ in 0..5 {
            if seen.len() < TOTAL {
                next_comment(&mut socket, &mut seen).await;
            }
        }
        drop(socket);
        tokio::time::sleep(Duration::from_millis(30)).await; // be away while writes happen
        let since = seen.last().unwrap().0;
        let (resumed, start) = subscribe(&app, Some(&cookie), &slug, Some(since), None).await;
        socket = resumed;
        for event in start.replay {
            seen.push((
                event["seq"].as_i64().unwrap(),
                event["comment"]["id"].as_str().unwrap().to_string(),
            ));
        }
    }
    while seen.len() < TOTAL {
        next_comment(&mut socket, &mut seen).await;
    }
    let written = writing.await.unwrap();
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "strictly increasing seqs: {seen:?}"
    );
    let ids: Vec<String> = seen.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, written, "every comment once, in order");
    app.stop().await;
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_resync_and_can_start_over() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.hub.max_replay = 10)
        .await
        .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let cookie = sign_up_cookie(&app, &slug).await;
    let reader = client_with_cookie(&app, &cookie);
    let since = snapshot_seq(&reader, &slug).await;
    let writer = app.participant(&slug).await;
    for n in 0..20 {
        writer
            .comment(&slug, &items[0], &format!("missed {n}"))
            .await;
    }
    let latest = snapshot_seq(&reader, &slug).await;
    assert_eq!(latest, since + 20);

    let mut socket = connect(&app, Some(&cookie), None).await;
    send_json(
        &mut socket,
        json!({"type": "subscribe", "conversation": slug, "since": since}),
    )
    .await;
    let resync = next_json(&mut socket, WAIT).await;
    assert_eq!(
        resync,
        json!({"type": "resync", "seq": latest, "reason": "too_far_behind"})
    );

    // As documented: reload the snapshot, subscribe again with its seq.
    let reloaded = snapshot_seq(&reader, &slug).await;
    let start = crate::live::subscribe_on(&mut socket, &slug, Some(reloaded), None).await;
    assert_eq!(start.subscribed["seq"], reloaded);
    assert!(start.replay.is_empty());
    let (id, _, _) = writer.comment(&slug, &items[0], "live again").await;
    let event = next_matching(&mut socket, WAIT, |m| m["type"] == "comment").await;
    assert_eq!(event["comment"]["id"], id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn a_client_ahead_of_the_server_is_told_to_resync() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 2).await;
    let latest = snapshot_seq(&app.client(), &slug).await;
    // Twice: once before this node has a topic for the conversation, once after.
    for _ in 0..2 {
        let mut socket = connect(&app, None, None).await;
        send_json(
            &mut socket,
            json!({"type": "subscribe", "conversation": slug, "since": latest + 100}),
        )
        .await;
        let resync = next_json(&mut socket, WAIT).await;
        assert_eq!(
            resync,
            json!({"type": "resync", "seq": latest, "reason": "ahead_of_server"})
        );
        // The connection stays usable.
        let start = crate::live::subscribe_on(&mut socket, &slug, Some(latest), None).await;
        assert_eq!(start.subscribed["seq"], latest);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_participant_resuming_skips_what_its_role_may_not_see() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.hub.ring_size = NonZero::new(3).unwrap()
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"moderation": "pre"}), 1)
        .await;
    let cookie = sign_up_cookie(&app, &slug).await;
    let since = snapshot_seq(&client_with_cookie(&app, &cookie), &slug).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let writer = app.participant(&slug).await;
    let mut approved = Vec::new();
    for n in 0..6 {
        let (id, _, _) = writer
            .comment(&slug, &items[0], &format!("pending {n}"))
            .await;
        if n % 2 == 0 {
            crate::live::moderate(&facilitator, &slug, &id, "approve").await;
            approved.push(id);
        }
    }
    let (_socket, start) = subscribe(&app, Some(&cookie), &slug, Some(since), None).await;
    let replayed: Vec<&str> = start
        .replay
        .iter()
        .map(|e| e["comment"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(replayed, approved, "only the approved comments, once each");
    assert!(start
        .replay
        .iter()
        .all(|e| e["comment"]["status"] == "visible"));

    // A facilitator resuming from the same point sees all nine events.
    let staff = staff_cookie(&app, Role::Facilitator).await;
    let (_desk, start) = subscribe(&app, Some(&staff), &slug, Some(since), None).await;
    assert_eq!(start.replay.len(), 9, "{:?}", start.replay);
    app.stop().await;
}

/// Events the hub never heard of (committed, but their announcement was
/// lost, as when a node dies between commit and publish) still reach
/// subscribers: a gap before a later event is repaired from the store
/// before that event is delivered; a lone lost event is found by the sweep.
#[tokio::test]
async fn events_the_hub_never_heard_of_are_delivered_from_the_store_in_order() {
    use chorus::domain::CommentStatus;
    use chorus::store::write;
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let conversation_id = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let item_id: uuid::Uuid = items[0].parse().unwrap();
    let cookie = sign_up_cookie(&app, &slug).await;
    let (mut socket, _) = subscribe(&app, Some(&cookie), &slug, None, None).await;
    let writer = app.participant(&slug).await;
    let (status, me) = writer
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{me}");
    let participant_id: uuid::Uuid = me["participant"]["id"].as_str().unwrap().parse().unwrap();
    let unannounced = |body: &str| write::PostComment {
        conversation_id,
        item_id,
        comment_id: uuid::Uuid::new_v4(),
        parent_id: None,
        participant_id,
        body: body.to_string(),
        status: CommentStatus::Visible,
    };
    let comment_of = |event: &serde_json::Value| {
        assert_eq!(event["type"], "comment", "{event}");
        event["comment"]["body"].as_str().unwrap().to_string()
    };

    // A lost event, then an announced one: both, in order, once each.
    app.store.write(unannounced("lost")).await.unwrap();
    let (_, status, _) = writer.comment(&slug, &items[0], "announced").await;
    assert_eq!(status, StatusCode::CREATED);
    let first = next_matching(&mut socket, WAIT, |m| m["seq"].is_i64()).await;
    let second = next_matching(&mut socket, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(
        (comment_of(&first), comment_of(&second)),
        ("lost".into(), "announced".into())
    );
    assert_eq!(
        second["seq"].as_i64().unwrap(),
        first["seq"].as_i64().unwrap() + 1
    );

    // A lone lost event: the store sweep delivers it.
    app.store.write(unannounced("lost alone")).await.unwrap();
    let event = next_matching(&mut socket, Duration::from_secs(6), |m| m["seq"].is_i64()).await;
    assert_eq!(comment_of(&event), "lost alone");
    let (_, _, _) = writer.comment(&slug, &items[0], "after").await;
    let event = next_matching(&mut socket, WAIT, |m| m["seq"].is_i64()).await;
    assert_eq!(comment_of(&event), "after", "nothing twice");
    app.stop().await;
}
