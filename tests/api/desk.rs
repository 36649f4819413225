//! The facilitator desk's server side: word list, edits, acting on
//! authors, display modes, the audit CSV, the QR code, focus sharing and
//! account management.

use std::time::Duration;

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn the_word_list_sends_matching_comments_to_review() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app
        .conversation(&admin, json!({"word_list": ["Smith"]}), 1)
        .await;
    let alice = app.participant(&slug).await;
    let (_, status, body) = alice.comment(&slug, &items[0], "Dr SMITH was rude").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["comment"]["status"], "pending");
    let (_, _, body) = alice
        .comment(&slug, &items[0], "Blacksmiths are fine")
        .await;
    assert_eq!(body["comment"]["status"], "visible");
    // Facilitators edit the list from the desk; participants never see it.
    let (status, _) = facilitator
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"word_list": ["ward 4"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, snapshot) = facilitator.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["word_list"], json!(["ward 4"]));
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert!(snapshot["word_list"].is_null());
    let (_, _, body) = alice
        .comment(&slug, &items[0], "It happened on Ward 4.")
        .await;
    assert_eq!(body["comment"]["status"], "pending");
    // But facilitators cannot change what only organisers may.
    let (status, _) = facilitator
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"title": "Mine now"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn edits_keep_the_original_for_admins_only() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let (id, _, _) = alice
        .comment(&slug, &items[0], "Sister Jones on ward 4 shouted at me")
        .await;
    let edit = json!({"request_id": Uuid::new_v4(), "body": "[name removed] shouted at me"});
    let (status, body) = facilitator
        .post(
            &format!("/api/conversations/{slug}/comments/{id}/edit"),
            edit.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["comment"]["body"], "[name removed] shouted at me");
    let original = format!("/api/conversations/{slug}/comments/{id}/original");
    assert_eq!(facilitator.get(&original).await.0, StatusCode::FORBIDDEN);
    assert_eq!(alice.get(&original).await.0, StatusCode::FORBIDDEN);
    let (_, body) = admin.get(&original).await;
    assert_eq!(body["original"], "Sister Jones on ward 4 shouted at me");
    let (_, page) = alice
        .get(&format!(
            "/api/conversations/{slug}/items/{}/comments",
            items[0]
        ))
        .await;
    assert_eq!(page["comments"][0]["body"], "[name removed] shouted at me");
    let (_, csv) = facilitator
        .get(&format!("/api/conversations/{slug}/events.csv"))
        .await;
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("seq,time,actor,kind,action,target,status,reason\n"),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.contains(",edit,") && l.contains(&id)),
        "{csv}"
    );
    assert!(
        !csv.contains("Sister Jones"),
        "the audit CSV carries no comment text"
    );
    app.stop().await;
}

#[tokio::test]
async fn suspending_and_hiding_everything_by_an_author() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let troll = app.participant(&slug).await;
    let bystander = app.participant(&slug).await;
    let (first, _, _) = troll.comment(&slug, &items[0], "one").await;
    troll.comment(&slug, &items[0], "two").await;
    bystander.comment(&slug, &items[0], "fine").await;
    let author = format!("/api/conversations/{slug}/comments/{first}/author");
    assert_eq!(
        bystander
            .post(
                &author,
                json!({"request_id": Uuid::new_v4(), "action": "suspend"})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = facilitator
        .post(
            &author,
            json!({"request_id": Uuid::new_v4(), "action": "hide_all", "reason": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"], 2);
    let (status, _) = facilitator
        .post(
            &author,
            json!({"request_id": Uuid::new_v4(), "action": "suspend"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, status, problem) = troll.comment(&slug, &items[0], "three").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(
        troll.vote(&slug, &items[0], Some("wrong")).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, page) = bystander
        .get(&format!(
            "/api/conversations/{slug}/items/{}/comments",
            items[0]
        ))
        .await;
    let bodies: Vec<_> = page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].clone())
        .collect();
    assert_eq!(bodies, vec![json!("fine")]);
    facilitator
        .post(
            &author,
            json!({"request_id": Uuid::new_v4(), "action": "unsuspend"}),
        )
        .await;
    assert_eq!(
        troll.comment(&slug, &items[0], "sorry").await.1,
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn display_modes_qr_codes_and_accounts() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app
        .conversation(
            &admin,
            json!({"signup_mode": "code", "access_code": "JOIN-2026"}),
            2,
        )
        .await;
    let (status, body) = facilitator
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"display": {"mode": "focus", "item_id": items[1]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["conversation"]["display"],
        json!({"mode": "focus", "item_id": items[1]})
    );
    let (status, _) = facilitator
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"display": {"mode": "focus"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The QR code carries the access code, so it needs staff or a display token.
    let qr = format!("/api/conversations/{slug}/qr.svg");
    let anonymous = app.client();
    assert_eq!(anonymous.get(&qr).await.0, StatusCode::FORBIDDEN);
    let (_, token) = facilitator
        .post(
            &format!("/api/conversations/{slug}/display-tokens"),
            json!({}),
        )
        .await;
    let response = anonymous
        .http
        .get(format!(
            "{}{qr}?token={}",
            app.base,
            token["token"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let link = response.headers()["x-join-link"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(link, format!("{}/c/{slug}?code=JOIN-2026", app.base));
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.unwrap().contains("<svg"));

    // Accounts.
    let (status, _) = admin
        .post(
            "/api/users",
            json!({"name": "robin", "role": "facilitator", "password": "long enough"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        admin
            .post(
                "/api/users",
                json!({"name": "robin", "role": "admin", "password": "long enough"})
            )
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        facilitator
            .post(
                "/api/users",
                json!({"name": "x", "role": "admin", "password": "long enough"})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, users) = admin.get("/api/users").await;
    assert!(users["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["name"] == "robin" && u["role"] == "facilitator"));
    let robin = app.client();
    assert_eq!(
        robin
            .post(
                "/api/login",
                json!({"name": "robin", "password": "long enough"})
            )
            .await
            .0,
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn facilitators_see_what_each_other_are_looking_at() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let (comment, _, _) = alice.comment(&slug, &items[0], "look at me").await;
    let sam = staff_cookie(&app, Role::Facilitator).await;
    let kim = staff_cookie(&app, Role::Facilitator).await;
    let participant = sign_up_cookie(&app, &slug).await;
    let mut sam_ws = connect(&app, Some(&sam), None).await;
    let mut kim_ws = connect(&app, Some(&kim), None).await;
    let mut participant_ws = connect(&app, Some(&participant), None).await;
    for ws in [&mut sam_ws, &mut kim_ws, &mut participant_ws] {
        send_json(ws, json!({"type": "subscribe", "conversation": slug})).await;
        next_matching(ws, Duration::from_secs(5), |m| m["type"] == "subscribed").await;
    }
    // A participant may not share focus.
    send_json(
        &mut participant_ws,
        json!({"type": "focus", "comment_id": comment}),
    )
    .await;
    let error = next_matching(&mut participant_ws, Duration::from_secs(5), |m| {
        m["type"] == "error"
    })
    .await;
    assert_eq!(error["code"], "forbidden");
    send_json(&mut sam_ws, json!({"type": "focus", "comment_id": comment})).await;
    let focus = next_matching(&mut kim_ws, Duration::from_secs(5), |m| {
        m["type"] == "focus"
    })
    .await;
    assert_eq!(focus["comment_id"], comment.as_str());
    assert!(focus["who"].as_str().unwrap().starts_with("facilitator-"));
    assert!(focus.get("seq").is_none());
    // Participants never hear it: their next message is the pong.
    send_json(&mut participant_ws, json!({"type": "ping", "nonce": 1})).await;
    let next = next_json(&mut participant_ws, Duration::from_secs(5)).await;
    assert_eq!(next["type"], "pong", "{next}");
    app.stop().await;
}

#[tokio::test]
async fn tallies_never_name_hidden_comments_or_pending_ideas() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"ideas_need_approval": true}), 1)
        .await;
    let alice = app.participant(&slug).await;
    let (comment, _, _) = alice.comment(&slug, &items[0], "up-vote me").await;
    let bob = app.participant(&slug).await;
    let (status, body) = bob
        .put(
            &format!("/api/conversations/{slug}/comments/{comment}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let idea = Uuid::new_v4().to_string();
    alice
        .post(
            &format!("/api/conversations/{slug}/ideas"),
            json!({"id": idea, "title": "Pending idea"}),
        )
        .await;
    // A watcher that was there before the hide sees the comment's tally go.
    let early = sign_up_cookie(&app, &slug).await;
    let mut early_ws = connect(&app, Some(&early), None).await;
    send_json(
        &mut early_ws,
        json!({"type": "subscribe", "conversation": slug}),
    )
    .await;
    let full = next_matching(&mut early_ws, Duration::from_secs(5), |m| {
        m["type"] == "tallies"
    })
    .await;
    assert!(full["comments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == comment.as_str()));
    assert!(
        !full["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == idea.as_str()),
        "pending idea in tallies: {full}"
    );
    admin
        .post(
            &format!("/api/conversations/{slug}/comments/{comment}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "test"}),
        )
        .await;
    next_matching(&mut early_ws, Duration::from_secs(5), |m| {
        m["type"] == "comment_removed"
    })
    .await;
    // A watcher arriving after the hide never hears of its tally.
    let late = sign_up_cookie(&app, &slug).await;
    let mut late_ws = connect(&app, Some(&late), None).await;
    send_json(
        &mut late_ws,
        json!({"type": "subscribe", "conversation": slug}),
    )
    .await;
    let full = next_matching(&mut late_ws, Duration::from_secs(5), |m| {
        m["type"] == "tallies"
    })
    .await;
    assert!(
        !full["comments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == comment.as_str()),
        "hidden comment in tallies: {full}"
    );
    assert!(!full["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == idea.as_str()));
    app.stop().await;
}

#[tokio::test]
async fn approving_a_flagged_comment_settles_its_flags() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let bob = app.participant(&slug).await;
    let (id, _, _) = alice.comment(&slug, &items[0], "Is this fine?").await;
    bob.post(
        &format!("/api/conversations/{slug}/comments/{id}/flags"),
        json!({"id": Uuid::new_v4(), "reason": "unsure"}),
    )
    .await;
    let flagged = format!("/api/conversations/{slug}/moderation/comments?status=flagged");
    assert_eq!(
        admin.get(&flagged).await.1["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, body) = admin
        .post(
            &format!("/api/conversations/{slug}/comments/{id}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["comment"]["flags"], 0);
    assert_eq!(
        admin.get(&flagged).await.1["comments"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let (_, events) = admin
        .get(&format!("/api/conversations/{slug}/events"))
        .await;
    assert_eq!(
        events["events"].as_array().unwrap().last().unwrap()["data"]["action"],
        "approve"
    );
    app.stop().await;
}

#[tokio::test]
async fn admins_change_the_sign_up_mode_and_read_the_access_code() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 1).await;
    let path = format!("/api/conversations/{slug}");
    let (status, _) = admin.patch(&path, json!({"signup_mode": "code"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a code is needed");
    let (status, body) = admin
        .patch(
            &path,
            json!({"signup_mode": "code", "access_code": "WARD-42"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(admin.get(&path).await.1["access_code"], "WARD-42");
    let participant = app.client();
    assert!(
        participant.get(&path).await.1["access_code"].is_null(),
        "participants never see the code"
    );
    assert_eq!(
        participant
            .post(&format!("{path}/participants"), json!({}))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    admin.patch(&path, json!({"signup_mode": "open"})).await;
    assert!(admin.get(&path).await.1["access_code"].is_null());
    assert_eq!(
        participant
            .post(&format!("{path}/participants"), json!({}))
            .await
            .0,
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn facilitators_are_told_who_acted() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let watcher = staff_cookie(&app, Role::Facilitator).await;
    let reader = sign_up_cookie(&app, &slug).await;
    let mut staff_ws = connect(&app, Some(&watcher), None).await;
    let mut public_ws = connect(&app, Some(&reader), None).await;
    for ws in [&mut staff_ws, &mut public_ws] {
        send_json(ws, json!({"type": "subscribe", "conversation": slug})).await;
        next_matching(ws, Duration::from_secs(5), |m| m["type"] == "subscribed").await;
    }
    let (id, _, created) = alice.comment(&slug, &items[0], "hello").await;
    let handle = created["comment"]["handle"].as_str().unwrap().to_string();
    let seen = next_matching(&mut staff_ws, Duration::from_secs(5), |m| {
        m["type"] == "comment"
    })
    .await;
    assert_eq!(seen["by"], handle.as_str());
    let public = next_matching(&mut public_ws, Duration::from_secs(5), |m| {
        m["type"] == "comment"
    })
    .await;
    assert!(public.get("by").is_none(), "{public}");
    let (_, me) = admin.get("/api/me").await;
    admin
        .post(
            &format!("/api/conversations/{slug}/comments/{id}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "test"}),
        )
        .await;
    let hidden = next_matching(&mut staff_ws, Duration::from_secs(5), |m| {
        m["type"] == "comment"
    })
    .await;
    assert_eq!(hidden["comment"]["status"], "hidden");
    assert_eq!(hidden["by"], me["user"]["name"]);
    app.stop().await;
}
