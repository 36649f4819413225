//! Items are what people vote and comment on: pledges published by the
//! organisers, and ideas suggested by participants.

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ItemStatus {
    Visible,
    /// An idea awaiting a facilitator's approval.
    Pending,
    Hidden,
}

impl ItemKind {
    /// The name in JSON and in the database; `"pledge".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl ItemStatus {
    /// The name in JSON and in the database; `"visible".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
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
}
