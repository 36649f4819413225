//! chorus: real-time, anonymous open conversations.
//!
//! A conversation runs for a window of days. Organisers publish pledges;
//! participants sign up anonymously, vote pledges strong or wrong, comment,
//! reply, up-vote comments and suggest ideas; facilitators moderate; big
//! screens show the votes moving. Everything anyone does reaches everyone
//! else as it happens.
//!
//! The modules, in the order data flows through them:
//!
//! - [`config`]: layered settings, checked once at start.
//! - [`domain`]: the rules (what a vote, a comment, an event is; what text
//!   is acceptable; what each audience may see). No IO, no async.
//! - [`store`]: durable state behind the `Store` trait, one implementation
//!   for SQLite and one for PostgreSQL. A single writer per store groups
//!   concurrent writes into one transaction (group commit) and assigns each
//!   event its conversation's sequence number in that transaction.
//! - [`hub`]: the live fan-out. One topic per conversation keeps the recent
//!   events (for resume), the latest version of every tally (coalesced into
//!   one frame per interval) and presence, and serialises each event once
//!   per audience. Topics on different nodes hear each other through a
//!   `Bus`: in-process for one node, Redis pub/sub for a cluster.
//! - [`http`]: the axum router: the REST API (auth, rate limits, problem
//!   JSON errors), the WebSocket endpoint, the web client's files, health
//!   and metrics.
//! - [`startup`]: builds the whole application from settings, binds the
//!   listener (port 0 in tests) and runs it until shutdown, which is
//!   explicit: stop accepting, tell every WebSocket the node is restarting,
//!   wait for every connection task, then flush the store's writer.
//! - [`analysis`]: opinion groups, common ground and the comments that
//!   bridge them (Pol.is-style PCA and k-means, Community Notes-style
//!   bridging), pure Rust over plain inputs; [`report`] shows its answer.
//! - [`report`]: the analysis of a conversation (tallies, intervals,
//!   groups with small-group suppression, themes) and its exports.
//! - [`upkeep`]: what runs on the clock: deadline announcements, pruning
//!   old request ids.
//! - [`telemetry`]: logging and metrics set-up.
//! - [`allocator`]: fewer C allocator arenas, so resident memory stays flat.
//! - [`demo`]: the demo conversation and the TOML import format.

pub mod allocator;
pub mod analysis;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod hub;
pub mod identity;
pub mod mail;
pub mod report;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod upkeep;
