//! What a participant's connection leaves out of the tallies when the
//! conversation's `tallies_visible` hides them (docs/protocol.md). The
//! topic encodes each frame once per audience; a veiled connection
//! re-encodes only the frames that carry a tally it may not see: tally
//! frames, and `item` events (whose `strong`, `wrong` and `version` become
//! `null`). It follows the setting live: `conversation` events carry it,
//! and the clock says when the conversation has closed.

use std::collections::HashSet;

use axum::extract::ws::Utf8Bytes;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{Conversation, Millis, TalliesVisible, TallyView};
use crate::hub::protocol::{CommentUps, ItemTally, ServerMessage};

/// What a veiled connection sends for a tally frame.
#[derive(Debug, PartialEq)]
pub enum Veiled {
    /// The shared bytes: nothing in them is hidden.
    Shared,
    /// Its own encoding of what it may see.
    Own(Utf8Bytes),
    /// Nothing: everything in the frame is hidden.
    Nothing,
}

/// The view of one connection that is neither staff nor a screen with a
/// display token.
#[derive(Debug)]
pub struct Veil {
    setting: TalliesVisible,
    closes_at: Millis,
    /// The pledges this participant has voted on (for `after_voting`).
    voted: HashSet<Uuid>,
    /// Who this participant is, to check a `voted` message in the store.
    pub participant: Option<Uuid>,
}

impl Veil {
    pub fn new(
        conversation: &Conversation,
        participant: Option<Uuid>,
        voted: impl IntoIterator<Item = Uuid>,
    ) -> Veil {
        Veil {
            setting: conversation.tallies_visible,
            closes_at: conversation.closes_at,
            voted: voted.into_iter().collect(),
            participant,
        }
    }

    fn view(&self, now: Millis) -> TallyView {
        self.setting.for_participants(now >= self.closes_at)
    }

    /// Whether this connection may see `item`'s tally now.
    pub fn shows(&self, item: Uuid, now: Millis) -> bool {
        match self.view(now) {
            TallyView::All => true,
            TallyView::Voted => self.voted.contains(&item),
            TallyView::None => false,
        }
    }

    /// Whether every tally passes now (the shared bytes can go out as they are).
    pub fn lifted(&self, now: Millis) -> bool {
        self.view(now) == TallyView::All
    }

    /// Records the participant's own vote (checked against the store by
    /// the caller): from now on that pledge's tally passes.
    pub fn voted(&mut self, item: Uuid) {
        self.voted.insert(item);
    }

    /// A tally frame with only what this connection may see.
    pub fn tallies(&self, items: &[ItemTally], comments: &[CommentUps], now: Millis) -> Veiled {
        if items.iter().all(|t| self.shows(t.id, now)) {
            return Veiled::Shared;
        }
        let items: Vec<ItemTally> = items
            .iter()
            .filter(|t| self.shows(t.id, now))
            .copied()
            .collect();
        if items.is_empty() && comments.is_empty() {
            return Veiled::Nothing;
        }
        let comments = comments.to_vec();
        Veiled::Own(ServerMessage::Tallies { items, comments }.to_text())
    }

    /// An event frame as this connection may see it: an `item` event whose
    /// tally is hidden goes out without its counts; a `conversation` event
    /// updates the setting. `None`: send the shared bytes.
    pub fn event(&mut self, text: &str, now: Millis) -> Option<Utf8Bytes> {
        let conversation = text.starts_with(r#"{"type":"conversation","#);
        let item = text.starts_with(r#"{"type":"item","#);
        if !conversation && !item {
            return None;
        }
        if item && self.lifted(now) {
            return None;
        }
        let mut message: Value = serde_json::from_str(text).ok()?;
        if conversation {
            let c = &message["conversation"];
            if let Some(setting) = c["tallies_visible"].as_str().and_then(|s| s.parse().ok()) {
                self.setting = setting;
            }
            if let Some(closes_at) = c["closes_at"].as_i64() {
                self.closes_at = Millis(closes_at);
            }
            return None;
        }
        let id: Uuid = message["item"]["id"].as_str()?.parse().ok()?;
        if self.shows(id, now) {
            return None;
        }
        for field in ["strong", "wrong", "version"] {
            message["item"][field] = Value::Null;
        }
        Some(Utf8Bytes::from(message.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Tally;

    fn veil(setting: TalliesVisible, voted: &[Uuid]) -> Veil {
        Veil {
            setting,
            closes_at: Millis(1_000),
            voted: voted.iter().copied().collect(),
            participant: None,
        }
    }

    fn tally(id: Uuid) -> ItemTally {
        ItemTally {
            id,
            tally: Tally {
                strong: 2,
                wrong: 1,
                version: 3,
            },
        }
    }

    #[test]
    fn after_voting_passes_only_the_voted_pledges() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let v = veil(TalliesVisible::AfterVoting, &[a]);
        let Veiled::Own(text) = v.tallies(&[tally(a), tally(b)], &[], Millis(10)) else {
            panic!("a frame of its own");
        };
        assert!(text.as_str().contains(&a.to_string()));
        assert!(!text.as_str().contains(&b.to_string()));
        assert_eq!(v.tallies(&[tally(a)], &[], Millis(10)), Veiled::Shared);
        assert_eq!(v.tallies(&[tally(b)], &[], Millis(10)), Veiled::Nothing);
        // Closed: everything.
        assert_eq!(
            v.tallies(&[tally(a), tally(b)], &[], Millis(1_000)),
            Veiled::Shared
        );
    }

    #[test]
    fn item_events_lose_their_counts_when_hidden() {
        let a = Uuid::new_v4();
        let mut v = veil(TalliesVisible::AfterClose, &[a]);
        let text = format!(
            r#"{{"type":"item","seq":4,"item":{{"id":"{a}","strong":2,"wrong":1,"version":3}}}}"#
        );
        let out: Value = serde_json::from_str(&v.event(&text, Millis(10)).unwrap()).unwrap();
        assert_eq!(out["item"]["strong"], Value::Null);
        assert_eq!(out["item"]["version"], Value::Null);
        assert!(v.event(&text, Millis(2_000)).is_none());
        // The organisers switch to "always": the counts pass at once.
        let changed = r#"{"type":"conversation","seq":5,"conversation":{"tallies_visible":"always","closes_at":1000}}"#;
        assert!(v.event(changed, Millis(10)).is_none());
        assert!(v.event(&text, Millis(10)).is_none());
    }
}
