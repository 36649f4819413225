//! docs/api.md is the contract outside clients are written from. Each
//! response type that the document shows as literal JSON is serialised
//! here and compared with it, shape for shape: the same keys at every
//! level and the same kinds of value. A field added to a type and not to
//! the document (or the other way round) fails this test.

use chorus::domain::ConversationState;
use chorus::domain::{Choice, Comment, CommentStatus, CommentTally, Millis, Participant, Tally};
use chorus::http::api::comment_pages::CommentsPage;
use chorus::http::api::conversations::{ConversationList, ConversationSummary, EarlierReport};
use chorus::http::api::email_sign_in::CodeSent;
use chorus::http::api::invites::InvitesIssued;
use chorus::http::api::moderation::QueueBody;
use chorus::http::api::organising::DeletedBody;
use chorus::http::api::participation::{ParticipantBody, SignedUpBody};
use chorus::http::api::return_phrase::PhraseBody;
use chorus::http::api::self_service::{LeftBody, LeftCounts};
use chorus::store::write::InviteCounts;
use chorus::store::write::{Flagged, UpVoted, Voted};
use chorus::store::QueueEntry;
use serde_json::Value;
use uuid::Uuid;

/// Every JSON object the document shows, in code blocks or inline code.
fn documented() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .expect("docs/api.md");
    let mut found = Vec::new();
    let mut block = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            if in_block {
                found.extend(serde_json::from_str::<Value>(&block));
                block.clear();
            }
            in_block = !in_block;
            continue;
        }
        if in_block {
            block.push_str(line);
            block.push('\n');
        } else {
            for (k, piece) in line.split('`').enumerate() {
                if k % 2 == 1 && piece.starts_with('{') {
                    found.extend(serde_json::from_str::<Value>(piece));
                }
            }
        }
    }
    found
}

/// Whether two values have the same shape: object keys, recursively, and
/// the same kind of scalar (a documented `null` stands for an optional).
fn same_shape(doc: &Value, ours: &Value) -> Result<(), String> {
    match (doc, ours) {
        (Value::Object(d), Value::Object(o)) => {
            let dk: Vec<_> = d.keys().collect();
            let ok: Vec<_> = o.keys().collect();
            if dk != ok {
                return Err(format!("keys {dk:?} documented, {ok:?} served"));
            }
            d.iter()
                .try_for_each(|(k, v)| same_shape(v, &o[k]).map_err(|e| format!("{k}: {e}")))
        }
        (Value::Null, _) | (_, Value::Null) => Ok(()),
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Array(_), Value::Array(_)) => Ok(()),
        (d, o) => Err(format!("documented {d}, served {o}")),
    }
}

fn check(name: &str, ours: impl serde::Serialize) {
    let ours = serde_json::to_value(ours).unwrap();
    let docs = documented();
    let candidates: Vec<&Value> = docs
        .iter()
        .filter(|d| {
            d.as_object().map(|o| o.keys().collect::<Vec<_>>())
                == ours.as_object().map(|o| o.keys().collect::<Vec<_>>())
        })
        .collect();
    assert!(
        !candidates.is_empty(),
        "{name}: docs/api.md shows no answer with the keys of {ours}"
    );
    let errors: Vec<String> = candidates
        .iter()
        .filter_map(|d| same_shape(d, &ours).err())
        .collect();
    assert!(errors.len() < candidates.len(), "{name}: {errors:?}");
}

#[test]
fn documented_answers_match_the_response_types() {
    let tally = Tally {
        strong: 121,
        wrong: 14,
        version: 135,
    };
    check(
        "vote",
        Voted {
            item_id: Uuid::new_v4(),
            choice: Some(Choice::Strong),
            tally,
        },
    );
    check(
        "comment vote",
        UpVoted {
            comment_id: Uuid::new_v4(),
            up: true,
            tally: CommentTally { up: 8, version: 10 },
        },
    );
    check("flag", Flagged { flags: 2 });
    check(
        "moderation queue",
        QueueBody {
            comments: vec![QueueEntry {
                comment: Comment {
                    id: Uuid::new_v4(),
                    item_id: Uuid::new_v4(),
                    parent_id: None,
                    handle: "Amber Heron".into(),
                    body: "Sister Jones on ward 4 shouted at me.".into(),
                    status: CommentStatus::Visible,
                    pinned: false,
                    hidden_reason: None,
                    up: 3,
                    up_version: 4,
                    flags: 1,
                    seq: 812,
                    created_at: Millis(0),
                    edited: false,
                    deleted: false,
                },
                flag_reasons: vec!["names a colleague".into()],
            }],
            next: Some(812),
        },
    );
    // The documented example's id, since `replies` is keyed by comment id.
    let top = Uuid::parse_str("6f1c6f0e-2f1e-4a4b-9d8a-1b2c3d4e5f60").unwrap();
    check(
        "comments page, a top-level order",
        CommentsPage {
            comments: vec![Comment {
                id: top,
                item_id: Uuid::new_v4(),
                parent_id: None,
                handle: "Amber Heron".into(),
                body: "Protected time would change everything.".into(),
                status: CommentStatus::Visible,
                pinned: false,
                hidden_reason: None,
                up: 8,
                up_version: 10,
                flags: 0,
                seq: 812,
                created_at: Millis(0),
                edited: false,
                deleted: false,
            }],
            next: None,
            replies: Some([(top, 3)].into_iter().collect()),
        },
    );
    check(
        "sign-up",
        ParticipantBody {
            participant: Participant {
                id: Uuid::new_v4(),
                conversation_id: Uuid::new_v4(),
                handle: "Amber Heron".into(),
                suspended: false,
            },
        },
    );
    check(
        "conversation list",
        ConversationList {
            conversations: vec![ConversationSummary {
                slug: "best-place-to-work-2".into(),
                title: "What next".into(),
                state: ConversationState::Open,
                opens_at: Millis(0),
                closes_at: Millis(1),
                archived: false,
                series: vec!["best-place-to-work".into()],
                earlier_reports: vec![EarlierReport {
                    slug: "best-place-to-work".into(),
                    title: "Making this the best place to work".into(),
                }],
            }],
        },
    );
    check(
        "deletion",
        DeletedBody {
            deleted: "best-place-to-work".into(),
            rows: [
                ("comments".to_string(), 212),
                ("conversations".to_string(), 1),
                ("items".to_string(), 9),
            ]
            .into_iter()
            .collect(),
        },
    );
    let participant = Participant {
        id: Uuid::new_v4(),
        conversation_id: Uuid::new_v4(),
        handle: "Amber Heron".into(),
        suspended: false,
    };
    check(
        "sign-up with its return phrase",
        SignedUpBody {
            participant,
            return_phrase: Some("orbit velvet canal mango frost".into()),
        },
    );
    check(
        "email code sent",
        CodeSent {
            attempt: Uuid::new_v4(),
            expires_at: Millis(0),
            detail: "If this address can take part, we have sent a code to it.".into(),
        },
    );
    check(
        "new return phrase",
        PhraseBody {
            return_phrase: "glide oyster thumb ladder spice".into(),
        },
    );
    check(
        "invites made",
        InvitesIssued {
            codes: vec!["7KQ2M-XR4TB".into()],
            issued: 40,
            used: 12,
        },
    );
    check(
        "invite counts",
        InviteCounts {
            issued: 40,
            used: 12,
        },
    );
    check(
        "leave",
        LeftBody {
            left: LeftCounts {
                votes_withdrawn: 12,
                comment_votes_withdrawn: 3,
                comments_deleted: 4,
                comments_kept: 0,
                ideas_deleted: 1,
                ideas_kept: 0,
            },
        },
    );
}

/// The self-service answers built from real data, compared with api.md.
#[tokio::test]
async fn documented_self_service_answers_match() {
    use crate::helpers::*;
    use chorus::domain::Role;
    use serde_json::json;
    let app = spawn_app().await;
    let admin = app.staff(Role::Admin).await;
    let questions = json!([{"key": "role", "label": "Role?", "choices": ["staff", "volunteer"]}]);
    let (slug, items) = app
        .conversation(&admin, json!({"profile_questions": questions}), 1)
        .await;
    let alice = app.client();
    alice
        .post(
            &format!("/api/conversations/{slug}/participants"),
            json!({"profile": {"role": "staff"}}),
        )
        .await;
    let bob = app.participant(&slug).await;
    alice.vote(&slug, &items[0], Some("strong")).await;
    alice.comment(&slug, &items[0], "mine").await;
    let (theirs, _, _) = bob.comment(&slug, &items[0], "theirs").await;
    alice
        .put(
            &format!("/api/conversations/{slug}/comments/{theirs}/vote"),
            json!({"request_id": Uuid::new_v4(), "up": true}),
        )
        .await;
    alice
        .post(
            &format!("/api/conversations/{slug}/comments/{theirs}/flags"),
            json!({"id": Uuid::new_v4(), "reason": "names a colleague"}),
        )
        .await;
    alice
        .post(
            &format!("/api/conversations/{slug}/ideas"),
            json!({"id": Uuid::new_v4(), "title": "Quiet rooms"}),
        )
        .await;
    let docs = documented();
    for path in ["me/contributions", "me/export"] {
        let (_, mut ours) = alice
            .get(&format!("/api/conversations/{slug}/{path}"))
            .await;
        // The example shows an idea in the contributions, none in the export.
        if path == "me/export" {
            ours["ideas"] = json!([]);
        }
        let shaped: Vec<_> = docs
            .iter()
            .filter(|d| same_shape(d, &ours).is_ok())
            .collect();
        assert!(
            !shaped.is_empty(),
            "{path}: no example in docs/api.md has the shape of {ours}"
        );
    }
    app.stop().await;
}
