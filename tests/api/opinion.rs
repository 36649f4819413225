//! Opinion groups, common ground, divisive items and bridging comments
//! (issue 14), through the API as a reader sees them: planted camps must
//! be found, random votes must come out as "no clear groups", the live
//! desk view is recomputed only when votes changed, and nothing names a
//! participant. On SQLite and PostgreSQL.

use std::time::Duration;

use std::collections::HashMap;

use chorus::analysis::{self, synthetic::adjusted_rand_index};
use chorus::domain::Role;
use chorus::report::opinion;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app_with, Backend, Client, TestApp};

const PLEDGES: usize = 8;
const PER_CAMP: usize = 15;

/// Each camp's vote on pledges 1..=7 (pledge 0: everyone strong, the
/// planted common ground). Pledge 7 splits camp A from B and C with no
/// noise: the planted divisive item.
const CAMPS: [[bool; 7]; 3] = [
    [true, true, true, false, false, true, true],
    [false, false, true, true, true, false, false],
    [true, false, false, false, true, true, false],
];

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.report.opinion_refresh_secs = std::num::NonZeroU64::new(1).unwrap();
    })
    .await
}

#[tokio::test]
async fn planted_camps_are_found_on_sqlite() {
    planted_camps(app(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test]
async fn planted_camps_are_found_on_postgres() {
    if let Some(app) = app(Backend::Postgres).await {
        planted_camps(app).await;
    }
}

#[tokio::test]
async fn random_votes_are_no_clear_groups_on_sqlite() {
    random_votes(app(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test]
async fn random_votes_are_no_clear_groups_on_postgres() {
    if let Some(app) = app(Backend::Postgres).await {
        random_votes(app).await;
    }
}

async fn vote(client: &Client, slug: &str, item: &str, strong: bool) {
    let choice = if strong { "strong" } else { "wrong" };
    let (status, body) = client.vote(slug, item, Some(choice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn up_vote(client: &Client, slug: &str, comment: &str) {
    let (status, body) = client
        .put(
            &format!("/api/conversations/{slug}/comments/{comment}/vote"),
            json!({"request_id": uuid::Uuid::new_v4(), "up": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn close(admin: &Client, slug: &str) {
    let (status, body) = admin
        .patch(
            &format!("/api/conversations/{slug}"),
            json!({"closes_at": "now"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "close: {body}");
}

async fn planted_camps(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let facilitator = app.staff(Role::Facilitator).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), PLEDGES).await;
    let api = format!("/api/conversations/{slug}");

    let mut camps: Vec<Vec<Client>> = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut camp_of: HashMap<Uuid, usize> = HashMap::new();
    for n in 0..PER_CAMP {
        for (camp, pattern) in CAMPS.iter().enumerate() {
            let client = app.client();
            let (status, body) = client.post(&format!("{api}/participants"), json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let id = body["participant"]["id"].as_str().unwrap().parse().unwrap();
            camp_of.insert(id, camp);
            vote(&client, &slug, &pledges[0], true).await;
            for (j, strong) in pattern.iter().enumerate() {
                // About one vote in seven goes against the camp, except on
                // the divisive pledge 7.
                let noisy = j < 6 && (n * 3 + j + camp) % 7 == 0;
                vote(&client, &slug, &pledges[j + 1], *strong != noisy).await;
            }
            camps[camp].push(client);
        }
    }

    // On pledge 0, one comment up-voted by three people in every camp
    // (it bridges) and one up-voted by nine people of camp B only.
    let (bridge, status, body) = camps[0][0]
        .comment(&slug, &pledges[0], "Everyone deserves a proper break.")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (partisan, status, body) = camps[0][0]
        .comment(&slug, &pledges[0], "Only the night shift matters.")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for camp in &camps {
        for client in &camp[1..4] {
            up_vote(client, &slug, &bridge).await;
        }
    }
    for client in &camps[1][1..10] {
        up_vote(client, &slug, &partisan).await;
    }

    // While the conversation runs, the public results carry no opinion
    // groups (live figures compared over time give people away) ...
    let anonymous = app.client();
    let (status, public) = anonymous.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["opinion"], Value::Null, "{}", public["opinion"]);
    let (status, _) = anonymous.get(&format!("{api}/report/opinion.svg")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // ... and the organisers' report does.
    let (status, report) = admin.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let opinion = &report["opinion"];
    assert_eq!(opinion["clear"], true, "{opinion}");
    assert_eq!(opinion["placed"], 3 * PER_CAMP, "{opinion}");
    let mut sizes: Vec<u64> = opinion["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["size"].as_u64().unwrap())
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec![PER_CAMP as u64; 3], "{opinion}");
    assert_eq!(
        opinion["points"].as_array().unwrap().len(),
        3 * PER_CAMP,
        "one dot per placed participant"
    );
    assert_eq!(
        opinion["common_ground"][0]["item_id"], pledges[0],
        "the planted consensus: {opinion}"
    );
    assert_eq!(
        opinion["divisive"][0]["item_id"], pledges[7],
        "the planted division: {opinion}"
    );
    // The comment every camp agreed with is pledge 0's bridging comment.
    let item0 = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == pledges[0].as_str())
        .unwrap();
    assert_eq!(item0["bridging_comments"][0]["id"], bridge, "{item0}");
    assert!(
        item0["bridging_comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != partisan.as_str()),
        "one camp's favourite does not bridge: {item0}"
    );

    // Nothing in the report or the map names a participant.
    let conversation = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap();
    let data = app.store.report_data(conversation.id).await.unwrap();
    // The groups found are the planted camps: what the report computed,
    // with each person's group, which no answer carries (the store read is
    // the report's own).
    let (_, membership) =
        analysis::analyse_with_membership(&opinion::ballots(&data), &opinion::settings(5, 4));
    let (found, planted): (Vec<usize>, Vec<usize>) = membership
        .iter()
        .filter_map(|(id, group)| group.map(|g| (g, camp_of[id])))
        .unzip();
    assert_eq!(found.len(), 3 * PER_CAMP, "everyone is in a shown group");
    let ari = adjusted_rand_index(&found, &planted);
    assert!(ari >= 0.9, "adjusted Rand index {ari}");
    let (_, map) = admin.get(&format!("{api}/report/opinion.svg")).await;
    let map = map.as_str().expect("an SVG").to_string();
    assert!(map.starts_with("<svg"), "{map}");
    assert_eq!(map.matches("<circle").count(), 3 * PER_CAMP + 3);
    let text = report.to_string();
    for p in &data.participants {
        let id = p.id.to_string();
        assert!(!text.contains(&id) && !map.contains(&id), "{id} leaked");
    }

    // Participants may read pledge 0's comments "agreed across groups".
    let reader = &camps[2][14];
    let (status, page) = reader
        .get(&format!(
            "{api}/items/{}/comments?sort=across_groups",
            pledges[0]
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["comments"][0]["id"], bridge, "{page}");
    assert_eq!(page["comments"][1]["id"], partisan, "{page}");
    let (status, page) = reader
        .get(&format!(
            "{api}/items/{}/comments?sort=across_groups&limit=1",
            pledges[0]
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["next"], 1, "{page}");
    let (status, problem) = reader
        .get(&format!("{api}/items/{}/comments?sort=loudest", pledges[0]))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem.to_string().contains("sort"), "{problem}");

    // The desk's live view: facilitators only.
    let (status, _) = reader.get(&format!("{api}/opinion")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = anonymous.get(&format!("{api}/opinion")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, live) = facilitator.get(&format!("{api}/opinion")).await;
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(live["placed"], 3 * PER_CAMP);
    let (status, svg) = facilitator.get(&format!("{api}/opinion.svg")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(svg.as_str().unwrap().contains("<circle"));

    // A newcomer votes: the live view is kept until the refresh interval
    // (1 s here) has passed, then recomputed because votes changed.
    let newcomer = app.participant(&slug).await;
    for (j, strong) in CAMPS[1].iter().enumerate() {
        vote(&newcomer, &slug, &pledges[j + 1], *strong).await;
    }
    let (_, live) = facilitator.get(&format!("{api}/opinion")).await;
    assert_eq!(live["placed"], 3 * PER_CAMP, "kept within the interval");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (_, live) = facilitator.get(&format!("{api}/opinion")).await;
    assert_eq!(live["placed"], 3 * PER_CAMP + 1, "recomputed: {live}");

    // Once closed, everyone may read the final analysis.
    close(&admin, &slug).await;
    let (status, public) = anonymous.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["opinion"]["clear"], true, "{}", public["opinion"]);
    assert_eq!(public["opinion"]["placed"], 3 * PER_CAMP + 1);
    let (status, _) = anonymous.get(&format!("{api}/report/opinion.svg")).await;
    assert_eq!(status, StatusCode::OK);

    app.stop().await;
}

async fn random_votes(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), PLEDGES).await;
    // A fixed linear congruential sequence: random-looking, the same every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut coin = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) & 1 == 1
    };
    for _ in 0..3 * PER_CAMP {
        let client = app.participant(&slug).await;
        for pledge in &pledges {
            vote(&client, &slug, pledge, coin()).await;
        }
    }
    close(&admin, &slug).await;
    let (status, report) = app
        .client()
        .get(&format!("/api/conversations/{slug}/report"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let opinion: &Value = &report["opinion"];
    assert_eq!(opinion["clear"], false, "{opinion}");
    assert_eq!(opinion["groups"], json!([]));
    assert_eq!(opinion["points"], json!([]));
    let (_, map) = app
        .client()
        .get(&format!("/api/conversations/{slug}/report/opinion.svg"))
        .await;
    assert!(map.as_str().unwrap().contains("No clear groups"), "{map}");
    app.stop().await;
}
