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
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
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

/// The `Set-Cookie` value for a session token: `HttpOnly`, `SameSite=Lax`,
/// `Path=/`, a year long, and `Secure` when configured.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.encoded().to_string()).expect("token is hex")
}

/// The session token from the request's cookies, if it looks like one.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(COOKIE)
        .map(|cookie| cookie.value().to_string())
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

/// Whether `origin` may talk to us: a configured public origin; the
/// origin of the host the request was sent to; or a loopback origin
/// (`http://127.0.0.1:P`, `http://localhost:P`, `http://[::1]:P`) whose
/// port P is the one we listen on or the one in the `Host` header, so a
/// page on `localhost` may talk to `127.0.0.1` and the other way round.
pub fn origin_allowed(
    origin: &str,
    headers: &HeaderMap,
    public_origins: &[String],
    listen_port: u16,
) -> bool {
    if public_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(host) = host {
        if origin == format!("http://{host}") || origin == format!("https://{host}") {
            return true;
        }
    }
    let Some(port) = loopback_port(origin) else {
        return false;
    };
    let host_port = host.and_then(host_and_port).and_then(|(_, port)| port);
    port == listen_port || host_port == Some(port)
}

/// The port of an `http://` origin on a loopback name (80 when it names
/// none), or `None` for any other origin.
fn loopback_port(origin: &str) -> Option<u16> {
    let (host, port) = host_and_port(origin.strip_prefix("http://")?)?;
    let loopback = host == "127.0.0.1" || host == "[::1]" || host.eq_ignore_ascii_case("localhost");
    loopback.then_some(port.unwrap_or(80))
}

/// Splits `host[:port]` (an IPv6 host in brackets); `None` when malformed.
fn host_and_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        let (host, rest) = authority.split_at(end);
        if rest.is_empty() {
            (host, None)
        } else {
            (host, Some(rest.strip_prefix(':')?))
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        headers
    }

    #[test]
    fn origins() {
        let public = vec!["https://chorus.example.org".to_string()];
        let allowed = |origin: &str, host_header: &str| {
            origin_allowed(origin, &host(host_header), &public, 8080)
        };
        // Configured, and the host the request was sent to.
        assert!(allowed("https://chorus.example.org", "127.0.0.1:8080"));
        assert!(allowed("https://other.example", "other.example"));
        // Loopback names on the listening port, whichever the page used.
        assert!(allowed("http://localhost:8080", "127.0.0.1:8080"));
        assert!(allowed("http://127.0.0.1:8080", "localhost:8080"));
        assert!(allowed("http://[::1]:8080", "127.0.0.1:8080"));
        assert!(allowed("http://LOCALHOST:8080", "[::1]:8080"));
        // ...or on the port the Host names (behind a port mapping).
        assert!(allowed("http://localhost:9000", "127.0.0.1:9000"));
        assert!(allowed("http://127.0.0.1:9000", "[::1]:9000"));
        // Anything else is refused.
        assert!(!allowed("http://localhost:9001", "127.0.0.1:9000"));
        assert!(!allowed("http://localhost", "127.0.0.1:8080"));
        assert!(!allowed("https://localhost:8080", "127.0.0.1:8080"));
        assert!(!allowed("http://127.0.0.2:8080", "127.0.0.1:8080"));
        assert!(!allowed(
            "http://localhost.evil.example:8080",
            "127.0.0.1:8080"
        ));
        assert!(!allowed("http://evil.localhost:8080", "127.0.0.1:8080"));
        assert!(!allowed(
            "http://localhost:8080@evil.example",
            "127.0.0.1:8080"
        ));
        assert!(!allowed("http://localhost:+8080", "127.0.0.1:8080"));
        assert!(!allowed("http://localhost:", "127.0.0.1:8080"));
        assert!(!allowed("null", "127.0.0.1:8080"));
        assert!(!allowed("https://evil.example", "127.0.0.1:8080"));
        // Port 80 is the default of an http origin.
        assert!(origin_allowed(
            "http://localhost",
            &host("127.0.0.1"),
            &[],
            80
        ));
    }
}
