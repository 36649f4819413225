//! The store test suite, run against SQLite and PostgreSQL alike, straight
//! on the `Store` trait: sequence numbers, tally versions, idempotency,
//! group commit under concurrency, snapshots and replay.

use std::collections::BTreeMap;
use std::sync::Arc;

use chorus::config::Settings;
use chorus::domain::{
    Choice, CommentStatus, ItemStatus, Millis, ModerationAction, NewConversation,
};
use chorus::store::{self, write, Store, StoreError, TallyChange};
use uuid::Uuid;

use crate::helpers::*;

async fn open(backend: Backend) -> Option<(Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let (url, dir) = fresh_database(backend).await?;
    let store = store::connect(&url, &Settings::defaults().store)
        .await
        .expect("store opens");
    Some((store, dir))
}

async fn conversation(store: &dyn Store) -> Uuid {
    let conversation = NewConversation {
        slug: format!("s-{}", &Uuid::new_v4().simple().to_string()[..10]),
        title: "Suite".into(),
        introduction: String::new(),
        opens_at: Millis(0),
        closes_at: Millis(i64::MAX / 2),
        ways_in: None,
        signup_mode: None,
        email_domains: Vec::new(),
        access_code: None,
        moderation: chorus::domain::Moderation::Post,
        ideas_need_approval: false,
        profile_questions: None,
        results_visibility: Default::default(),
        results_while_open: true,
        tallies_visible: Default::default(),
        series: Vec::new(),
        support_contact: None,
        word_list: Vec::new(),
    }
    .into_conversation()
    .unwrap();
    let id = conversation.id;
    store
        .write(write::CreateConversation { conversation })
        .await
        .unwrap();
    id
}

async fn pledge(store: &dyn Store, conversation_id: Uuid) -> Uuid {
    let item_id = Uuid::new_v4();
    store
        .write(write::UpsertPledge {
            conversation_id,
            item_id,
            kind: chorus::domain::ItemKind::Pledge,
            adding: false,
            title: "P".into(),
            body: String::new(),
            position: 1,
            actor: "t".into(),
        })
        .await
        .unwrap();
    item_id
}

async fn participant(store: &dyn Store, conversation_id: Uuid) -> Uuid {
    let written = store
        .write(write::SignUp::open(conversation_id, BTreeMap::new()))
        .await
        .unwrap();
    written.answer.participant.id
}

fn vote(
    conversation_id: Uuid,
    item_id: Uuid,
    participant_id: Uuid,
    choice: Option<Choice>,
) -> write::CastVote {
    write::CastVote {
        conversation_id,
        item_id,
        participant_id,
        request_id: Uuid::new_v4(),
        choice,
    }
}

async fn suite(backend: Backend) {
    let Some((store, _dir)) = open(backend).await else {
        return;
    };
    let store = store.as_ref();
    let c = conversation(store).await;
    let item = pledge(store, c).await;
    let alice = participant(store, c).await;

    // Votes: tally and version move together; no-ops do not bump versions.
    let written = store
        .write(vote(c, item, alice, Some(Choice::Strong)))
        .await
        .unwrap();
    assert_eq!(
        written.tally,
        Some((
            c,
            TallyChange::Item {
                id: item,
                tally: chorus::domain::Tally {
                    strong: 1,
                    wrong: 0,
                    version: 1
                }
            }
        ))
    );
    let written = store
        .write(vote(c, item, alice, Some(Choice::Strong)))
        .await
        .unwrap();
    assert!(written.tally.is_none(), "a repeated vote changes nothing");
    store
        .write(vote(c, item, alice, Some(Choice::Wrong)))
        .await
        .unwrap();
    let written = store.write(vote(c, item, alice, None)).await.unwrap();
    let tally = written.answer.tally;
    assert_eq!((tally.strong, tally.wrong, tally.version), (0, 0, 3));
    assert_eq!(written.answer.choice, None);

    // Events: dense sequence numbers in commit order, replayable.
    let base = store.last_seq(c).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        let id = Uuid::new_v4();
        let written = store
            .write(write::PostComment {
                conversation_id: c,
                item_id: item,
                comment_id: id,
                parent_id: None,
                participant_id: alice,
                body: format!("c{n}"),
                status: CommentStatus::Visible,
            })
            .await
            .unwrap();
        assert_eq!(written.events[0].seq, base + 1 + n);
        ids.push(id);
    }
    let events = store.events(c, base, 100).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (base + 1..=base + 5).collect::<Vec<_>>()
    );
    let replay = store.events(c, base + 2, 2).await.unwrap();
    assert_eq!(
        replay.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![base + 3, base + 4]
    );

    // Idempotency: the same comment id again adds nothing and no event.
    let again = store
        .write(write::PostComment {
            conversation_id: c,
            item_id: item,
            comment_id: ids[0],
            parent_id: None,
            participant_id: alice,
            body: "c0".into(),
            status: CommentStatus::Visible,
        })
        .await
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(store.last_seq(c).await.unwrap(), base + 5);

    // Moderation: hiding updates the item's comment count and appends an event.
    let snapshot = store.snapshot(c, false).await.unwrap();
    assert_eq!(snapshot.items[0].comments, 5);
    let request = Uuid::new_v4();
    let hide = write::ModerateComment {
        conversation_id: c,
        comment_id: ids[0],
        request_id: request,
        actor: "sam".into(),
        action: ModerationAction::Hide,
        reason: Some("names someone".into()),
    };
    let hidden = store.write(hide.clone()).await.unwrap();
    assert!(!hidden.events.is_empty());
    let replayed = store.write(hide).await.unwrap();
    assert!(
        replayed.events.is_empty(),
        "a retried moderation is not applied twice"
    );
    let snapshot = store.snapshot(c, false).await.unwrap();
    assert_eq!(snapshot.items[0].comments, 4);
    assert_eq!(snapshot.seq, base + 6);
    let visible = store.comments(c, item, 0, 100, false).await.unwrap();
    assert_eq!(visible.len(), 4);
    let all = store.comments(c, item, 0, 100, true).await.unwrap();
    assert_eq!(
        all.iter().find(|x| x.id == ids[0]).unwrap().status,
        CommentStatus::Hidden
    );

    // Request errors roll back alone, with no event and no sequence number used.
    let missing = store
        .write(write::PostComment {
            conversation_id: c,
            item_id: Uuid::new_v4(),
            comment_id: Uuid::new_v4(),
            parent_id: None,
            participant_id: alice,
            body: "x".into(),
            status: CommentStatus::Visible,
        })
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("item"))),
        "{missing:?}"
    );
    assert_eq!(store.last_seq(c).await.unwrap(), base + 6);

    // Ideas.
    let idea = Uuid::new_v4();
    let written = store
        .write(write::SuggestIdea {
            conversation_id: c,
            item_id: idea,
            participant_id: alice,
            title: "I".into(),
            body: String::new(),
            status: ItemStatus::Pending,
        })
        .await
        .unwrap();
    assert!(!written.events.is_empty());
    assert_eq!(store.snapshot(c, false).await.unwrap().items.len(), 1);
    assert_eq!(store.snapshot(c, true).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn store_suite_on_sqlite() {
    suite(Backend::Sqlite).await;
}

#[tokio::test]
async fn store_suite_on_postgres() {
    suite(Backend::Postgres).await;
}

/// Many concurrent writes share commits; all are applied exactly once and
/// sequence numbers stay dense.
async fn group_commit(backend: Backend) {
    let Some((store, _dir)) = open(backend).await else {
        return;
    };
    let c = conversation(store.as_ref()).await;
    let item = pledge(store.as_ref(), c).await;
    let mut voters = Vec::new();
    for _ in 0..100 {
        voters.push(participant(store.as_ref(), c).await);
    }
    let base = store.last_seq(c).await.unwrap();
    let mut tasks = Vec::new();
    for (n, p) in voters.iter().copied().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(vote(
                    c,
                    item,
                    p,
                    Some(if n % 2 == 0 {
                        Choice::Strong
                    } else {
                        Choice::Wrong
                    }),
                ))
                .await
                .unwrap();
            store
                .write(write::PostComment {
                    conversation_id: c,
                    item_id: item,
                    comment_id: Uuid::new_v4(),
                    parent_id: None,
                    participant_id: p,
                    body: format!("{n}"),
                    status: CommentStatus::Visible,
                })
                .await
                .unwrap()
                .events[0]
                .seq
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (base + 1..=base + 100).collect::<Vec<_>>());
    let snapshot = store.snapshot(c, false).await.unwrap();
    assert_eq!(
        (
            snapshot.items[0].tally.strong,
            snapshot.items[0].tally.wrong
        ),
        (50, 50)
    );
    assert_eq!(snapshot.items[0].tally.version, 100);
    store.close().await;
}

#[tokio::test]
async fn group_commit_on_sqlite() {
    group_commit(Backend::Sqlite).await;
}

#[tokio::test]
async fn group_commit_on_postgres() {
    group_commit(Backend::Postgres).await;
}

/// Votes that arrive together (one group commit) behave exactly as one by
/// one: each answer carries the tally its own vote produced, a retried
/// request id changes nothing, and the stored tally is the last one.
async fn votes_sharing_a_commit(backend: Backend) {
    let Some((store, _dir)) = open(backend).await else {
        return;
    };
    let store = store.as_ref();
    let c = conversation(store).await;
    let item = pledge(store, c).await;
    let other = pledge(store, c).await;
    let alice = participant(store, c).await;
    let bob = participant(store, c).await;
    let first = Uuid::new_v4();
    let vote_with = |participant, item, request, choice| write::CastVote {
        conversation_id: c,
        item_id: item,
        participant_id: participant,
        request_id: request,
        choice,
    };
    let (a, b, retry, d, missing) = tokio::join!(
        store.write(vote_with(alice, item, first, Some(Choice::Strong))),
        store.write(vote_with(alice, item, Uuid::new_v4(), Some(Choice::Wrong))),
        store.write(vote_with(alice, item, first, Some(Choice::Strong))),
        store.write(vote_with(bob, other, Uuid::new_v4(), Some(Choice::Strong))),
        store.write(vote_with(
            bob,
            Uuid::new_v4(),
            Uuid::new_v4(),
            Some(Choice::Strong)
        )),
    );
    let tally = |w: store::Answer<write::CastVote>| {
        let voted = w.unwrap().answer;
        let tally = voted.tally;
        (tally.strong, tally.wrong, tally.version, voted.choice)
    };
    assert_eq!(tally(a), (1, 0, 1, Some(Choice::Strong)));
    assert_eq!(tally(b), (0, 1, 2, Some(Choice::Wrong)));
    assert_eq!(
        tally(retry),
        (1, 0, 1, Some(Choice::Strong)),
        "a retried request gets its first answer, whatever came after"
    );
    assert_eq!(tally(d), (1, 0, 1, Some(Choice::Strong)));
    assert!(
        matches!(missing, Err(StoreError::NotFound("item"))),
        "{missing:?}"
    );
    let snapshot = store.snapshot(c, false).await.unwrap();
    let stored: Vec<_> = snapshot
        .items
        .iter()
        .map(|i| (i.id, i.tally.strong, i.tally.wrong, i.tally.version))
        .collect();
    assert!(stored.contains(&(item, 0, 1, 2)), "{stored:?}");
    assert!(stored.contains(&(other, 1, 0, 1)), "{stored:?}");
    let (votes, _) = store.votes_of(alice).await.unwrap();
    assert_eq!(votes, vec![(item, Choice::Wrong)]);
}

#[tokio::test]
async fn votes_sharing_a_commit_on_sqlite() {
    votes_sharing_a_commit(Backend::Sqlite).await;
}

#[tokio::test]
async fn votes_sharing_a_commit_on_postgres() {
    votes_sharing_a_commit(Backend::Postgres).await;
}

/// Past the retention window a request id is forgotten: pruning removes
/// its record, and the id may then be used again.
async fn old_request_ids_are_pruned(backend: Backend) {
    let Some((store, _dir)) = open(backend).await else {
        return;
    };
    let store = store.as_ref();
    let c = conversation(store).await;
    let item = pledge(store, c).await;
    let alice = participant(store, c).await;
    let id = Uuid::new_v4();
    let cast = |choice| write::CastVote {
        conversation_id: c,
        item_id: item,
        participant_id: alice,
        request_id: id,
        choice,
    };
    store.write(cast(Some(Choice::Strong))).await.unwrap();
    assert!(matches!(
        store.write(cast(Some(Choice::Wrong))).await,
        Err(StoreError::Conflict(_))
    ));
    let kept = store
        .write(write::PruneRequests {
            before: chorus::domain::Millis(chorus::domain::Millis::now().0 - 60_000),
        })
        .await
        .unwrap();
    assert_eq!(kept.answer, 0, "a recent id is kept");
    let pruned = store
        .write(write::PruneRequests {
            before: chorus::domain::Millis(chorus::domain::Millis::now().0 + 1_000),
        })
        .await
        .unwrap();
    assert_eq!(pruned.answer, 1);
    let again = store.write(cast(Some(Choice::Wrong))).await.unwrap();
    assert_eq!(
        again.answer.choice,
        Some(Choice::Wrong),
        "the id is free again"
    );
}

#[tokio::test]
async fn old_request_ids_are_pruned_on_sqlite() {
    old_request_ids_are_pruned(Backend::Sqlite).await;
}

#[tokio::test]
async fn old_request_ids_are_pruned_on_postgres() {
    old_request_ids_are_pruned(Backend::Postgres).await;
}

/// A stored name no enum knows is corrupt data, reported with its column
/// and value, never read as some default.
async fn unknown_stored_names_are_corrupt(backend: Backend) {
    let Some((url, _dir)) = fresh_database(backend).await else {
        return;
    };
    let store = store::connect(&url, &Settings::defaults().store)
        .await
        .expect("store opens");
    let id = conversation(store.as_ref()).await;
    let item = pledge(store.as_ref(), id).await;
    let cases = [
        (
            "UPDATE conversations SET ways_in = 'open,phone'",
            "conversations.ways_in",
            "open,phone",
        ),
        (
            "UPDATE conversations SET moderation = 'during'",
            "conversations.moderation",
            "during",
        ),
        ("UPDATE items SET status = 'lost'", "items.status", "lost"),
        ("UPDATE items SET kind = 'poll'", "items.kind", "poll"),
    ];
    for (update, column, value) in cases {
        execute(
            &url,
            &format!(
                "UPDATE conversations SET slug = 'corrupt', ways_in = 'open', moderation = 'post'; \
                 UPDATE items SET status = 'visible', kind = 'pledge'; {update}"
            ),
        )
        .await;
        let read = if column.starts_with("conversations.") {
            store.conversation_by_slug("corrupt").await.map(|_| ())
        } else {
            store.item(id, item).await.map(|_| ())
        };
        match read {
            Err(StoreError::Corrupt(message)) => {
                assert!(
                    message.contains(column) && message.contains(value),
                    "{column}: {message}"
                );
            }
            other => panic!("{column} = {value:?} read as {other:?}"),
        }
    }
    store.close().await;
}

/// Runs SQL on the database behind the store's back.
async fn execute(url: &str, sql: &str) {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        db.close().await.unwrap();
    } else {
        let mut db = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn unknown_stored_names_are_corrupt_on_sqlite() {
    unknown_stored_names_are_corrupt(Backend::Sqlite).await;
}

#[tokio::test]
async fn unknown_stored_names_are_corrupt_on_postgres() {
    unknown_stored_names_are_corrupt(Backend::Postgres).await;
}

/// The writer keeps one connection from batch to batch. When PostgreSQL
/// drops it (a restart, an administrator), the write that meets the dead
/// connection still commits, on a new one, and so does every write after.
#[tokio::test]
async fn the_writer_outlives_its_connection_on_postgres() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let store = store::connect(&url, &Settings::defaults().store)
        .await
        .expect("store opens");
    let store = store.as_ref();
    let c = conversation(store).await;
    let item = pledge(store, c).await;
    let alice = participant(store, c).await;
    let vote = |choice| write::CastVote {
        conversation_id: c,
        item_id: item,
        participant_id: alice,
        request_id: Uuid::new_v4(),
        choice: Some(choice),
    };
    store.write(vote(Choice::Strong)).await.unwrap();
    let database = url.rsplit('/').next().unwrap();
    execute(
        PG_ADMIN_URL,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        ),
    )
    .await;
    let voted = store.write(vote(Choice::Wrong)).await.unwrap().answer;
    assert_eq!((voted.tally.strong, voted.tally.wrong), (0, 1));
    let voted = store.write(vote(Choice::Strong)).await.unwrap().answer;
    assert_eq!(
        (voted.tally.strong, voted.tally.wrong, voted.tally.version),
        (1, 0, 3)
    );
    store.close().await;
}
