//! The rules of an open conversation, with no IO and no async: what a
//! conversation, an item, a vote and a comment are, what text is
//! acceptable, who may watch a conversation as what, and what each
//! audience may see of an event. Everything
//! here is a plain value that the store persists and the hub projects.

pub mod audience;
pub mod comment;
pub mod contribution;
pub mod conversation;
pub mod event;
pub mod handle;
pub mod item;
pub mod results;
pub mod text;
pub mod time;
pub mod user;
pub mod vote;
pub mod ways_in;

pub use audience::{watch_as, Standing, WatchRole};
pub use comment::{AuthorAction, Comment, CommentStatus, CommentTally, ModerationAction};
pub use contribution::{EditRefused, LeaveComments, FORMER_PARTICIPANT};
pub use conversation::{
    Conversation, ConversationState, DisplayKind, DisplayMode, Moderation, NewConversation,
    ProfileQuestion, ResultsVisibility, TalliesVisible, TallyView,
};
pub use event::{Audience, Event, EventData};
pub use item::{Item, ItemKind, ItemStatus, Tally};
pub use text::{FieldError, Invalid};
pub use time::Millis;
pub use user::{Role, User};
pub use vote::Choice;
pub use ways_in::{EmailDomain, WayIn, WaysIn, WorkEmail};

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Debug;
    use std::str::FromStr;

    /// `as_str` is the serde name, `parse` reads it back, and nothing else
    /// parses (not even another case).
    fn names<T>(all: &[T], as_str: fn(T) -> &'static str, expected: &[&str])
    where
        T: Copy + PartialEq + Debug + serde::Serialize + FromStr,
    {
        let got: Vec<&str> = all.iter().map(|v| as_str(*v)).collect();
        assert_eq!(got, expected);
        for value in all {
            let name = as_str(*value);
            assert_eq!(
                serde_json::to_value(value).unwrap(),
                serde_json::Value::from(name)
            );
            assert_eq!(name.parse::<T>().ok(), Some(*value), "{name}");
            assert!(name.to_uppercase().parse::<T>().is_err(), "{name}");
        }
        assert!("".parse::<T>().is_err());
        assert!("unknown".parse::<T>().is_err());
    }

    #[test]
    fn enum_names_match_the_wire_and_the_database() {
        names(
            &[Choice::Strong, Choice::Wrong],
            Choice::as_str,
            &["strong", "wrong"],
        );
        names(
            &[ItemKind::Pledge, ItemKind::Idea],
            ItemKind::as_str,
            &["pledge", "idea"],
        );
        names(
            &[ItemStatus::Visible, ItemStatus::Pending, ItemStatus::Hidden],
            ItemStatus::as_str,
            &["visible", "pending", "hidden"],
        );
        names(
            &[
                CommentStatus::Visible,
                CommentStatus::Pending,
                CommentStatus::Hidden,
            ],
            CommentStatus::as_str,
            &["visible", "pending", "hidden"],
        );
        names(
            &[
                ModerationAction::Hide,
                ModerationAction::Restore,
                ModerationAction::Approve,
                ModerationAction::Pin,
                ModerationAction::Unpin,
            ],
            ModerationAction::as_str,
            &["hide", "restore", "approve", "pin", "unpin"],
        );
        names(
            &[Role::Facilitator, Role::Admin],
            Role::as_str,
            &["facilitator", "admin"],
        );
        names(
            &[WayIn::Open, WayIn::Code, WayIn::Email, WayIn::Invite],
            WayIn::as_str,
            &["open", "code", "email", "invite"],
        );
        names(
            &[Moderation::Post, Moderation::Pre],
            Moderation::as_str,
            &["post", "pre"],
        );
    }
}
