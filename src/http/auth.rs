//! Sessions and callers. A session is a random 256-bit token in an
//! HttpOnly cookie; only its SHA-256 hash is stored, so a copy of the
//! database does not let anyone act as anyone. Passwords are argon2id.

use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::ApiError;
use super::AppState;
use crate::domain::{Conversation, Participant, Role, User};
use crate::store::{write, Session};

pub const COOKIE: &str = "chorus_session";

/// A fresh session token (hex) and the hash to store.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The `Set-Cookie` value for a session token.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
    ))
    .expect("token is hex")
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whoever is calling: maybe a session, maybe with a user.
pub struct Caller {
    pub session: Option<Session>,
    pub ip: IpAddr,
    /// The token's hash, so login and logout can drop the cached session.
    pub token_hash: Option<Vec<u8>>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let ip = client_ip(parts, state.settings.trust_forwarded_for);
        // The cookie is parsed and hashed once; the hash is both the cache
        // key and what login/logout use to drop the cached session.
        let token_hash = cookie_token(&parts.headers).map(|token| hash_token(&token));
        let session = match &token_hash {
            Some(hash) => match state.sessions.get(hash) {
                Some(session) => Some(session),
                None => {
                    let session = state.store.session(hash).await?;
                    if let Some(session) = &session {
                        state.sessions.insert(hash.clone(), session.clone());
                    }
                    session
                }
            },
            None => None,
        };
        Ok(Caller {
            session,
            ip,
            token_hash,
        })
    }
}

fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().and_then(|s| s.user.as_ref())
    }

    /// A facilitator or admin, or 401/403.
    pub fn staff(&self) -> Result<&User, ApiError> {
        match (&self.session, self.user()) {
            (_, Some(user)) => Ok(user),
            (Some(_), None) => Err(ApiError::Forbidden(
                "this needs a facilitator or admin login".into(),
            )),
            (None, None) => Err(ApiError::Unauthenticated("log in first".into())),
        }
    }

    /// An admin, or 401/403.
    pub fn admin(&self) -> Result<&User, ApiError> {
        let user = self.staff()?;
        if user.role == Role::Admin {
            Ok(user)
        } else {
            Err(ApiError::Forbidden("this needs an admin login".into()))
        }
    }

    /// The caller's participant identity in this conversation, or 401.
    pub async fn participant(
        &self,
        state: &AppState,
        conversation: &Conversation,
    ) -> Result<Participant, ApiError> {
        let session = self.session.as_ref().ok_or_else(|| {
            ApiError::Unauthenticated("sign up to this conversation first".into())
        })?;
        let key = (conversation.id, session.id);
        if let Some(participant) = state.participants.get(&key) {
            return Ok(participant);
        }
        let participant = state
            .store
            .participant(conversation.id, session.id)
            .await?
            .ok_or_else(|| {
                ApiError::Unauthenticated("sign up to this conversation first".into())
            })?;
        state.participants.insert(key, participant.clone());
        Ok(participant)
    }

    /// This caller's session, creating one (and a cookie to set) if needed.
    pub async fn ensure_session(
        &self,
        state: &AppState,
    ) -> Result<(Uuid, Option<String>), ApiError> {
        if let Some(session) = &self.session {
            return Ok((session.id, None));
        }
        let (token, token_hash) = new_token();
        let id = Uuid::new_v4();
        state
            .store
            .write(write::CreateSession {
                id,
                token_hash,
                user_id: None,
            })
            .await?;
        Ok((id, Some(token)))
    }
}

/// Whether `origin` may talk to us: a configured public origin, or the
/// origin of the host the request was sent to.
pub fn origin_allowed(origin: &str, headers: &HeaderMap, public_origins: &[String]) -> bool {
    if public_origins.iter().any(|o| o == origin) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}
