//! How a change reaches the writer and how its answer comes back, typed.
//!
//! Every change is a [`Command`]: a plain struct (see `store/write/`) whose
//! `Answer` type is what the caller gets. A handler that sends a
//! [`CastVote`](super::write::CastVote) can only receive a
//! [`Voted`](super::write::Voted); asking for anything else does not
//! compile. On the way to the writer the command travels as one variant of
//! [`Pending`], the one list of every kind of write, so the writer can
//! batch them; the typed reply channel travels with it.

use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::write::{
    AnnounceDeadline, AuthorDeleteComment, AuthorDeleteIdea, AuthorEditComment, AuthorEditIdea,
    CastVote, ChangeConversation, CreateConversation, CreateDisplayToken, CreateSession,
    CreateUser, DeleteConversation, EditComment, EndSession, FlagComment, Leave, ModerateAuthor,
    ModerateComment, ModerateItem, PostComment, PruneRequests, PruneSessions, RecordDisplayDay,
    RefreshSession, RemoveItem, ReorderItems, SetPassword, SignUp, SuggestIdea, UpVote,
    UpsertPledge,
};
use super::write::{IssueInvites, RequestEmailCode, SetReturnPhrase, VerifyEmailCode};
use super::{StoreError, TallyChange};
use crate::domain::Event;

/// A change to stored state.
pub trait Command: Send + Sync + 'static {
    /// What the caller is told. Serde, because the first answer to a
    /// request id is stored and given again, byte for byte, to retries.
    type Answer: serde::Serialize + serde::de::DeserializeOwned + Send + 'static;

    /// The conversation whose rows this changes, if any (PostgreSQL locks
    /// it first, so concurrent nodes queue rather than deadlock).
    fn conversation_id(&self) -> Option<Uuid>;

    /// The client's request id and a fingerprint of what was asked, for
    /// changes a client may retry. `None` for changes that are naturally
    /// idempotent or that no client retries.
    fn request(&self) -> Option<RequestKey> {
        None
    }

    /// The comment or idea whose state the answer shows, if any: deleting
    /// it later clears its text from the recorded answer too (see
    /// `write::self_service`).
    fn target(&self) -> Option<Uuid> {
        None
    }

    /// Wraps this command for the writer's queue.
    fn pending(request: Request<Self>) -> Pending
    where
        Self: Sized;
}

/// A client's idempotency key and what it was used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestKey {
    pub id: Uuid,
    /// The first 128 bits of the SHA-256 of the kind of write, the caller,
    /// the target and the body: it is only ever compared with the record
    /// of the same id, so 128 bits leave nothing to chance, and every vote
    /// writes one.
    pub fingerprint: [u8; 16],
}

impl RequestKey {
    /// The key for `id` used by `kind` with these parts. Every part that
    /// the client chose or that identifies the caller belongs in `parts`;
    /// what the server decides (say, whether a comment needs review) does
    /// not, so a retry after a settings change is still a retry.
    pub fn new(id: Uuid, kind: &str, parts: &impl serde::Serialize) -> RequestKey {
        let mut hash = Sha256::new();
        hash.update(kind.as_bytes());
        hash.update([0]);
        hash.update(serde_json::to_vec(parts).expect("plain values serialise"));
        RequestKey {
            id,
            fingerprint: hash.finalize()[..16].try_into().expect("16 of 32 bytes"),
        }
    }
}

/// A committed change: the answer, and what the live hub must hear.
#[derive(Debug, Clone)]
pub struct Committed<T> {
    pub answer: T,
    /// The events this change appended, in order (none for votes and retries).
    pub events: Vec<Event>,
    /// The tally this change moved, if any: (conversation, change).
    pub tally: Option<(Uuid, TallyChange)>,
}

impl<T> Committed<T> {
    /// An answer that changed nothing the hub needs to hear about.
    pub fn quiet(answer: T) -> Committed<T> {
        Committed {
            answer,
            events: Vec::new(),
            tally: None,
        }
    }
}

/// The result a writer sends back for a command.
pub type Answer<C> = Result<Committed<<C as Command>::Answer>, StoreError>;

/// A command on its way through the writer: the command, its reply
/// channel, and (between applying and committing) its result.
pub struct Request<C: Command> {
    pub command: C,
    /// Set when the command has been applied in the open transaction;
    /// sent only once that transaction commits.
    pub result: Option<Answer<C>>,
    reply: Option<oneshot::Sender<Answer<C>>>,
}

impl<C: Command> Request<C> {
    pub fn new(command: C) -> (Request<C>, oneshot::Receiver<Answer<C>>) {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            command,
            result: None,
            reply: Some(reply),
        };
        (request, answer)
    }
}

/// What the writer needs of every request, whatever its command.
pub trait Job: Send {
    fn conversation_id(&self) -> Option<Uuid>;
    /// Forgets the result of an attempt whose transaction did not commit.
    fn reset(&mut self);
    /// Replaces the result with `error`: the transaction did not commit.
    fn fail(&mut self, error: StoreError);
    /// Sends the caller its result.
    fn answer(&mut self);
}

impl<C: Command> Job for Request<C> {
    fn conversation_id(&self) -> Option<Uuid> {
        self.command.conversation_id()
    }

    fn reset(&mut self) {
        self.result = None;
    }

    fn fail(&mut self, error: StoreError) {
        self.result = Some(Err(error));
    }

    fn answer(&mut self) {
        let result = self
            .result
            .take()
            .unwrap_or(Err(StoreError::Corrupt("a write was not applied".into())));
        if let Some(reply) = self.reply.take() {
            // The caller may have gone; the write stands either way.
            let _ = reply.send(result);
        }
    }
}

/// Every kind of write, as the writer's queue carries it.
pub enum Pending {
    CreateSession(Request<CreateSession>),
    EndSession(Request<EndSession>),
    RefreshSession(Request<RefreshSession>),
    PruneSessions(Request<PruneSessions>),
    CreateUser(Request<CreateUser>),
    SetPassword(Request<SetPassword>),
    SignUp(Request<SignUp>),
    RequestEmailCode(Request<RequestEmailCode>),
    VerifyEmailCode(Request<VerifyEmailCode>),
    IssueInvites(Request<IssueInvites>),
    SetReturnPhrase(Request<SetReturnPhrase>),
    CastVote(Request<CastVote>),
    UpVote(Request<UpVote>),
    PostComment(Request<PostComment>),
    FlagComment(Request<FlagComment>),
    SuggestIdea(Request<SuggestIdea>),
    ModerateComment(Request<ModerateComment>),
    ModerateItem(Request<ModerateItem>),
    EditComment(Request<EditComment>),
    ModerateAuthor(Request<ModerateAuthor>),
    CreateConversation(Request<CreateConversation>),
    ChangeConversation(Request<ChangeConversation>),
    UpsertPledge(Request<UpsertPledge>),
    CreateDisplayToken(Request<CreateDisplayToken>),
    RecordDisplayDay(Request<RecordDisplayDay>),
    AnnounceDeadline(Request<AnnounceDeadline>),
    PruneRequests(Request<PruneRequests>),
    RemoveItem(Request<RemoveItem>),
    ReorderItems(Request<ReorderItems>),
    DeleteConversation(Request<DeleteConversation>),
    AuthorEditComment(Request<AuthorEditComment>),
    AuthorEditIdea(Request<AuthorEditIdea>),
    AuthorDeleteComment(Request<AuthorDeleteComment>),
    AuthorDeleteIdea(Request<AuthorDeleteIdea>),
    Leave(Request<Leave>),
}

impl Pending {
    /// The request behind the variant, for what every kind shares.
    pub fn job(&mut self) -> &mut dyn Job {
        match self {
            Pending::CreateSession(r) => r,
            Pending::EndSession(r) => r,
            Pending::RefreshSession(r) => r,
            Pending::PruneSessions(r) => r,
            Pending::CreateUser(r) => r,
            Pending::SetPassword(r) => r,
            Pending::SignUp(r) => r,
            Pending::RequestEmailCode(r) => r,
            Pending::VerifyEmailCode(r) => r,
            Pending::IssueInvites(r) => r,
            Pending::SetReturnPhrase(r) => r,
            Pending::CastVote(r) => r,
            Pending::UpVote(r) => r,
            Pending::PostComment(r) => r,
            Pending::FlagComment(r) => r,
            Pending::SuggestIdea(r) => r,
            Pending::ModerateComment(r) => r,
            Pending::ModerateItem(r) => r,
            Pending::EditComment(r) => r,
            Pending::ModerateAuthor(r) => r,
            Pending::CreateConversation(r) => r,
            Pending::ChangeConversation(r) => r,
            Pending::UpsertPledge(r) => r,
            Pending::CreateDisplayToken(r) => r,
            Pending::RecordDisplayDay(r) => r,
            Pending::AnnounceDeadline(r) => r,
            Pending::PruneRequests(r) => r,
            Pending::RemoveItem(r) => r,
            Pending::ReorderItems(r) => r,
            Pending::DeleteConversation(r) => r,
            Pending::AuthorEditComment(r) => r,
            Pending::AuthorEditIdea(r) => r,
            Pending::AuthorDeleteComment(r) => r,
            Pending::AuthorDeleteIdea(r) => r,
            Pending::Leave(r) => r,
        }
    }
}
