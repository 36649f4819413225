//! The SQL both stores share. SQLite and PostgreSQL accept the same
//! statements here (`$N` parameters, `ON CONFLICT`, `RETURNING`), so the
//! write path and the reads are written once, in this macro, and expanded
//! once per backend with that backend's concrete sqlx types. What differs
//! (connecting, pragmas, migrations, row locks) stays in `sqlite.rs` and
//! `postgres.rs`. This is not sqlx's `Any` driver: each expansion is a
//! fully typed implementation for its own database.

macro_rules! sql_store {
    (store = $Store:ident, db = $Db:ty, backend = $backend:literal, lock_conversation = $lock_conversation:literal, retryable = $retryable:expr, batch_votes = $batch_votes:literal) => {
        use std::collections::BTreeMap;
        use std::sync::Mutex as StdMutex;
        use std::time::Instant;

        use async_trait::async_trait;
        use sqlx::{Acquire, Pool};
        use tokio::sync::{mpsc, oneshot};
        use tokio::task::JoinHandle;
        use uuid::Uuid;

        use $crate::domain::{
            handle, AuthorAction, Choice, Comment, CommentStatus, CommentTally, Conversation, Event, EventData,
            Item, ItemKind, ItemStatus, Millis, ModerationAction, Participant, Role, Tally, User,
        };
        use $crate::store::rows::{
            comment_columns, conversation_columns, item_columns, moderation_str,
            signup_mode_str, CommentRow, ConversationRow, EventRow, ItemRow, ParticipantRow,
        };
        use $crate::store::{
            Outcome, QueueFilter, Session, Snapshot, Store, StoreError, Tallies, TallyChange,
            Write, Written,
        };

        type Conn = <$Db as sqlx::Database>::Connection;

        /// A write waiting for the writer, and where to send its answer.
        struct Pending {
            write: Write,
            reply: oneshot::Sender<Result<Written, StoreError>>,
        }

        pub struct $Store {
            /// Pool for reads; WAL (SQLite) or MVCC (Postgres) lets them run beside the writer.
            reads: Pool<$Db>,
            /// Queue to the single writer task; `None` once closed.
            writes: StdMutex<Option<mpsc::Sender<Pending>>>,
            /// The writer task, awaited on close so nothing acknowledged is lost.
            writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
        }

        impl $Store {
            fn with_pools(writer_pool: Pool<$Db>, reads: Pool<$Db>, batch_max: usize, queue: usize) -> $Store {
                let (tx, rx) = mpsc::channel(queue);
                let handle = tokio::spawn(run_writer(writer_pool, rx, batch_max));
                $Store {
                    reads,
                    writes: StdMutex::new(Some(tx)),
                    writer: tokio::sync::Mutex::new(Some(handle)),
                }
            }
        }

        /// The group-commit loop: take what has arrived (up to `batch_max`),
        /// apply it in one transaction, commit, then answer each caller.
        async fn run_writer(pool: Pool<$Db>, mut rx: mpsc::Receiver<Pending>, batch_max: usize) {
            let mut batch: Vec<Pending> = Vec::with_capacity(batch_max);
            while rx.recv_many(&mut batch, batch_max).await > 0 {
                let started = Instant::now();
                let size = batch.len();
                commit_batch(&pool, std::mem::take(&mut batch)).await;
                metrics::histogram!("chorus_store_batch_size", "backend" => $backend).record(size as f64);
                metrics::histogram!("chorus_store_commit_seconds", "backend" => $backend)
                    .record(started.elapsed().as_secs_f64());
            }
            tracing::debug!(backend = $backend, "store writer stopped");
        }

        /// Runs the batch, again when the database asks for it (a deadlock or
        /// serialisation failure between nodes), a few times at most.
        async fn try_batch_retrying(
            pool: &Pool<$Db>,
            batch: &[Pending],
        ) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
            let mut attempt = 0;
            loop {
                match try_batch(pool, batch).await {
                    Err(StoreError::Database(sqlx::Error::Database(e)))
                        if attempt < 5 && e.code().is_some_and(|code| ($retryable)(code.as_ref())) =>
                    {
                        attempt += 1;
                        metrics::counter!("chorus_store_retries_total", "backend" => $backend).increment(1);
                        tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
                    }
                    other => return other,
                }
            }
        }

        async fn commit_batch(pool: &Pool<$Db>, batch: Vec<Pending>) {
            match try_batch_retrying(pool, &batch).await {
                Ok(results) => {
                    for (pending, result) in batch.into_iter().zip(results) {
                        let _ = pending.reply.send(result);
                    }
                }
                Err(error) if batch.len() > 1 => {
                    // A database error (not a bad request) spoiled the batch:
                    // nothing of it committed. Give each write its own chance.
                    tracing::warn!(%error, size = batch.len(), "group commit failed; retrying writes one by one");
                    for pending in batch {
                        let result = match try_batch_retrying(pool, std::slice::from_ref(&pending)).await {
                            Ok(mut results) => results.pop().expect("one result"),
                            Err(e) => Err(e),
                        };
                        let _ = pending.reply.send(result);
                    }
                }
                Err(error) => {
                    if let Some(pending) = batch.into_iter().next() {
                        let _ = pending.reply.send(Err(error));
                    }
                }
            }
        }

        /// One transaction for the batch; each write in a savepoint so a bad
        /// request is rolled back alone and the others still commit.
        async fn try_batch(
            pool: &Pool<$Db>,
            batch: &[Pending],
        ) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
            let mut tx = pool.begin().await?;
            let mut results = Vec::with_capacity(batch.len());
            let now = Millis::now();
            if !$lock_conversation.is_empty() {
                // Every transaction locks its conversations first, in one
                // order, so batches of different nodes queue instead of
                // deadlocking on item and counter rows.
                let mut conversations: Vec<Uuid> = batch.iter().filter_map(|p| p.write.conversation_id()).collect();
                conversations.sort();
                conversations.dedup();
                for id in conversations {
                    sqlx::query($lock_conversation).bind(id).execute(&mut *tx).await?;
                }
            }
            let mut slots: Vec<Option<Result<Written, StoreError>>> = Vec::with_capacity(batch.len());
            let mut votes: Vec<(usize, VoteRequest)> = Vec::new();
            for (index, pending) in batch.iter().enumerate() {
                if let Write::Vote { .. } = pending.write {
                    if let (true, Write::Vote { conversation_id, item_id, participant_id, request_id, choice }) = ($batch_votes, &pending.write) {
                        // Applied together below: concurrent requests may be
                        // ordered any way, and one read and one write for
                        // all the batch's votes beat four statements each.
                        votes.push((index, (*conversation_id, *item_id, *participant_id, *request_id, *choice)));
                        slots.push(None);
                        continue;
                    }
                    // Votes refuse before they change anything: no savepoint needed.
                    match apply(&mut tx, &pending.write, now).await {
                        Ok(written) => slots.push(Some(Ok(written))),
                        Err(e) if e.is_request_error() => slots.push(Some(Err(e))),
                        Err(e) => return Err(e),
                    }
                    continue;
                }
                let mut savepoint = (&mut *tx).begin().await?;
                match apply(&mut savepoint, &pending.write, now).await {
                    Ok(written) => {
                        savepoint.commit().await?;
                        slots.push(Some(Ok(written)));
                    }
                    Err(e) if e.is_request_error() => {
                        savepoint.rollback().await?;
                        slots.push(Some(Err(e)));
                    }
                    Err(e) => return Err(e),
                }
            }
            if !votes.is_empty() {
                for (index, result) in apply_votes(&mut tx, &votes, now).await? {
                    slots[index] = Some(result);
                }
            }
            results.extend(slots.into_iter().map(|slot| slot.expect("every write answered")));
            tx.commit().await?;
            Ok(results)
        }

        /// A vote's fields: conversation, item, participant, request, choice.
        type VoteRequest = (Uuid, Uuid, Uuid, Uuid, Option<Choice>);

        /// Applies a batch's votes with one read and one multi-statement
        /// write (SQLite: every statement is a round trip to sqlx's worker
        /// thread, so this is where group commit pays most). The votes are
        /// applied in memory in batch order, exactly as one by one: each gets
        /// the tally and version its own vote produced. Only ids, enums and
        /// integers are written as literals; no participant text is involved.
        async fn apply_votes(
            c: &mut Conn,
            votes: &[(usize, VoteRequest)],
            now: Millis,
        ) -> Result<Vec<(usize, Result<Written, StoreError>)>, StoreError> {
            use std::collections::{HashMap, HashSet};
            use std::fmt::Write as _;
            fn blob(id: &Uuid) -> String {
                format!("X'{}'", id.simple())
            }
            let mut read = String::from("WITH q(n, item, participant, conversation, request) AS (VALUES ");
            for (k, (_, (conversation_id, item_id, participant_id, request_id, _))) in votes.iter().enumerate() {
                if k > 0 {
                    read.push_str(", ");
                }
                let _ = write!(read, "({k}, {}, {}, {}, {})", blob(item_id), blob(participant_id), blob(conversation_id), blob(request_id));
            }
            read.push_str(") SELECT q.n, i.status, i.strong, i.wrong, i.version, p.suspended, v.choice, \
                (SELECT COUNT(*) FROM requests r WHERE r.id = q.request) \
                FROM q LEFT JOIN items i ON i.id = q.item AND i.conversation_id = q.conversation \
                LEFT JOIN participants p ON p.id = q.participant AND p.conversation_id = q.conversation \
                LEFT JOIN votes v ON v.item_id = q.item AND v.participant_id = q.participant ORDER BY q.n");
            type Row = (i64, Option<String>, Option<i64>, Option<i64>, Option<i64>, Option<bool>, Option<String>, i64);
            let rows: Vec<Row> = sqlx::query_as(&read).fetch_all(&mut *c).await?;
            if rows.len() != votes.len() {
                return Err(StoreError::Corrupt("vote batch read lost rows".into()));
            }
            let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
            let mut current: HashMap<(Uuid, Uuid), (Option<Choice>, Uuid)> = HashMap::new();
            let mut changed_votes: Vec<(Uuid, Uuid)> = Vec::new();
            let mut changed_items: Vec<Uuid> = Vec::new();
            let mut requests: HashSet<Uuid> = HashSet::new();
            let mut new_requests: Vec<Uuid> = Vec::new();
            let mut results = Vec::with_capacity(votes.len());
            for ((index, (conversation_id, item_id, participant_id, request_id, choice)), row) in votes.iter().zip(rows) {
                let (_, status, strong, wrong, version, suspended, before, seen) = row;
                let (Some("visible"), Some(strong), Some(wrong), Some(version), Some(suspended)) =
                    (status.as_deref(), strong, wrong, version, suspended)
                else {
                    results.push((*index, Err(StoreError::NotFound("item"))));
                    continue;
                };
                if suspended {
                    results.push((*index, Err(StoreError::Suspended)));
                    continue;
                }
                let tally = tallies.entry(*item_id).or_insert(Tally { strong, wrong, version });
                let key = (*participant_id, *item_id);
                let before = current
                    .entry(key)
                    .or_insert((before.as_deref().and_then(|c| c.parse::<Choice>().ok()), *conversation_id))
                    .0;
                let (ds, dw) = $crate::domain::vote::delta(before, *choice);
                if seen > 0 || requests.contains(request_id) || (ds, dw) == (0, 0) {
                    results.push((*index, Ok(Written::outcome(Outcome::Vote { item_id: *item_id, choice: before, tally: *tally }))));
                    continue;
                }
                requests.insert(*request_id);
                new_requests.push(*request_id);
                tally.strong += ds;
                tally.wrong += dw;
                tally.version += 1;
                let tally = *tally;
                current.insert(key, (*choice, *conversation_id));
                if !changed_votes.contains(&key) {
                    changed_votes.push(key);
                }
                if !changed_items.contains(item_id) {
                    changed_items.push(*item_id);
                }
                results.push((*index, Ok(Written {
                    outcome: Outcome::Vote { item_id: *item_id, choice: *choice, tally },
                    events: Vec::new(),
                    tally: Some((*conversation_id, TallyChange::Item { id: *item_id, tally })),
                })));
            }
            if new_requests.is_empty() {
                return Ok(results);
            }
            let mut sql = String::from("INSERT INTO requests (id, created_at) VALUES ");
            for (k, id) in new_requests.iter().enumerate() {
                let _ = write!(sql, "{}({}, {})", if k > 0 { ", " } else { "" }, blob(id), now.0);
            }
            sql.push_str(";\n");
            let mut upserts = Vec::new();
            for key in &changed_votes {
                let (choice, conversation_id) = current[key];
                match choice {
                    Some(choice) => upserts.push(format!(
                        "({}, {}, {}, '{}', {})",
                        blob(&key.0), blob(&key.1), blob(&conversation_id), choice.as_str(), now.0
                    )),
                    None => {
                        let _ = writeln!(sql, "DELETE FROM votes WHERE participant_id = {} AND item_id = {};", blob(&key.0), blob(&key.1));
                    }
                }
            }
            if !upserts.is_empty() {
                let _ = writeln!(
                    sql,
                    "INSERT INTO votes (participant_id, item_id, conversation_id, choice, updated_at) VALUES {} \
                     ON CONFLICT (participant_id, item_id) DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at;",
                    upserts.join(", ")
                );
            }
            for item in &changed_items {
                let t = tallies[item];
                let _ = writeln!(sql, "UPDATE items SET strong = {}, wrong = {}, version = {} WHERE id = {};", t.strong, t.wrong, t.version, blob(item));
            }
            sqlx::query(&sql).execute(&mut *c).await?;
            Ok(results)
        }

        async fn apply(c: &mut Conn, write: &Write, now: Millis) -> Result<Written, StoreError> {
            match write {
                Write::CreateSession { id, token_hash, user_id } => {
                    sqlx::query("INSERT INTO sessions (id, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(id).bind(token_hash).bind(user_id).bind(now.0)
                        .execute(&mut *c).await?;
                    Ok(Written::outcome(Outcome::Done))
                }
                Write::SetSessionUser { session_id, user_id } => {
                    sqlx::query("UPDATE sessions SET user_id = $1 WHERE id = $2")
                        .bind(user_id).bind(session_id)
                        .execute(&mut *c).await?;
                    Ok(Written::outcome(Outcome::Done))
                }
                Write::SignUp { conversation_id, session_id, profile } => {
                    sign_up(c, *conversation_id, *session_id, profile, now).await
                }
                Write::Vote { conversation_id, item_id, participant_id, request_id, choice } => {
                    vote(c, *conversation_id, *item_id, *participant_id, *request_id, *choice, now).await
                }
                Write::CommentVote { conversation_id, comment_id, participant_id, request_id, up } => {
                    comment_vote(c, *conversation_id, *comment_id, *participant_id, *request_id, *up, now).await
                }
                Write::Comment { conversation_id, item_id, comment_id, parent_id, participant_id, body, status } => {
                    comment(c, *conversation_id, *item_id, *comment_id, *parent_id, *participant_id, body, *status, now).await
                }
                Write::Flag { conversation_id, comment_id, flag_id, participant_id, reason } => {
                    flag(c, *conversation_id, *comment_id, *flag_id, *participant_id, reason, now).await
                }
                Write::Idea { conversation_id, item_id, participant_id, title, body, status } => {
                    idea(c, *conversation_id, *item_id, *participant_id, title, body, *status, now).await
                }
                Write::ModerateComment { conversation_id, comment_id, request_id, actor, action, reason } => {
                    moderate_comment(c, *conversation_id, *comment_id, *request_id, actor, *action, reason.as_deref(), now).await
                }
                Write::ModerateItem { conversation_id, item_id, request_id, actor, action, reason } => {
                    moderate_item(c, *conversation_id, *item_id, *request_id, actor, *action, reason.as_deref(), now).await
                }
                Write::CreateConversation { conversation } => create_conversation(c, conversation, now).await,
                Write::UpdateConversation { conversation, actor, action } => {
                    update_conversation(c, conversation, actor, action, now).await
                }
                Write::UpsertPledge { conversation_id, item_id, title, body, position, actor } => {
                    upsert_pledge(c, *conversation_id, *item_id, title, body, *position, actor, now).await
                }
                Write::CreateUser { id, name, role, password_hash } => {
                    let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
                        .bind(name).fetch_optional(&mut *c).await?;
                    if taken.is_some() {
                        return Err(StoreError::Conflict(format!("a user named {name:?} already exists")));
                    }
                    sqlx::query("INSERT INTO users (id, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(id).bind(name).bind(role.as_str()).bind(password_hash).bind(now.0)
                        .execute(&mut *c).await?;
                    Ok(Written::outcome(Outcome::Done))
                }
                Write::EditComment { conversation_id, comment_id, request_id, actor, body } => {
                    edit_comment(c, *conversation_id, *comment_id, *request_id, actor, body, now).await
                }
                Write::ModerateAuthor { conversation_id, comment_id, request_id, actor, action, reason } => {
                    moderate_author(c, *conversation_id, *comment_id, *request_id, actor, *action, reason.as_deref(), now).await
                }
                Write::DisplaySeen { conversation_id, day } => {
                    sqlx::query("INSERT INTO display_sessions (conversation_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(conversation_id).bind(day)
                        .execute(&mut *c).await?;
                    Ok(Written::outcome(Outcome::Done))
                }
                Write::SetPassword { name, password_hash } => {
                    let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
                        .bind(password_hash).bind(name)
                        .execute(&mut *c).await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::NotFound("user"));
                    }
                    Ok(Written::outcome(Outcome::Done))
                }
                Write::CreateDisplayToken { conversation_id, token_hash, actor } => {
                    sqlx::query("INSERT INTO display_tokens (token_hash, conversation_id, created_by, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash).bind(conversation_id).bind(actor).bind(now.0)
                        .execute(&mut *c).await?;
                    Ok(Written::outcome(Outcome::Done))
                }
            }
        }

        /// Records a request id; false when it was seen before (a retry).
        async fn first_time(c: &mut Conn, request_id: Uuid, now: Millis) -> Result<bool, StoreError> {
            let done = sqlx::query("INSERT INTO requests (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(request_id).bind(now.0)
                .execute(&mut *c).await?;
            Ok(done.rows_affected() == 1)
        }

        /// The participant's handle, refusing suspended participants. (No row
        /// lock is needed: the batch already holds its conversation's lock.)
        async fn contributor(c: &mut Conn, conversation_id: Uuid, participant_id: Uuid) -> Result<String, StoreError> {
            let row: Option<(String, bool)> = sqlx::query_as(
                "SELECT handle, suspended FROM participants WHERE id = $1 AND conversation_id = $2")
                .bind(participant_id).bind(conversation_id)
                .fetch_optional(&mut *c).await?;
            match row {
                None => Err(StoreError::NotFound("participant")),
                Some((_, true)) => Err(StoreError::Suspended),
                Some((handle, false)) => Ok(handle),
            }
        }

        async fn append_event(
            c: &mut Conn,
            conversation_id: Uuid,
            seq: Option<i64>,
            actor: &str,
            data: EventData,
            now: Millis,
        ) -> Result<Event, StoreError> {
            let seq = match seq {
                Some(seq) => seq,
                None => next_seq(c, conversation_id).await?,
            };
            let json = serde_json::to_string(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("INSERT INTO events (conversation_id, seq, kind, actor, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(conversation_id).bind(seq).bind(data.kind()).bind(actor).bind(json).bind(now.0)
                .execute(&mut *c).await?;
            Ok(Event { conversation_id, seq, actor: actor.to_string(), data, created_at: now })
        }

        /// The conversation's next sequence number. The counter row is
        /// updated in the writing transaction, so numbers follow commit order
        /// (on Postgres the row lock orders concurrent nodes too).
        async fn next_seq(c: &mut Conn, conversation_id: Uuid) -> Result<i64, StoreError> {
            let seq: Option<i64> = sqlx::query_scalar("UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
                .bind(conversation_id).fetch_optional(&mut *c).await?;
            seq.ok_or(StoreError::NotFound("conversation"))
        }

        async fn load_comment(c: &mut Conn, conversation_id: Uuid, comment_id: Uuid) -> Result<Option<Comment>, StoreError> {
            let row: Option<CommentRow> = sqlx::query_as(concat!("SELECT ", comment_columns!(), " FROM comments WHERE id = $1 AND conversation_id = $2"))
                .bind(comment_id).bind(conversation_id)
                .fetch_optional(&mut *c).await?;
            row.map(Comment::try_from).transpose()
        }

        async fn load_item(c: &mut Conn, conversation_id: Uuid, item_id: Uuid) -> Result<Option<Item>, StoreError> {
            let row: Option<ItemRow> = sqlx::query_as(concat!("SELECT ", item_columns!(), " FROM items WHERE id = $1 AND conversation_id = $2"))
                .bind(item_id).bind(conversation_id)
                .fetch_optional(&mut *c).await?;
            row.map(Item::try_from).transpose()
        }

        async fn sign_up(
            c: &mut Conn,
            conversation_id: Uuid,
            session_id: Uuid,
            profile: &BTreeMap<String, String>,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let existing: Option<ParticipantRow> = sqlx::query_as(
                "SELECT id, conversation_id, handle, suspended FROM participants WHERE conversation_id = $1 AND session_id = $2")
                .bind(conversation_id).bind(session_id)
                .fetch_optional(&mut *c).await?;
            if let Some(row) = existing {
                return Ok(Written::outcome(Outcome::Participant { participant: row.into(), created: false }));
            }
            let mut attempt = 0;
            let handle = loop {
                let candidate = handle::generate(attempt);
                let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM participants WHERE conversation_id = $1 AND handle = $2")
                    .bind(conversation_id).bind(&candidate)
                    .fetch_optional(&mut *c).await?;
                if taken.is_none() {
                    break candidate;
                }
                attempt += 1;
            };
            let id = Uuid::new_v4();
            let profile_json = serde_json::to_string(profile).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("INSERT INTO participants (id, conversation_id, session_id, handle, profile, suspended, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id).bind(conversation_id).bind(session_id).bind(&handle).bind(profile_json).bind(false).bind(now.0)
                .execute(&mut *c).await?;
            Ok(Written::outcome(Outcome::Participant {
                participant: Participant { id, conversation_id, handle, suspended: false },
                created: true,
            }))
        }

        /// One read decides everything and errors come before any change, so
        /// a vote needs no savepoint: four statements in all, which matters
        /// on the hottest path (SQLite statements cross a thread each).
        async fn vote(
            c: &mut Conn,
            conversation_id: Uuid,
            item_id: Uuid,
            participant_id: Uuid,
            request_id: Uuid,
            choice: Option<Choice>,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let row: Option<(String, i64, i64, i64, bool, Option<String>, i64)> = sqlx::query_as(
                "SELECT i.status, i.strong, i.wrong, i.version, p.suspended, v.choice, \
                        (SELECT COUNT(*) FROM requests r WHERE r.id = $4) \
                 FROM items i \
                 JOIN participants p ON p.id = $2 AND p.conversation_id = i.conversation_id \
                 LEFT JOIN votes v ON v.item_id = i.id AND v.participant_id = $2 \
                 WHERE i.id = $1 AND i.conversation_id = $3")
                .bind(item_id).bind(participant_id).bind(conversation_id).bind(request_id)
                .fetch_optional(&mut *c).await?;
            let Some((status, strong, wrong, version, suspended, before, seen)) = row else {
                return Err(StoreError::NotFound("item"));
            };
            if status != "visible" {
                return Err(StoreError::NotFound("item"));
            }
            if suspended {
                return Err(StoreError::Suspended);
            }
            let before = before.as_deref().and_then(|c| c.parse::<Choice>().ok());
            let (ds, dw) = $crate::domain::vote::delta(before, choice);
            if seen > 0 || (ds, dw) == (0, 0) {
                // A retry, or no change: answer with the current state.
                return Ok(Written::outcome(Outcome::Vote {
                    item_id,
                    choice: before,
                    tally: Tally { strong, wrong, version },
                }));
            }
            first_time(c, request_id, now).await?;
            match choice {
                Some(choice) => {
                    sqlx::query("INSERT INTO votes (participant_id, item_id, conversation_id, choice, updated_at) VALUES ($1, $2, $3, $4, $5) \
                                 ON CONFLICT (participant_id, item_id) DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at")
                        .bind(participant_id).bind(item_id).bind(conversation_id).bind(choice.as_str()).bind(now.0)
                        .execute(&mut *c).await?;
                }
                None => {
                    sqlx::query("DELETE FROM votes WHERE participant_id = $1 AND item_id = $2")
                        .bind(participant_id).bind(item_id)
                        .execute(&mut *c).await?;
                }
            }
            let (strong, wrong, version): (i64, i64, i64) = sqlx::query_as(
                "UPDATE items SET strong = strong + $1, wrong = wrong + $2, version = version + 1 WHERE id = $3 RETURNING strong, wrong, version")
                .bind(ds).bind(dw).bind(item_id)
                .fetch_one(&mut *c).await?;
            let tally = Tally { strong, wrong, version };
            Ok(Written {
                outcome: Outcome::Vote { item_id, choice, tally },
                events: Vec::new(),
                tally: Some((conversation_id, TallyChange::Item { id: item_id, tally })),
            })
        }

        async fn comment_vote(
            c: &mut Conn,
            conversation_id: Uuid,
            comment_id: Uuid,
            participant_id: Uuid,
            request_id: Uuid,
            up: bool,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let fresh = first_time(c, request_id, now).await?;
            let comment = load_comment(c, conversation_id, comment_id).await?
                .filter(|comment| comment.status == CommentStatus::Visible)
                .ok_or(StoreError::NotFound("comment"))?;
            contributor(c, conversation_id, participant_id).await?;
            let had: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comment_votes WHERE participant_id = $1 AND comment_id = $2")
                .bind(participant_id).bind(comment_id)
                .fetch_one(&mut *c).await?;
            let had = had > 0;
            if !fresh || had == up {
                return Ok(Written::outcome(Outcome::CommentVote {
                    comment_id,
                    up: had,
                    tally: CommentTally { up: comment.up, version: comment.up_version },
                }));
            }
            let delta = if up {
                sqlx::query("INSERT INTO comment_votes (participant_id, comment_id, created_at) VALUES ($1, $2, $3)")
                    .bind(participant_id).bind(comment_id).bind(now.0)
                    .execute(&mut *c).await?;
                1i64
            } else {
                sqlx::query("DELETE FROM comment_votes WHERE participant_id = $1 AND comment_id = $2")
                    .bind(participant_id).bind(comment_id)
                    .execute(&mut *c).await?;
                -1i64
            };
            let (count, version): (i64, i64) = sqlx::query_as(
                "UPDATE comments SET up = up + $1, up_version = up_version + 1 WHERE id = $2 RETURNING up, up_version")
                .bind(delta).bind(comment_id)
                .fetch_one(&mut *c).await?;
            let tally = CommentTally { up: count, version };
            Ok(Written {
                outcome: Outcome::CommentVote { comment_id, up, tally },
                events: Vec::new(),
                tally: Some((conversation_id, TallyChange::Comment { id: comment_id, tally })),
            })
        }

        #[allow(clippy::too_many_arguments)]
        async fn comment(
            c: &mut Conn,
            conversation_id: Uuid,
            item_id: Uuid,
            comment_id: Uuid,
            parent_id: Option<Uuid>,
            participant_id: Uuid,
            body: &str,
            status: CommentStatus,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let existing: Option<(Uuid, Uuid)> = sqlx::query_as("SELECT participant_id, conversation_id FROM comments WHERE id = $1")
                .bind(comment_id).fetch_optional(&mut *c).await?;
            if let Some((author, conversation)) = existing {
                if author != participant_id || conversation != conversation_id {
                    return Err(StoreError::Conflict("this comment id is already in use".into()));
                }
                let comment = load_comment(c, conversation_id, comment_id).await?.ok_or(StoreError::NotFound("comment"))?;
                return Ok(Written::outcome(Outcome::Comment(comment)));
            }
            let handle = contributor(c, conversation_id, participant_id).await?;
            let item = load_item(c, conversation_id, item_id).await?
                .filter(|item| item.status == ItemStatus::Visible)
                .ok_or(StoreError::NotFound("item"))?;
            if let Some(parent_id) = parent_id {
                let parent = load_comment(c, conversation_id, parent_id).await?
                    .filter(|p| p.status != CommentStatus::Hidden)
                    .ok_or(StoreError::NotFound("parent comment"))?;
                if parent.item_id != item.id {
                    return Err(StoreError::Invalid { field: "parent_id", message: "is a comment on another item".into() });
                }
                if parent.parent_id.is_some() {
                    return Err(StoreError::Invalid {
                        field: "parent_id",
                        message: "is itself a reply; reply to the comment it answers (one level of replies)".into(),
                    });
                }
            }
            let seq = next_seq(c, conversation_id).await?;
            sqlx::query("INSERT INTO comments (id, conversation_id, item_id, parent_id, participant_id, handle, body, status, pinned, up, up_version, flags, seq, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, 0, $10, $11)")
                .bind(comment_id).bind(conversation_id).bind(item_id).bind(parent_id).bind(participant_id)
                .bind(&handle).bind(body).bind(status.as_str()).bind(false).bind(seq).bind(now.0)
                .execute(&mut *c).await?;
            if status == CommentStatus::Visible {
                sqlx::query("UPDATE items SET comments = comments + 1 WHERE id = $1").bind(item_id).execute(&mut *c).await?;
            }
            let comment = Comment {
                id: comment_id, item_id, parent_id, handle: handle.clone(), body: body.to_string(), status,
                pinned: false, hidden_reason: None, up: 0, up_version: 0, flags: 0, seq, created_at: now,
            };
            let event = append_event(c, conversation_id, Some(seq), &handle, EventData::Comment {
                action: "created".into(), comment: comment.clone(), previous: None,
            }, now).await?;
            Ok(Written { outcome: Outcome::Comment(comment), events: vec![event], tally: None })
        }

        async fn flag(
            c: &mut Conn,
            conversation_id: Uuid,
            comment_id: Uuid,
            flag_id: Uuid,
            participant_id: Uuid,
            reason: &str,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let comment = load_comment(c, conversation_id, comment_id).await?.ok_or(StoreError::NotFound("comment"))?;
            let handle = contributor(c, conversation_id, participant_id).await?;
            let inserted = sqlx::query("INSERT INTO flags (id, comment_id, participant_id, reason, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                .bind(flag_id).bind(comment_id).bind(participant_id).bind(reason).bind(now.0)
                .execute(&mut *c).await?;
            if inserted.rows_affected() == 0 {
                // A retry, or this participant flagged it already.
                return Ok(Written::outcome(Outcome::Flags(comment.flags)));
            }
            let flags: i64 = sqlx::query_scalar("UPDATE comments SET flags = flags + 1 WHERE id = $1 RETURNING flags")
                .bind(comment_id).fetch_one(&mut *c).await?;
            let event = append_event(c, conversation_id, None, &handle, EventData::Flag {
                comment_id, reason: reason.to_string(), flags,
            }, now).await?;
            Ok(Written { outcome: Outcome::Flags(flags), events: vec![event], tally: None })
        }

        #[allow(clippy::too_many_arguments)]
        async fn idea(
            c: &mut Conn,
            conversation_id: Uuid,
            item_id: Uuid,
            participant_id: Uuid,
            title: &str,
            body: &str,
            status: ItemStatus,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let existing: Option<(Option<Uuid>, Uuid)> = sqlx::query_as("SELECT participant_id, conversation_id FROM items WHERE id = $1")
                .bind(item_id).fetch_optional(&mut *c).await?;
            if let Some((author, conversation)) = existing {
                if author != Some(participant_id) || conversation != conversation_id {
                    return Err(StoreError::Conflict("this idea id is already in use".into()));
                }
                let item = load_item(c, conversation_id, item_id).await?.ok_or(StoreError::NotFound("item"))?;
                return Ok(Written::outcome(Outcome::Item(item)));
            }
            let handle = contributor(c, conversation_id, participant_id).await?;
            sqlx::query("INSERT INTO items (id, conversation_id, kind, title, body, status, position, participant_id, handle, strong, wrong, version, comments, created_at) \
                         VALUES ($1, $2, 'idea', $3, $4, $5, 0, $6, $7, 0, 0, 0, 0, $8)")
                .bind(item_id).bind(conversation_id).bind(title).bind(body).bind(status.as_str())
                .bind(participant_id).bind(&handle).bind(now.0)
                .execute(&mut *c).await?;
            let item = load_item(c, conversation_id, item_id).await?.ok_or(StoreError::NotFound("item"))?;
            let event = append_event(c, conversation_id, None, &handle, EventData::Item {
                action: "created".into(), item: item.clone(), previous: None,
            }, now).await?;
            Ok(Written { outcome: Outcome::Item(item), events: vec![event], tally: None })
        }

        #[allow(clippy::too_many_arguments)]
        async fn moderate_comment(
            c: &mut Conn,
            conversation_id: Uuid,
            comment_id: Uuid,
            request_id: Uuid,
            actor: &str,
            action: ModerationAction,
            reason: Option<&str>,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let fresh = first_time(c, request_id, now).await?;
            let before = load_comment(c, conversation_id, comment_id).await?.ok_or(StoreError::NotFound("comment"))?;
            let (status, pinned) = action.apply(before.status, before.pinned);
            // Approving also settles the comment's open flags: it has been
            // reviewed, so it leaves every desk's review queue.
            let flags = if action == ModerationAction::Approve { 0 } else { before.flags };
            if !fresh || (status, pinned, flags) == (before.status, before.pinned, before.flags) {
                return Ok(Written::outcome(Outcome::Comment(before)));
            }
            let hidden_reason = match status {
                CommentStatus::Hidden => reason.map(str::to_string),
                _ => None,
            };
            sqlx::query("UPDATE comments SET status = $1, pinned = $2, hidden_reason = $3, flags = $5 WHERE id = $4")
                .bind(status.as_str()).bind(pinned).bind(&hidden_reason).bind(comment_id).bind(flags)
                .execute(&mut *c).await?;
            let was_visible = before.status == CommentStatus::Visible;
            let is_visible = status == CommentStatus::Visible;
            if was_visible != is_visible {
                sqlx::query("UPDATE items SET comments = comments + $1 WHERE id = $2")
                    .bind(if is_visible { 1i64 } else { -1i64 }).bind(before.item_id)
                    .execute(&mut *c).await?;
            }
            let comment = Comment { status, pinned, hidden_reason, flags, ..before.clone() };
            let event = append_event(c, conversation_id, None, actor, EventData::Comment {
                action: action.as_str().into(), comment: comment.clone(), previous: Some(before.status),
            }, now).await?;
            Ok(Written { outcome: Outcome::Comment(comment), events: vec![event], tally: None })
        }

        #[allow(clippy::too_many_arguments)]
        async fn moderate_item(
            c: &mut Conn,
            conversation_id: Uuid,
            item_id: Uuid,
            request_id: Uuid,
            actor: &str,
            action: ModerationAction,
            _reason: Option<&str>,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let fresh = first_time(c, request_id, now).await?;
            let before = load_item(c, conversation_id, item_id).await?.ok_or(StoreError::NotFound("item"))?;
            let status = match action {
                ModerationAction::Hide => ItemStatus::Hidden,
                ModerationAction::Approve | ModerationAction::Restore => ItemStatus::Visible,
                ModerationAction::Pin | ModerationAction::Unpin => {
                    return Err(StoreError::Invalid { field: "action", message: "items can be approved, hidden or restored".into() });
                }
            };
            if !fresh || status == before.status {
                return Ok(Written::outcome(Outcome::Item(before)));
            }
            sqlx::query("UPDATE items SET status = $1 WHERE id = $2")
                .bind(status.as_str()).bind(item_id)
                .execute(&mut *c).await?;
            let item = Item { status, ..before.clone() };
            let event = append_event(c, conversation_id, None, actor, EventData::Item {
                action: action.as_str().into(), item: item.clone(), previous: Some(before.status),
            }, now).await?;
            Ok(Written { outcome: Outcome::Item(item), events: vec![event], tally: None })
        }

        /// The word list and display mode as stored (JSON text).
        fn conversation_json(conversation: &Conversation) -> Result<(String, String), StoreError> {
            let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
            Ok((
                serde_json::to_string(&conversation.word_list).map_err(corrupt)?,
                serde_json::to_string(&conversation.display).map_err(corrupt)?,
            ))
        }

        #[allow(clippy::too_many_arguments)]
        async fn edit_comment(
            c: &mut Conn,
            conversation_id: Uuid,
            comment_id: Uuid,
            request_id: Uuid,
            actor: &str,
            body: &str,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let fresh = first_time(c, request_id, now).await?;
            let before = load_comment(c, conversation_id, comment_id).await?.ok_or(StoreError::NotFound("comment"))?;
            if !fresh || before.body == body {
                return Ok(Written::outcome(Outcome::Comment(before)));
            }
            sqlx::query("UPDATE comments SET original_body = COALESCE(original_body, body), body = $1 WHERE id = $2")
                .bind(body).bind(comment_id)
                .execute(&mut *c).await?;
            let comment = Comment { body: body.to_string(), ..before.clone() };
            let event = append_event(c, conversation_id, None, actor, EventData::Comment {
                action: "edit".into(), comment: comment.clone(), previous: Some(before.status),
            }, now).await?;
            Ok(Written { outcome: Outcome::Comment(comment), events: vec![event], tally: None })
        }

        #[allow(clippy::too_many_arguments)]
        async fn moderate_author(
            c: &mut Conn,
            conversation_id: Uuid,
            comment_id: Uuid,
            request_id: Uuid,
            actor: &str,
            action: AuthorAction,
            reason: Option<&str>,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let fresh = first_time(c, request_id, now).await?;
            let author: Option<Uuid> = sqlx::query_scalar("SELECT participant_id FROM comments WHERE id = $1 AND conversation_id = $2")
                .bind(comment_id).bind(conversation_id)
                .fetch_optional(&mut *c).await?;
            let author = author.ok_or(StoreError::NotFound("comment"))?;
            let (handle, suspended): (String, bool) = sqlx::query_as("SELECT handle, suspended FROM participants WHERE id = $1")
                .bind(author).fetch_one(&mut *c).await?;
            let mut events = Vec::new();
            if fresh {
                match action {
                    AuthorAction::Suspend | AuthorAction::Unsuspend => {
                        let suspend = action == AuthorAction::Suspend;
                        if suspend != suspended {
                            sqlx::query("UPDATE participants SET suspended = $1 WHERE id = $2")
                                .bind(suspend).bind(author)
                                .execute(&mut *c).await?;
                            events.push(append_event(c, conversation_id, None, actor, EventData::Participant {
                                action: if suspend { "suspend".into() } else { "unsuspend".into() },
                                handle: handle.clone(),
                                suspended: suspend,
                            }, now).await?);
                        }
                    }
                    AuthorAction::HideAll => {
                        let ids: Vec<Uuid> = sqlx::query_scalar(
                            "SELECT id FROM comments WHERE participant_id = $1 AND conversation_id = $2 AND status <> 'hidden' ORDER BY seq")
                            .bind(author).bind(conversation_id)
                            .fetch_all(&mut *c).await?;
                        for id in ids {
                            let written = moderate_comment(c, conversation_id, id, Uuid::new_v4(), actor, ModerationAction::Hide, reason, now).await?;
                            events.extend(written.events);
                        }
                    }
                }
            }
            let comment = load_comment(c, conversation_id, comment_id).await?.ok_or(StoreError::NotFound("comment"))?;
            Ok(Written { outcome: Outcome::Comment(comment), events, tally: None })
        }

        async fn create_conversation(c: &mut Conn, conversation: &Conversation, now: Millis) -> Result<Written, StoreError> {
            let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM conversations WHERE slug = $1")
                .bind(&conversation.slug).fetch_optional(&mut *c).await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!("the slug {:?} is already taken", conversation.slug)));
            }
            let questions = serde_json::to_string(&conversation.profile_questions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let (word_list, display) = conversation_json(conversation)?;
            sqlx::query("INSERT INTO conversations (id, slug, title, introduction, opens_at, closes_at, signup_mode, access_code, moderation, ideas_need_approval, profile_questions, results_visible, last_seq, created_at, word_list, display) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15)")
                .bind(conversation.id).bind(&conversation.slug).bind(&conversation.title).bind(&conversation.introduction)
                .bind(conversation.opens_at.0).bind(conversation.closes_at.0).bind(signup_mode_str(conversation.signup_mode))
                .bind(&conversation.access_code).bind(moderation_str(conversation.moderation)).bind(conversation.ideas_need_approval)
                .bind(questions).bind(conversation.results_visible).bind(now.0).bind(word_list).bind(display)
                .execute(&mut *c).await?;
            Ok(Written::outcome(Outcome::Conversation(conversation.clone())))
        }

        async fn update_conversation(
            c: &mut Conn,
            conversation: &Conversation,
            actor: &str,
            action: &str,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let questions = serde_json::to_string(&conversation.profile_questions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let (word_list, display) = conversation_json(conversation)?;
            let updated = sqlx::query("UPDATE conversations SET title = $1, introduction = $2, opens_at = $3, closes_at = $4, signup_mode = $5, access_code = $6, \
                                       moderation = $7, ideas_need_approval = $8, profile_questions = $9, results_visible = $10, word_list = $12, display = $13 WHERE id = $11")
                .bind(&conversation.title).bind(&conversation.introduction).bind(conversation.opens_at.0).bind(conversation.closes_at.0)
                .bind(signup_mode_str(conversation.signup_mode)).bind(&conversation.access_code).bind(moderation_str(conversation.moderation))
                .bind(conversation.ideas_need_approval).bind(questions).bind(conversation.results_visible).bind(conversation.id)
                .bind(word_list).bind(display)
                .execute(&mut *c).await?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::NotFound("conversation"));
            }
            let event = append_event(c, conversation.id, None, actor, EventData::Conversation {
                action: action.to_string(), conversation: conversation.clone(),
            }, now).await?;
            Ok(Written { outcome: Outcome::Conversation(conversation.clone()), events: vec![event], tally: None })
        }

        #[allow(clippy::too_many_arguments)]
        async fn upsert_pledge(
            c: &mut Conn,
            conversation_id: Uuid,
            item_id: Uuid,
            title: &str,
            body: &str,
            position: i64,
            actor: &str,
            now: Millis,
        ) -> Result<Written, StoreError> {
            let owner: Option<Uuid> = sqlx::query_scalar("SELECT conversation_id FROM items WHERE id = $1")
                .bind(item_id).fetch_optional(&mut *c).await?;
            let (action, previous) = match owner {
                Some(owner) if owner != conversation_id => {
                    return Err(StoreError::Conflict("this item id is already in use".into()));
                }
                Some(_) => {
                    let before = load_item(c, conversation_id, item_id).await?.ok_or(StoreError::NotFound("item"))?;
                    if before.kind != ItemKind::Pledge {
                        return Err(StoreError::Conflict("this item id belongs to an idea".into()));
                    }
                    if before.title == title && before.body == body && before.position == position {
                        return Ok(Written::outcome(Outcome::Item(before)));
                    }
                    sqlx::query("UPDATE items SET title = $1, body = $2, position = $3 WHERE id = $4")
                        .bind(title).bind(body).bind(position).bind(item_id)
                        .execute(&mut *c).await?;
                    ("edit", Some(before.status))
                }
                None => {
                    sqlx::query("INSERT INTO items (id, conversation_id, kind, title, body, status, position, participant_id, handle, strong, wrong, version, comments, created_at) \
                                 VALUES ($1, $2, 'pledge', $3, $4, 'visible', $5, NULL, NULL, 0, 0, 0, 0, $6)")
                        .bind(item_id).bind(conversation_id).bind(title).bind(body).bind(position).bind(now.0)
                        .execute(&mut *c).await?;
                    ("created", None)
                }
            };
            let item = load_item(c, conversation_id, item_id).await?.ok_or(StoreError::NotFound("item"))?;
            let event = append_event(c, conversation_id, None, actor, EventData::Item {
                action: action.into(), item: item.clone(), previous,
            }, now).await?;
            Ok(Written { outcome: Outcome::Item(item), events: vec![event], tally: None })
        }

        #[async_trait]
        impl Store for $Store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.reads).await?;
                Ok(())
            }

            async fn write(&self, write: Write) -> Result<Written, StoreError> {
                let sender = self.writes.lock().expect("not poisoned").clone().ok_or(StoreError::Closed)?;
                let (reply, answer) = oneshot::channel();
                sender.try_send(Pending { write, reply }).map_err(|e| match e {
                    mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
                    mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
                })?;
                answer.await.map_err(|_| StoreError::Closed)?
            }

            async fn close(&self) {
                // Dropping the sender lets the writer drain what is queued, then end.
                self.writes.lock().expect("not poisoned").take();
                if let Some(handle) = self.writer.lock().await.take() {
                    let _ = handle.await;
                }
                self.reads.close().await;
            }

            async fn conversation_by_slug(&self, slug: &str) -> Result<Option<Conversation>, StoreError> {
                let row: Option<ConversationRow> = sqlx::query_as(concat!("SELECT ", conversation_columns!(), " FROM conversations WHERE slug = $1"))
                    .bind(slug).fetch_optional(&self.reads).await?;
                row.map(Conversation::try_from).transpose()
            }

            async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
                let rows: Vec<ConversationRow> = sqlx::query_as(concat!("SELECT ", conversation_columns!(), " FROM conversations ORDER BY opens_at DESC, slug"))
                    .fetch_all(&self.reads).await?;
                rows.into_iter().map(Conversation::try_from).collect()
            }

            async fn snapshot(&self, conversation_id: Uuid, include_hidden: bool) -> Result<Snapshot, StoreError> {
                // One read transaction, so the items and the sequence number agree.
                let mut tx = self.reads.begin().await?;
                let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
                    .bind(conversation_id).fetch_optional(&mut *tx).await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                let rows: Vec<ItemRow> = sqlx::query_as(concat!("SELECT ", item_columns!(),
                    " FROM items WHERE conversation_id = $1 AND (status = 'visible' OR $2) ORDER BY kind DESC, position, created_at, id"))
                    .bind(conversation_id).bind(include_hidden)
                    .fetch_all(&mut *tx).await?;
                tx.commit().await?;
                let items = rows.into_iter().map(Item::try_from).collect::<Result<_, _>>()?;
                Ok(Snapshot { items, seq })
            }

            async fn item(&self, conversation_id: Uuid, item_id: Uuid) -> Result<Option<Item>, StoreError> {
                let mut c = self.reads.acquire().await?;
                load_item(&mut c, conversation_id, item_id).await
            }

            async fn votes_of(&self, participant_id: Uuid) -> Result<(Vec<(Uuid, Choice)>, Vec<Uuid>), StoreError> {
                let votes: Vec<(Uuid, String)> = sqlx::query_as("SELECT item_id, choice FROM votes WHERE participant_id = $1")
                    .bind(participant_id).fetch_all(&self.reads).await?;
                let up: Vec<Uuid> = sqlx::query_scalar("SELECT comment_id FROM comment_votes WHERE participant_id = $1")
                    .bind(participant_id).fetch_all(&self.reads).await?;
                let votes = votes.into_iter().filter_map(|(id, c)| c.parse::<Choice>().ok().map(|c| (id, c))).collect();
                Ok((votes, up))
            }

            async fn comments(&self, conversation_id: Uuid, item_id: Uuid, after: i64, limit: i64, include_all: bool) -> Result<Vec<Comment>, StoreError> {
                let rows: Vec<CommentRow> = sqlx::query_as(concat!("SELECT ", comment_columns!(),
                    " FROM comments WHERE conversation_id = $1 AND item_id = $2 AND seq > $3 AND (status = 'visible' OR $4) ORDER BY seq LIMIT $5"))
                    .bind(conversation_id).bind(item_id).bind(after).bind(include_all).bind(limit)
                    .fetch_all(&self.reads).await?;
                rows.into_iter().map(Comment::try_from).collect()
            }

            async fn moderation_queue(&self, conversation_id: Uuid, filter: QueueFilter) -> Result<Vec<Comment>, StoreError> {
                let condition = match filter {
                    QueueFilter::Pending => "status = 'pending'",
                    QueueFilter::Hidden => "status = 'hidden'",
                    QueueFilter::Flagged => "flags > 0 AND status <> 'hidden'",
                    QueueFilter::All => "1 = 1",
                };
                let sql = format!(concat!("SELECT ", comment_columns!(), " FROM comments WHERE conversation_id = $1 AND {} ORDER BY seq LIMIT 1000"), condition);
                let rows: Vec<CommentRow> = sqlx::query_as(&sql).bind(conversation_id).fetch_all(&self.reads).await?;
                rows.into_iter().map(Comment::try_from).collect()
            }

            async fn events(&self, conversation_id: Uuid, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
                let rows: Vec<EventRow> = sqlx::query_as(
                    "SELECT conversation_id, seq, actor, data, created_at FROM events WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                    .bind(conversation_id).bind(after).bind(limit)
                    .fetch_all(&self.reads).await?;
                rows.into_iter().map(Event::try_from).collect()
            }

            async fn last_seq(&self, conversation_id: Uuid) -> Result<i64, StoreError> {
                let seq: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
                    .bind(conversation_id).fetch_optional(&self.reads).await?;
                seq.ok_or(StoreError::NotFound("conversation"))
            }

            async fn tallies(&self, conversation_id: Uuid) -> Result<Tallies, StoreError> {
                let items: Vec<(Uuid, i64, i64, i64)> = sqlx::query_as("SELECT id, strong, wrong, version FROM items WHERE conversation_id = $1 AND status = 'visible'")
                    .bind(conversation_id).fetch_all(&self.reads).await?;
                let comments: Vec<(Uuid, i64, i64)> = sqlx::query_as(
                    "SELECT id, up, up_version FROM comments WHERE conversation_id = $1 AND up_version > 0 AND status = 'visible'")
                    .bind(conversation_id).fetch_all(&self.reads).await?;
                Ok(Tallies {
                    items: items.into_iter().map(|(id, strong, wrong, version)| (id, Tally { strong, wrong, version })).collect(),
                    comments: comments.into_iter().map(|(id, up, version)| (id, CommentTally { up, version })).collect(),
                })
            }

            async fn session(&self, token_hash: &[u8]) -> Result<Option<Session>, StoreError> {
                let row: Option<(Uuid, Option<Uuid>, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT s.id, u.id, u.name, u.role FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1")
                    .bind(token_hash).fetch_optional(&self.reads).await?;
                Ok(row.map(|(id, user_id, name, role)| Session {
                    id,
                    user: match (user_id, name, role.as_deref().and_then(|r| r.parse::<Role>().ok())) {
                        (Some(id), Some(name), Some(role)) => Some(User { id, name, role }),
                        _ => None,
                    },
                }))
            }

            async fn participant(&self, conversation_id: Uuid, session_id: Uuid) -> Result<Option<Participant>, StoreError> {
                let row: Option<ParticipantRow> = sqlx::query_as(
                    "SELECT id, conversation_id, handle, suspended FROM participants WHERE conversation_id = $1 AND session_id = $2")
                    .bind(conversation_id).bind(session_id)
                    .fetch_optional(&self.reads).await?;
                Ok(row.map(Participant::from))
            }

            async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
                let row: Option<(Uuid, String, String, String)> = sqlx::query_as("SELECT id, name, role, password_hash FROM users WHERE name = $1")
                    .bind(name).fetch_optional(&self.reads).await?;
                Ok(row.and_then(|(id, name, role, hash)| role.parse::<Role>().ok().map(|role| (User { id, name, role }, hash))))
            }

            async fn users(&self) -> Result<Vec<User>, StoreError> {
                let rows: Vec<(Uuid, String, String)> = sqlx::query_as("SELECT id, name, role FROM users ORDER BY name")
                    .fetch_all(&self.reads).await?;
                Ok(rows.into_iter().filter_map(|(id, name, role)| role.parse::<Role>().ok().map(|role| User { id, name, role })).collect())
            }

            async fn original_body(&self, conversation_id: Uuid, comment_id: Uuid) -> Result<Option<String>, StoreError> {
                let row: Option<(Option<String>,)> = sqlx::query_as("SELECT original_body FROM comments WHERE id = $1 AND conversation_id = $2")
                    .bind(comment_id).bind(conversation_id)
                    .fetch_optional(&self.reads).await?;
                let (original,) = row.ok_or(StoreError::NotFound("comment"))?;
                Ok(original)
            }

            async fn report_data(&self, conversation_id: Uuid) -> Result<$crate::store::ReportData, StoreError> {
                use $crate::store::{ReportData, ReportParticipant, ReportVote};
                let mut tx = self.reads.begin().await?;
                let conversation: ConversationRow = sqlx::query_as(concat!("SELECT ", conversation_columns!(), " FROM conversations WHERE id = $1"))
                    .bind(conversation_id).fetch_optional(&mut *tx).await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                let participants: Vec<(Uuid, String, i64)> = sqlx::query_as("SELECT id, profile, created_at FROM participants WHERE conversation_id = $1")
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                let items: Vec<ItemRow> = sqlx::query_as(concat!("SELECT ", item_columns!(), " FROM items WHERE conversation_id = $1 ORDER BY kind DESC, position, created_at, id"))
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                let votes: Vec<(Uuid, Uuid, String, i64)> = sqlx::query_as("SELECT participant_id, item_id, choice, updated_at FROM votes WHERE conversation_id = $1")
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                let comments: Vec<CommentRow> = sqlx::query_as(concat!("SELECT ", comment_columns!(), " FROM comments WHERE conversation_id = $1 ORDER BY seq"))
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                let authors: Vec<(Uuid,)> = sqlx::query_as("SELECT participant_id FROM comments WHERE conversation_id = $1 ORDER BY seq")
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                let events: Vec<EventRow> = sqlx::query_as(
                    "SELECT conversation_id, seq, actor, data, created_at FROM events WHERE conversation_id = $1 AND kind = 'conversation' ORDER BY seq")
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                let display_days: Vec<i64> = sqlx::query_scalar("SELECT day FROM display_sessions WHERE conversation_id = $1 ORDER BY day")
                    .bind(conversation_id).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                let participants = participants
                    .into_iter()
                    .map(|(id, profile, created_at)| {
                        Ok(ReportParticipant {
                            id,
                            profile: serde_json::from_str(&profile).map_err(|e| StoreError::Corrupt(format!("profile: {e}")))?,
                            created_at: Millis(created_at),
                        })
                    })
                    .collect::<Result<_, StoreError>>()?;
                let votes = votes
                    .into_iter()
                    .filter_map(|(participant_id, item_id, choice, at)| {
                        choice.parse::<Choice>().ok().map(|choice| ReportVote { participant_id, item_id, choice, at: Millis(at) })
                    })
                    .collect();
                let comments = comments
                    .into_iter()
                    .zip(authors)
                    .map(|(row, (author,))| Comment::try_from(row).map(|c| (c, author)))
                    .collect::<Result<_, _>>()?;
                Ok(ReportData {
                    conversation: Conversation::try_from(conversation)?,
                    participants,
                    items: items.into_iter().map(Item::try_from).collect::<Result<_, _>>()?,
                    votes,
                    comments,
                    conversation_events: events.into_iter().map(Event::try_from).collect::<Result<_, _>>()?,
                    display_days,
                })
            }

            async fn display_token_valid(&self, conversation_id: Uuid, token_hash: &[u8]) -> Result<bool, StoreError> {
                let found: Option<Uuid> = sqlx::query_scalar("SELECT conversation_id FROM display_tokens WHERE token_hash = $1")
                    .bind(token_hash).fetch_optional(&self.reads).await?;
                Ok(found == Some(conversation_id))
            }
        }
    };
}

pub(super) use sql_store;
