//! The report (issue 8) on a conversation whose figures are known by
//! construction: 17 participants in known groups vote and comment in a
//! known pattern, the deadline is extended half-way, and every figure the
//! report gives is checked against values computed here, independently.
//!
//! Over 600 lines on purpose: the report is checked on conversations with
//! figures known by construction, and each construction is spelled out.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use chorus::domain::{Choice, CommentStatus, Millis, Role};
use chorus::store::write;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_with, Backend, Client, TestApp};

/// Who takes part: organisation type, role, vote on pledge 0, vote on
/// pledge 1 (cast after the extension).
type Person = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);
const PEOPLE: &[Person] = &[
    ("Primary Care", "staff", "strong", Some("strong")),
    ("Primary Care", "staff", "strong", Some("strong")),
    ("Primary Care", "staff", "strong", Some("strong")),
    ("Primary Care", "staff", "strong", Some("wrong")),
    ("Primary Care", "staff", "strong", Some("wrong")),
    ("Local Authority", "staff", "strong", None),
    ("Local Authority", "staff", "strong", None),
    ("Local Authority", "volunteer", "strong", None),
    ("Local Authority", "volunteer", "wrong", None),
    ("VCFSE sector", "volunteer", "wrong", None),
    ("VCFSE sector", "volunteer", "wrong", None),
    ("Hospital trust", "staff", "strong", None),
    ("Hospital trust", "staff", "strong", None),
    ("Hospital trust", "staff", "strong", None),
    ("Hospital trust", "volunteer", "strong", None),
    ("Hospital trust", "volunteer", "wrong", None),
    ("Hospital trust", "volunteer", "wrong", None),
];

/// The 95% Wilson interval, written as the roots of the quadratic
/// (n + z²)p² − (2x + z²)p + x²/n = 0 rather than the centre ± half-width
/// form the report uses.
fn wilson(x: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959_963_984_540_054;
    let a = n + z * z;
    let b = -(2.0 * x + z * z);
    let c = x * x / n;
    let d = (b * b - 4.0 * a * c).sqrt();
    ((-b - d) / (2.0 * a), (-b + d) / (2.0 * a))
}

fn close(a: &Value, b: f64, what: &str) {
    let a = a
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {a}"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} != {b}");
}

/// Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "CSV ends with a line break"
    );
    rows
}

async fn sign_up(app: &TestApp, slug: &str, org: &str, role: &str) -> (Client, String) {
    let client = app.client();
    let (status, body) = client
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({"profile": {"organisation_type": org, "role": role}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "sign up: {body}");
    let id = body["participant"]["id"].as_str().unwrap().to_string();
    (client, id)
}

async fn csv(who: &Client, api: &str, table: &str) -> String {
    let (status, kind, body) = text(who, &format!("{api}/report.csv?table={table}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    body
}

async fn text(client: &Client, path: &str) -> (StatusCode, String, String) {
    let response = client
        .http
        .get(format!("{}{path}", client.base))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

/// Every object key anywhere in a JSON value.
fn keys(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                keys(v, out);
            }
        }
        Value::Array(list) => list.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

const P0_COMMENTS: &[&str] = &[
    "Protected training time would change everything for my team.",
    "We need protected training time written into the rota.",
    "Training budgets are the first thing cut every year.",
];
const P1_COMMENTS: &[&str] = &[
    "Car parking is a nightmare on night shifts.",
    "Free car parking for everyone working nights.",
    "Parking costs eat into a carer's wage.",
];
const HIDDEN: &str = "Dr Smith on ward 4 never lets anyone go to training.";

#[tokio::test]
async fn report_figures_groups_extension_and_exports() {
    report_scenario(spawn_app().await).await;
}

#[tokio::test]
async fn report_figures_on_postgres() {
    if let Some(app) = spawn_app_with(Backend::Postgres, |_| {}).await {
        report_scenario(app).await;
    }
}

async fn report_scenario(app: TestApp) {
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), 3).await;
    let conversation = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap();
    let api = format!("/api/conversations/{slug}");

    // Everyone signs up and votes on pledge 0.
    let mut people = Vec::new();
    for (org, role, p0, _) in PEOPLE {
        let (client, id) = sign_up(&app, &slug, org, role).await;
        let (status, body) = client.vote(&slug, &pledges[0], Some(p0)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        people.push((client, id));
    }
    // Comments on pledge 0 by the first three, a reply, up-votes, a hidden one.
    let mut p0_ids = Vec::new();
    for (n, body) in P0_COMMENTS.iter().enumerate() {
        let (id, status, answer) = people[n].0.comment(&slug, &pledges[0], body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        p0_ids.push(id);
    }
    let (status, answer) = people[5]
        .0
        .post(
            &format!("{api}/items/{}/comments", pledges[0]),
            json!({"id": Uuid::new_v4(), "body": "Agreed, and training should count as work.", "parent_id": p0_ids[0]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Comment 1 gets three up-votes, comment 0 one.
    for (voter, comment) in [(6, 1), (7, 1), (8, 1), (9, 0)] {
        let (status, answer) = people[voter]
            .0
            .put(
                &format!("{api}/comments/{}/vote", p0_ids[comment]),
                json!({"request_id": Uuid::new_v4(), "up": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (hidden_id, status, answer) = people[10].0.comment(&slug, &pledges[0], HIDDEN).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = admin
        .post(
            &format!("{api}/comments/{hidden_id}/moderation"),
            json!({"request_id": Uuid::new_v4(), "action": "hide", "reason": "names a colleague"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // A display screen watched today.
    app.store
        .write(write::RecordDisplayDay {
            conversation_id: conversation.id,
            day: Millis::now().day(),
        })
        .await
        .unwrap();

    // The deadline is extended by a week.
    let new_close = Millis(conversation.closes_at.0 + 7 * 86_400_000);
    let before_extension = Millis::now();
    let (status, answer) = admin
        .patch(&api, json!({"closes_at": new_close.to_rfc3339()}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let after_extension = Millis::now();

    // After the extension: pledge 1 gets votes and comments.
    for (n, (_, _, _, p1)) in PEOPLE.iter().enumerate() {
        if let Some(choice) = p1 {
            let (status, body) = people[n].0.vote(&slug, &pledges[1], Some(choice)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    for (n, body) in P1_COMMENTS.iter().enumerate() {
        let (_, status, answer) = people[11 + n].0.comment(&slug, &pledges[1], body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    // ---- The organisers' report.
    let (status, report) = admin.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["view"], "organisers");
    let totals = &report["totals"];
    assert_eq!(totals["participants"], PEOPLE.len());
    assert_eq!(totals["voters"], PEOPLE.len());
    let p1_votes = PEOPLE.iter().filter(|p| p.3.is_some()).count();
    assert_eq!(totals["votes"], PEOPLE.len() + p1_votes);
    assert_eq!(totals["comments"], P0_COMMENTS.len() + P1_COMMENTS.len());
    assert_eq!(totals["replies"], 1);
    assert_eq!(totals["hidden_comments"], 1);
    assert_eq!(totals["pending_comments"], 0);

    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let item = |id: &str| items.iter().find(|i| i["id"] == id).unwrap();
    for (n, pledge) in pledges.iter().enumerate() {
        let votes: Vec<&str> = PEOPLE
            .iter()
            .filter_map(|p| match n {
                0 => Some(p.2),
                1 => p.3,
                _ => None,
            })
            .collect();
        let strong = votes.iter().filter(|v| **v == "strong").count();
        let wrong = votes.len() - strong;
        let i = item(pledge);
        assert_eq!(i["strong"], strong, "pledge {n} strong");
        assert_eq!(i["wrong"], wrong, "pledge {n} wrong");
        assert_eq!(i["voters"], votes.len(), "pledge {n} voters");
        if votes.is_empty() {
            assert!(i["support"].is_null() && i["interval"].is_null());
            assert!(i["divisiveness"]["split"].is_null());
            continue;
        }
        let (x, total) = (strong as f64, votes.len() as f64);
        close(&i["support"], x / total, "support");
        let (lo, hi) = wilson(x, total);
        close(&i["interval"][0], lo, "interval low");
        close(&i["interval"][1], hi, "interval high");
        close(
            &i["divisiveness"]["split"],
            1.0 - (2.0 * x / total - 1.0).abs(),
            "split",
        );
    }
    // Pledge 0: 12 of 17 strong, 70.6% (46.9% to 86.7% by hand).
    assert_eq!(item(&pledges[0])["strong"], 12);
    let low = item(&pledges[0])["interval"][0].as_f64().unwrap();
    let high = item(&pledges[0])["interval"][1].as_f64().unwrap();
    assert!(
        (0.468..0.470).contains(&low) && (0.866..0.868).contains(&high),
        "{low} {high}"
    );
    let p0 = item(&pledges[0]);
    assert_eq!(p0["comments"], 3);
    assert_eq!(p0["replies"], 1);
    assert_eq!(p0["hidden_comments"], 1);
    assert_eq!(p0["engagement"], 17 + 3 + 1);
    let top: Vec<&str> = p0["top_comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        top,
        [p0_ids[1].as_str(), p0_ids[0].as_str()],
        "most up-voted first"
    );
    assert_eq!(p0["top_comments"][0]["up"], 3);

    // The group gap on pledge 0: staff 10 of 10 strong, volunteers 2 of 7
    // (organisation types differ less: Primary Care 5/5, Hospital trust 4/6).
    let support_of = |pred: &dyn Fn(&Person) -> bool| {
        let g: Vec<_> = PEOPLE.iter().filter(|p| pred(p)).collect();
        g.iter().filter(|p| p.2 == "strong").count() as f64 / g.len() as f64
    };
    let staff = support_of(&|p| p.1 == "staff");
    let volunteer = support_of(&|p| p.1 == "volunteer");
    let gap = &p0["divisiveness"]["group_gap"];
    assert_eq!(gap["question"], "role");
    assert_eq!(gap["highest"], "staff");
    assert_eq!(gap["lowest"], "volunteer");
    close(&gap["gap"], staff - volunteer, "group gap");

    // Rankings: pledge 0 (12/17) above pledge 1 (3/5); pledge 2 has no votes.
    let by_support: Vec<&str> = report["rankings"]["by_support"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(by_support, [pledges[0].as_str(), pledges[1].as_str()]);
    let by_engagement: Vec<&str> = report["rankings"]["by_engagement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(by_engagement[0], pledges[0]);

    // ---- Groups (organisers, live): the group of 4 (Local Authority) and
    // of 2 (VCFSE) are not shown, and there is no "other groups" row: their
    // 6 voters are the tally minus the groups shown, which is enough.
    let groups = report["groups"].as_array().unwrap();
    let org = groups
        .iter()
        .find(|b| b["question"] == "organisation_type")
        .unwrap();
    let names: Vec<&str> = org["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Primary Care", "Hospital trust"]);
    assert_eq!(org["suppressed_groups"], 2);
    let pc = &org["groups"][0];
    assert_eq!(pc["participants"], 5);
    assert_eq!(pc["items"][0]["strong"], 5);
    assert_eq!(pc["items"][0]["wrong"], 0);
    let ht = &org["groups"][1];
    assert_eq!(ht["items"][0]["strong"], 4);
    assert_eq!(ht["items"][0]["wrong"], 2);
    // Pledge 1: only Primary Care's 5 voted; Hospital trust's cell (no
    // voters) is withheld, not shown as zero.
    assert_eq!(pc["items"][1]["voters"], 5);
    assert_eq!(ht["items"][1]["suppressed"], true);
    assert!(ht["items"][1]["voters"].is_null());
    let role = groups.iter().find(|b| b["question"] == "role").unwrap();
    let role_sizes: BTreeMap<&str, i64> = role["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap(),
                g["participants"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        role_sizes,
        BTreeMap::from([("staff", 10), ("volunteer", 7)])
    );
    assert_eq!(report["suppression"]["happened"], true);
    assert_eq!(report["suppression"]["suppressed_groups"], 2);
    assert!(report["suppression"]["note"]
        .as_str()
        .unwrap()
        .contains("at least 5 of its members voted"));
    let whole = report.to_string();
    assert!(
        !whole.contains("Local Authority") && !whole.contains("VCFSE"),
        "small groups are named nowhere"
    );

    // ---- Over time: the extension is marked, before/after split at it.
    let timeline = &report["timeline"];
    assert_eq!(timeline["extensions"].as_array().unwrap().len(), 1);
    let extension = &timeline["extensions"][0];
    assert_eq!(
        Millis::parse_rfc3339(extension["to"].as_str().unwrap()),
        Some(new_close)
    );
    let at = Millis::parse_rfc3339(extension["at"].as_str().unwrap()).unwrap();
    assert!(before_extension <= at && at <= after_extension);
    let today = chorus::report::timeline::date(Millis::now().day());
    let days = timeline["days"].as_array().unwrap();
    let day = days.iter().find(|d| d["date"] == today.as_str()).unwrap();
    assert_eq!(day["extended"], true);
    assert_eq!(day["display"], true);
    let all_days: i64 = days.iter().map(|d| d["votes"].as_i64().unwrap()).sum();
    assert_eq!(all_days as usize, PEOPLE.len() + p1_votes);
    let comparison = &timeline["comparison"];
    assert_eq!(comparison["before"]["signups"], PEOPLE.len());
    assert_eq!(comparison["before"]["votes"], PEOPLE.len());
    assert_eq!(
        comparison["before"]["comments"],
        3 + 1 + 1,
        "organisers count the hidden comment"
    );
    assert_eq!(comparison["after"]["signups"], 0);
    assert_eq!(comparison["after"]["votes"], p1_votes);
    assert_eq!(comparison["after"]["comments"], 3);

    let (status, kind, svg) = text(&admin, &format!("{api}/report/chart.svg")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("image/svg+xml"));
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert_eq!(
        svg.matches("class=\"extension\"").count(),
        3,
        "the extension in each panel"
    );
    assert_eq!(
        svg.matches("class=\"event-day\"").count(),
        3,
        "the event day in each panel"
    );
    assert!(svg.contains("<title id=\"chart-title\">"));

    // ---- Themes: training for pledge 0, parking for pledge 1.
    let themes = report["themes"].as_array().unwrap();
    let t0: Vec<&str> = themes[0]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert!(t0.iter().any(|t| t.contains("training")), "{t0:?}");
    let t1 = &themes[1]["terms"];
    assert_eq!(
        t1[0]["term"], "car parking",
        "a word used mostly in one phrase shows as the phrase: {t1}"
    );
    let parking = t1
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["term"].as_str().unwrap().contains("parking"))
        .unwrap_or_else(|| panic!("{t1}"));
    assert!((2..=3).contains(&parking["examples"].as_array().unwrap().len()));
    assert!(parking["examples"][0]["link"]
        .as_str()
        .unwrap()
        .starts_with(&format!("/c/{slug}?item=")));
    assert!(
        !themes.iter().any(|t| t.to_string().contains("Smith")),
        "hidden comments are not analysed"
    );

    // ---- The public view: no hidden comment, no moderation counts.
    let visitor = app.client();
    let (status, public) = visitor.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["view"], "public");
    assert!(public["totals"].get("hidden_comments").is_none());
    assert!(public["items"][0].get("hidden_comments").is_none());
    assert!(!public.to_string().contains("Smith"));
    assert_eq!(
        public["timeline"]["comparison"]["before"]["comments"],
        3 + 1
    );
    assert_eq!(public["items"][0]["strong"], report["items"][0]["strong"]);
    // While the conversation runs the public sees no group figures (they
    // could be compared over time), nor a "groups differ most".
    assert_eq!(public["groups"], json!([]));
    assert_eq!(public["suppression"]["withheld_until_close"], true);
    assert!(public["items"][0]["divisiveness"]["group_gap"].is_null());

    // ---- Exports: exact rows and columns, nothing identifying.
    let participant_ids: Vec<&str> = people.iter().map(|(_, id)| id.as_str()).collect();
    let forbidden = |text: &str, what: &str| {
        for id in &participant_ids {
            assert!(!text.contains(id), "{what} holds a participant id");
        }
        for word in [
            "participant_id",
            "session",
            "email",
            "ip_address",
            "organisation_type\":",
            "Local Authority",
            "VCFSE",
        ] {
            assert!(!text.contains(word), "{what} holds {word:?}");
        }
    };
    let items_csv = csv(&admin, &api, "items").await;
    forbidden(&items_csv, "items.csv");
    let rows = parse_csv(&items_csv);
    assert_eq!(rows[0], chorus::report::export::ITEM_COLUMNS);
    assert_eq!(rows.len(), 1 + 3);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    assert_eq!(rows[1][0], pledges[0]);
    assert_eq!(rows[1][4..7], ["12", "5", "17"]);
    let (lo, hi) = wilson(12.0, 17.0);
    assert_eq!(rows[1][8], format!("{lo:.4}"));
    assert_eq!(rows[1][9], format!("{hi:.4}"));

    let comments_csv = csv(&admin, &api, "comments").await;
    forbidden(&comments_csv, "comments.csv");
    let rows = parse_csv(&comments_csv);
    assert_eq!(rows[0], chorus::report::export::COMMENT_COLUMNS);
    assert_eq!(rows.len(), 1 + 3 + 1 + 1 + 3);
    let hidden_row = rows.iter().find(|r| r[0] == hidden_id).unwrap();
    assert_eq!(hidden_row[5], "hidden");
    assert_eq!(
        hidden_row[8], "",
        "a hidden comment's text is never exported"
    );
    assert!(!comments_csv.contains("Smith"));
    let public_rows = parse_csv(&csv(&visitor, &api, "comments").await);
    assert_eq!(public_rows.len(), 1 + 3 + 1 + 3);
    assert!(public_rows.iter().skip(1).all(|r| r[5] == "visible"));

    let groups_csv = csv(&admin, &api, "groups").await;
    forbidden(&groups_csv, "groups.csv");
    let rows = parse_csv(&groups_csv);
    assert_eq!(rows[0], chorus::report::export::GROUP_COLUMNS);
    // (2 organisation rows + 2 role rows) x 3 pledges.
    assert_eq!(rows.len(), 1 + 4 * 3);
    let withheld = rows
        .iter()
        .find(|r| r[1] == "Hospital trust" && r[3] == pledges[1])
        .unwrap();
    assert_eq!(withheld[5..11], ["", "", "", "", "", ""], "withheld: empty");
    let pc_row = rows
        .iter()
        .find(|r| r[1] == "Primary Care" && r[3] == pledges[0])
        .unwrap();
    assert_eq!(pc_row[2..3], ["5"]);
    assert_eq!(pc_row[5..8], ["5", "0", "5"]);

    let (status, body) = admin.get(&format!("{api}/report.csv?table=people")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, _, export) = text(&admin, &format!("{api}/export.json")).await;
    assert_eq!(status, StatusCode::OK);
    forbidden(&export, "export.json");
    let export: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(export["format"], "chorus-report/1");
    assert_eq!(export["comments"].as_array().unwrap().len(), 3 + 1 + 1 + 3);
    let mut found = HashSet::new();
    keys(&export, &mut found);
    for key in [
        "participant_id",
        "author",
        "session",
        "email",
        "ip",
        "profile",
        "access_code",
        "word_list",
        "reason",
        "hidden_reason",
        "flags",
    ] {
        assert!(!found.contains(key), "export.json has a {key:?} field");
    }

    // ---- Who sees what: results hidden until closing when not visible.
    let (status, _) = admin.patch(&api, json!({"results_visible": false})).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "report",
        "report.csv?table=items",
        "export.json",
        "report/chart.svg",
    ] {
        let (status, body) = visitor.get(&format!("{api}/{path}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        let (status, _) = people[0].0.get(&format!("{api}/{path}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} for a participant");
        let (status, _) = admin.get(&format!("{api}/{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path} for staff");
    }
    let (status, _) = admin.patch(&api, json!({"closes_at": "now"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, closed) = visitor.get(&format!("{api}/report")).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["conversation"]["is_final"], true);
    // Closed: the public sees the same protected breakdowns as organisers.
    assert_eq!(closed["suppression"]["withheld_until_close"], false);
    assert_eq!(closed["groups"], report["groups"]);
    let (status, _) = visitor.get("/api/conversations/no-such-talk/report").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// The groups of exactly 4 and 5 voters on their own: 4 is withheld, 5
/// shown, unless showing it would leave fewer than 5 voters unaccounted.
#[tokio::test]
async fn a_group_of_four_is_suppressed_and_a_group_of_five_is_not() {
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), 1).await;
    // Primary Care 5, Local Authority 4, Hospital trust 6: the 4 is withheld
    // and so is the next smallest (the 5), since the tally minus the rest
    // would give the 4 away. Add a Children's trust of 1: 4 + 1 left out
    // are enough on their own.
    let layout = [
        ("Primary Care", 5),
        ("Local Authority", 4),
        ("Hospital trust", 6),
        ("Children's trust", 1),
    ];
    for (org, n) in layout {
        for _ in 0..n {
            let (client, _) = sign_up(&app, &slug, org, "staff").await;
            client.vote(&slug, &pledges[0], Some("strong")).await;
        }
    }
    let (_, report) = admin
        .get(&format!("/api/conversations/{slug}/report"))
        .await;
    let org = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["question"] == "organisation_type")
        .unwrap()
        .clone();
    let names: Vec<&str> = org["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Primary Care", "Hospital trust"]);
    assert_eq!(org["suppressed_groups"], 2);

    // Without the group of one, the 4 alone must take the 5 with it.
    let (slug, pledges) = app.conversation(&admin, json!({}), 1).await;
    for (org, n) in &layout[..3] {
        for _ in 0..*n {
            let (client, _) = sign_up(&app, &slug, org, "staff").await;
            client.vote(&slug, &pledges[0], Some("wrong")).await;
        }
    }
    let (_, report) = admin
        .get(&format!("/api/conversations/{slug}/report"))
        .await;
    let org = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["question"] == "organisation_type")
        .unwrap()
        .clone();
    let names: Vec<&str> = org["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Hospital trust"], "otherwise 4 = tally − 5 − 6");
    assert_eq!(org["suppressed_groups"], 2);
    let whole = report.to_string();
    assert!(!whole.contains("Local Authority") && !whole.contains("Primary Care"));
    app.stop().await;
}

/// Seeds 5,000 participants, 100,000 votes and 10,000 comments through
/// the store and times the report. Run with:
/// `cargo test --release --test api report::bench -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_report_for_a_large_conversation() {
    use chorus::report::{build, Options, View};
    const PARTICIPANTS: usize = 5_000;
    const PLEDGES: usize = 20;
    const VOTES_EACH: usize = 20;
    const COMMENTS: usize = 10_000;
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let (slug, pledges) = app.conversation(&admin, json!({}), PLEDGES).await;
    let conversation = app
        .store
        .conversation_by_slug(&slug)
        .await
        .unwrap()
        .unwrap();
    let pledges: Vec<Uuid> = pledges.iter().map(|p| p.parse().unwrap()).collect();
    let orgs = [
        "Local Authority",
        "Primary Care",
        "VCFSE sector",
        "Hospital trust",
        "Children's trust",
        "Other",
    ];
    let words = [
        "training",
        "parking",
        "rota",
        "wellbeing",
        "career",
        "pay",
        "canteen",
        "flexible",
        "manager",
        "team",
        "shift",
        "childcare",
    ];
    let started = Instant::now();
    let store = app.store.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..100 {
        let store = store.clone();
        let pledges = pledges.clone();
        let conversation_id = conversation.id;
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for n in (chunk..PARTICIPANTS).step_by(100) {
                let mut profile = BTreeMap::new();
                if n % 10 != 0 {
                    profile.insert(
                        "organisation_type".to_string(),
                        orgs[n % orgs.len()].to_string(),
                    );
                    profile.insert(
                        "role".to_string(),
                        if n % 3 == 0 { "volunteer" } else { "staff" }.to_string(),
                    );
                }
                let written = store
                    .write(write::SignUp {
                        conversation_id,
                        profile,
                    })
                    .await
                    .unwrap();
                let participant = written.answer.participant;
                for v in 0..VOTES_EACH {
                    let item = pledges[(n + v) % PLEDGES];
                    let choice = if (n * 7 + v * 3) % 5 < 3 {
                        Choice::Strong
                    } else {
                        Choice::Wrong
                    };
                    store
                        .write(write::CastVote {
                            conversation_id,
                            item_id: item,
                            participant_id: participant.id,
                            request_id: Uuid::new_v4(),
                            choice: Some(choice),
                        })
                        .await
                        .unwrap();
                }
                for c in 0..(COMMENTS / PARTICIPANTS) {
                    let item = pledges[(n + c) % PLEDGES];
                    let body = format!(
                        "More {} and better {} please, comment {n}-{c}",
                        words[(n + c) % words.len()],
                        words[(n * 3 + c) % words.len()]
                    );
                    store
                        .write(write::PostComment {
                            conversation_id,
                            item_id: item,
                            comment_id: Uuid::new_v4(),
                            parent_id: None,
                            participant_id: participant.id,
                            body,
                            status: CommentStatus::Visible,
                        })
                        .await
                        .unwrap();
                }
                ids.push(participant.id);
            }
            ids
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());

    let mut timings = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let data = app.store.report_data(conversation.id).await.unwrap();
        let read = t.elapsed();
        let report = build(
            &data,
            &Options {
                view: View::Organisers,
                min_group_size: 5,
                min_votes: 4,
                opinion: true,
                now: Millis::now(),
            },
        );
        let built = t.elapsed();
        let csv =
            chorus::report::export::csv(&data, &report, chorus::report::export::Table::Comments);
        assert_eq!(report.totals.votes as usize, PARTICIPANTS * VOTES_EACH);
        assert_eq!(report.totals.comments as usize, COMMENTS);
        eprintln!(
            "read {:.0} ms, build {:.0} ms, comments csv {} KB",
            read.as_secs_f64() * 1e3,
            (built - read).as_secs_f64() * 1e3,
            csv.len() / 1024
        );
        let t = Instant::now();
        let (status, body) = admin
            .get(&format!("/api/conversations/{slug}/report"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let http = t.elapsed();
        assert_eq!(body["totals"]["participants"], PARTICIPANTS);
        let t = Instant::now();
        let (status, _) = admin
            .get(&format!("/api/conversations/{slug}/report/chart.svg"))
            .await;
        assert_eq!(status, StatusCode::OK);
        eprintln!(
            "GET report {:.0} ms, chart {:.0} ms",
            http.as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3
        );
        timings.push(http);
    }
    let best = timings.iter().min().unwrap();
    eprintln!("REPORT 5000 participants / 100000 votes / 10000 comments: GET /report best of 3 = {:.0} ms", best.as_secs_f64() * 1e3);
    assert!(best.as_secs_f64() < 2.0);
    app.stop().await;
}
