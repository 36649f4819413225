//! The systems under test: chorus itself and the two peer baselines. Each
//! starts its servers, takes votes, streams tallies, and tells the truth
//! about its final state for the exactness check.

pub mod chorus;
pub mod chorus_api;
pub mod floor;
pub mod socketio;

use std::time::Duration;

use crate::subscriber::{Dialect, Held};

/// A vote's side. The load toggles each voter's choice on an item, so every
/// vote changes the tally and produces a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Strong,
    Wrong,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Strong => "strong",
            Choice::Wrong => "wrong",
        }
    }

    pub fn other(self) -> Choice {
        match self {
            Choice::Strong => Choice::Wrong,
            Choice::Wrong => Choice::Strong,
        }
    }
}

/// Someone who votes: a signed-up participant (cookie) or a peer's voter id.
#[derive(Debug, Clone)]
pub struct Voter {
    pub id: String,
    pub cookie: Option<String>,
}

/// A system under test.
pub enum System {
    Chorus(chorus::Chorus),
    SocketIo(socketio::SocketIo),
    Floor(floor::Floor),
}

impl System {
    /// `chorus/sqlite`, `chorus/postgres`, `socketio`, `socketio-coalesced`, `floor`.
    pub fn name(&self) -> String {
        match self {
            System::Chorus(c) => c.name(),
            System::SocketIo(s) => s.name().into(),
            System::Floor(_) => "floor".into(),
        }
    }

    pub fn item_ids(&self) -> &[String] {
        match self {
            System::Chorus(c) => &c.item_ids,
            System::SocketIo(s) => &s.item_ids,
            System::Floor(f) => &f.item_ids,
        }
    }

    pub fn nodes(&self) -> usize {
        match self {
            System::Chorus(c) => c.bases.len(),
            System::SocketIo(s) => s.bases.len(),
            System::Floor(_) => 1,
        }
    }

    /// Server processes whose CPU and memory are measured (empty: not measurable).
    pub fn pids(&self) -> Vec<u32> {
        match self {
            System::Chorus(c) => c.pids(),
            System::SocketIo(s) => s.pids(),
            System::Floor(f) => f.pids(),
        }
    }

    pub fn ws_url(&self, node: usize) -> String {
        match self {
            System::Chorus(c) => c.ws_url(node),
            System::SocketIo(s) => s.ws_url(node),
            System::Floor(f) => f.ws_url(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            System::Chorus(c) => Dialect::Chorus {
                slug: c.slug.clone(),
            },
            System::SocketIo(_) => Dialect::SocketIo,
            System::Floor(_) => Dialect::Floor,
        }
    }

    /// Makes voter `index` (a chorus participant signs up over HTTP).
    pub async fn voter(&self, index: usize, node: usize) -> anyhow::Result<Voter> {
        match self {
            System::Chorus(c) => c.sign_up(node).await,
            System::SocketIo(_) | System::Floor(_) => Ok(Voter {
                id: format!("voter-{index}"),
                cookie: None,
            }),
        }
    }

    /// Casts a vote and returns the tally it produced.
    pub async fn vote(
        &self,
        voter: &Voter,
        node: usize,
        item: usize,
        choice: Choice,
    ) -> anyhow::Result<Held> {
        match self {
            System::Chorus(c) => c.vote(voter, node, item, choice).await,
            System::SocketIo(s) => s.vote(voter, node, item, choice).await,
            System::Floor(f) => f.vote(item, choice).await,
        }
    }

    /// The store's final tallies, by item index.
    pub async fn store_tallies(&self) -> anyhow::Result<Vec<Held>> {
        match self {
            System::Chorus(c) => c.snapshot_tallies().await,
            System::SocketIo(s) => s.tallies().await,
            System::Floor(f) => f.tallies().await,
        }
    }

    /// Whether votes are increments (the floor) rather than one per voter per item.
    pub fn votes_are_increments(&self) -> bool {
        matches!(self, System::Floor(_))
    }

    pub async fn stop(self) {
        match self {
            System::Chorus(c) => c.stop().await,
            System::SocketIo(s) => s.stop().await,
            System::Floor(f) => f.stop().await,
        }
    }
}

/// How long a server gets to start.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server gets to stop after SIGTERM before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
