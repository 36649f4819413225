//! Sessions and staff accounts.

use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request};
use super::super::StoreError;
use super::Tx;
use crate::domain::{Millis, Role};

/// Whom a session signs in: a staff account, or one participant (so one
/// conversation). Never both: that is what keeps a staff login from
/// linking to a participant, and two conversations from linking to each
/// other (the table's CHECK says the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOwner {
    Staff(Uuid),
    Participant(Uuid),
}

/// A new session; only the token's hash is stored.
#[derive(Debug, Clone)]
pub struct CreateSession {
    pub id: Uuid,
    pub token_hash: Vec<u8>,
    pub owner: SessionOwner,
    pub expires_at: Millis,
}

impl Command for CreateSession {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::CreateSession(request)
    }
}

/// Ends the session with this token (logout); nothing if there is none.
#[derive(Debug, Clone)]
pub struct EndSession {
    pub token_hash: Vec<u8>,
}

impl Command for EndSession {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::EndSession(request)
    }
}

/// Moves a participant session's expiry forward (sliding expiry).
#[derive(Debug, Clone)]
pub struct RefreshSession {
    pub id: Uuid,
    pub expires_at: Millis,
}

impl Command for RefreshSession {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::RefreshSession(request)
    }
}

/// Deletes sessions that expired before `before`.
#[derive(Debug, Clone)]
pub struct PruneSessions {
    pub before: Millis,
}

impl Command for PruneSessions {
    /// How many sessions were removed.
    type Answer = u64;
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::PruneSessions(request)
    }
}

/// A facilitator or admin account, with its argon2id password hash.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

impl Command for CreateUser {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::CreateUser(request)
    }
}

/// Sets an account's password (the demo's facilitator gets a fresh one
/// each start).
#[derive(Debug, Clone)]
pub struct SetPassword {
    pub name: String,
    pub password_hash: String,
}

impl Command for SetPassword {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::SetPassword(request)
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
    pub async fn create_session(&mut self, command: &CreateSession) -> Answer<CreateSession> {
        let (user_id, participant_id) = match command.owner {
            SessionOwner::Staff(id) => (Some(id), None),
            SessionOwner::Participant(id) => (None, Some(id)),
        };
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, participant_id, created_at, expires_at, refreshed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(command.id)
        .bind(&command.token_hash)
        .bind(user_id)
        .bind(participant_id)
        .bind(self.now.0)
        .bind(command.expires_at.0)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn end_session(&mut self, command: &EndSession) -> Answer<EndSession> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&command.token_hash)
            .execute(&mut *self.c)
            .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn refresh_session(&mut self, command: &RefreshSession) -> Answer<RefreshSession> {
        // Never shortens, and never revives a session that has expired.
        sqlx::query(
            "UPDATE sessions SET expires_at = $1, refreshed_at = $2 \
             WHERE id = $3 AND expires_at > $2 AND expires_at < $1",
        )
        .bind(command.expires_at.0)
        .bind(self.now.0)
        .bind(command.id)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn prune_sessions(&mut self, command: &PruneSessions) -> Answer<PruneSessions> {
        let removed = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(command.before.0)
            .execute(&mut *self.c)
            .await?;
        Ok(Committed::quiet(DB::rows_affected(&removed)))
    }

    pub async fn create_user(&mut self, command: &CreateUser) -> Answer<CreateUser> {
        let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
            .bind(&command.name)
            .fetch_optional(&mut *self.c)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "a user named {:?} already exists",
                command.name
            )));
        }
        sqlx::query(
            "INSERT INTO users (id, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(command.id)
        .bind(&command.name)
        .bind(command.role.as_str())
        .bind(&command.password_hash)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn set_password(&mut self, command: &SetPassword) -> Answer<SetPassword> {
        let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(&command.password_hash)
            .bind(&command.name)
            .execute(&mut *self.c)
            .await?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(Committed::quiet(()))
    }
}
