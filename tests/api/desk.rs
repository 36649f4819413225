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

/// The desk's queues page with no cap: more than 1,000 pending comments,
/// every one reachable by following `next`, none lost or repeated, in
/// either order; the pledge and text filters; flag reasons on each entry;
/// bad parameters refused naming the field.
async fn the_queue_pages_filters_and_shows_flag_reasons(app: TestApp) {
    use chorus::domain::CommentStatus;
    use chorus::store::write;
    use std::collections::HashSet;

    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app.conversation(&admin, json!({}), 2).await;
    let conversation_id = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let author = app.participant(&slug).await;
    let (status, me) = author
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{me}");
    let participant_id: Uuid = me["participant"]["id"].as_str().unwrap().parse().unwrap();

    // 1,050 pending comments on the first pledge and a few with the
    // text-search's traps on the second, through the store's write API.
    const SEEDED: usize = 1050;
    let second = [
        "Ward 4% of the time",
        "ward 40 is fine",
        "a_b marks the spot",
        "axb is not it",
        "Back\\slash",
    ];
    let mut writes = tokio::task::JoinSet::new();
    let bodies = (0..SEEDED)
        .map(|i| (items[0].clone(), format!("Seeded comment {i}")))
        .chain(second.iter().map(|b| (items[1].clone(), b.to_string())));
    for (item, body) in bodies {
        let store = app.store.clone();
        writes.spawn(async move {
            store
                .write(write::PostComment {
                    conversation_id,
                    item_id: item.parse().unwrap(),
                    comment_id: Uuid::new_v4(),
                    parent_id: None,
                    participant_id,
                    body,
                    status: CommentStatus::Pending,
                })
                .await
                .expect("seeded")
        });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap();
    }
    let total = SEEDED + second.len();
    let queue = format!("/api/conversations/{slug}/moderation/comments");

    // Every page of 500, both ways: each comment once, in order.
    for (order, rising) in [("oldest", true), ("newest", false)] {
        let mut seen = Vec::new();
        let mut after: Option<i64> = None;
        let mut pages = 0;
        loop {
            let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
            let (status, page) = facilitator
                .get(&format!(
                    "{queue}?status=pending&order={order}&limit=500{cursor}"
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            pages += 1;
            let comments = page["comments"].as_array().unwrap();
            assert!(comments.len() <= 500);
            for c in comments {
                assert_eq!(c["status"], "pending");
                assert_eq!(c["flag_reasons"], json!([]));
                seen.push((
                    c["seq"].as_i64().unwrap(),
                    c["id"].as_str().unwrap().to_string(),
                ));
            }
            match page["next"].as_i64() {
                Some(next) => {
                    assert_eq!(Some(next), seen.last().map(|s| s.0));
                    after = Some(next);
                }
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(seen.len(), total, "{order}: every comment, none lost");
        let ids: HashSet<_> = seen.iter().map(|s| s.1.clone()).collect();
        assert_eq!(ids.len(), total, "{order}: none repeated");
        assert!(
            seen.windows(2).all(|w| (w[0].0 < w[1].0) == rising),
            "{order}: in order"
        );
    }
    // The default page is 100.
    let (_, page) = facilitator.get(&format!("{queue}?status=pending")).await;
    assert_eq!(page["comments"].as_array().unwrap().len(), 100);
    assert!(page["next"].is_i64());

    // Filters: by pledge, by text (any case; `%`, `_` and `\` literal).
    // Sorted: the seeding was concurrent, so its order is the writer's.
    let bodies_of = |page: &serde_json::Value| -> Vec<String> {
        let mut bodies: Vec<String> = page["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap().to_string())
            .collect();
        bodies.sort();
        bodies
    };
    let (_, page) = facilitator
        .get(&format!("{queue}?status=pending&item_id={}", items[1]))
        .await;
    let mut expected = second.to_vec();
    expected.sort();
    assert_eq!(bodies_of(&page), expected);
    assert!(page["next"].is_null());
    for (q, expected) in [
        ("WARD 4%25", vec!["Ward 4% of the time"]),
        ("ward%204", vec!["Ward 4% of the time", "ward 40 is fine"]),
        ("a_b", vec!["a_b marks the spot"]),
        ("k%5Cs", vec!["Back\\slash"]),
        (
            "%20%20seeded%20COMMENT%201049%20",
            vec!["Seeded comment 1049"],
        ),
        ("nowhere", vec![]),
    ] {
        let (status, page) = facilitator.get(&format!("{queue}?q={q}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(bodies_of(&page), expected, "q={q}");
    }
    let (_, page) = facilitator
        .get(&format!(
            "{queue}?status=pending&item_id={}&q=seeded%20comment%2010",
            items[0]
        ))
        .await;
    // "Seeded comment 10", 100 to 109 and 1000 to 1049.
    assert_eq!(page["comments"].as_array().unwrap().len(), 61);
    assert!(page["next"].is_null());

    // Flag reasons: on the entry, the open ones only.
    let alice = app.participant(&slug).await;
    let (visible, _, _) = alice.comment(&slug, &items[1], "Visible and flagged").await;
    let flags = format!("/api/conversations/{slug}/comments/{visible}/flags");
    let flag = |reason: &str| json!({"id": Uuid::new_v4(), "reason": reason});
    let bob = app.participant(&slug).await;
    let carol = app.participant(&slug).await;
    assert_eq!(
        bob.post(&flags, flag("names a colleague")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        carol.post(&flags, flag("rude")).await.0,
        StatusCode::CREATED
    );
    let flagged = |page: &serde_json::Value| {
        page["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == visible.as_str())
            .cloned()
    };
    let (_, page) = facilitator.get(&format!("{queue}?status=flagged")).await;
    let entry = flagged(&page).expect("in the flagged queue");
    assert_eq!(entry["flags"], 2);
    let mut reasons: Vec<String> = serde_json::from_value(entry["flag_reasons"].clone()).unwrap();
    reasons.sort();
    assert_eq!(reasons, ["names a colleague", "rude"]);
    let (_, page) = facilitator
        .get(&format!("{queue}?status=review&q=visible%20and"))
        .await;
    assert_eq!(flagged(&page).expect("in review")["flags"], 2);
    let (status, _) = facilitator
        .post(
            &format!("/api/conversations/{slug}/comments/{visible}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = facilitator.get(&format!("{queue}?q=visible%20and")).await;
    let entry = flagged(&page).unwrap();
    assert_eq!(
        (entry["flags"].clone(), entry["flag_reasons"].clone()),
        (json!(0), json!([]))
    );
    let (_, page) = facilitator
        .get(&format!("{queue}?status=review&q=visible%20and"))
        .await;
    assert!(flagged(&page).is_none(), "approved: out of review");
    let dave = app.participant(&slug).await;
    assert_eq!(
        dave.post(&flags, flag("still names them")).await.0,
        StatusCode::CREATED
    );
    let (_, page) = facilitator.get(&format!("{queue}?status=flagged")).await;
    assert_eq!(
        flagged(&page).unwrap()["flag_reasons"],
        json!(["still names them"])
    );

    // Bad input: 422 naming the field; participants may not read queues.
    for (query, field) in [
        (format!("q={}", "x".repeat(201)), "q"),
        ("q=a%07b".to_string(), "q"),
        ("item_id=not-a-uuid".to_string(), "item_id"),
        ("limit=0".to_string(), "limit"),
        ("limit=501".to_string(), "limit"),
        ("after=-1".to_string(), "after"),
        ("status=sideways".to_string(), "status"),
        ("order=random".to_string(), "order"),
    ] {
        let (status, problem) = facilitator.get(&format!("{queue}?{query}")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (status, _) = facilitator.get(&format!("{queue}?limit=many")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(alice.get(&queue).await.0, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn the_queue_pages_filters_and_shows_flag_reasons_on_sqlite() {
    the_queue_pages_filters_and_shows_flag_reasons(spawn_app().await).await;
}

#[tokio::test]
async fn the_queue_pages_filters_and_shows_flag_reasons_on_postgres() {
    match spawn_app_with(Backend::Postgres, |_| {}).await {
        Some(app) => the_queue_pages_filters_and_shows_flag_reasons(app).await,
        None => eprintln!("skipped: PostgreSQL is not reachable"),
    }
}
