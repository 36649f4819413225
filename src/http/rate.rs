//! Rate limits (governor): per participant for contributions, per IP for
//! sign-ups, logins and WebSocket connections, per account for logins. Keyed limiters forget idle
//! keys on a timer (`retain_recent`), so memory follows active clients.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use super::error::ApiError;
use crate::config::{RateSettings, WsSettings};

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, DefaultClock>;

pub fn quota(per_second: f64, burst: NonZeroU32) -> Quota {
    let period = Duration::from_secs_f64(1.0 / per_second);
    Quota::with_period(period)
        .expect("validated: rate > 0")
        .allow_burst(burst)
}

pub struct RateLimits {
    pub vote: Keyed<Uuid>,
    pub comment: Keyed<Uuid>,
    pub idea: Keyed<Uuid>,
    pub flag: Keyed<Uuid>,
    pub self_service: Keyed<Uuid>,
    pub signup: Keyed<IpAddr>,
    pub login: Keyed<IpAddr>,
    /// Staff logins per account name (existing or not).
    pub login_account: Keyed<String>,
    pub connect: Keyed<IpAddr>,
    /// Email codes, their checks and return phrases, per IP...
    pub sign_in_ip: Keyed<IpAddr>,
    /// ...and per conversation, across every IP.
    pub sign_in_conversation: Keyed<Uuid>,
}

impl RateLimits {
    pub fn new(rate: &RateSettings, ws: &WsSettings) -> RateLimits {
        RateLimits {
            vote: RateLimiter::keyed(quota(rate.vote_per_s, rate.vote_burst)),
            comment: RateLimiter::keyed(quota(rate.comment_per_s, rate.comment_burst)),
            idea: RateLimiter::keyed(quota(rate.idea_per_s, rate.idea_burst)),
            flag: RateLimiter::keyed(quota(rate.flag_per_s, rate.flag_burst)),
            self_service: RateLimiter::keyed(quota(
                rate.self_service_per_s,
                rate.self_service_burst,
            )),
            signup: RateLimiter::keyed(quota(rate.signup_per_ip_per_s, rate.signup_per_ip_burst)),
            login: RateLimiter::keyed(quota(rate.login_per_ip_per_s, rate.login_per_ip_burst)),
            login_account: RateLimiter::keyed(quota(
                rate.login_per_account_per_s,
                rate.login_per_account_burst,
            )),
            connect: RateLimiter::keyed(quota(ws.connects_per_ip_per_s, ws.connects_per_ip_burst)),
            sign_in_ip: RateLimiter::keyed(quota(
                rate.sign_in_per_ip_per_s,
                rate.sign_in_per_ip_burst,
            )),
            sign_in_conversation: RateLimiter::keyed(quota(
                rate.sign_in_per_conversation_per_s,
                rate.sign_in_per_conversation_burst,
            )),
        }
    }

    /// Forgets keys whose limits have fully recovered.
    pub fn retain_recent(&self) {
        self.vote.retain_recent();
        self.comment.retain_recent();
        self.idea.retain_recent();
        self.flag.retain_recent();
        self.self_service.retain_recent();
        self.signup.retain_recent();
        self.login.retain_recent();
        self.login_account.retain_recent();
        self.connect.retain_recent();
        self.sign_in_ip.retain_recent();
        self.sign_in_conversation.retain_recent();
        for shrink in [
            &self.vote as &dyn Shrink,
            &self.comment,
            &self.idea,
            &self.flag,
            &self.self_service,
            &self.signup,
            &self.login,
            &self.login_account,
            &self.connect,
            &self.sign_in_ip,
            &self.sign_in_conversation,
        ] {
            shrink.shrink();
        }
    }
}

trait Shrink {
    fn shrink(&self);
}

impl<K: Hash + Eq + Clone> Shrink for Keyed<K> {
    fn shrink(&self) {
        self.shrink_to_fit();
    }
}

/// One cell of `limiter` for `key`, or 429 with how long to wait.
pub fn check<K: Hash + Eq + Clone>(
    limiter: &Keyed<K>,
    key: &K,
    what: &str,
) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|not_until| {
        metrics::counter!("chorus_rate_limited_total", "action" => what.to_string()).increment(1);
        ApiError::RateLimited(not_until.wait_time_from(DefaultClock::default().now()))
    })
}

/// Runs `retain_recent` every minute until shutdown.
pub async fn forget_idle_keys(
    limits: Arc<RateLimits>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => limits.retain_recent(),
        }
    }
}
