//! The live protocol's messages, both ways, as documented in
//! `docs/protocol.md`. Server messages are serialised here once per
//! audience and the same bytes go to every subscriber.

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::event::Projection;
use crate::domain::{Comment, CommentTally, Conversation, Item, Millis, Tally, WatchRole};

/// What a client may send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Subscribe {
        conversation: String,
        #[serde(default)]
        since: Option<i64>,
        #[serde(default, rename = "as")]
        role: Option<WatchRole>,
        #[serde(default)]
        display_token: Option<String>,
    },
    Ping {
        #[serde(default)]
        nonce: Option<serde_json::Value>,
    },
    /// The participant's vote on this pledge was acknowledged: under
    /// `tallies_visible: "after_voting"` its tally may now reach them.
    Voted { item_id: Uuid },
    /// A facilitator is looking at this comment (or at none), so two
    /// facilitators do not act on one comment unknowingly.
    Focus {
        #[serde(default)]
        comment_id: Option<Uuid>,
    },
}

/// Why an inbound text frame was refused; becomes an `error` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub code: &'static str,
    pub message: String,
}

const KNOWN_TYPES: &[&str] = &["subscribe", "ping", "focus", "voted"];

/// Decodes one inbound text frame. Never panics, whatever the input.
pub fn decode(text: &str) -> Result<ClientMessage, DecodeError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DecodeError {
        code: "invalid_json",
        message: e.to_string(),
    })?;
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err(DecodeError {
            code: "invalid_json",
            message: "expected an object with a string field \"type\"".into(),
        });
    };
    if !KNOWN_TYPES.contains(&kind) {
        return Err(DecodeError {
            code: "unknown_type",
            message: format!("unknown message type {kind:?}; expected one of {KNOWN_TYPES:?}"),
        });
    }
    serde_json::from_value(value).map_err(|e| DecodeError {
        code: "invalid_json",
        message: e.to_string(),
    })
}

/// One item's tally in a `tallies` frame.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ItemTally {
    pub id: Uuid,
    #[serde(flatten)]
    pub tally: Tally,
}

/// One comment's up-votes in a `tallies` frame.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CommentUps {
    pub id: Uuid,
    #[serde(flatten)]
    pub tally: CommentTally,
}

/// Connected people per kind, summed over nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub participants: u64,
    pub facilitators: u64,
    pub displays: u64,
}

#[derive(Debug, Serialize)]
pub struct FlagView<'a> {
    pub comment_id: Uuid,
    pub reason: &'a str,
    pub flags: i64,
    pub created_at: Millis,
}

/// A participant's moderation state, for facilitators.
#[derive(Debug, Serialize)]
pub struct ParticipantView<'a> {
    pub handle: &'a str,
    pub suspended: bool,
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage<'a> {
    Subscribed {
        conversation: &'a str,
        role: WatchRole,
        seq: i64,
    },
    Comment {
        seq: i64,
        comment: Comment,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<&'a str>,
    },
    CommentRemoved {
        seq: i64,
        id: Uuid,
    },
    Item {
        seq: i64,
        item: &'a Item,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<&'a str>,
    },
    ItemRemoved {
        seq: i64,
        id: Uuid,
    },
    Conversation {
        seq: i64,
        conversation: crate::domain::conversation::ConversationView<'a>,
    },
    Flag {
        seq: i64,
        flag: FlagView<'a>,
    },
    Participant {
        seq: i64,
        participant: ParticipantView<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<&'a str>,
    },
    Tallies {
        items: Vec<ItemTally>,
        comments: Vec<CommentUps>,
    },
    Presence(Presence),
    Resync {
        seq: i64,
        reason: &'static str,
    },
    Error {
        code: &'a str,
        message: &'a str,
    },
    Pong {
        nonce: Option<serde_json::Value>,
    },
    /// Which comment a facilitator is looking at (facilitators only; not sequenced).
    Focus {
        who: &'a str,
        comment_id: Option<Uuid>,
    },
}

impl ServerMessage<'_> {
    pub fn to_text(&self) -> Utf8Bytes {
        Utf8Bytes::from(serde_json::to_string(self).expect("server messages serialise"))
    }
}

/// The wire message for one audience's projection of an event. `by` names
/// who caused it, for facilitators (a handle or a facilitator's name).
pub fn event_message<'a>(
    seq: i64,
    projection: Projection<'a>,
    by: Option<&'a str>,
    now: Millis,
) -> ServerMessage<'a> {
    match projection {
        Projection::Comment(comment) => ServerMessage::Comment { seq, comment, by },
        Projection::CommentRemoved(id) => ServerMessage::CommentRemoved { seq, id },
        Projection::Item(item) => ServerMessage::Item { seq, item, by },
        Projection::ItemRemoved(id) => ServerMessage::ItemRemoved { seq, id },
        Projection::Conversation(c) => ServerMessage::Conversation {
            seq,
            conversation: Conversation::view(c, now),
        },
        Projection::Participant { handle, suspended } => ServerMessage::Participant {
            seq,
            participant: ParticipantView { handle, suspended },
            by,
        },
        Projection::Flag {
            comment_id,
            reason,
            flags,
            created_at,
        } => ServerMessage::Flag {
            seq,
            flag: FlagView {
                comment_id,
                reason,
                flags,
                created_at,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_documented_messages() {
        assert_eq!(
            decode(r#"{"type":"subscribe","conversation":"x","since":41}"#).unwrap(),
            ClientMessage::Subscribe {
                conversation: "x".into(),
                since: Some(41),
                role: None,
                display_token: None
            }
        );
        assert!(matches!(
            decode(r#"{"type":"ping","nonce":7}"#),
            Ok(ClientMessage::Ping { .. })
        ));
        assert_eq!(decode("{").unwrap_err().code, "invalid_json");
        assert_eq!(
            decode(r#"{"type":"vote"}"#).unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(
            decode(r#"{"type":"subscribe"}"#).unwrap_err().code,
            "invalid_json"
        );
        assert_eq!(decode(r#"[1,2]"#).unwrap_err().code, "invalid_json");
        assert_eq!(
            decode(r#"{"type":"subscribe","conversation":"x","since":"soon"}"#)
                .unwrap_err()
                .code,
            "invalid_json"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn decoding_never_panics(text in "\\PC*") {
            let _ = decode(&text);
        }

        #[test]
        fn decoding_json_shaped_input_never_panics(
            kind in prop_oneof![Just("subscribe".to_string()), Just("ping".to_string()), "[a-z_]{0,12}"],
            conversation in proptest::option::of(".{0,40}"),
            since in proptest::option::of(any::<i64>()),
            extra in proptest::option::of("[a-z]{1,8}"),
        ) {
            let mut object = serde_json::json!({"type": kind});
            if let Some(c) = conversation { object["conversation"] = c.into(); }
            if let Some(s) = since { object["since"] = s.into(); }
            if let Some(e) = extra { object[e] = serde_json::Value::Null; }
            let _ = decode(&object.to_string());
        }
    }
}
