//! Items are what people vote and comment on: pledges published by the
//! organisers, discussion topics (comments and replies, no votes), and
//! ideas suggested by participants.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use super::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ItemKind {
    Pledge,
    Idea,
    /// A discussion topic: comments, replies and ideas, but no strong or
    /// wrong vote (a first conversation gathers views before any pledge
    /// exists).
    Topic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ItemStatus {
    Visible,
    /// An idea awaiting a facilitator's approval.
    Pending,
    Hidden,
    /// Removed by the organisers: gone from every page and from the
    /// public report, its votes and comments kept for the organisers'
    /// report and the audit trail.
    Removed,
}

impl ItemKind {
    /// The name in JSON and in the database; `"pledge".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether people vote strong or wrong on it (topics take comments only).
    pub fn takes_votes(self) -> bool {
        self != ItemKind::Topic
    }

    /// Published by the organisers, in their order (pledges and topics).
    pub fn is_organisers(self) -> bool {
        matches!(self, ItemKind::Pledge | ItemKind::Topic)
    }
}

impl ItemStatus {
    /// The name in JSON and in the database; `"visible".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A pledge's title (1 to 200 characters) and body (up to 20,000), by the
/// text rules; every way in (REST, import) goes through here.
pub fn clean_pledge(title: &str, body: &str) -> Result<(String, String), super::Invalid> {
    use super::text::{clean, INTRODUCTION_MAX, TITLE_MAX};
    let title = clean("title", title, 1, TITLE_MAX);
    let body = clean("body", body, 0, INTRODUCTION_MAX);
    match (title, body) {
        (Ok(title), Ok(body)) => Ok((title, body)),
        (title, body) => {
            let mut errors = title.err().map(|e| e.0).unwrap_or_default();
            errors.extend(body.err().map(|e| e.0).unwrap_or_default());
            Err(super::Invalid(errors))
        }
    }
}

impl super::ModerationAction {
    /// The status an item has after the action: items can be approved,
    /// hidden or restored, not pinned.
    pub fn item_status(self) -> Result<ItemStatus, &'static str> {
        use super::ModerationAction::*;
        match self {
            Hide => Ok(ItemStatus::Hidden),
            Approve | Restore => Ok(ItemStatus::Visible),
            Pin | Unpin => Err("items can be approved, hidden or restored"),
        }
    }
}

/// An item's absolute vote counts. `version` grows by one with every
/// change, in the same transaction, so any copy can tell which is newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Tally {
    pub strong: i64,
    pub wrong: i64,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: Uuid,
    #[serde(skip)]
    pub conversation_id: Uuid,
    pub kind: ItemKind,
    pub title: String,
    pub body: String,
    pub status: ItemStatus,
    /// Display order of pledges; ideas are ordered by time.
    pub position: i64,
    /// The suggesting participant's handle, for ideas.
    pub handle: Option<String>,
    #[serde(flatten)]
    pub tally: Tally,
    /// Visible comments and replies.
    pub comments: i64,
    pub created_at: Millis,
    /// Its author (an idea's) changed the text after suggesting it.
    #[serde(default)]
    pub edited: bool,
    /// Its author deleted it: title, body and handle are gone, and it
    /// stays only as the place its comments hang off.
    #[serde(default)]
    pub deleted: bool,
}
