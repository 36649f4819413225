//! The answer to `subscribe`: who the caller may watch as, then the start
//! of the stream in the documented order: `subscribed`, the replay (from
//! the store where the topic's ring no longer reaches back, then from the
//! ring), the full tallies and the presence.

use uuid::Uuid;

use super::live::{full_tallies, Live};
use super::veil::Veil;
use super::wire::{End, Wire};
use super::{Connection, CLOSE_INTERNAL};
use crate::domain::event::project;
use crate::domain::{
    watch_as, Audience, Conversation, Millis, Standing, TalliesVisible, WatchRole,
};
use crate::http::auth::hash_token;
use crate::hub::protocol::{event_message, ServerMessage};
use crate::hub::topic::{Frame, Start, Subscription};

/// Events read from the store per query while replaying.
const REPLAY_PAGE: i64 = 500;

/// Where a replay comes from: the store for `(after, before)` (exclusive),
/// then these frames from the ring.
struct Replay {
    store_range: Option<(i64, i64)>,
    ring: Vec<Frame>,
}

impl Connection {
    /// Answers `subscribe`. `Ok(None)` when the client got an `error` or a
    /// `resync` instead of a stream; `Err` ends the connection.
    pub(super) async fn subscribe(
        &self,
        wire: &mut Wire,
        slug: &str,
        since: Option<i64>,
        requested: Option<WatchRole>,
        display_token: Option<&str>,
    ) -> Result<Option<Live>, End> {
        let Some(conversation) = self.conversation(wire, slug).await? else {
            return Ok(None);
        };
        let (standing, participant) = self.standing(&conversation, display_token).await?;
        let Some(role) = watch_as(
            standing,
            conversation.ways_in.allows(crate::domain::WayIn::Open),
            requested,
        ) else {
            wire.send_error(
                "forbidden",
                "this session may not watch this conversation with that role",
            )
            .await?;
            return Ok(None);
        };
        self.note_display_day(conversation.id, role).await;
        let mut subscription = self
            .state
            .hub
            .subscribe(conversation.id, role, since)
            .await
            .map_err(|e| internal_error("subscribe", e))?;
        let mut veil = self
            .veil(&conversation, role, standing, participant)
            .await?;
        let Some(replay) = self.replay_plan(wire, &mut subscription).await? else {
            return Ok(None);
        };
        let since = subscription.since;
        wire.send_message(ServerMessage::Subscribed {
            conversation: &conversation.slug,
            role,
            seq: since,
        })
        .await?;
        let mut last_sent = since;
        if let Some(range) = replay.store_range {
            last_sent = self
                .replay_from_store(wire, &subscription, range, last_sent, veil.as_mut())
                .await?;
        }
        let last_sent = replay_ring(wire, replay.ring, last_sent, veil.as_mut()).await?;
        go_live(wire, subscription, last_sent, veil).await.map(Some)
    }

    /// What this connection must leave out of the tallies: nothing for
    /// staff and screens holding a display token; for anyone else (a
    /// participant, or a screen anyone may open where sign-up is open),
    /// what `tallies_visible` hides from participants, learning which pledges
    /// this participant voted on from the store (only when the setting
    /// hides anything: switching to `after_voting` later hides more from
    /// a connection made before, never less, until it resubscribes).
    async fn veil(
        &self,
        conversation: &Conversation,
        role: WatchRole,
        standing: Standing,
        participant: Option<Uuid>,
    ) -> Result<Option<Veil>, End> {
        let sees_all = role == WatchRole::Facilitator
            || (role == WatchRole::Display && (standing.staff || standing.display_token));
        if sees_all {
            return Ok(None);
        }
        let participant = participant.filter(|_| role == WatchRole::Participant);
        let voted = match participant {
            Some(id) if conversation.tallies_visible != TalliesVisible::Always => {
                let (votes, _) = self
                    .state
                    .store
                    .votes_of(id)
                    .await
                    .map_err(|e| internal_error("subscribe: votes", e))?;
                votes.into_iter().map(|(item, _)| item).collect()
            }
            _ => Vec::new(),
        };
        Ok(Some(Veil::new(conversation, participant, voted)))
    }

    /// The conversation by slug; a client naming none gets `not_found`.
    async fn conversation(&self, wire: &mut Wire, slug: &str) -> Result<Option<Conversation>, End> {
        match self.state.store.conversation_by_slug(slug).await {
            Ok(Some(conversation)) => Ok(Some(conversation)),
            Ok(None) => {
                wire.send_error("not_found", &format!("no conversation {slug:?}"))
                    .await?;
                Ok(None)
            }
            Err(e) => Err(internal_error("subscribe: conversation", e)),
        }
    }

    /// The facts [`watch_as`] decides on. A lookup that fails is an
    /// internal error, never a "no": a participant told it may not watch
    /// would give up, where one told to retry comes back.
    async fn standing(
        &self,
        conversation: &Conversation,
        display_token: Option<&str>,
    ) -> Result<(Standing, Option<Uuid>), End> {
        let store = &self.state.store;
        let staff = self
            .caller
            .staff_now(&self.state)
            .await
            .map_err(|e| internal_error("subscribe: staff session", e))?
            .is_some();
        let participant = self
            .caller
            .participant_session_now(&self.state, conversation)
            .await
            .map_err(|e| internal_error("subscribe: participant", e))?
            .map(|session| session.participant.id);
        let display_token = match display_token {
            Some(token) => store
                .display_token_valid(conversation.id, &hash_token(token))
                .await
                .map_err(|e| internal_error("subscribe: display token", e))?,
            None => false,
        };
        let standing = Standing {
            staff,
            participant: participant.is_some(),
            display_token,
        };
        Ok((standing, participant))
    }

    /// Records today as one of the conversation's event days (for the
    /// report) when a screen watches. Only the first screen of the day on
    /// this node writes, and a failed write costs the report a day, not
    /// the screen its stream.
    async fn note_display_day(&self, conversation_id: Uuid, role: WatchRole) {
        let today = Millis::now().day();
        if role != WatchRole::Display
            || !self.state.hub.first_display_of_day(conversation_id, today)
        {
            return;
        }
        let write = crate::store::write::RecordDisplayDay {
            conversation_id,
            day: today,
        };
        if let Err(e) = self.state.store.write(write).await {
            tracing::warn!(error = %e, "could not record the display day");
        }
    }

    /// Where the replay comes from, or `None` when the client was sent a
    /// `resync` instead: it is too far behind, or ahead of the store.
    async fn replay_plan(
        &self,
        wire: &mut Wire,
        subscription: &mut Subscription,
    ) -> Result<Option<Replay>, End> {
        // Taken out, not borrowed: the subscription moves into the live
        // state later, and the ring's frames are sent from here.
        let start = std::mem::replace(
            &mut subscription.start,
            Start::Replay {
                store_range: None,
                ring: Vec::new(),
            },
        );
        let (store_range, ring) = match start {
            Start::Resync { seq, reason } => {
                wire.send_message(ServerMessage::Resync { seq, reason })
                    .await?;
                return Ok(None);
            }
            Start::Replay { store_range, ring } => (store_range, ring),
        };
        let since = subscription.since;
        if since > subscription.topic.head() {
            // Ahead of this node: fine if the store has it (another node
            // was faster), a resync if not even the store does. Not
            // knowing is not "ahead": a resync would send the client to
            // reload for nothing, so a store failure is an internal error.
            let last = self
                .state
                .store
                .last_seq(subscription.topic.conversation_id)
                .await
                .map_err(|e| internal_error("subscribe: last seq", e))?;
            if since > last {
                wire.send_message(ServerMessage::Resync {
                    seq: last,
                    reason: "ahead_of_server",
                })
                .await?;
                return Ok(None);
            }
        }
        Ok(Some(Replay { store_range, ring }))
    }

    /// Sends the events `after < seq < before` this audience may see, from
    /// the store, skipping what was sent; returns the last seq sent.
    async fn replay_from_store(
        &self,
        wire: &mut Wire,
        subscription: &Subscription,
        (mut after, before): (i64, i64),
        mut last_sent: i64,
        mut veil: Option<&mut Veil>,
    ) -> Result<i64, End> {
        let conversation_id = subscription.topic.conversation_id;
        let audience = subscription.audience;
        let now = Millis::now();
        while after + 1 < before {
            let limit = (before - after - 1).min(REPLAY_PAGE);
            let events = self
                .state
                .store
                .events(conversation_id, after, limit)
                .await
                .map_err(|e| internal_error("replay from store", e))?;
            if events.is_empty() {
                break;
            }
            for event in &events {
                after = event.seq;
                if event.seq <= last_sent {
                    continue;
                }
                let Some(projection) = project(event, audience) else {
                    continue;
                };
                let by = (audience == Audience::Moderators).then_some(event.actor.as_str());
                let text = event_message(event.seq, projection, by, now).to_text();
                let veiled = veil.as_mut().and_then(|v| v.event(text.as_str(), now));
                wire.send(veiled.unwrap_or(text)).await?;
                last_sent = event.seq;
            }
        }
        Ok(last_sent)
    }
}

/// Sends the ring's frames after `last_sent`; returns the last seq sent.
async fn replay_ring(
    wire: &mut Wire,
    ring: Vec<Frame>,
    mut last_sent: i64,
    mut veil: Option<&mut Veil>,
) -> Result<i64, End> {
    let now = Millis::now();
    for Frame { seq, text } in ring {
        if seq > last_sent {
            let veiled = veil.as_mut().and_then(|v| v.event(text.as_str(), now));
            wire.send(veiled.unwrap_or(text)).await?;
            last_sent = seq;
        }
    }
    Ok(last_sent)
}

/// Ends the start of the stream with the current tallies and presence;
/// from here the connection forwards what changes.
async fn go_live(
    wire: &mut Wire,
    subscription: Subscription,
    last_sent: i64,
    veil: Option<Veil>,
) -> Result<Live, End> {
    let (epoch, full) = full_tallies(&subscription, veil.as_ref(), Millis::now());
    wire.send(full).await?;
    let presence = subscription.topic.presence_now();
    wire.send(presence.clone()).await?;
    Ok(Live {
        subscription,
        last_sent,
        epoch,
        last_presence: presence,
        veil,
    })
}

/// Logs a store failure and closes with 1011: the client retries later,
/// rather than being told something about its request that is not true.
fn internal_error(context: &'static str, error: impl std::fmt::Display) -> End {
    tracing::warn!(%error, context, "store unavailable");
    End::Close(CLOSE_INTERNAL, "internal error")
}
