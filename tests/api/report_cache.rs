//! The kept report (src/http/api/report_cache.rs): once writes settle it
//! equals a report built afresh from the store; twenty readers arriving at
//! once cause one build; and keeping it never widens what a caller sees.

use std::time::{Duration, Instant};

use chorus::domain::{Millis, Role};
use chorus::report::{build, Options, View};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app_with, Backend, Client, TestApp};

/// `n` participants who each vote on every pledge and comment on the first.
async fn take_part(app: &TestApp, slug: &str, pledges: &[String], n: usize) -> Vec<String> {
    let mut comments = Vec::new();
    for p in 0..n {
        let client = app.participant(slug).await;
        for (i, pledge) in pledges.iter().enumerate() {
            let choice = if (p + i) % 3 == 0 { "wrong" } else { "strong" };
            let (status, body) = client.vote(slug, pledge, Some(choice)).await;
            assert_eq!(status, StatusCode::OK, "vote: {body}");
        }
        let (id, status, body) = client
            .comment(
                slug,
                &pledges[0],
                &format!("Comment number {p} about rotas"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "comment: {body}");
        comments.push(id);
    }
    comments
}

/// What `/metrics` says about report builds for this conversation.
async fn computations(client: &Client, slug: &str) -> u64 {
    let (status, text) = client.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("metrics are text").to_string();
    let prefix = format!("chorus_report_computations_total{{conversation=\"{slug}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// The report as the server sent it: its JSON text, and parsed.
async fn report_text(client: &Client, path: &str) -> (String, Value) {
    let response = client
        .http
        .get(format!("{}{path}", client.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

/// The organisers' report built here, from the store, as of `at`, as the
/// server would send it (text, so that numbers compare exactly).
async fn built_afresh(app: &TestApp, slug: &str, at: Millis) -> String {
    let conversation = app.store.conversation_by_slug(slug).await.unwrap().unwrap();
    let data = app.store.report_data(conversation.id).await.unwrap();
    let settings = crate::helpers::test_settings();
    let report = build(
        &data,
        &Options {
            view: View::Organisers,
            min_group_size: settings.report.min_group_size.get() as usize,
            min_votes: settings.report.min_votes_to_place.get() as usize,
            opinion: true,
            now: at,
        },
    );
    serde_json::to_string(&report).unwrap()
}

fn generated_at(report: &Value) -> Millis {
    Millis::parse_rfc3339(report["generated_at"].as_str().expect("generated_at"))
        .expect("an RFC 3339 time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_report_equals_a_fresh_one_once_writes_settle() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.report.refresh_secs = 2)
        .await
        .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), 2).await;
    take_part(&app, &slug, &pledges, 6).await;
    let path = format!("/api/conversations/{slug}/report");
    let (first_text, first) = report_text(&admin, &path).await;
    let first_read = Instant::now();
    assert_eq!(first["totals"]["participants"], 6);
    assert_eq!(
        first_text,
        built_afresh(&app, &slug, generated_at(&first)).await
    );

    // More writes, then a read between N and 2N seconds after the build:
    // the kept report comes back at once and a refresh starts behind it.
    take_part(&app, &slug, &pledges, 4).await;
    tokio::time::sleep_until((first_read + Duration::from_millis(2_300)).into()).await;
    let (status, kept) = admin.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        kept["generated_at"], first["generated_at"],
        "between N and 2N seconds the kept report is served while it refreshes"
    );

    // The refresh lands without anyone waiting for it, and equals a report
    // built afresh from the store at the same moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (settled_text, settled) = loop {
        let (text, report) = report_text(&admin, &path).await;
        if report["generated_at"] != first["generated_at"] {
            break (text, report);
        }
        assert!(Instant::now() < deadline, "the report never refreshed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(settled["totals"]["participants"], 10);
    assert_eq!(settled["totals"]["votes"], 20);
    assert_eq!(
        settled_text,
        built_afresh(&app, &slug, generated_at(&settled)).await
    );
    // Two builds in all: the data changed once.
    assert_eq!(computations(&admin, &slug).await, 2);

    // Past 2N seconds with nothing written, the data is confirmed unchanged
    // and the same report comes back, without a build.
    tokio::time::sleep(Duration::from_millis(4_200)).await;
    let (again, _) = report_text(&admin, &path).await;
    assert_eq!(again, settled_text);
    assert_eq!(computations(&admin, &slug).await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_first_readers_cause_one_build() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.report.refresh_secs = 600)
        .await
        .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), 3).await;
    take_part(&app, &slug, &pledges, 8).await;
    assert_eq!(computations(&admin, &slug).await, 0);

    let path = format!("/api/conversations/{slug}/report");
    let readers: Vec<_> = (0..20)
        .map(|_| {
            let client = Client {
                http: admin.http.clone(),
                base: admin.base.clone(),
            };
            let path = path.clone();
            tokio::spawn(async move { client.get(&path).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for reader in readers {
        let (status, body) = reader.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        bodies.push(body);
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "one report for all");
    assert_eq!(bodies[0]["totals"]["participants"], 8);
    assert_eq!(computations(&admin, &slug).await, 1);

    // Every other form of the report comes from the same build.
    let api = format!("/api/conversations/{slug}");
    for form in [
        "report.csv?table=items",
        "report.csv?table=comments",
        "export.json",
        "report/chart.svg",
        "report/opinion.svg",
    ] {
        let response = admin
            .http
            .get(format!("{}{api}/{form}", admin.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{form}");
    }
    assert_eq!(computations(&admin, &slug).await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeping_the_report_never_widens_who_sees_it() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.report.refresh_secs = 600)
        .await
        .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app
        .conversation(&admin, json!({"results_while_open": false}), 1)
        .await;
    let comments = take_part(&app, &slug, &pledges, 6).await;
    let (status, body) = admin
        .post(
            &format!(
                "/api/conversations/{slug}/comments/{}/moderation",
                comments[0]
            ),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "test"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "hide: {body}");
    let api = format!("/api/conversations/{slug}");
    let visitor = app.client();

    // Staff read (and so keep) the organisers' report while it runs; the
    // public still may not see any of it.
    let (status, organisers) = admin.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(organisers["view"], "organisers");
    assert_eq!(organisers["totals"]["hidden_comments"], 1);
    for form in ["report", "export.json", "report.csv?table=comments"] {
        let (status, _) = visitor.get(&format!("{api}/{form}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form} before the close");
    }

    // Closed: the public get the public view, never the organisers' one.
    let (status, body) = admin.patch(&api, json!({"closes_at": "now"})).await;
    assert_eq!(status, StatusCode::OK, "close: {body}");
    let (status, public) = visitor.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["view"], "public");
    assert!(
        public["totals"].get("hidden_comments").is_none(),
        "{public}"
    );
    let (status, export) = visitor.get(&format!("{api}/export.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !export.to_string().contains("Comment number 0 about"),
        "a hidden comment's text is never public"
    );
    let (status, still) = admin.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still["view"], "organisers");

    // Reopened: the kept public report is no longer anyone's to see, at
    // once, though it is kept for ten minutes.
    let closes = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let (status, body) = admin
        .patch(
            &api,
            json!({"closes_at": closes.format(&time::format_description::well_known::Rfc3339).unwrap()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "reopen: {body}");
    for form in ["report", "export.json", "report.csv?table=items"] {
        let (status, _) = visitor.get(&format!("{api}/{form}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form} after reopening");
    }
    app.stop().await;
}

/// A report kept while the conversation was open is never served once it
/// has closed (found by the browser test of public opinion groups): the
/// public's live results become the final ones at once, not after
/// `report.refresh_secs`.
#[tokio::test]
async fn closing_is_seen_at_once_despite_the_kept_report() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.report.refresh_secs = 600)
        .await
        .unwrap();
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app
        .conversation(&admin, json!({"results_while_open": true}), 2)
        .await;
    take_part(&app, &slug, &pledges, 6).await;
    let api = format!("/api/conversations/{slug}");
    let visitor = app.client();
    for reader in [&visitor, &admin] {
        let (status, live) = reader.get(&format!("{api}/report")).await;
        assert_eq!(status, StatusCode::OK, "{live}");
        assert_eq!(live["conversation"]["state"], "open", "{live}");
    }

    let (status, body) = admin.patch(&api, json!({"closes_at": "now"})).await;
    assert_eq!(status, StatusCode::OK, "close: {body}");
    for reader in [&visitor, &admin] {
        let (status, last) = reader.get(&format!("{api}/report")).await;
        assert_eq!(status, StatusCode::OK, "{last}");
        assert_eq!(last["conversation"]["state"], "closed", "{last}");
    }
    app.stop().await;
}
