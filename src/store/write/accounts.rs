//! Sessions and staff accounts.

use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request};
use super::super::StoreError;
use super::Tx;
use crate::domain::Role;

/// A browser's session; only the token's hash is stored.
#[derive(Debug, Clone)]
pub struct CreateSession {
    pub id: Uuid,
    pub token_hash: Vec<u8>,
    pub user_id: Option<Uuid>,
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

/// Logs a session in as a staff account, or out (`None`).
#[derive(Debug, Clone)]
pub struct SetSessionUser {
    pub session_id: Uuid,
    pub user_id: Option<Uuid>,
}

impl Command for SetSessionUser {
    type Answer = ();
    fn conversation_id(&self) -> Option<Uuid> {
        None
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::SetSessionUser(request)
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
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(command.id)
        .bind(&command.token_hash)
        .bind(command.user_id)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        Ok(Committed::quiet(()))
    }

    pub async fn set_session_user(&mut self, command: &SetSessionUser) -> Answer<SetSessionUser> {
        sqlx::query("UPDATE sessions SET user_id = $1 WHERE id = $2")
            .bind(command.user_id)
            .bind(command.session_id)
            .execute(&mut *self.c)
            .await?;
        Ok(Committed::quiet(()))
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
