//! The single writer: group commit on a thread of its own.
//!
//! Writes queue here from every request. The writer takes what has arrived
//! together (up to `batch_max`), applies it in one transaction, commits
//! once (one fsync for the lot), and only then answers each caller. Each
//! write but a vote runs in a savepoint, so a bad request rolls back alone;
//! the batch's votes are applied together at the end with one read and one
//! write ([`Tx::cast_votes`]).
//!
//! The writer has its own thread and a current-thread runtime, with its
//! own connection: however many WebSocket tasks a tally tick wakes on the
//! main runtime, commits do not wait behind them. A committed batch goes
//! back to the main runtime in one message, where a task answers each
//! caller: one wake across threads per batch, not one per write.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::Pool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::backend::Backend;
use super::command::{Answer, Command, Pending, Request};
use super::held::HeldConnection;
use super::write::vote::cast_votes_alone;
use super::write::{CastVote, Tx};
use super::StoreError;
use crate::domain::Millis;

/// The handle the store keeps: the queue to the writer thread, and a way
/// to wait for it to finish.
pub struct Writer {
    /// `None` once closed: new writes are refused, queued ones still commit.
    queue: Mutex<Option<mpsc::Sender<Pending>>>,
    /// Fires when the writer thread has committed everything and stopped.
    stopped: tokio::sync::Mutex<Option<oneshot::Receiver<()>>>,
}

impl Writer {
    /// Starts the writer thread. `connect` runs on that thread and opens
    /// (and migrates) the writer's pool; its error is returned here.
    pub async fn start<DB, F, Fut>(
        connect: F,
        batch_max: usize,
        queue: usize,
    ) -> Result<Writer, StoreError>
    where
        DB: Backend,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pool<DB>, StoreError>>,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
        for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
        for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
        for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
        for<'q> Option<String>: sqlx::Encode<'q, DB>,
        usize: sqlx::ColumnIndex<DB::Row>,
        for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
    {
        let (sender, receiver) = mpsc::channel(queue);
        let (ready, is_ready) = oneshot::channel();
        let (stopped, is_stopped) = oneshot::channel();
        let (answers, mut committed) = mpsc::unbounded_channel::<Vec<Pending>>();
        tokio::spawn(async move {
            while let Some(batch) = committed.recv().await {
                for mut pending in batch {
                    pending.job().answer();
                }
            }
            // The writer thread has ended: everything it took is answered.
            let _ = stopped.send(());
        });
        std::thread::Builder::new()
            .name(format!("chorus-{}-writer", DB::LABEL))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the writer's runtime starts");
                runtime.block_on(async move {
                    match connect().await {
                        Ok(pool) => {
                            let _ = ready.send(Ok(()));
                            let mut connection = HeldConnection::new(pool);
                            run(&mut connection, receiver, answers, batch_max).await;
                            connection.close().await;
                        }
                        Err(error) => {
                            let _ = ready.send(Err(error));
                        }
                    }
                });
            })
            .map_err(|e| StoreError::from(sqlx::Error::Io(e)))?;
        is_ready.await.map_err(|_| StoreError::Closed)??;
        Ok(Writer {
            queue: Mutex::new(Some(sender)),
            stopped: tokio::sync::Mutex::new(Some(is_stopped)),
        })
    }

    /// Queues a write, refusing at once when the queue is full (the caller
    /// answers 503 with `Retry-After`) rather than letting waits pile up.
    pub fn submit(&self, pending: Pending) -> Result<(), StoreError> {
        let queue = self.queue.lock().expect("not poisoned").clone();
        let queue = queue.ok_or(StoreError::Closed)?;
        queue.try_send(pending).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })
    }

    /// Refuses new writes, lets the writer commit what is queued, and
    /// waits for it to stop.
    pub async fn close(&self) {
        self.queue.lock().expect("not poisoned").take();
        if let Some(stopped) = self.stopped.lock().await.take() {
            let _ = stopped.await;
        }
    }
}

/// The group-commit loop: each committed (or failed) batch goes to
/// `answers`, whose task answers every caller.
async fn run<DB>(
    connection: &mut HeldConnection<DB>,
    mut queue: mpsc::Receiver<Pending>,
    answers: mpsc::UnboundedSender<Vec<Pending>>,
    batch_max: usize,
) where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let mut batch: Vec<Pending> = Vec::with_capacity(batch_max);
    while queue.recv_many(&mut batch, batch_max).await > 0 {
        let started = Instant::now();
        let size = batch.len();
        commit_batch(connection, &mut batch).await;
        let done = std::mem::replace(&mut batch, Vec::with_capacity(batch_max));
        if let Err(unanswered) = answers.send(done) {
            // The main runtime is gone (shutting down): answer from here.
            for mut pending in unanswered.0 {
                pending.job().answer();
            }
        }
        metrics::histogram!("chorus_store_batch_size", "backend" => DB::LABEL).record(size as f64);
        metrics::histogram!("chorus_store_commit_seconds", "backend" => DB::LABEL)
            .record(started.elapsed().as_secs_f64());
    }
    tracing::debug!(backend = DB::LABEL, "store writer stopped");
}

/// Commits a batch, leaving each write's result in it. When the database
/// (not a bad request) spoils the batch, nothing of it committed: each
/// write then gets a transaction of its own, so one cannot fail the others.
async fn commit_batch<DB>(connection: &mut HeldConnection<DB>, batch: &mut [Pending])
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    match try_batch_retrying(connection, batch).await {
        Ok(()) => {}
        // Unreachable for one is unreachable for all: answer every write at
        // once (503) rather than wait for the database again write by write.
        Err(StoreError::Unavailable(reason)) => {
            for pending in batch.iter_mut() {
                pending.job().fail(StoreError::Unavailable(reason.clone()));
            }
        }
        Err(error) if batch.len() > 1 => {
            tracing::warn!(%error, size = batch.len(), "group commit failed; retrying writes one by one");
            for pending in batch.iter_mut() {
                let alone = try_batch_retrying(connection, std::slice::from_mut(pending)).await;
                if let Err(error) = alone {
                    pending.job().fail(error);
                }
            }
        }
        Err(error) => {
            if let Some(pending) = batch.first_mut() {
                pending.job().fail(error);
            }
        }
    }
}

/// Runs the batch, again when the database asks for it (a deadlock or
/// serialisation failure between nodes), a few times at most.
async fn try_batch_retrying<DB>(
    connection: &mut HeldConnection<DB>,
    batch: &mut [Pending],
) -> Result<(), StoreError>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let mut attempt = 0;
    let mut reconnected = false;
    loop {
        batch.iter_mut().for_each(|p| p.job().reset());
        let result = match try_batch(connection.get().await?, batch).await {
            Ok(()) => Ok(()),
            Err(failure) => {
                let lost = connection.check().await;
                match failure {
                    // The connection died while idle: nothing of the batch
                    // was sent, so a new connection may run all of it.
                    Failure::Begin(_) if lost && !reconnected => {
                        reconnected = true;
                        continue;
                    }
                    Failure::Begin(error) | Failure::Batch(error) => Err(error),
                }
            }
        };
        match result {
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if attempt < 5 && e.code().is_some_and(|code| DB::retryable(&code)) =>
            {
                attempt += 1;
                metrics::counter!("chorus_store_retries_total", "backend" => DB::LABEL)
                    .increment(1);
                tokio::time::sleep(Duration::from_millis(5 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// Why a batch did not commit.
enum Failure {
    /// Its transaction did not begin: nothing of the batch was sent.
    Begin(StoreError),
    /// It failed after its transaction began.
    Batch(StoreError),
}

/// One transaction for the batch.
async fn try_batch<DB>(
    connection: &mut DB::Connection,
    batch: &mut [Pending],
) -> Result<(), Failure>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let mut conversations: Vec<Uuid> = batch
        .iter_mut()
        .filter_map(|p| p.job().conversation_id())
        .collect();
    conversations.sort();
    conversations.dedup();
    if batch.iter().all(|p| matches!(p, Pending::CastVote(_))) {
        let mut votes: Vec<&mut Request<CastVote>> = batch
            .iter_mut()
            .filter_map(|p| match p {
                Pending::CastVote(request) => Some(request),
                _ => None,
            })
            .collect();
        let cast = cast_votes_alone::<DB>(connection, &conversations, &mut votes, Millis::now());
        let Err((begun, error)) = cast.await else {
            return Ok(());
        };
        // A failed statement leaves its transaction open: end it.
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *connection).await;
        return Err(if begun {
            Failure::Batch(error)
        } else {
            Failure::Begin(error)
        });
    }
    let error = {
        let begun = match DB::begin_statement(&conversations) {
            None => sqlx::Connection::begin(&mut *connection).await,
            Some(begin) => sqlx::Connection::begin_with(&mut *connection, begin).await,
        };
        match begun {
            Ok(mut tx) => {
                apply_batch(&mut tx, batch).await.map_err(Failure::Batch)?;
                return tx.commit().await.map_err(|e| Failure::Batch(e.into()));
            }
            Err(error) => error,
        }
    };
    // A custom `BEGIN` may have opened a transaction before its lock
    // failed, and sqlx does not know it is open: end it here.
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *connection).await;
    Err(Failure::Begin(error.into()))
}

/// Applies the batch in its open transaction: each write but a vote in a
/// savepoint of its own, then the votes together.
async fn apply_batch<DB>(tx: &mut DB::Connection, batch: &mut [Pending]) -> Result<(), StoreError>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let now = Millis::now();
    let mut votes: Vec<&mut Request<CastVote>> = Vec::new();
    for pending in batch.iter_mut() {
        if let Pending::CastVote(request) = pending {
            votes.push(request);
            continue;
        }
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        let applied = apply(
            &mut Tx::<DB> {
                c: &mut savepoint,
                now,
            },
            pending,
        )
        .await?;
        if applied {
            savepoint.commit().await?;
        } else {
            savepoint.rollback().await?;
        }
    }
    if !votes.is_empty() {
        Tx::<DB> { c: &mut *tx, now }.cast_votes(&mut votes).await?;
    }
    Ok(())
}

/// Applies one write (not a vote) in its savepoint. `Ok(false)` when the
/// request was refused and its savepoint must be rolled back; `Err` when
/// the database failed and the whole batch must be.
async fn apply<DB>(tx: &mut Tx<'_, DB>, pending: &mut Pending) -> Result<bool, StoreError>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    match pending {
        Pending::CreateSession(r) => apply_one(tx, r, Tx::create_session).await,
        Pending::EndSession(r) => apply_one(tx, r, Tx::end_session).await,
        Pending::RefreshSession(r) => apply_one(tx, r, Tx::refresh_session).await,
        Pending::PruneSessions(r) => apply_one(tx, r, Tx::prune_sessions).await,
        Pending::CreateUser(r) => apply_one(tx, r, Tx::create_user).await,
        Pending::SetPassword(r) => apply_one(tx, r, Tx::set_password).await,
        Pending::SignUp(r) => apply_one(tx, r, Tx::sign_up).await,
        Pending::RequestEmailCode(r) => apply_one(tx, r, Tx::request_email_code).await,
        Pending::VerifyEmailCode(r) => apply_one(tx, r, Tx::verify_email_code).await,
        Pending::IssueInvites(r) => apply_one(tx, r, Tx::issue_invites).await,
        Pending::SetReturnPhrase(r) => apply_one(tx, r, Tx::set_return_phrase).await,
        Pending::UpVote(r) => apply_one(tx, r, Tx::up_vote).await,
        Pending::PostComment(r) => apply_one(tx, r, Tx::post_comment).await,
        Pending::FlagComment(r) => apply_one(tx, r, Tx::flag_comment).await,
        Pending::SuggestIdea(r) => apply_one(tx, r, Tx::suggest_idea).await,
        Pending::ModerateComment(r) => apply_one(tx, r, Tx::moderate_comment).await,
        Pending::ModerateItem(r) => apply_one(tx, r, Tx::moderate_item).await,
        Pending::EditComment(r) => apply_one(tx, r, Tx::edit_comment).await,
        Pending::ModerateAuthor(r) => apply_one(tx, r, Tx::moderate_author).await,
        Pending::CreateConversation(r) => apply_one(tx, r, Tx::create_conversation).await,
        Pending::ChangeConversation(r) => apply_one(tx, r, Tx::change_conversation).await,
        Pending::UpsertPledge(r) => apply_one(tx, r, Tx::upsert_pledge).await,
        Pending::CreateDisplayToken(r) => apply_one(tx, r, Tx::create_display_token).await,
        Pending::RecordDisplayDay(r) => apply_one(tx, r, Tx::record_display_day).await,
        Pending::AnnounceDeadline(r) => apply_one(tx, r, Tx::announce_deadline).await,
        Pending::PruneRequests(r) => apply_one(tx, r, Tx::prune_requests).await,
        Pending::RemoveItem(r) => apply_one(tx, r, Tx::remove_item).await,
        Pending::ReorderItems(r) => apply_one(tx, r, Tx::reorder_items).await,
        Pending::DeleteConversation(r) => apply_one(tx, r, Tx::delete_conversation).await,
        Pending::AuthorEditComment(r) => apply_one(tx, r, Tx::author_edit_comment).await,
        Pending::AuthorEditIdea(r) => apply_one(tx, r, Tx::author_edit_idea).await,
        Pending::AuthorDeleteComment(r) => apply_one(tx, r, Tx::author_delete_comment).await,
        Pending::AuthorDeleteIdea(r) => apply_one(tx, r, Tx::author_delete_idea).await,
        Pending::Leave(r) => apply_one(tx, r, Tx::leave).await,
        Pending::CastVote(_) => unreachable!("votes are applied together by cast_votes"),
    }
}

/// Applies one command exactly once (see [`Tx::once`]) and keeps its answer
/// for after the commit.
async fn apply_one<'c, DB, C>(
    tx: &mut Tx<'c, DB>,
    request: &mut Request<C>,
    op: impl AsyncFnOnce(&mut Tx<'c, DB>, &C) -> Answer<C>,
) -> Result<bool, StoreError>
where
    C: Command,
    DB: Backend,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let answer = tx.once(&request.command, op).await;
    let applied = match &answer {
        Ok(_) => true,
        Err(error) if error.is_request_error() => false,
        Err(_) => return answer.map(|_| false),
    };
    request.result = Some(answer);
    Ok(applied)
}
