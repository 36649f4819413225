//! Comments on items, with one level of replies, up-votes, flags and
//! moderation. One level keeps threads readable on a phone and is what
//! consultation moderators asked for; deeper nesting is refused.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use super::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum CommentStatus {
    Visible,
    /// Awaiting a facilitator (pre-moderation).
    Pending,
    Hidden,
}

impl CommentStatus {
    /// The name in JSON and in the database; `"visible".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: Uuid,
    pub item_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub handle: String,
    pub body: String,
    pub status: CommentStatus,
    pub pinned: bool,
    pub hidden_reason: Option<String>,
    pub up: i64,
    pub up_version: i64,
    pub flags: i64,
    /// The sequence number of the event that created it; the paging cursor.
    pub seq: i64,
    pub created_at: Millis,
    /// Its author changed the text after posting it.
    #[serde(default)]
    pub edited: bool,
    /// Its author deleted it: the text and handle are gone, and it stays
    /// only as the place its replies hang off.
    #[serde(default)]
    pub deleted: bool,
}

impl Comment {
    /// What participants and displays may see: no flag counts, no reasons.
    pub fn public(&self) -> Comment {
        Comment {
            flags: 0,
            hidden_reason: None,
            ..self.clone()
        }
    }
}

/// Comment up-vote counts, versioned like item tallies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentTally {
    pub up: i64,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ModerationAction {
    Hide,
    Restore,
    Approve,
    Pin,
    Unpin,
}

impl ModerationAction {
    /// The status and pin a comment has after the action.
    pub fn apply(self, status: CommentStatus, pinned: bool) -> (CommentStatus, bool) {
        match self {
            ModerationAction::Hide => (CommentStatus::Hidden, false),
            ModerationAction::Restore | ModerationAction::Approve => {
                (CommentStatus::Visible, pinned)
            }
            ModerationAction::Pin => (status, true),
            ModerationAction::Unpin => (status, false),
        }
    }

    /// The comment after the action. Approving also settles its open
    /// flags: it has been reviewed, so it leaves every desk's review
    /// queue. A hiding reason is kept only while the comment is hidden.
    pub fn apply_to(self, comment: &Comment, reason: Option<&str>) -> Comment {
        let (status, pinned) = self.apply(comment.status, comment.pinned);
        Comment {
            status,
            pinned,
            hidden_reason: match status {
                CommentStatus::Hidden => reason.map(str::to_string),
                _ => None,
            },
            flags: if self == ModerationAction::Approve {
                0
            } else {
                comment.flags
            },
            ..comment.clone()
        }
    }

    /// The name in JSON and in events; `"hide".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a facilitator may do to a comment's author (never naming them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorAction {
    /// The author may read but no longer contribute.
    Suspend,
    Unsuspend,
    /// Hide every comment the author has made in this conversation.
    HideAll,
}
