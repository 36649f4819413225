//! Facilitator and admin accounts: the only people with names in chorus.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    /// Moderates comments and ideas, creates display tokens.
    Facilitator,
    /// Everything a facilitator does, plus conversations and pledges.
    Admin,
}

impl Role {
    /// The name in JSON and in the database; `"admin".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    #[serde(skip)]
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}
