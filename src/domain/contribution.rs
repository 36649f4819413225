//! What a participant may do with their own contributions: edit them for
//! a short while, delete them, and leave the conversation. The rules are
//! here; the store applies them inside the writing transaction, where
//! "has anyone replied yet" is exact.

use serde::{Deserialize, Serialize};

use super::{Comment, Item, Millis};

/// What kept comments and ideas show instead of the handle of someone
/// who left and chose to keep them.
pub const FORMER_PARTICIPANT: &str = "a former participant";

/// Why an author may no longer edit what they wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditRefused {
    /// Someone replied (a reply to a comment; a comment or a vote on an
    /// idea): changing the text now would change what they answered.
    Answered,
    /// The edit window (`participation.edit_window_s`) has passed.
    TooLate,
    /// It was deleted.
    Deleted,
}

impl EditRefused {
    pub fn message(self) -> &'static str {
        match self {
            EditRefused::Answered => {
                "someone has already responded to this, so it can no longer be edited; you can still delete it"
            }
            EditRefused::TooLate => {
                "the time for editing this has passed; you can still delete it"
            }
            EditRefused::Deleted => "this was deleted",
        }
    }
}

/// Whether the author may still edit something written at `created_at`:
/// within `window_ms` of writing it, and before anyone responded.
pub fn may_edit(
    created_at: Millis,
    now: Millis,
    window_ms: i64,
    answered: bool,
    deleted: bool,
) -> Result<(), EditRefused> {
    if deleted {
        Err(EditRefused::Deleted)
    } else if answered {
        Err(EditRefused::Answered)
    } else if now.0 - created_at.0 > window_ms {
        Err(EditRefused::TooLate)
    } else {
        Ok(())
    }
}

/// What a participant who leaves wants done with their comments and ideas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveComments {
    /// Delete each, as if they had deleted it themselves.
    Delete,
    /// Keep the text, shown by [`FORMER_PARTICIPANT`] instead of the handle.
    KeepWithoutHandle,
}

impl Comment {
    /// The comment after its author deleted it: nothing of what they wrote
    /// or who they were stays.
    pub fn deleted_by_author(&self) -> Comment {
        Comment {
            body: String::new(),
            handle: String::new(),
            pinned: false,
            deleted: true,
            ..self.clone()
        }
    }
}

impl Item {
    /// The idea after its author deleted it.
    pub fn deleted_by_author(&self) -> Item {
        Item {
            title: String::new(),
            body: String::new(),
            handle: None,
            deleted: true,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stop_at_the_first_answer_or_the_end_of_the_window() {
        let at = Millis(1_000);
        assert_eq!(may_edit(at, Millis(1_500), 900_000, false, false), Ok(()));
        assert_eq!(
            may_edit(at, Millis(1_500), 900_000, true, false),
            Err(EditRefused::Answered)
        );
        assert_eq!(
            may_edit(at, Millis(1_000 + 900_001), 900_000, false, false),
            Err(EditRefused::TooLate)
        );
        assert_eq!(
            may_edit(at, Millis(1_500), 900_000, false, true),
            Err(EditRefused::Deleted)
        );
    }

    #[test]
    fn leave_choices_have_their_wire_names() {
        assert_eq!(
            serde_json::to_value(LeaveComments::KeepWithoutHandle).unwrap(),
            "keep_without_handle"
        );
        assert_eq!(
            serde_json::from_str::<LeaveComments>("\"delete\"").unwrap(),
            LeaveComments::Delete
        );
    }
}
