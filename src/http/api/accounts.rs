//! Facilitator and admin login. Accounts are created on the server with
//! `chorus user add`; there is no self-registration.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::User;
use crate::http::auth::{clear_staff_cookie, start_staff_session, verify_password, Caller};
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::rate::check;
use crate::http::AppState;
use crate::store::write;

/// `{"user": {...} | null}`: who a session is logged in as.
#[derive(Debug, Serialize)]
pub struct UserBody<'a> {
    pub user: Option<&'a User>,
}

/// `{"users": [...]}`.
#[derive(Debug, Serialize)]
pub struct UserList {
    pub users: Vec<User>,
}

pub async fn me(caller: Caller) -> Response {
    Json(UserBody {
        user: caller.user(),
    })
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    name: String,
    password: String,
}

/// Logs a facilitator or admin in with a new session and token of its
/// own (`chorus_staff`). Participant cookies are neither read nor touched:
/// a staff login is never linked to a participant in the same browser.
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    check(&state.limits.login, &caller.ip, "login")?;
    let name = login.name.trim();
    // Limited per account name too, whether or not the account exists, so
    // the limit does not tell which names do; many addresses guessing one
    // account's password get no more tries than one.
    check(
        &state.limits.login_account,
        &account_key(name),
        "login_account",
    )?;
    let found = state.store.user_by_name(name).await?;
    // Verify against a fixed hash when the name is unknown, so timing does
    // not tell which names exist.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3kXWZ4Ck0hGW0CsmNvmVhwm1mU7tyL3n4o0dW3eNsWc";
    let password = login.password.clone();
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| DUMMY.to_string());
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some((user, _)) = found.filter(|_| verified) else {
        return Err(ApiError::Unauthenticated("wrong name or password".into()));
    };
    // The browser's earlier staff session, if any, ends: one login, one token.
    if let Some(hash) = &caller.staff_token_hash {
        state
            .store
            .write(write::EndSession {
                token_hash: hash.clone(),
            })
            .await?;
    }
    let cookie = start_staff_session(&state, user.id).await?;
    let mut response = Json(UserBody { user: Some(&user) }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The per-account limiter's key: the name as looked up, bounded so a
/// huge name cannot make a huge key.
fn account_key(name: &str) -> String {
    name.chars().take(64).collect()
}

/// Ends the staff session on the server (its token is refused from then
/// on, on every node) and clears the cookie. Participant sessions stay.
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(hash) = &caller.staff_token_hash {
        state
            .store
            .write(write::EndSession {
                token_hash: hash.clone(),
            })
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        clear_staff_cookie(state.settings.secure_cookies),
    );
    Ok(response)
}

/// The accounts (admins only).
pub async fn users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<UserList>, ApiError> {
    caller.admin()?;
    let users = state.store.users().await?;
    Ok(Json(UserList { users }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: crate::domain::Role,
    password: String,
}

/// Creates a facilitator or admin account (admins only).
pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Response, ApiError> {
    caller.admin()?;
    let name = crate::domain::text::clean("name", &new.name, 1, 64)?;
    if new.password.chars().count() < 8 {
        return Err(
            crate::domain::Invalid::field("password", "must be at least 8 characters").into(),
        );
    }
    let password = new.password;
    let hash = tokio::task::spawn_blocking(move || crate::http::auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let user = User {
        id: uuid::Uuid::new_v4(),
        name,
        role: new.role,
    };
    state
        .store
        .write(write::CreateUser {
            id: user.id,
            name: user.name.clone(),
            role: user.role,
            password_hash: hash,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(UserBody { user: Some(&user) })).into_response())
}
