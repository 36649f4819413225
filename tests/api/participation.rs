//! The REST API end to end: what participants, facilitators and admins do,
//! with role checks, idempotent retries and rate limits.
//!
//! Over 600 lines on purpose: one test per thing a participant or
//! organiser does through the API, read top to bottom as the contract.

use chorus::domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::num::NonZero;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_participant_signs_up_votes_changes_and_withdraws() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 2).await;
    let alice = app.client();

    let (status, body) = alice
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let handle = body["participant"]["handle"].as_str().unwrap().to_string();
    assert!(!handle.is_empty());
    // Signing up again with the same session is the same participant.
    let (status, again) = alice
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["participant"]["handle"], handle.as_str());

    let (status, vote) = alice.vote(&slug, &items[0], Some("strong")).await;
    assert_eq!(status, StatusCode::OK, "{vote}");
    assert_eq!(
        vote["tally"],
        json!({"strong": 1, "wrong": 0, "version": 1})
    );
    assert_eq!(vote["choice"], "strong");

    let (_, vote) = alice.vote(&slug, &items[0], Some("wrong")).await;
    assert_eq!(
        vote["tally"],
        json!({"strong": 0, "wrong": 1, "version": 2})
    );

    // The same choice again changes nothing, not even the version.
    let (_, vote) = alice.vote(&slug, &items[0], Some("wrong")).await;
    assert_eq!(
        vote["tally"],
        json!({"strong": 0, "wrong": 1, "version": 2})
    );

    let (_, vote) = alice.vote(&slug, &items[0], None).await;
    assert_eq!(
        vote["tally"],
        json!({"strong": 0, "wrong": 0, "version": 3})
    );
    assert_eq!(vote["choice"], serde_json::Value::Null);

    alice.vote(&slug, &items[1], Some("strong")).await;
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["me"]["participant"]["handle"], handle.as_str());
    assert_eq!(snapshot["me"]["votes"][&items[1]], "strong");
    assert!(snapshot["me"]["votes"].get(&items[0]).is_none());
    let item = snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == items[1].as_str())
        .unwrap();
    assert_eq!(item["strong"], 1);
    app.stop().await;
}

#[tokio::test]
async fn comments_replies_upvotes_flags_and_ideas() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let bob = app.participant(&slug).await;

    let (comment_id, status, body) = alice
        .comment(&slug, &items[0], "Protected time would change everything.")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["comment"]["status"], "visible");
    assert_eq!(body["comment"]["parent_id"], serde_json::Value::Null);

    let reply_id = Uuid::new_v4().to_string();
    let (status, reply) = bob
        .post(
            &format!("/api/conversations/{slug}/items/{}/comments", items[0]),
            json!({"id": reply_id, "body": "Agreed, if rotas allow it.", "parent_id": comment_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["comment"]["parent_id"], comment_id.as_str());

    // One level of replies: a reply to a reply is refused, naming the field.
    let (status, problem) = alice
        .post(
            &format!("/api/conversations/{slug}/items/{}/comments", items[0]),
            json!({"id": Uuid::new_v4(), "body": "Nested", "parent_id": reply_id}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "parent_id");

    // Nobody agrees with themselves: their voice would count twice.
    let (status, problem) = alice
        .put(
            &format!("/api/conversations/{slug}/comments/{comment_id}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "up");

    let (status, up) = bob
        .put(
            &format!("/api/conversations/{slug}/comments/{comment_id}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(
        up["tally"],
        json!({"up": 1, "version": 1}),
        "the refused up-vote counted nothing"
    );
    let (_, up) = bob
        .put(
            &format!("/api/conversations/{slug}/comments/{comment_id}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": false}),
        )
        .await;
    assert_eq!(up["tally"], json!({"up": 0, "version": 2}));

    let (status, flagged) = bob
        .post(
            &format!("/api/conversations/{slug}/comments/{comment_id}/flags"),
            json!({"id": Uuid::new_v4(), "reason": "names a colleague"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(flagged["flags"], 1);
    // Flagging again (a new id) does not count twice.
    let (_, flagged) = bob
        .post(
            &format!("/api/conversations/{slug}/comments/{comment_id}/flags"),
            json!({"id": Uuid::new_v4(), "reason": "again"}),
        )
        .await;
    assert_eq!(flagged["flags"], 1);

    let (status, idea) = alice
        .post(&format!("/api/conversations/{slug}/ideas"), json!({"id": Uuid::new_v4(), "title": "Quiet rooms on every ward", "body": "Somewhere to decompress."}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{idea}");
    assert_eq!(idea["item"]["kind"], "idea");
    assert_eq!(idea["item"]["status"], "visible");

    let (_, page) = bob
        .get(&format!(
            "/api/conversations/{slug}/items/{}/comments",
            items[0]
        ))
        .await;
    let comments = page["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["id"], comment_id.as_str());
    assert_eq!(comments[1]["id"], reply_id.as_str());
    assert_eq!(
        comments[0]["flags"], 0,
        "participants do not see flag counts"
    );

    let (_, staff_view) = admin
        .get(&format!(
            "/api/conversations/{slug}/moderation/comments?status=flagged"
        ))
        .await;
    assert_eq!(staff_view["comments"][0]["flags"], 1);
    app.stop().await;
}

#[tokio::test]
async fn retries_with_the_same_uuid_change_nothing() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;

    let id = Uuid::new_v4();
    let path = format!("/api/conversations/{slug}/items/{}/comments", items[0]);
    let (first, a) = alice
        .post(&path, json!({"id": id, "body": "Once only"}))
        .await;
    let (second, b) = alice
        .post(&path, json!({"id": id, "body": "Once only"}))
        .await;
    assert_eq!(first, StatusCode::CREATED);
    assert_eq!(second, StatusCode::CREATED, "a retry gets the first answer");
    assert_eq!(a, b);
    let (_, page) = alice.get(&path).await;
    assert_eq!(page["comments"].as_array().unwrap().len(), 1);

    // Someone else cannot reuse that id.
    let bob = app.participant(&slug).await;
    let (status, _) = bob.post(&path, json!({"id": id, "body": "Hijack"})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A vote retried after the participant changed it is not applied
    // again: it gets its first answer back.
    let vote_path = format!("/api/conversations/{slug}/items/{}/vote", items[0]);
    let request = Uuid::new_v4();
    alice
        .put(
            &vote_path,
            json!({"request_id": request, "choice": "strong"}),
        )
        .await;
    alice
        .put(
            &vote_path,
            json!({"request_id": Uuid::new_v4(), "choice": "wrong"}),
        )
        .await;
    let (status, replay) = alice
        .put(
            &vote_path,
            json!({"request_id": request, "choice": "strong"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        replay["tally"],
        json!({"strong": 1, "wrong": 0, "version": 1})
    );

    let idea_id = Uuid::new_v4();
    let ideas = format!("/api/conversations/{slug}/ideas");
    let (_, first) = alice
        .post(&ideas, json!({"id": idea_id, "title": "One idea"}))
        .await;
    let (status, again) = alice
        .post(&ideas, json!({"id": idea_id, "title": "One idea"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "a retry gets the first answer");
    assert_eq!(again, first);
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(
        snapshot["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "idea")
            .count(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn extending_the_deadline_and_closing() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;

    let (status, body) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conversation"]["closes_at"], "2099-01-01T00:00:00Z");
    assert_eq!(body["conversation"]["state"], "open");

    let (status, body) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": "now"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["conversation"]["state"], "closed");

    let (status, problem) = alice.vote(&slug, &items[0], Some("strong")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/conversation-closed");
    let (_, status, problem) = alice.comment(&slug, &items[0], "Too late?").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/conversation-closed");
    let (status, _) = app
        .client()
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Still readable.
    let (status, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snapshot["conversation"]["state"], "closed");

    // The audit trail holds both changes, in order.
    let (_, events) = admin
        .get(&format!("/api/conversations/{slug}/events"))
        .await;
    let actions: Vec<_> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["kind"] == "conversation")
        .map(|e| e["data"]["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["extend", "close"]);
    app.stop().await;
}

#[tokio::test]
async fn roles_are_checked_on_every_privileged_endpoint() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let anonymous = app.client();
    let (comment_id, _, _) = alice.comment(&slug, &items[0], "Hello").await;

    let moderate = format!("/api/conversations/{slug}/comments/{comment_id}/moderation");
    let hide = json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "test"});
    assert_eq!(
        alice.post(&moderate, hide.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anonymous.post(&moderate, hide.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        alice
            .get(&format!("/api/conversations/{slug}/events"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice
            .get(&format!("/api/conversations/{slug}/moderation/comments"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice
            .post(
                &format!("/api/conversations/{slug}/display-tokens"),
                json!({})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let extend = json!({"closes_at": "2099-01-01T00:00:00Z"});
    assert_eq!(
        alice
            .patch(&format!("/api/conversations/{slug}"), extend.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Facilitators moderate but do not run conversations.
    assert_eq!(
        facilitator
            .patch(&format!("/api/conversations/{slug}"), extend.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let pledge = json!({"id": Uuid::new_v4(), "title": "Sneaky pledge"});
    assert_eq!(
        facilitator
            .post(&format!("/api/conversations/{slug}/items"), pledge.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice
            .post(&format!("/api/conversations/{slug}/items"), pledge)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let new = json!({"slug": "other-talk", "title": "x", "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2099-01-01T00:00:00Z"});
    assert_eq!(
        alice.post("/api/conversations", new.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anonymous.post("/api/conversations", new).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Logged-out callers cannot write.
    assert_eq!(
        anonymous.vote(&slug, &items[0], Some("strong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anonymous.comment(&slug, &items[0], "hi").await.1,
        StatusCode::UNAUTHORIZED
    );
    // A participant of another conversation is not a participant here.
    let (other, other_items) = app.conversation(&admin, json!({}), 1).await;
    assert_eq!(
        alice.vote(&other, &other_items[0], Some("strong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The facilitator can.
    let (status, hidden) = facilitator.post(&moderate, hide).await;
    assert_eq!(status, StatusCode::OK, "{hidden}");
    assert_eq!(hidden["comment"]["status"], "hidden");
    // Logout ends the staff session on the server (issue 12): the browser
    // has no session left, so it is asked to log in.
    assert_eq!(
        facilitator.post("/api/logout", json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    let restore = json!({"request_id": Uuid::new_v4(), "action": "restore"});
    assert_eq!(
        facilitator.post(&moderate, restore).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A wrong password and an unknown name get the same answer.
    let (s1, p1) = anonymous
        .post(
            "/api/login",
            json!({"name": "nobody", "password": "whatever1"}),
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(p1["detail"], "wrong name or password");
    app.stop().await;
}

#[tokio::test]
async fn access_codes_and_profile_answers_are_checked() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app
        .conversation(
            &admin,
            json!({"signup_mode": "code", "access_code": "NHS-2026"}),
            1,
        )
        .await;
    let path = format!("/api/conversations/{slug}/participants");
    let (status, problem) = app.client().post(&path, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "access_code");
    let (status, _) = app
        .client()
        .post(&path, json!({"access_code": "wrong"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, problem) = app
        .client()
        .post(
            &path,
            json!({"access_code": "nhs-2026", "profile": {"role": "astronaut"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "profile.role");
    let (status, _) = app
        .client()
        .post(&path, json!({"access_code": "nhs-2026", "profile": {"role": "volunteer", "organisation_type": "Primary Care"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn pre_moderation_and_idea_approval() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(
            &admin,
            json!({"moderation": "pre", "ideas_need_approval": true}),
            1,
        )
        .await;
    let alice = app.participant(&slug).await;
    let (comment_id, status, body) = alice.comment(&slug, &items[0], "Waiting for review").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["comment"]["status"], "pending");
    let list = format!("/api/conversations/{slug}/items/{}/comments", items[0]);
    assert_eq!(
        alice.get(&list).await.1["comments"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        admin.get(&list).await.1["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, _) = admin
        .post(
            &format!("/api/conversations/{slug}/comments/{comment_id}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        alice.get(&list).await.1["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let idea_id = Uuid::new_v4();
    let (_, idea) = alice
        .post(
            &format!("/api/conversations/{slug}/ideas"),
            json!({"id": idea_id, "title": "Needs approval"}),
        )
        .await;
    assert_eq!(idea["item"]["status"], "pending");
    // Others do not see it until it is approved; its author does, as pending.
    let (_, snapshot) = app
        .client()
        .get(&format!("/api/conversations/{slug}"))
        .await;
    assert!(snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["id"] != idea_id.to_string().as_str()));
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert!(snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == idea_id.to_string().as_str() && i["status"] == "pending"));
    admin
        .post(
            &format!("/api/conversations/{slug}/items/{idea_id}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "approve"}),
        )
        .await;
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert!(snapshot["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == idea_id.to_string().as_str()));
    app.stop().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate.vote_per_s = 1.0;
        s.rate.vote_burst = NonZero::new(3).unwrap();
        s.rate.comment_per_s = 0.1;
        s.rate.comment_burst = NonZero::new(2).unwrap();
        s.rate.signup_per_ip_per_s = 0.1;
        s.rate.signup_per_ip_burst = NonZero::new(4).unwrap();
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let alice = app.participant(&slug).await;
    let mut statuses = Vec::new();
    for choice in ["strong", "wrong", "strong", "wrong", "strong"] {
        statuses.push(alice.vote(&slug, &items[0], Some(choice)).await.0);
    }
    assert_eq!(&statuses[..3], &[StatusCode::OK; 3]);
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);

    let response = alice
        .http
        .put(format!(
            "{}/api/conversations/{slug}/items/{}/vote",
            app.base, items[0]
        ))
        .json(&json!({"request_id": Uuid::new_v4(), "choice": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "retry-after {retry_after}");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/rate-limited");

    for _ in 0..2 {
        assert_eq!(
            alice.comment(&slug, &items[0], "spam?").await.1,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        alice.comment(&slug, &items[0], "spam!").await.1,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The refused vote and comment were not stored.
    let (_, page) = alice
        .get(&format!(
            "/api/conversations/{slug}/items/{}/comments",
            items[0]
        ))
        .await;
    assert_eq!(page["comments"].as_array().unwrap().len(), 2);
    let (_, snapshot) = alice.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["items"][0]["version"], 3);

    // Sign-ups per IP: one already made above; three more pass, then 429.
    let mut signups = Vec::new();
    for _ in 0..4 {
        signups.push(
            app.client()
                .post(
                    &format!("/api/conversations/{slug}/participants"),
                    json!({}),
                )
                .await
                .0,
        );
    }
    assert_eq!(&signups[..3], &[StatusCode::CREATED; 3]);
    assert_eq!(signups[3], StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let client = app.client();
    assert_eq!(client.get("/healthz").await.0, StatusCode::OK);
    let (status, ready) = client.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ready["store"], "ok");
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    app.participant(&slug)
        .await
        .vote(&slug, &items[0], Some("strong"))
        .await;
    let (status, metrics) = client.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("chorus_store_batch_size"),
        "{metrics}"
    );
    app.stop().await;
}

/// The session cookie's attributes, and that the server finds it among
/// other cookies and ignores one that is not a session token.
#[tokio::test]
async fn the_session_cookie_has_its_attributes_and_is_found_among_others() {
    for secure in [false, true] {
        let app = spawn_app_with(Backend::Sqlite, |s| s.secure_cookies = secure)
            .await
            .unwrap();
        let admin = app.staff(Role::Admin).await;
        let (slug, _) = app.conversation(&admin, json!({}), 1).await;
        let response = reqwest::Client::new()
            .post(format!(
                "{}/api/conversations/{slug}/participants",
                app.base
            ))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let set = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        let mut parts: Vec<&str> = set.split(';').map(str::trim).collect();
        let pair = parts.remove(0);
        let (name, token) = pair.split_once('=').unwrap();
        // One cookie per conversation: chorus_p_ and the id as 32 hex.
        let id = name.strip_prefix("chorus_p_").unwrap_or_default();
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{set}"
        );
        assert!(
            token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()),
            "{set}"
        );
        parts.sort_unstable();
        let mut expected = vec!["HttpOnly", "Max-Age=31536000", "Path=/", "SameSite=Lax"];
        if secure {
            expected.push("Secure");
        }
        expected.sort_unstable();
        assert_eq!(parts, expected, "{set}");

        // Found among other cookies, in any order.
        let snapshot = format!("/api/conversations/{slug}");
        for cookies in [
            format!("theme=dark; {name}={token}; lang=en"),
            format!("{name}={token};theme=dark"),
            format!("a=1; b=\"quoted\"; {name}={token}"),
        ] {
            let (_, body) = client_with_cookie(&app, &cookies).get(&snapshot).await;
            assert!(
                body["me"]["participant"].is_object(),
                "{cookies}: {}",
                body["me"]
            );
        }
        // A value that is not a token is no session (and no error).
        for cookies in [
            format!("{name}=abc"),
            format!("{name}={}", "g".repeat(64)),
            format!("{name}="),
        ] {
            let (status, body) = client_with_cookie(&app, &cookies).get(&snapshot).await;
            assert_eq!(status, StatusCode::OK, "{cookies}: {body}");
            assert!(
                body["me"]["participant"].is_null(),
                "{cookies}: {}",
                body["me"]
            );
        }
        app.stop().await;
    }
}
