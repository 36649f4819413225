//! How people came in: the ways the conversation takes, how many
//! participants came by each, and how many of them are verified (a work
//! email or an invite: one person, one voice) against the others (the
//! open link or an access code, by which one person can come in twice).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{Conversation, WayIn};
use crate::store::ReportParticipant;

#[derive(Debug, Clone, Serialize)]
pub struct WaysInReport {
    /// The ways in the conversation takes now.
    pub allowed: Vec<WayIn>,
    /// Participants by the way they came in; ways nobody used are left out.
    pub used: BTreeMap<WayIn, i64>,
    /// Participants who came in by a work email or an invite.
    pub verified: i64,
    /// Participants who came in by the open link or an access code.
    pub unverified: i64,
    /// True when every participant is verified: then each counts as one
    /// person. Otherwise the figures count sign-ups, and one person may
    /// have signed up more than once.
    pub one_person_one_voice: bool,
}

pub fn ways_in(conversation: &Conversation, participants: &[ReportParticipant]) -> WaysInReport {
    let mut used = BTreeMap::new();
    for participant in participants {
        *used.entry(participant.way_in).or_insert(0) += 1;
    }
    let verified: i64 = used
        .iter()
        .filter(|(way, _)| way.verified())
        .map(|(_, n)| n)
        .sum();
    let unverified = participants.len() as i64 - verified;
    WaysInReport {
        allowed: conversation.ways_in.iter().collect(),
        used,
        verified,
        unverified,
        one_person_one_voice: unverified == 0 && conversation.ways_in.iter().all(WayIn::verified),
    }
}
