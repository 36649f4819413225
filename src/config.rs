//! Layered settings: `config/default.toml` (compiled in), then an optional
//! file, then `CHORUS_*` environment variables, then command-line flags.
//! Everything is checked once at start so a bad value stops the process
//! with a message naming the setting, not a surprise hours later.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

/// The documented defaults, compiled in so the binary runs with no files.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Environment variables with the `CHORUS_` prefix that are not settings
/// (used by the test suite and scripts).
const NOT_SETTINGS: &[&str] = &["require_services", "bin", "test_log", "config"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the server binds; port 0 picks a free one (tests).
    pub listen: String,
    /// `sqlite://PATH` or `postgres://...`: the scheme picks the store.
    pub database_url: String,
    /// Empty for the in-process bus; a Redis URL for cluster mode.
    pub redis_url: String,
    /// Origins allowed for WebSocket upgrades and writes, besides our own.
    pub public_origins: Vec<String>,
    /// Whether the session cookie carries `Secure`.
    pub secure_cookies: bool,
    /// Whether `X-Forwarded-For` names the client (behind a proxy only).
    pub trust_forwarded_for: bool,
    /// This node's name; random when empty.
    pub node_id: String,
    /// Bound on how long a clean shutdown may take.
    pub shutdown_timeout_s: u64,
    pub log: LogSettings,
    pub store: StoreSettings,
    pub limits: LimitSettings,
    pub hub: HubSettings,
    pub ws: WsSettings,
    pub rate: RateSettings,
    pub report: ReportSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Default tracing filter when `RUST_LOG` is unset.
    pub filter: String,
    /// `pretty` or `json`.
    pub format: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// Largest group commit.
    pub batch_max: usize,
    /// Bound on writes waiting for the writer, so overload is refused, not hoarded.
    pub queue: usize,
    /// Size of the read pool.
    pub read_connections: u32,
    /// How long a request id is remembered, so a retry within this window
    /// gets its first answer; older records are pruned hourly.
    pub request_retention_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest request body.
    pub body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSettings {
    /// Tally coalescing period.
    pub tally_interval_ms: u64,
    /// Events kept in memory per conversation for resume.
    pub ring_size: usize,
    /// Beyond this many missed events a client is told to resync.
    pub max_replay: u64,
    /// Per-connection lag allowed before the 4008 close.
    pub event_queue: usize,
    /// Presence sharing period.
    pub presence_interval_ms: u64,
    /// Expiry of a node's presence share.
    pub presence_ttl_ms: u64,
    /// Wait before fetching missing events from the store.
    pub gap_timeout_ms: u64,
    /// Idle conversations are dropped from memory after this.
    pub topic_idle_s: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsSettings {
    /// Connection cap per node.
    pub max_connections: usize,
    /// Largest inbound frame/message.
    pub max_message_bytes: usize,
    /// Per-connection read buffer (memory per idle connection).
    pub read_buffer_bytes: usize,
    /// Server ping period.
    pub ping_interval_s: u64,
    /// Silence after which a connection is reaped.
    pub idle_timeout_s: u64,
    /// Bound on one send to a slow client.
    pub send_timeout_s: u64,
    /// Inbound message rate per connection.
    pub messages_per_s: f64,
    /// Inbound message burst per connection.
    pub message_burst: u32,
    /// New connections per IP per second.
    pub connects_per_ip_per_s: f64,
    /// New connection burst per IP.
    pub connects_per_ip_burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSettings {
    pub vote_per_s: f64,
    pub vote_burst: u32,
    pub comment_per_s: f64,
    pub comment_burst: u32,
    pub idea_per_s: f64,
    pub idea_burst: u32,
    pub flag_per_s: f64,
    pub flag_burst: u32,
    pub signup_per_ip_per_s: f64,
    pub signup_per_ip_burst: u32,
    pub login_per_ip_per_s: f64,
    pub login_per_ip_burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// Smallest group shown in any breakdown.
    pub min_group_size: u32,
}

/// Where a setting came from is figment's business; this is ours.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: `{setting}` {problem}")]
    Invalid {
        setting: &'static str,
        problem: String,
    },
}

impl Settings {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid {
                    setting: "--config",
                    problem: format!("names {} which does not exist", file.display()),
                });
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(
            Env::prefixed("CHORUS_")
                .split("__")
                .filter(|key| !NOT_SETTINGS.contains(&key.as_str().to_ascii_lowercase().as_str())),
        );
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Only the compiled-in defaults (tests start from these).
    pub fn defaults() -> Settings {
        let settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .expect("config/default.toml is valid");
        settings
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn invalid(setting: &'static str, problem: impl Into<String>) -> ConfigError {
            ConfigError::Invalid {
                setting,
                problem: problem.into(),
            }
        }
        self.listen.parse::<SocketAddr>().map_err(|e| {
            invalid(
                "listen",
                format!("is not an address like 127.0.0.1:8080 ({e})"),
            )
        })?;
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres:")
            || self.database_url.starts_with("postgresql:"))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite:// or postgres://",
            ));
        }
        let redis_schemes = ["redis://", "rediss://", "redis+unix://", "unix://"];
        if !self.redis_url.is_empty()
            && !redis_schemes.iter().any(|s| self.redis_url.starts_with(s))
        {
            return Err(invalid("redis_url", "must be empty or a redis:// URL"));
        }
        for origin in &self.public_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(invalid(
                    "public_origins",
                    format!("entry {origin:?} must look like https://host[:port] with no path"),
                ));
            }
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return Err(invalid("log.format", "must be \"pretty\" or \"json\""));
        }
        let positive = [
            ("store.batch_max", self.store.batch_max as f64),
            ("store.queue", self.store.queue as f64),
            ("store.read_connections", self.store.read_connections as f64),
            (
                "store.request_retention_hours",
                self.store.request_retention_hours as f64,
            ),
            ("limits.body_bytes", self.limits.body_bytes as f64),
            ("hub.tally_interval_ms", self.hub.tally_interval_ms as f64),
            ("hub.ring_size", self.hub.ring_size as f64),
            ("hub.event_queue", self.hub.event_queue as f64),
            (
                "hub.presence_interval_ms",
                self.hub.presence_interval_ms as f64,
            ),
            ("hub.gap_timeout_ms", self.hub.gap_timeout_ms as f64),
            ("ws.max_connections", self.ws.max_connections as f64),
            ("ws.max_message_bytes", self.ws.max_message_bytes as f64),
            ("ws.read_buffer_bytes", self.ws.read_buffer_bytes as f64),
            ("ws.ping_interval_s", self.ws.ping_interval_s as f64),
            ("ws.idle_timeout_s", self.ws.idle_timeout_s as f64),
            ("ws.send_timeout_s", self.ws.send_timeout_s as f64),
            ("ws.messages_per_s", self.ws.messages_per_s),
            ("ws.message_burst", self.ws.message_burst as f64),
            ("ws.connects_per_ip_per_s", self.ws.connects_per_ip_per_s),
            (
                "ws.connects_per_ip_burst",
                self.ws.connects_per_ip_burst as f64,
            ),
            ("rate.vote_per_s", self.rate.vote_per_s),
            ("rate.vote_burst", self.rate.vote_burst as f64),
            ("rate.comment_per_s", self.rate.comment_per_s),
            ("rate.comment_burst", self.rate.comment_burst as f64),
            ("rate.idea_per_s", self.rate.idea_per_s),
            ("rate.idea_burst", self.rate.idea_burst as f64),
            ("rate.flag_per_s", self.rate.flag_per_s),
            ("rate.flag_burst", self.rate.flag_burst as f64),
            ("rate.signup_per_ip_per_s", self.rate.signup_per_ip_per_s),
            (
                "rate.signup_per_ip_burst",
                self.rate.signup_per_ip_burst as f64,
            ),
            ("rate.login_per_ip_per_s", self.rate.login_per_ip_per_s),
            (
                "rate.login_per_ip_burst",
                self.rate.login_per_ip_burst as f64,
            ),
            ("report.min_group_size", self.report.min_group_size as f64),
        ];
        for (setting, value) in positive {
            if !(value > 0.0 && value.is_finite()) {
                return Err(invalid(setting, "must be greater than 0"));
            }
        }
        if self.ws.idle_timeout_s <= self.ws.ping_interval_s {
            return Err(invalid(
                "ws.idle_timeout_s",
                "must be longer than ws.ping_interval_s",
            ));
        }
        if self.ws.max_message_bytes > 1 << 20 {
            return Err(invalid("ws.max_message_bytes", "must be at most 1 MiB"));
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.parse().expect("validated")
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_s)
    }

    /// Redis URL when cluster mode is configured.
    pub fn redis(&self) -> Option<&str> {
        (!self.redis_url.is_empty()).then_some(self.redis_url.as_str())
    }
}
