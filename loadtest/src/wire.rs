//! Decoding what the servers send into one shape the subscribers apply.
//!
//! chorus (and the floor, which imitates its frames) speak docs/protocol.md:
//! one JSON object per text frame. The Socket.IO peer speaks Engine.IO v4
//! packets over WebSocket: `0{open}`, `2` ping, `3` pong, `40` connect,
//! `42["event",data]`.

use std::borrow::Cow;

use serde::Deserialize;

/// One item's absolute tally with its version.
#[derive(Debug, Deserialize)]
pub struct ItemTally<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub strong: i64,
    pub wrong: i64,
    pub version: u64,
}

#[derive(Debug, Deserialize)]
pub struct CommentRef<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub status: Option<Cow<'a, str>>,
}

/// A chorus server message, with only the fields the load test reads.
#[derive(Debug, Deserialize)]
pub struct ChorusFrame<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default, borrow)]
    pub items: Option<Vec<ItemTally<'a>>>,
    #[serde(default, borrow)]
    pub comment: Option<CommentRef<'a>>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a subscriber does with a frame.
#[derive(Debug)]
pub enum Update<'a> {
    Subscribed {
        seq: Option<u64>,
    },
    /// Tallies; the first one a subscriber receives is its starting point.
    Tallies(Vec<ItemTally<'a>>),
    /// Tallies of the items that changed (the Socket.IO peer's `tally` and
    /// `tallies-changed`): never a starting point, since one may overtake the
    /// `tallies` snapshot a new connection is sent.
    Changes(Vec<ItemTally<'a>>),
    Comment {
        seq: u64,
        id: Cow<'a, str>,
        visible: bool,
    },
    CommentRemoved {
        seq: u64,
    },
    /// Another event with a sequence number (item, conversation, ...).
    Event {
        seq: u64,
    },
    Resync {
        seq: Option<u64>,
        reason: String,
    },
    Error {
        code: String,
        message: String,
    },
    /// Presence, pong and the like: counted, nothing to apply.
    Other,
}

pub fn decode_chorus(text: &str) -> anyhow::Result<Update<'_>> {
    let f: ChorusFrame = serde_json::from_str(text)?;
    Ok(match f.kind.as_ref() {
        "subscribed" => Update::Subscribed { seq: f.seq },
        "tallies" => Update::Tallies(f.items.unwrap_or_default()),
        "comment" => {
            let c = f
                .comment
                .ok_or_else(|| anyhow::anyhow!("comment event without comment"))?;
            Update::Comment {
                seq: f.seq.unwrap_or(0),
                visible: c.status.as_deref().is_none_or(|s| s == "visible"),
                id: c.id,
            }
        }
        "comment_removed" => Update::CommentRemoved {
            seq: f.seq.unwrap_or(0),
        },
        "resync" => Update::Resync {
            seq: f.seq,
            reason: f.reason.unwrap_or_default(),
        },
        "error" => Update::Error {
            code: f.code.unwrap_or_default(),
            message: f.message.unwrap_or_default(),
        },
        _ => match f.seq {
            Some(seq) => Update::Event { seq },
            None => Update::Other,
        },
    })
}

/// An Engine.IO packet carrying a Socket.IO packet, as far as the load test cares.
/// Events: `tallies` (the snapshot on connect), `tally` (one item, per vote) and
/// `tallies-changed` (the coalesced mode: the latest tallies of the items changed).
#[derive(Debug)]
pub enum SioPacket<'a> {
    /// `0{...}`: the Engine.IO handshake.
    Open,
    /// `2`: the server's heartbeat; answer `3`.
    Ping,
    /// `40...`: connected to the default namespace.
    Connected,
    /// `42["tally"|"tallies"|"tallies-changed", ...]`.
    Update(Update<'a>),
    /// `41`, `44...`: disconnected or refused.
    Refused(String),
    Other,
}

#[derive(Deserialize)]
struct SioTallies<'a> {
    #[serde(borrow)]
    items: Vec<ItemTally<'a>>,
}

pub fn decode_socketio(text: &str) -> anyhow::Result<SioPacket<'_>> {
    Ok(match text.as_bytes().first() {
        Some(b'0') => SioPacket::Open,
        Some(b'2') => SioPacket::Ping,
        Some(b'4') => match text.as_bytes().get(1) {
            Some(b'0') => SioPacket::Connected,
            Some(b'2') => {
                let payload = &text[2..];
                let name_end = payload.find(',').unwrap_or(payload.len());
                let name = payload.get(1..name_end).unwrap_or("").trim_matches('"');
                let data = payload
                    .get(name_end + 1..payload.len().saturating_sub(1))
                    .unwrap_or("");
                match name {
                    "tally" => {
                        SioPacket::Update(Update::Changes(vec![serde_json::from_str(data)?]))
                    }
                    "tallies" => {
                        let t: SioTallies = serde_json::from_str(data)?;
                        SioPacket::Update(Update::Tallies(t.items))
                    }
                    "tallies-changed" => {
                        let t: SioTallies = serde_json::from_str(data)?;
                        SioPacket::Update(Update::Changes(t.items))
                    }
                    _ => SioPacket::Other,
                }
            }
            Some(b'1') | Some(b'4') => SioPacket::Refused(text.to_string()),
            _ => SioPacket::Other,
        },
        _ => SioPacket::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_chorus_tally_frame() {
        let t = r#"{"type":"tallies","items":[{"id":"a","strong":3,"wrong":1,"version":4}],"comments":[]}"#;
        match decode_chorus(t).unwrap() {
            Update::Tallies(items) => {
                assert_eq!(items[0].id, "a");
                assert_eq!(items[0].version, 4);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decodes_a_comment_with_escapes_in_its_body() {
        let t = r#"{"type":"comment","seq":42,"comment":{"id":"c1","body":"a \"quote\"","status":"visible"}}"#;
        match decode_chorus(t).unwrap() {
            Update::Comment { seq, id, visible } => {
                assert_eq!((seq, id.as_ref(), visible), (42, "c1", true));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decodes_socketio_events() {
        let t = r#"42["tally",{"id":"a","strong":1,"wrong":0,"version":1}]"#;
        assert!(matches!(
            decode_socketio(t).unwrap(),
            SioPacket::Update(Update::Changes(_))
        ));
        let t = r#"42["tallies-changed",{"items":[{"id":"a","strong":1,"wrong":0,"version":3},{"id":"b","strong":0,"wrong":2,"version":2}]}]"#;
        match decode_socketio(t).unwrap() {
            SioPacket::Update(Update::Changes(items)) => {
                assert_eq!(items.len(), 2);
                assert_eq!((items[1].id.as_ref(), items[1].version), ("b", 2));
            }
            other => panic!("{other:?}"),
        }
        let t = r#"42["tallies",{"items":[{"id":"a","strong":1,"wrong":0,"version":1}]}]"#;
        match decode_socketio(t).unwrap() {
            SioPacket::Update(Update::Tallies(items)) => assert_eq!(items.len(), 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode_socketio("2").unwrap(), SioPacket::Ping));
        assert!(matches!(
            decode_socketio(r#"40{"sid":"x"}"#).unwrap(),
            SioPacket::Connected
        ));
    }
}
