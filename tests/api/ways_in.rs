//! Ways in (issue 12): a work email with a code from a real SMTP server,
//! single-use invites, return phrases, and the refusals of each, on
//! SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend, Client, TestApp};
use crate::smtp::{code_in, link_in, SmtpSink};
use chorus::domain::Role;

/// A server that sends mail to `sink`.
async fn mail_app(backend: Backend, sink: &SmtpSink) -> Option<TestApp> {
    let url = sink.url();
    spawn_app_with(backend, |s| s.mail.smtp_url = url).await
}

/// An open conversation taking work email from nhs.net and *.nhs.uk.
async fn email_conversation(app: &TestApp, admin: &Client) -> (String, Vec<String>) {
    app.conversation(
        admin,
        json!({"ways_in": ["email", "invite"], "email_domains": ["nhs.net", "*.nhs.uk"]}),
        2,
    )
    .await
}

async fn ask_code(client: &Client, slug: &str, address: &str) -> (StatusCode, Value) {
    client
        .post(
            &format!("/api/conversations/{slug}/email-codes"),
            json!({"address": address}),
        )
        .await
}

async fn verify(client: &Client, slug: &str, body: Value) -> (StatusCode, Value) {
    client
        .post(
            &format!("/api/conversations/{slug}/email-codes/verify"),
            body,
        )
        .await
}

/// Runs the SQL on the test's database directly.
async fn sql(app: &TestApp, statement: &str) {
    use sqlx::Connection;
    if app.database_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
}

async fn same_person_on_two_devices(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = mail_app(backend, &sink).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = email_conversation(&app, &admin).await;

    // Device A: ask, read the code out of the message, sign up, take part.
    let a = app.client();
    let (status, sent) = ask_code(&a, &slug, "sam.jones@uhb.nhs.uk").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert!(sent["detail"]
        .as_str()
        .unwrap()
        .starts_with("If this address can take part"));
    let message = sink.nth_to("sam.jones@uhb.nhs.uk", 1).await;
    let (status, signed) = verify(
        &a,
        &slug,
        json!({"address": "sam.jones@uhb.nhs.uk", "code": code_in(&message)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{signed}");
    let handle = signed["participant"]["handle"]
        .as_str()
        .unwrap()
        .to_string();
    let phrase = signed["return_phrase"].as_str().unwrap();
    assert_eq!(phrase.split(' ').count(), 5, "{phrase}");
    assert_eq!(
        a.vote(&slug, &items[0], Some("strong")).await.0,
        StatusCode::OK
    );
    let (_, status, _) = a
        .comment(&slug, &items[1], "Rotas a month ahead, please.")
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Device B: the same address, typed differently; this time by the link.
    let b = app.client();
    let (status, again) = ask_code(&b, &slug, "  Sam.Jones@UHB.nhs.uk ").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["detail"], sent["detail"], "the answer never tells");
    let message = sink.nth_to("sam.jones@uhb.nhs.uk", 2).await;
    let (page, attempt, code) = link_in(&message);
    assert_eq!(page, format!("{}/c/{slug}", app.base));
    assert_eq!(
        attempt.replace('-', ""),
        again["attempt"].as_str().unwrap().replace('-', "")
    );
    let (status, back) = verify(
        &b,
        &slug,
        json!({"attempt": again["attempt"], "code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["participant"]["handle"], handle.as_str());
    assert!(
        back.get("return_phrase").is_none(),
        "shown once, at sign-up"
    );
    let (_, snapshot) = b.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["me"]["participant"]["handle"], handle.as_str());
    assert_eq!(snapshot["me"]["votes"][&items[0]], "strong");
    let (_, comments) = b
        .get(&format!(
            "/api/conversations/{slug}/items/{}/comments",
            items[1]
        ))
        .await;
    assert_eq!(comments["comments"][0]["handle"], handle.as_str());
    // B goes on as the same participant: changing the vote changes A's vote.
    let (status, voted) = b.vote(&slug, &items[0], Some("wrong")).await;
    assert_eq!(status, StatusCode::OK, "{voted}");
    assert_eq!(voted["tally"]["strong"], 0);
    assert_eq!(voted["tally"]["wrong"], 1);
    // A used code is gone.
    let (status, reused) = verify(
        &b,
        &slug,
        json!({"attempt": again["attempt"], "code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reused}");

    // The report counts one verified participant, by email.
    let (_, report) = admin
        .get(&format!("/api/conversations/{slug}/report"))
        .await;
    assert_eq!(report["ways_in"]["allowed"], json!(["email", "invite"]));
    assert_eq!(report["ways_in"]["used"], json!({"email": 1}));
    assert_eq!(report["ways_in"]["verified"], 1);
    assert_eq!(report["ways_in"]["unverified"], 0);
    assert_eq!(report["ways_in"]["one_person_one_voice"], true);
}

#[tokio::test]
async fn email_finds_the_same_participant_on_another_device_sqlite() {
    same_person_on_two_devices(Backend::Sqlite).await;
}

#[tokio::test]
async fn email_finds_the_same_participant_on_another_device_postgres() {
    same_person_on_two_devices(Backend::Postgres).await;
}

async fn refusals(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = mail_app(backend, &sink).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = email_conversation(&app, &admin).await;
    let client = app.client();

    // A domain outside the list: refused, naming the domain typed and no address.
    let (status, refused) = ask_code(&client, &slug, "kim@gmail.com").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "address");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("addresses at gmail.com cannot take part"),
        "{message}"
    );
    assert!(!message.contains("kim"), "{message}");
    let (status, _) = ask_code(&client, &slug, "not an address").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sink.messages().is_empty(), "nothing was sent");

    // Five wrong codes use up the tries; the sixth try is locked, even right.
    let (status, _) = ask_code(&client, &slug, "lee@nhs.net").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let right = code_in(&sink.nth_to("lee@nhs.net", 1).await);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for left in (0..5).rev() {
        let (status, answer) = verify(
            &client,
            &slug,
            json!({"address": "lee@nhs.net", "code": wrong}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["errors"][0]["field"], "code");
        let text = answer["errors"][0]["message"].as_str().unwrap();
        if left == 0 {
            assert!(text.contains("that was the last try"), "{text}");
        } else {
            assert!(text.contains(&format!("{left} tr")), "{left}: {text}");
        }
    }
    for code in [wrong, right.as_str()] {
        let (status, locked) = verify(
            &client,
            &slug,
            json!({"address": "lee@nhs.net", "code": code}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{locked}");
        let text = locked["errors"][0]["message"].as_str().unwrap();
        assert!(text.starts_with("too many wrong codes"), "{text}");
    }
    // A new code starts a new attempt.
    ask_code(&client, &slug, "lee@nhs.net").await;
    let fresh = code_in(&sink.nth_to("lee@nhs.net", 2).await);
    let (status, signed) = verify(
        &client,
        &slug,
        json!({"address": "lee@nhs.net", "code": fresh}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{signed}");

    // An expired code is refused.
    let other = app.client();
    ask_code(&other, &slug, "max@nhs.net").await;
    let code = code_in(&sink.nth_to("max@nhs.net", 1).await);
    sql(&app, "UPDATE email_codes SET expires_at = 0").await;
    let (status, expired) = verify(
        &other,
        &slug,
        json!({"address": "max@nhs.net", "code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{expired}");
    assert!(expired["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Email sign-in where the conversation does not take it.
    let (open_slug, _) = app.conversation(&admin, json!({}), 0).await;
    let (status, answer) = ask_code(&client, &open_slug, "lee@nhs.net").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // And the open way where the conversation does not take it.
    let (status, answer) = app
        .client()
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "address");
}

#[tokio::test]
async fn email_refusals_sqlite() {
    refusals(Backend::Sqlite).await;
}

#[tokio::test]
async fn email_refusals_postgres() {
    refusals(Backend::Postgres).await;
}

async fn invites(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app
        .conversation(&admin, json!({"ways_in": ["invite"]}), 1)
        .await;
    let path = format!("/api/conversations/{slug}/invites");
    let (status, issued) = admin.post(&path, json!({"count": 3})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let codes: Vec<String> = serde_json::from_value(issued["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 3);
    assert_eq!(
        (issued["issued"].clone(), issued["used"].clone()),
        (json!(3), json!(0))
    );
    let (status, _) = admin.post(&path, json!({"count": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let facilitator = app.staff(Role::Facilitator).await;
    assert_eq!(facilitator.get(&path).await.0, StatusCode::FORBIDDEN);

    let sign_up = |body: Value| {
        let client = app.client();
        let slug = slug.clone();
        async move {
            let (status, answer) = client
                .post(&format!("/api/conversations/{slug}/participants"), body)
                .await;
            (client, status, answer)
        }
    };
    // No code: refused, naming the invite code.
    let (_, status, answer) = sign_up(json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "invite_code");
    // A code, typed in lower case: one participant, with a return phrase.
    let (client, status, answer) = sign_up(json!({"invite_code": codes[0].to_lowercase()})).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert!(answer["return_phrase"].is_string());
    assert_eq!(
        client.vote(&slug, &items[0], Some("strong")).await.0,
        StatusCode::OK
    );
    // The same code again: refused.
    let (_, status, again) = sign_up(json!({"invite_code": codes[0]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");
    assert_eq!(again["errors"][0]["field"], "invite_code");
    assert!(again["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("already been used"));
    let (_, status, wrong) = sign_up(json!({"invite_code": "ZZZZZ-ZZZZZ"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not right"));
    let (_, counts) = admin.get(&path).await;
    assert_eq!(counts, json!({"issued": 3, "used": 1}));

    // The CSV and the printable sheet of the codes just made.
    let response = admin
        .http
        .post(format!("{}{path}/csv", app.base))
        .json(&json!({"codes": codes}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("code,link\n"), "{csv}");
    assert!(
        csv.contains(&format!(
            "{},{}/c/{slug}#invite={}",
            codes[1], app.base, codes[1]
        )),
        "{csv}"
    );
    let response = admin
        .http
        .post(format!("{}{path}/sheet", app.base))
        .json(&json!({"codes": codes}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "one QR code per card");
    assert_eq!(html.matches("class=\"card\"").count(), 3);
    assert!(codes.iter().all(|c| html.contains(c.as_str())));
    assert!(html.contains("size:A4"));
    let (status, _) = admin
        .post(&format!("{path}/csv"), json!({"codes": ["nope"]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, report) = admin
        .get(&format!("/api/conversations/{slug}/report"))
        .await;
    assert_eq!(report["ways_in"]["used"], json!({"invite": 1}));
    assert_eq!(report["ways_in"]["verified"], 1);
}

#[tokio::test]
async fn invites_work_once_sqlite() {
    invites(Backend::Sqlite).await;
}

#[tokio::test]
async fn invites_work_once_postgres() {
    invites(Backend::Postgres).await;
}

async fn return_phrases(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let admin = app.staff(Role::Admin).await;
    let (slug, items) = app.conversation(&admin, json!({}), 1).await;
    let a = app.client();
    let (status, signed) = a
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let phrase = signed["return_phrase"].as_str().unwrap().to_string();
    let handle = signed["participant"]["handle"].clone();
    a.vote(&slug, &items[0], Some("strong")).await;

    // Device C: the phrase, in capitals with hyphens, brings the same participant.
    let c = app.client();
    let typed = phrase.to_uppercase().replace(' ', "-");
    let (status, back) = c
        .post(
            &format!("/api/conversations/{slug}/return"),
            json!({"phrase": typed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["participant"]["handle"], handle);
    let (_, snapshot) = c.get(&format!("/api/conversations/{slug}")).await;
    assert_eq!(snapshot["me"]["votes"][&items[0]], "strong");

    // A new phrase makes the old one useless.
    let (status, reissued) = c
        .post(
            &format!("/api/conversations/{slug}/me/return-phrase"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reissued}");
    let new_phrase = reissued["return_phrase"].as_str().unwrap();
    assert_ne!(new_phrase, phrase);
    let d = app.client();
    let (status, old) = d
        .post(
            &format!("/api/conversations/{slug}/return"),
            json!({"phrase": phrase}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{old}");
    assert_eq!(old["errors"][0]["field"], "phrase");
    let (status, back) = d
        .post(
            &format!("/api/conversations/{slug}/return"),
            json!({"phrase": new_phrase}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["participant"]["handle"], handle);
    // Not words of the list: the same clear error.
    let (status, bad) = d
        .post(
            &format!("/api/conversations/{slug}/return"),
            json!({"phrase": "one two three"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "phrase");
    // Re-issuing needs a participant.
    let (status, _) = app
        .client()
        .post(
            &format!("/api/conversations/{slug}/me/return-phrase"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn return_phrases_restore_sqlite() {
    return_phrases(Backend::Sqlite).await;
}

#[tokio::test]
async fn return_phrases_restore_postgres() {
    return_phrases(Backend::Postgres).await;
}

#[tokio::test]
async fn return_phrases_are_rate_limited_per_ip() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate.sign_in_per_ip_per_s = 0.01;
        s.rate.sign_in_per_ip_burst = std::num::NonZero::new(3).unwrap();
    })
    .await
    .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, _) = app.conversation(&admin, json!({}), 0).await;
    let guesser = app.client();
    let path = format!("/api/conversations/{slug}/return");
    let guess = json!({"phrase": "abandon ability able about above"});
    for _ in 0..3 {
        assert_eq!(
            guesser.post(&path, guess.clone()).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let (status, _) = guesser.post(&path, guess).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn email_needs_mail_settings() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let admin = app.staff(Role::Admin).await;
    let (status, me) = admin.get("/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email_sign_in"]["available"], false);
    assert!(me["email_sign_in"]["reason"]
        .as_str()
        .unwrap()
        .contains("mail.smtp_url"));
    let (status, refused) = admin
        .post(
            "/api/conversations",
            json!({"slug": "no-mail", "title": "No mail", "opens_at": "2026-01-01T00:00:00Z",
                   "closes_at": "2036-01-01T00:00:00Z", "ways_in": ["email"], "email_domains": ["nhs.net"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "ways_in");
    let (slug, _) = app.conversation(&admin, json!({}), 0).await;
    let (status, refused) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"ways_in": ["open", "email"], "email_domains": ["nhs.net"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "ways_in");
    // Other ways in, and their own rules, are fine without mail.
    let (status, changed) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"ways_in": ["code", "invite"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{changed}");
    assert_eq!(changed["errors"][0]["field"], "access_code");
    let (status, changed) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"ways_in": ["code", "invite"], "access_code": "WARD-42"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["conversation"]["ways_in"],
        json!(["code", "invite"])
    );
    // A participant's /api/me says nothing about mail.
    let (_, me) = app.client().get("/api/me").await;
    assert!(me.get("email_sign_in").is_none(), "{me}");
}
