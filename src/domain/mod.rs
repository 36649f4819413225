//! The rules of an open conversation, with no IO and no async: what a
//! conversation, an item, a vote and a comment are, what text is
//! acceptable, who may watch a conversation as what, and what each
//! audience may see of an event. Everything
//! here is a plain value that the store persists and the hub projects.

pub mod audience;
pub mod comment;
pub mod conversation;
pub mod event;
pub mod handle;
pub mod item;
pub mod text;
pub mod time;
pub mod user;
pub mod vote;

pub use audience::{watch_as, Standing, WatchRole};
pub use comment::{AuthorAction, Comment, CommentStatus, CommentTally, ModerationAction};
pub use conversation::{
    Conversation, ConversationState, DisplayKind, DisplayMode, Moderation, NewConversation,
    ProfileQuestion, SignupMode,
};
pub use event::{Audience, Event, EventData};
pub use item::{Item, ItemKind, ItemStatus, Tally};
pub use text::{FieldError, Invalid};
pub use time::Millis;
pub use user::{Role, User};
pub use vote::Choice;

use uuid::Uuid;

/// A participant as others see them: a pseudonymous handle, never a name.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Participant {
    /// Stable id; never shown to other participants.
    pub id: Uuid,
    /// The conversation this identity belongs to (handles are per conversation).
    #[serde(skip)]
    pub conversation_id: Uuid,
    /// What others see, e.g. "Amber Heron".
    pub handle: String,
    /// A suspended participant can read but not contribute.
    pub suspended: bool,
}
