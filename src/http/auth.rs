//! Sessions and callers. A session is a random 256-bit token in an
//! HttpOnly cookie; only its SHA-256 hash is stored, so a copy of the
//! database does not let anyone act as anyone. Passwords are argon2id.
//!
//! A session signs in exactly one party (issue 12): a staff account
//! (cookie `chorus_staff`), or one participant of one conversation (cookie
//! `chorus_p_<conversation id, 32 hex>`). A browser taking part in two
//! conversations holds two cookies and two unrelated rows, and a staff
//! login never touches a participant's. Sessions expire on the server.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

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
use crate::domain::{Conversation, Millis, Participant, Role, User};
use crate::store::write::{self, SessionOwner};
use crate::store::{ParticipantSession, StaffSession};

/// The staff login's cookie.
pub const STAFF_COOKIE: &str = "chorus_staff";
/// Each participant cookie's name is this followed by the conversation id.
pub const PARTICIPANT_COOKIE_PREFIX: &str = "chorus_p_";
/// The one cookie of before issue 12. Still read, for participants only:
/// migration 0005 kept each old token for the participant it made first.
pub const LEGACY_COOKIE: &str = "chorus_session";
/// A participant session's expiry slides forward at most this often. A
/// write per request would put every vote's session through the single
/// writer twice; an hour's granularity on a 30-day expiry costs nothing.
pub const REFRESH_EVERY: Duration = Duration::from_secs(3600);

/// The name of the cookie that signs a participant in to `conversation_id`.
pub fn participant_cookie_name(conversation_id: Uuid) -> String {
    format!("{PARTICIPANT_COOKIE_PREFIX}{}", conversation_id.simple())
}

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

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/` (the
/// WebSocket at `/ws` needs it too), and `Secure` when configured.
fn cookie(name: String, value: String, max_age: time::Duration, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.encoded().to_string()).expect("names and tokens are ASCII")
}

fn lifetime(duration: Duration) -> time::Duration {
    time::Duration::seconds(duration.as_secs() as i64)
}

fn later(now: Millis, duration: Duration) -> Millis {
    Millis(now.0 + duration.as_millis() as i64)
}

/// Signs someone in as `participant_id` of `conversation`: a new session
/// row (with a new token) and the `Set-Cookie` for that conversation's
/// cookie. Every way in (sign-up, and later email, invites, return
/// phrases) ends here. The cookie is kept by the browser for a year; the
/// server decides how long the session lasts (`sessions.participant_days`,
/// sliding).
pub async fn start_participant_session(
    state: &AppState,
    conversation: &Conversation,
    participant_id: Uuid,
) -> Result<HeaderValue, ApiError> {
    let (token, token_hash) = new_token();
    let expires_at = later(
        Millis::now(),
        state.settings.sessions.participant_lifetime(),
    );
    state
        .store
        .write(write::CreateSession {
            id: Uuid::new_v4(),
            token_hash,
            owner: SessionOwner::Participant(participant_id),
            expires_at,
        })
        .await?;
    Ok(cookie(
        participant_cookie_name(conversation.id),
        token,
        time::Duration::days(365),
        state.settings.secure_cookies,
    ))
}

/// Logs `user_id` in: always a new session row and token (no fixation),
/// fixed in length (`sessions.staff_hours`). Returns the `Set-Cookie`.
pub async fn start_staff_session(state: &AppState, user_id: Uuid) -> Result<HeaderValue, ApiError> {
    let (token, token_hash) = new_token();
    let length = state.settings.sessions.staff_lifetime();
    state
        .store
        .write(write::CreateSession {
            id: Uuid::new_v4(),
            token_hash,
            owner: SessionOwner::Staff(user_id),
            expires_at: later(Millis::now(), length),
        })
        .await?;
    Ok(cookie(
        STAFF_COOKIE.to_string(),
        token,
        lifetime(length),
        state.settings.secure_cookies,
    ))
}

/// The `Set-Cookie` that makes a browser forget its staff cookie.
pub fn clear_staff_cookie(secure: bool) -> HeaderValue {
    cookie(
        STAFF_COOKIE.to_string(),
        String::new(),
        time::Duration::ZERO,
        secure,
    )
}

/// The `Set-Cookie` that makes a browser forget its sign-in to
/// `conversation` (after leaving it).
pub fn clear_participant_cookie(conversation: &Conversation, secure: bool) -> HeaderValue {
    cookie(
        participant_cookie_name(conversation.id),
        String::new(),
        time::Duration::ZERO,
        secure,
    )
}

/// A token from the cookie `name`, if it looks like one.
fn cookie_token(jar: &CookieJar, name: &str) -> Option<String> {
    jar.get(name)
        .map(|cookie| cookie.value().to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whoever is calling: maybe a staff login, maybe participant cookies.
/// The staff session is read at extraction; a participant session only
/// when a handler asks for one in a given conversation.
#[derive(Clone)]
pub struct Caller {
    /// A live (unexpired) staff session.
    pub staff: Option<StaffSession>,
    pub ip: IpAddr,
    /// The staff cookie's token hash, so logout can end that session.
    pub staff_token_hash: Option<Vec<u8>>,
    jar: CookieJar,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let ip = client_ip(parts, state.settings.trust_forwarded_for);
        let jar = CookieJar::from_headers(&parts.headers);
        let staff_token_hash = cookie_token(&jar, STAFF_COOKIE).map(|token| hash_token(&token));
        // Staff sessions are not cached: staff make few requests, and a
        // logout must hold at once on every node of a cluster.
        let staff = match &staff_token_hash {
            Some(hash) => state
                .store
                .staff_session(hash)
                .await?
                .filter(|session| session.expires_at > Millis::now()),
            None => None,
        };
        Ok(Caller {
            staff,
            ip,
            staff_token_hash,
            jar,
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
        self.staff.as_ref().map(|s| &s.user)
    }

    /// Whether the browser holds any participant cookie: a caller signed
    /// in somewhere who asks for staff pages is refused (403), not asked
    /// to log in (401).
    pub fn has_participant_cookie(&self) -> bool {
        self.jar.iter().any(|cookie| {
            cookie.name().starts_with(PARTICIPANT_COOKIE_PREFIX) || cookie.name() == LEGACY_COOKIE
        })
    }

    /// The staff session as it stands now (read again, not as at
    /// extraction): a long-lived WebSocket asks this at each subscribe, so
    /// a logout or an expiry takes effect on its next subscription.
    pub async fn staff_now(&self, state: &AppState) -> Result<Option<StaffSession>, ApiError> {
        Ok(match &self.staff_token_hash {
            Some(hash) => state
                .store
                .staff_session(hash)
                .await?
                .filter(|session| session.expires_at > Millis::now()),
            None => None,
        })
    }

    /// A facilitator or admin, or 401/403.
    pub fn staff(&self) -> Result<&User, ApiError> {
        match self.user() {
            Some(user) => Ok(user),
            None if self.has_participant_cookie() => Err(ApiError::Forbidden(
                "this needs a facilitator or admin login".into(),
            )),
            None => Err(ApiError::Unauthenticated("log in first".into())),
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
        self.participant_session(state, conversation)
            .await?
            .map(|session| session.participant)
            .ok_or_else(|| ApiError::Unauthenticated("sign up to this conversation first".into()))
    }

    /// The caller's live session in this conversation, from the
    /// conversation's cookie (or the pre-0005 cookie), if any. Using it
    /// slides its expiry forward (at most every [`REFRESH_EVERY`]).
    pub async fn participant_session(
        &self,
        state: &AppState,
        conversation: &Conversation,
    ) -> Result<Option<ParticipantSession>, ApiError> {
        self.find_participant_session(state, conversation, true)
            .await
    }

    /// As [`Caller::participant_session`], read from the store rather than
    /// the cache: for a WebSocket `subscribe`, once per subscription, where
    /// exactness costs little.
    pub async fn participant_session_now(
        &self,
        state: &AppState,
        conversation: &Conversation,
    ) -> Result<Option<ParticipantSession>, ApiError> {
        self.find_participant_session(state, conversation, false)
            .await
    }

    /// The hashes of the participant tokens this request carries for
    /// `conversation`, to drop from the cache when its sessions end.
    pub fn participant_token_hashes(&self, conversation: &Conversation) -> Vec<Vec<u8>> {
        [
            cookie_token(&self.jar, &participant_cookie_name(conversation.id)),
            cookie_token(&self.jar, LEGACY_COOKIE),
        ]
        .into_iter()
        .flatten()
        .map(|token| hash_token(&token))
        .collect()
    }

    async fn find_participant_session(
        &self,
        state: &AppState,
        conversation: &Conversation,
        cached: bool,
    ) -> Result<Option<ParticipantSession>, ApiError> {
        let token = cookie_token(&self.jar, &participant_cookie_name(conversation.id))
            .or_else(|| cookie_token(&self.jar, LEGACY_COOKIE));
        let Some(token) = token else {
            return Ok(None);
        };
        let hash = hash_token(&token);
        let session = match state.participants.get(&hash).filter(|_| cached) {
            Some(session) => session,
            None => match state.store.participant_session(&hash).await? {
                Some(session) => {
                    state.participants.insert(hash.clone(), session.clone());
                    session
                }
                None => return Ok(None),
            },
        };
        let now = Millis::now();
        // A token only counts in its own conversation, whatever cookie
        // carried it.
        if session.participant.conversation_id != conversation.id || session.expires_at <= now {
            return Ok(None);
        }
        if now.0 - session.refreshed_at.0 >= REFRESH_EVERY.as_millis() as i64 {
            let expires_at = later(now, state.settings.sessions.participant_lifetime());
            let refresh = write::RefreshSession {
                id: session.id,
                expires_at,
            };
            // A failed renewal costs nothing now (the session is live);
            // the next request tries again.
            match state.store.write(refresh).await {
                Ok(_) => state.participants.insert(
                    hash,
                    ParticipantSession {
                        expires_at,
                        refreshed_at: now,
                        ..session.clone()
                    },
                ),
                Err(error) => tracing::warn!(%error, "cannot renew a participant session"),
            }
        }
        Ok(Some(session))
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
