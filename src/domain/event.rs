//! Events: every comment, idea, moderation action and conversation change,
//! numbered in commit order per conversation. The event table is both the
//! audit trail and the source for resuming live clients, so an event holds
//! the whole state of what changed (an upsert), not a diff.
//!
//! What each audience may see of an event is decided here, once, by
//! [`project`]: participants and displays see approved content only;
//! facilitators see everything.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Comment, CommentStatus, Conversation, Item, ItemStatus, Millis};

/// Who receives a projection of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Participants and display screens: approved content only.
    Public,
    /// Facilitators and admins: everything, with flags and reasons.
    Moderators,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventData {
    /// A comment was created or changed by `action`
    /// ("created", "hide", "restore", "approve", "pin", "unpin", "edit").
    Comment {
        action: String,
        comment: Comment,
        /// Its status before, so a hide can be told apart from a pending comment.
        previous: Option<CommentStatus>,
    },
    /// A pledge or idea was created or changed.
    Item {
        action: String,
        item: Item,
        previous: Option<ItemStatus>,
    },
    /// The conversation's settings or window changed.
    Conversation {
        action: String,
        conversation: Conversation,
    },
    /// A participant was suspended or reinstated (moderators only).
    Participant {
        action: String,
        handle: String,
        suspended: bool,
    },
    /// A participant flagged a comment (moderators only).
    Flag {
        comment_id: Uuid,
        reason: String,
        flags: i64,
    },
}

impl EventData {
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::Comment { .. } => "comment",
            EventData::Item { .. } => "item",
            EventData::Conversation { .. } => "conversation",
            EventData::Flag { .. } => "flag",
            EventData::Participant { .. } => "participant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(skip)]
    pub conversation_id: Uuid,
    pub seq: i64,
    /// Who caused it: a participant's handle or a facilitator's name (audit).
    pub actor: String,
    pub data: EventData,
    pub created_at: Millis,
}

/// What one audience receives for one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection<'a> {
    Comment(Comment),
    CommentRemoved(Uuid),
    Item(&'a Item),
    ItemRemoved(Uuid),
    Conversation(&'a Conversation),
    Flag {
        comment_id: Uuid,
        reason: &'a str,
        flags: i64,
        created_at: Millis,
    },
    Participant {
        handle: &'a str,
        suspended: bool,
    },
}

/// The audience's view of `event`, or `None` when it may not see it.
pub fn project(event: &Event, audience: Audience) -> Option<Projection<'_>> {
    match (&event.data, audience) {
        (EventData::Comment { comment, .. }, Audience::Moderators) => {
            Some(Projection::Comment(comment.clone()))
        }
        (
            EventData::Comment {
                comment, previous, ..
            },
            Audience::Public,
        ) => {
            if comment.status == CommentStatus::Visible {
                Some(Projection::Comment(comment.public()))
            } else if *previous == Some(CommentStatus::Visible) {
                Some(Projection::CommentRemoved(comment.id))
            } else {
                None
            }
        }
        (EventData::Item { item, .. }, Audience::Moderators) => Some(Projection::Item(item)),
        (EventData::Item { item, previous, .. }, Audience::Public) => {
            if item.status == ItemStatus::Visible {
                Some(Projection::Item(item))
            } else if *previous == Some(ItemStatus::Visible) {
                Some(Projection::ItemRemoved(item.id))
            } else {
                None
            }
        }
        (EventData::Conversation { conversation, .. }, _) => {
            Some(Projection::Conversation(conversation))
        }
        (
            EventData::Flag {
                comment_id,
                reason,
                flags,
            },
            Audience::Moderators,
        ) => Some(Projection::Flag {
            comment_id: *comment_id,
            reason,
            flags: *flags,
            created_at: event.created_at,
        }),
        (EventData::Flag { .. }, Audience::Public) => None,
        (
            EventData::Participant {
                handle, suspended, ..
            },
            Audience::Moderators,
        ) => Some(Projection::Participant {
            handle,
            suspended: *suspended,
        }),
        (EventData::Participant { .. }, Audience::Public) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(status: CommentStatus) -> Comment {
        Comment {
            id: Uuid::new_v4(),
            item_id: Uuid::new_v4(),
            parent_id: None,
            handle: "Amber Heron".into(),
            body: "hello".into(),
            status,
            pinned: false,
            hidden_reason: Some("names a colleague".into()),
            up: 0,
            up_version: 0,
            flags: 3,
            seq: 1,
            created_at: Millis(0),
            edited: false,
            deleted: false,
        }
    }

    fn event(data: EventData) -> Event {
        Event {
            conversation_id: Uuid::nil(),
            seq: 1,
            actor: "x".into(),
            data,
            created_at: Millis(0),
        }
    }

    #[test]
    fn pending_comments_reach_moderators_only() {
        let e = event(EventData::Comment {
            action: "created".into(),
            comment: comment(CommentStatus::Pending),
            previous: None,
        });
        assert!(project(&e, Audience::Public).is_none());
        assert!(matches!(
            project(&e, Audience::Moderators),
            Some(Projection::Comment(_))
        ));
    }

    #[test]
    fn hiding_a_visible_comment_removes_it_publicly() {
        let c = comment(CommentStatus::Hidden);
        let e = event(EventData::Comment {
            action: "hide".into(),
            comment: c.clone(),
            previous: Some(CommentStatus::Visible),
        });
        assert_eq!(
            project(&e, Audience::Public),
            Some(Projection::CommentRemoved(c.id))
        );
    }

    #[test]
    fn public_comments_carry_no_flags_or_reasons() {
        let e = event(EventData::Comment {
            action: "created".into(),
            comment: comment(CommentStatus::Visible),
            previous: None,
        });
        match project(&e, Audience::Public) {
            Some(Projection::Comment(c)) => {
                assert_eq!(c.flags, 0);
                assert_eq!(c.hidden_reason, None);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
