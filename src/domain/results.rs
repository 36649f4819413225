//! Who may read a conversation's results, and when. Organisers (staff)
//! read the organisers' report at any time. Everyone else reads the
//! results (the report's public view) if the conversation's
//! `results_visibility` admits them, and then only once it has opened:
//! while it runs if `results_while_open` is set, always once it closes.

use super::conversation::{Conversation, ConversationState, ResultsVisibility};
use super::Millis;

/// Who is asking, as far as the results are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// A facilitator or admin.
    Staff,
    /// A signed-in participant of this conversation, or of a later
    /// conversation that names this one in its series.
    Participant,
    /// Anyone else, signed in elsewhere or not at all.
    Anyone,
}

/// What the reader may see now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The organisers' report.
    Organisers,
    /// The public results.
    Results,
    /// The reader is admitted, but the results are published at closing.
    NotYet,
    /// Participants only: signing in to this conversation (or a later one
    /// in its series) would admit the reader.
    SignIn,
    /// Organisers only.
    StaffOnly,
}

pub fn access(conversation: &Conversation, reader: Reader, now: Millis) -> Access {
    if reader == Reader::Staff {
        return Access::Organisers;
    }
    match (conversation.results_visibility, reader) {
        (ResultsVisibility::Staff, _) => return Access::StaffOnly,
        (ResultsVisibility::Participants, Reader::Anyone) => return Access::SignIn,
        _ => {}
    }
    let published = match conversation.state(now) {
        ConversationState::Closed => true,
        ConversationState::Open => conversation.results_while_open,
        ConversationState::Upcoming => false,
    };
    if published {
        Access::Results
    } else {
        Access::NotYet
    }
}

/// Whether `later` names `earlier` in its series: its participants may
/// then read `earlier`'s results when they are for participants.
pub fn names_in_series(later: &Conversation, earlier: &Conversation) -> bool {
    later.series.iter().any(|slug| slug == &earlier.slug)
}
