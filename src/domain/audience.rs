//! Who may watch a conversation live, and as what. The WebSocket handler
//! gathers the facts about whoever asks (their session, their sign-up,
//! the display token they hold); the rule that turns those facts into a
//! role lives here, with no IO, so it reads and tests as one table.

use serde::{Deserialize, Serialize};

use super::{Audience, SignupMode};

/// What a connection watches a conversation as. The role decides what it
/// may see (its [`Audience`]) and how presence counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchRole {
    Participant,
    Facilitator,
    Display,
}

impl WatchRole {
    pub fn audience(self) -> Audience {
        match self {
            WatchRole::Facilitator => Audience::Moderators,
            WatchRole::Participant | WatchRole::Display => Audience::Public,
        }
    }
}

/// What is known about whoever asks to watch one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The session belongs to a facilitator or admin account.
    pub staff: bool,
    /// The session signed up to this conversation.
    pub participant: bool,
    /// A display token for this conversation was presented and is valid.
    pub display_token: bool,
}

/// The role to watch as: the one `requested` if the caller may have it, or
/// when nothing was asked the most the caller may have (a facilitator's
/// desk, a participant's phone, a screen). `None` means refused.
pub fn watch_as(
    standing: Standing,
    signup_mode: SignupMode,
    requested: Option<WatchRole>,
) -> Option<WatchRole> {
    let may = |role| match role {
        WatchRole::Facilitator => standing.staff,
        WatchRole::Participant => standing.participant,
        // A screen shows only what participants see. Where anyone may sign
        // up, anyone may as well watch; behind an access code, a screen
        // needs a token unless its session could watch anyway.
        WatchRole::Display => {
            standing.staff
                || standing.participant
                || standing.display_token
                || signup_mode == SignupMode::Open
        }
    };
    match requested {
        Some(role) => may(role).then_some(role),
        None => [
            WatchRole::Facilitator,
            WatchRole::Participant,
            WatchRole::Display,
        ]
        .into_iter()
        .find(|&role| may(role)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WatchRole::*;

    const STRANGER: Standing = Standing {
        staff: false,
        participant: false,
        display_token: false,
    };
    const STAFF: Standing = Standing {
        staff: true,
        ..STRANGER
    };
    const PARTICIPANT: Standing = Standing {
        participant: true,
        ..STRANGER
    };
    const TOKEN: Standing = Standing {
        display_token: true,
        ..STRANGER
    };

    fn every_standing() -> impl Iterator<Item = Standing> {
        (0..8).map(|bits| Standing {
            staff: bits & 1 != 0,
            participant: bits & 2 != 0,
            display_token: bits & 4 != 0,
        })
    }

    const EVERY_REQUEST: [Option<WatchRole>; 4] =
        [None, Some(Participant), Some(Facilitator), Some(Display)];
    const EVERY_MODE: [SignupMode; 2] = [SignupMode::Open, SignupMode::Code];

    #[test]
    fn with_nothing_asked_each_caller_gets_the_most_it_may_have() {
        for mode in EVERY_MODE {
            assert_eq!(watch_as(STAFF, mode, None), Some(Facilitator));
            assert_eq!(watch_as(PARTICIPANT, mode, None), Some(Participant));
            assert_eq!(watch_as(TOKEN, mode, None), Some(Display));
            let both = Standing {
                participant: true,
                ..STAFF
            };
            assert_eq!(watch_as(both, mode, None), Some(Facilitator));
        }
        assert_eq!(watch_as(STRANGER, SignupMode::Open, None), Some(Display));
        assert_eq!(watch_as(STRANGER, SignupMode::Code, None), None);
    }

    #[test]
    fn a_caller_may_ask_for_a_screen_instead() {
        for mode in EVERY_MODE {
            for standing in [STAFF, PARTICIPANT, TOKEN] {
                assert_eq!(watch_as(standing, mode, Some(Display)), Some(Display));
            }
        }
    }

    #[test]
    fn nobody_gets_a_role_their_standing_does_not_give() {
        for mode in EVERY_MODE {
            // Only staff see what moderators see.
            for standing in [PARTICIPANT, TOKEN, STRANGER] {
                assert_eq!(watch_as(standing, mode, Some(Facilitator)), None);
            }
            // Presence counts participants: staff and screens are not.
            for standing in [STAFF, TOKEN, STRANGER] {
                assert_eq!(watch_as(standing, mode, Some(Participant)), None);
            }
        }
        assert_eq!(watch_as(STRANGER, SignupMode::Code, Some(Display)), None);
        assert_eq!(
            watch_as(STRANGER, SignupMode::Open, Some(Display)),
            Some(Display)
        );
    }

    #[test]
    fn the_answer_is_what_was_asked_or_a_refusal() {
        for standing in every_standing() {
            for mode in EVERY_MODE {
                for requested in EVERY_REQUEST.into_iter().flatten() {
                    let granted = watch_as(standing, mode, Some(requested));
                    assert!(
                        granted.is_none() || granted == Some(requested),
                        "{standing:?} {mode:?} asked {requested:?}, got {granted:?}"
                    );
                }
                // Whatever is granted by default could also have been asked for.
                if let Some(role) = watch_as(standing, mode, None) {
                    assert_eq!(watch_as(standing, mode, Some(role)), Some(role));
                }
                // Moderators' audience needs staff, whatever was asked.
                for requested in EVERY_REQUEST {
                    if let Some(role) = watch_as(standing, mode, requested) {
                        assert!(role.audience() == Audience::Public || standing.staff);
                    }
                }
            }
        }
    }
}
