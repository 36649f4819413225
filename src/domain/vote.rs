//! Votes on items: strong (for) or wrong (against), one per participant
//! per item, changeable and withdrawable.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Choice {
    Strong,
    Wrong,
}

impl Choice {
    /// The name in JSON and in the database; `"strong".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a change of vote moves the (strong, wrong) counts.
pub fn delta(before: Option<Choice>, after: Option<Choice>) -> (i64, i64) {
    let weight = |c: Option<Choice>| match c {
        Some(Choice::Strong) => (1, 0),
        Some(Choice::Wrong) => (0, 1),
        None => (0, 0),
    };
    let (bs, bw) = weight(before);
    let (a_s, aw) = weight(after);
    (a_s - bs, aw - bw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas() {
        assert_eq!(delta(None, Some(Choice::Strong)), (1, 0));
        assert_eq!(delta(Some(Choice::Strong), Some(Choice::Wrong)), (-1, 1));
        assert_eq!(delta(Some(Choice::Wrong), None), (0, -1));
        assert_eq!(delta(Some(Choice::Wrong), Some(Choice::Wrong)), (0, 0));
    }
}
