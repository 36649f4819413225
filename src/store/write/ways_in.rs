//! Ways in that need the store to check them: codes sent by email, invite
//! codes and return phrases. Every secret arrives here as a keyed hash
//! (see `crate::identity`); the store never sees an address, a code or a
//! phrase, and never the key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request};
use super::super::rows::ParticipantRow;
use super::super::StoreError;
use super::Tx;
use crate::domain::{handle, Millis, Participant, WayIn};

/// Tries an emailed code allows before its attempt is locked.
pub const EMAIL_CODE_TRIES: i64 = 5;

/// Keeps a code sent to an address (by its keyed hash), replacing any
/// earlier one for the same address in the same conversation.
#[derive(Debug, Clone)]
pub struct RequestEmailCode {
    pub conversation_id: Uuid,
    pub attempt_id: Uuid,
    pub identity_hash: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub expires_at: Millis,
}

impl Command for RequestEmailCode {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::RequestEmailCode(request)
    }
}

/// Checks an emailed code (by its keyed hash, bound to its attempt) and,
/// when right, finds or creates the participant of that address.
#[derive(Debug, Clone)]
pub struct VerifyEmailCode {
    pub conversation_id: Uuid,
    pub attempt_id: Uuid,
    pub code_hash: Vec<u8>,
    /// Used only when the participant is new.
    pub new_participant: NewParticipant,
}

/// What a new participant is created with.
#[derive(Debug, Clone)]
pub struct NewParticipant {
    pub profile: BTreeMap<String, String>,
    pub way_in: WayIn,
    pub identity_hash: Option<Vec<u8>>,
    pub return_phrase_hash: Vec<u8>,
}

/// What checking an emailed code found. Wrong codes are answers, not
/// errors, because the try they use up must be committed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum EmailVerified {
    /// Right: the participant of this address, and whether it is new.
    Participant {
        participant: Participant,
        created: bool,
    },
    Wrong {
        tries_left: i64,
    },
    /// Five wrong tries: this attempt takes no more.
    Locked,
    Expired,
    /// No such attempt (never asked, replaced by a newer one, or used).
    Unknown,
}

impl Command for VerifyEmailCode {
    type Answer = EmailVerified;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::VerifyEmailCode(request)
    }
}

/// Stores new invite codes (by keyed hash) for a conversation.
#[derive(Debug, Clone)]
pub struct IssueInvites {
    pub conversation_id: Uuid,
    pub code_hashes: Vec<Vec<u8>>,
}

/// How many invites a conversation has, and how many were used. Never by whom.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct InviteCounts {
    pub issued: i64,
    pub used: i64,
}

impl Command for IssueInvites {
    type Answer = InviteCounts;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::IssueInvites(request)
    }
}

/// Replaces a participant's return phrase (by keyed hash); the old one
/// stops working.
#[derive(Debug, Clone)]
pub struct SetReturnPhrase {
    pub conversation_id: Uuid,
    pub participant_id: Uuid,
    pub return_phrase_hash: Vec<u8>,
}

impl Command for SetReturnPhrase {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::SetReturnPhrase(request)
    }
}

impl<DB> Tx<'_, DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    /// A new participant with a fresh handle.
    pub(super) async fn insert_participant(
        &mut self,
        conversation_id: Uuid,
        new: &NewParticipant,
    ) -> Result<Participant, StoreError> {
        let mut attempt = 0;
        let handle = loop {
            let candidate = handle::generate(attempt);
            let taken: Option<Uuid> = sqlx::query_scalar(
                "SELECT id FROM participants WHERE conversation_id = $1 AND handle = $2",
            )
            .bind(conversation_id)
            .bind(&candidate)
            .fetch_optional(&mut *self.c)
            .await?;
            if taken.is_none() {
                break candidate;
            }
            attempt += 1;
        };
        let id = Uuid::new_v4();
        let profile =
            serde_json::to_string(&new.profile).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO participants (id, conversation_id, handle, profile, suspended, \
             created_at, way_in, return_phrase_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(conversation_id)
        .bind(&handle)
        .bind(profile)
        .bind(false)
        .bind(self.now.0)
        .bind(new.way_in.as_str())
        .bind(new.return_phrase_hash.clone())
        .execute(&mut *self.c)
        .await?;
        // A second statement, so the backends need not bind a nullable blob.
        if let Some(identity_hash) = &new.identity_hash {
            sqlx::query("UPDATE participants SET identity_hash = $1 WHERE id = $2")
                .bind(identity_hash.clone())
                .bind(id)
                .execute(&mut *self.c)
                .await?;
        }
        Ok(Participant {
            id,
            conversation_id,
            handle,
            suspended: false,
        })
    }

    /// Marks an unused invite of the conversation used, or says why not.
    pub(super) async fn use_invite(
        &mut self,
        conversation_id: Uuid,
        code_hash: &[u8],
    ) -> Result<(), StoreError> {
        let used = sqlx::query(
            "UPDATE invites SET used = $1 WHERE conversation_id = $2 AND code_hash = $3 AND used = $4",
        )
        .bind(true)
        .bind(conversation_id)
        .bind(code_hash.to_vec())
        .bind(false)
        .execute(&mut *self.c)
        .await?;
        if DB::rows_affected(&used) == 1 {
            return Ok(());
        }
        let known: Option<bool> = sqlx::query_scalar(
            "SELECT used FROM invites WHERE conversation_id = $1 AND code_hash = $2",
        )
        .bind(conversation_id)
        .bind(code_hash.to_vec())
        .fetch_optional(&mut *self.c)
        .await?;
        Err(StoreError::Invalid {
            field: "invite_code",
            message: match known {
                Some(_) => {
                    "this invite code has already been used: each code lets one person in".into()
                }
                None => "this invite code is not right: check it and try again".into(),
            },
        })
    }

    pub async fn request_email_code(
        &mut self,
        command: &RequestEmailCode,
    ) -> Answer<RequestEmailCode> {
        // Expired codes are forgotten as new ones are asked for.
        sqlx::query("DELETE FROM email_codes WHERE expires_at <= $1")
            .bind(self.now.0)
            .execute(&mut *self.c)
            .await?;
        sqlx::query(
            "INSERT INTO email_codes (id, conversation_id, identity_hash, code_hash, expires_at, tries_left) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (conversation_id, identity_hash) DO UPDATE SET id = excluded.id, \
             code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries_left = excluded.tries_left",
        )
        .bind(command.attempt_id)
        .bind(command.conversation_id)
        .bind(command.identity_hash.clone())
        .bind(command.code_hash.clone())
        .bind(command.expires_at.0)
        .bind(EMAIL_CODE_TRIES)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn verify_email_code(
        &mut self,
        command: &VerifyEmailCode,
    ) -> Answer<VerifyEmailCode> {
        let row: Option<(Vec<u8>, Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT identity_hash, code_hash, expires_at, tries_left FROM email_codes \
             WHERE id = $1 AND conversation_id = $2",
        )
        .bind(command.attempt_id)
        .bind(command.conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        let Some((identity_hash, code_hash, expires_at, tries_left)) = row else {
            return Ok(Committed::quiet(EmailVerified::Unknown));
        };
        if expires_at <= self.now.0 {
            return Ok(Committed::quiet(EmailVerified::Expired));
        }
        if tries_left <= 0 {
            return Ok(Committed::quiet(EmailVerified::Locked));
        }
        if !same(&code_hash, &command.code_hash) {
            sqlx::query("UPDATE email_codes SET tries_left = tries_left - 1 WHERE id = $1")
                .bind(command.attempt_id)
                .execute(&mut *self.c)
                .await?;
            return Ok(Committed::quiet(EmailVerified::Wrong {
                tries_left: tries_left - 1,
            }));
        }
        sqlx::query("DELETE FROM email_codes WHERE id = $1")
            .bind(command.attempt_id)
            .execute(&mut *self.c)
            .await?;
        let existing: Option<ParticipantRow> = sqlx::query_as(
            "SELECT id, conversation_id, handle, suspended FROM participants \
             WHERE conversation_id = $1 AND identity_hash = $2",
        )
        .bind(command.conversation_id)
        .bind(identity_hash.clone())
        .fetch_optional(&mut *self.c)
        .await?;
        if let Some(row) = existing {
            return Ok(Committed::quiet(EmailVerified::Participant {
                participant: row.into(),
                created: false,
            }));
        }
        let new = NewParticipant {
            identity_hash: Some(identity_hash),
            way_in: WayIn::Email,
            ..command.new_participant.clone()
        };
        let participant = self
            .insert_participant(command.conversation_id, &new)
            .await?;
        Ok(Committed::quiet(EmailVerified::Participant {
            participant,
            created: true,
        }))
    }

    pub async fn issue_invites(&mut self, command: &IssueInvites) -> Answer<IssueInvites> {
        for hash in &command.code_hashes {
            sqlx::query(
                "INSERT INTO invites (code_hash, conversation_id, used, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(hash.clone())
            .bind(command.conversation_id)
            .bind(false)
            .bind(self.now.0)
            .execute(&mut *self.c)
            .await?;
        }
        let (issued, used): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(CASE WHEN used THEN 1 END) FROM invites WHERE conversation_id = $1",
        )
        .bind(command.conversation_id)
        .fetch_one(&mut *self.c)
        .await?;
        Ok(Committed::quiet(InviteCounts { issued, used }))
    }

    pub async fn set_return_phrase(
        &mut self,
        command: &SetReturnPhrase,
    ) -> Answer<SetReturnPhrase> {
        let changed = sqlx::query(
            "UPDATE participants SET return_phrase_hash = $1 WHERE id = $2 AND conversation_id = $3",
        )
        .bind(command.return_phrase_hash.clone())
        .bind(command.participant_id)
        .bind(command.conversation_id)
        .execute(&mut *self.c)
        .await?;
        if DB::rows_affected(&changed) == 0 {
            return Err(StoreError::NotFound("participant"));
        }
        Ok(Committed::quiet(()))
    }
}

/// Compares two hashes in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
