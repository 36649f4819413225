//! Votes on items: the hottest write. However many arrive together, they
//! take one path: the backend reads what it holds for all of them at once,
//! [`plan`] applies them in memory in arrival order (exactly as one by one
//! would), and the backend writes the result at once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::backend::{Backend, VoteKey};
use super::super::command::{Answer, Command, Committed, Pending, Request, RequestKey};
use super::super::rows::column;
use super::super::{StoreError, TallyChange};
use super::Tx;
use crate::domain::{vote, Choice, ItemKind, ItemStatus, Tally};

/// A participant votes an item strong or wrong, or withdraws (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastVote {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
    pub choice: Option<Choice>,
}

/// The answer to a vote: the participant's choice and the item's tally
/// just after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voted {
    pub item_id: Uuid,
    pub choice: Option<Choice>,
    pub tally: Tally,
}

impl Command for CastVote {
    type Answer = Voted;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        Some(self.key())
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::CastVote(request)
    }
}

impl CastVote {
    fn key(&self) -> RequestKey {
        RequestKey::new(
            self.request_id,
            "vote",
            &(
                self.conversation_id,
                self.item_id,
                self.participant_id,
                self.choice,
            ),
        )
    }
}

/// A request id's record: what it was used for and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub fingerprint: Vec<u8>,
    pub answer: Vec<u8>,
}

/// What the store holds for one vote before it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteState {
    /// The item's status, kind and tally, if it is in the vote's conversation.
    pub item: Option<(ItemStatus, ItemKind, Tally)>,
    /// Whether the participant is suspended, if they are in the conversation.
    pub suspended: Option<bool>,
    /// The participant's current vote on the item.
    pub choice: Option<Choice>,
    /// The request id's record, if it was used before.
    pub request: Option<Recorded>,
}

/// The row a backend reads per vote: item status, kind, strong, wrong,
/// version, suspended, current choice, request fingerprint, request answer.
pub type VoteRow = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<bool>,
    Option<String>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

impl VoteState {
    pub fn from_row(row: VoteRow) -> Result<VoteState, StoreError> {
        let (status, kind, strong, wrong, version, suspended, choice, fingerprint, answer) = row;
        let item = match (status, kind, strong, wrong, version) {
            (Some(status), Some(kind), Some(strong), Some(wrong), Some(version)) => Some((
                column::<ItemStatus>("items.status", &status)?,
                column::<ItemKind>("items.kind", &kind)?,
                Tally {
                    strong,
                    wrong,
                    version,
                },
            )),
            _ => None,
        };
        let choice = match choice {
            Some(choice) => Some(column::<Choice>("votes.choice", &choice)?),
            None => None,
        };
        Ok(VoteState {
            item,
            suspended,
            choice,
            request: match (fingerprint, answer) {
                (Some(fingerprint), Some(answer)) => Some(Recorded {
                    fingerprint,
                    answer,
                }),
                _ => None,
            },
        })
    }
}

/// What a batch of votes changes, for the backend to write.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VoteChanges {
    /// New request records: id, fingerprint, answer.
    pub requests: Vec<(Uuid, [u8; 16], Vec<u8>)>,
    /// Votes now cast: participant, item, conversation, choice.
    pub cast: Vec<(Uuid, Uuid, Uuid, Choice)>,
    /// Votes withdrawn: participant, item.
    pub withdrawn: Vec<(Uuid, Uuid)>,
    /// Items whose tally moved, with the new tally.
    pub tallies: Vec<(Uuid, Tally)>,
}

impl VoteChanges {
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }
}

/// Applies `votes` in order to what the store holds (`states`, one each):
/// each vote gets the answer it would get alone, one after the other.
/// A request id seen before (stored, or earlier in the batch) gets its
/// first answer back if it asked the same, and a conflict if not.
pub fn plan(
    votes: &[&CastVote],
    states: Vec<VoteState>,
) -> Result<(Vec<Answer<CastVote>>, VoteChanges), StoreError> {
    if states.len() != votes.len() {
        return Err(StoreError::Corrupt("a vote batch read lost rows".into()));
    }
    let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
    let mut choices: HashMap<(Uuid, Uuid), (Option<Choice>, Uuid)> = HashMap::new();
    let mut seen: HashMap<Uuid, Recorded> = HashMap::new();
    let mut changed_votes: Vec<(Uuid, Uuid)> = Vec::new();
    let mut changed_items: Vec<Uuid> = Vec::new();
    let mut changes = VoteChanges::default();
    let mut answers = Vec::with_capacity(votes.len());
    for (vote, state) in votes.iter().zip(states) {
        let key = vote.key();
        if let Some(recorded) = seen.get(&vote.request_id).or(state.request.as_ref()) {
            answers.push(super::replay::<CastVote>(&key, recorded));
            continue;
        }
        let tally = match state.item {
            Some((ItemStatus::Visible, kind, _)) if !kind.takes_votes() => {
                answers.push(Err(StoreError::Invalid {
                    field: "choice",
                    message: "this is a discussion topic: it takes comments, not votes".into(),
                }));
                continue;
            }
            Some((ItemStatus::Visible, _, tally)) => tally,
            _ => {
                answers.push(Err(StoreError::NotFound("item")));
                continue;
            }
        };
        match state.suspended {
            None => {
                answers.push(Err(StoreError::NotFound("participant")));
                continue;
            }
            Some(true) => {
                answers.push(Err(StoreError::Suspended));
                continue;
            }
            Some(false) => {}
        }
        let tally = tallies.entry(vote.item_id).or_insert(tally);
        let voter = (vote.participant_id, vote.item_id);
        let before = choices
            .entry(voter)
            .or_insert((state.choice, vote.conversation_id))
            .0;
        let (strong, wrong) = vote::delta(before, vote.choice);
        let moved = (strong, wrong) != (0, 0);
        if moved {
            tally.strong += strong;
            tally.wrong += wrong;
            tally.version += 1;
            choices.insert(voter, (vote.choice, vote.conversation_id));
            if !changed_votes.contains(&voter) {
                changed_votes.push(voter);
            }
            if !changed_items.contains(&vote.item_id) {
                changed_items.push(vote.item_id);
            }
        }
        let voted = Voted {
            item_id: vote.item_id,
            choice: vote.choice,
            tally: *tally,
        };
        let answer = serde_json::to_vec(&voted).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        changes
            .requests
            .push((vote.request_id, key.fingerprint, answer.clone()));
        seen.insert(
            vote.request_id,
            Recorded {
                fingerprint: key.fingerprint.to_vec(),
                answer,
            },
        );
        answers.push(Ok(Committed {
            answer: voted,
            events: Vec::new(),
            tally: moved.then_some((
                vote.conversation_id,
                TallyChange::Item {
                    id: vote.item_id,
                    tally: *tally,
                },
            )),
        }));
    }
    for voter in changed_votes {
        let (choice, conversation_id) = choices[&voter];
        match choice {
            Some(choice) => changes
                .cast
                .push((voter.0, voter.1, conversation_id, choice)),
            None => changes.withdrawn.push(voter),
        }
    }
    changes.tallies = changed_items.iter().map(|id| (*id, tallies[id])).collect();
    Ok((answers, changes))
}

fn keys(requests: &[&mut Request<CastVote>]) -> Vec<VoteKey> {
    requests
        .iter()
        .map(|r| VoteKey {
            conversation_id: r.command.conversation_id,
            item_id: r.command.item_id,
            participant_id: r.command.participant_id,
            request_id: r.command.request_id,
        })
        .collect()
}

/// A batch of votes and nothing else, in a transaction of its own: the
/// backend's begin-and-read and write-and-commit, two round trips on
/// PostgreSQL. `Err((false, _))` when the read failed (nothing was written;
/// a transaction may still be open), `Err((true, _))` after it.
pub async fn cast_votes_alone<DB: Backend>(
    c: &mut DB::Connection,
    conversations: &[Uuid],
    requests: &mut [&mut Request<CastVote>],
    now: crate::domain::Millis,
) -> Result<(), (bool, StoreError)> {
    let states = DB::begin_reading_votes(c, conversations, &keys(requests))
        .await
        .map_err(|e| (false, e))?;
    let commands: Vec<&CastVote> = requests.iter().map(|r| &r.command).collect();
    let (answers, changes) = plan(&commands, states).map_err(|e| (true, e))?;
    DB::write_votes_committing(c, &changes, now)
        .await
        .map_err(|e| (true, e))?;
    for (request, answer) in requests.iter_mut().zip(answers) {
        request.result = Some(answer);
    }
    Ok(())
}

impl<DB: Backend> Tx<'_, DB> {
    /// Applies a batch's votes with one read and one write.
    pub async fn cast_votes(
        &mut self,
        requests: &mut [&mut Request<CastVote>],
    ) -> Result<(), StoreError> {
        let states = DB::read_votes(self.c, &keys(requests)).await?;
        let commands: Vec<&CastVote> = requests.iter().map(|r| &r.command).collect();
        let (answers, changes) = plan(&commands, states)?;
        if !changes.is_empty() {
            DB::write_votes(self.c, &changes, self.now).await?;
        }
        for (request, answer) in requests.iter_mut().zip(answers) {
            request.result = Some(answer);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: Uuid = Uuid::from_u128(1);
    const CONVERSATION: Uuid = Uuid::from_u128(2);

    fn vote(participant: u128, request: u128, choice: Option<Choice>) -> CastVote {
        CastVote {
            conversation_id: CONVERSATION,
            item_id: ITEM,
            participant_id: Uuid::from_u128(participant),
            request_id: Uuid::from_u128(request),
            choice,
        }
    }

    fn fresh(choice: Option<Choice>) -> VoteState {
        VoteState {
            item: Some((ItemStatus::Visible, ItemKind::Pledge, Tally::default())),
            suspended: Some(false),
            choice,
            request: None,
        }
    }

    fn answer(a: &Answer<CastVote>) -> Voted {
        a.as_ref().expect("answered").answer
    }

    #[test]
    fn a_batch_is_applied_as_one_by_one() {
        let votes = [
            vote(10, 100, Some(Choice::Strong)),
            vote(11, 101, Some(Choice::Wrong)),
            vote(10, 102, Some(Choice::Wrong)),
        ];
        let refs: Vec<&CastVote> = votes.iter().collect();
        let (answers, changes) = plan(&refs, vec![fresh(None), fresh(None), fresh(None)]).unwrap();
        assert_eq!(
            answer(&answers[0]).tally,
            Tally {
                strong: 1,
                wrong: 0,
                version: 1
            }
        );
        assert_eq!(
            answer(&answers[1]).tally,
            Tally {
                strong: 1,
                wrong: 1,
                version: 2
            }
        );
        assert_eq!(
            answer(&answers[2]).tally,
            Tally {
                strong: 0,
                wrong: 2,
                version: 3
            }
        );
        assert_eq!(
            changes.tallies,
            vec![(
                ITEM,
                Tally {
                    strong: 0,
                    wrong: 2,
                    version: 3
                }
            )]
        );
        assert_eq!(changes.cast.len(), 2);
        assert_eq!(changes.requests.len(), 3);
    }

    #[test]
    fn a_retry_in_the_same_batch_gets_the_first_answer() {
        let votes = [
            vote(10, 100, Some(Choice::Strong)),
            vote(10, 101, None),
            vote(10, 100, Some(Choice::Strong)),
        ];
        let refs: Vec<&CastVote> = votes.iter().collect();
        let (answers, _) = plan(&refs, vec![fresh(None), fresh(None), fresh(None)]).unwrap();
        assert_eq!(answer(&answers[2]), answer(&answers[0]));
        assert!(
            answers[2].as_ref().unwrap().tally.is_none(),
            "a retry moves nothing"
        );
    }

    #[test]
    fn a_request_id_used_for_something_else_is_a_conflict() {
        let votes = [
            vote(10, 100, Some(Choice::Strong)),
            vote(10, 100, Some(Choice::Wrong)),
            vote(11, 100, Some(Choice::Strong)),
        ];
        let refs: Vec<&CastVote> = votes.iter().collect();
        let (answers, changes) = plan(&refs, vec![fresh(None), fresh(None), fresh(None)]).unwrap();
        assert!(matches!(answers[1], Err(StoreError::Conflict(_))));
        assert!(matches!(answers[2], Err(StoreError::Conflict(_))));
        assert_eq!(changes.requests.len(), 1);
    }

    #[test]
    fn withdrawing_nothing_is_remembered() {
        let votes = [vote(10, 100, None)];
        let (answers, changes) = plan(&[&votes[0]], vec![fresh(None)]).unwrap();
        assert_eq!(answer(&answers[0]).choice, None);
        assert_eq!(changes.requests.len(), 1, "the request is recorded");
        assert!(changes.withdrawn.is_empty() && changes.tallies.is_empty());
    }
}
