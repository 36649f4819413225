//! Layered settings: `config/default.toml` (compiled in), then an optional
//! file, then `CHORUS_*` environment variables, then command-line flags.
//! Everything is checked once at start so a bad value stops the process
//! with a message naming the setting, not a surprise hours later.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
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
    pub identity: IdentitySettings,
    pub mail: MailSettings,
    pub participation: ParticipationSettings,
    pub sessions: SessionSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// The identity key's file: 32 random bytes, created on first start.
    pub key_file: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://host:465` (TLS); empty for none. May hold credentials, so
    /// it is never logged (see the `Debug` below).
    pub smtp_url: String,
    /// The sender of sign-in messages.
    pub from: String,
    /// Development: write each message as an `.eml` file here instead.
    pub outbox_dir: String,
    /// Where people open chorus, for the sign-in link; empty: the first
    /// of `public_origins`, else this node's own address.
    pub base_url: String,
    /// Messages this node sends per minute, all conversations together.
    pub per_minute: NonZeroU32,
    /// Codes one address may be sent per hour in one conversation.
    pub per_address_per_hour: NonZeroU32,
}

impl MailSettings {
    /// Whether sign-in messages can be sent at all (SMTP or the outbox).
    pub fn configured(&self) -> bool {
        !self.smtp_url.is_empty() || !self.outbox_dir.is_empty()
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field(
                "smtp_url",
                &if self.smtp_url.is_empty() {
                    ""
                } else {
                    "<set>"
                },
            )
            .field("from", &self.from)
            .field("outbox_dir", &self.outbox_dir)
            .field("base_url", &self.base_url)
            .field("per_minute", &self.per_minute)
            .field("per_address_per_hour", &self.per_address_per_hour)
            .finish()
    }
}

/// How long sign-ins last on the server (issue 12).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// A participant session lasts this many days after it was last used
    /// (sliding, renewed at most hourly).
    pub participant_days: NonZeroU64,
    /// A staff login lasts this many hours from the login, however busy.
    pub staff_hours: NonZeroU64,
}

impl SessionSettings {
    pub fn participant_lifetime(&self) -> Duration {
        Duration::from_secs(self.participant_days.get() * 86_400)
    }

    pub fn staff_lifetime(&self) -> Duration {
        Duration::from_secs(self.staff_hours.get() * 3600)
    }
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
    pub batch_max: NonZeroUsize,
    /// Bound on writes waiting for the writer, so overload is refused, not hoarded.
    pub queue: NonZeroUsize,
    /// Size of the read pool.
    pub read_connections: NonZeroU32,
    /// How long a request id is remembered, so a retry within this window
    /// gets its first answer; older records are pruned hourly.
    pub request_retention_hours: NonZeroU64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest request body.
    pub body_bytes: NonZeroUsize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSettings {
    /// Tally coalescing period.
    pub tally_interval_ms: NonZeroU64,
    /// Events kept in memory per conversation for resume.
    pub ring_size: NonZeroUsize,
    /// Beyond this many missed events a client is told to resync.
    pub max_replay: u64,
    /// Per-connection lag allowed before the 4008 close.
    pub event_queue: NonZeroUsize,
    /// Presence sharing period.
    pub presence_interval_ms: NonZeroU64,
    /// Expiry of a node's presence share.
    pub presence_ttl_ms: u64,
    /// Wait before fetching missing events from the store (0: at once).
    pub gap_timeout_ms: u64,
    /// Idle conversations are dropped from memory after this.
    pub topic_idle_s: u64,
    /// Threads of the runtime the connections and topics run on.
    pub fanout_threads: NonZeroUsize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsSettings {
    /// Connection cap per node.
    pub max_connections: NonZeroUsize,
    /// Largest inbound frame/message.
    pub max_message_bytes: NonZeroUsize,
    /// Per-connection read buffer (memory per idle connection).
    pub read_buffer_bytes: NonZeroUsize,
    /// Server ping period.
    pub ping_interval_s: NonZeroU64,
    /// Silence after which a connection is reaped.
    pub idle_timeout_s: NonZeroU64,
    /// Bound on one send to a slow client.
    pub send_timeout_s: NonZeroU64,
    /// Inbound message rate per connection.
    pub messages_per_s: f64,
    /// Inbound message burst per connection.
    pub message_burst: NonZeroU32,
    /// New connections per IP per second.
    pub connects_per_ip_per_s: f64,
    /// New connection burst per IP.
    pub connects_per_ip_burst: NonZeroU32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSettings {
    pub vote_per_s: f64,
    pub vote_burst: NonZeroU32,
    pub comment_per_s: f64,
    pub comment_burst: NonZeroU32,
    pub idea_per_s: f64,
    pub idea_burst: NonZeroU32,
    pub flag_per_s: f64,
    pub flag_burst: NonZeroU32,
    /// Editing, deleting, exporting and leaving, per participant.
    pub self_service_per_s: f64,
    pub self_service_burst: NonZeroU32,
    pub signup_per_ip_per_s: f64,
    pub signup_per_ip_burst: NonZeroU32,
    pub login_per_ip_per_s: f64,
    pub login_per_ip_burst: NonZeroU32,
    pub sign_in_per_ip_per_s: f64,
    pub sign_in_per_ip_burst: NonZeroU32,
    pub sign_in_per_conversation_per_s: f64,
    pub sign_in_per_conversation_burst: NonZeroU32,
    pub login_per_account_per_s: f64,
    pub login_per_account_burst: NonZeroU32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipationSettings {
    /// How long after writing it an author may edit a comment or idea
    /// (until someone answers it, whichever comes first).
    pub edit_window_s: NonZeroU64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// Smallest group shown in any breakdown.
    pub min_group_size: NonZeroU32,
    /// Votes a participant needs to be placed on the opinion map.
    pub min_votes_to_place: NonZeroU32,
    /// The live opinion analysis is recomputed at most this often.
    pub opinion_refresh_secs: NonZeroU64,
    /// A kept report is confirmed against its data at most this often,
    /// and is never more than twice this behind (0: every request sees
    /// the current data). docs/report.md, "How fresh the report is".
    pub refresh_secs: u64,
}

/// Where a setting came from is figment's business; this is ours.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: `{setting}` {problem}")]
    Invalid { setting: String, problem: String },
}

impl ConfigError {
    /// A zero (or a negative number) where a positive whole number belongs
    /// is told like every other bad value, naming the setting and where it
    /// was set; anything else keeps figment's own message.
    fn loading(error: figment::Error) -> ConfigError {
        if let figment::error::Kind::InvalidValue(actual, expected) = &error.kind {
            if expected.starts_with("a nonzero") && !error.path.is_empty() {
                let place = match &error.metadata {
                    Some(md) => match &md.source {
                        Some(source) => format!(" in {source} {}", md.name),
                        None => format!(" in {}", md.name),
                    },
                    None => String::new(),
                };
                return ConfigError::Invalid {
                    setting: error.path.join("."),
                    problem: format!("must be greater than 0 (found {actual}{place})"),
                };
            }
        }
        ConfigError::Load(Box::new(error))
    }
}

impl Settings {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid {
                    setting: "--config".into(),
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
        let settings: Settings = figment.extract().map_err(ConfigError::loading)?;
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
                setting: setting.to_string(),
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
        // Whole-number settings that must be positive are NonZero types,
        // refused while loading; rates are checked here.
        let rates = [
            ("ws.messages_per_s", self.ws.messages_per_s),
            ("ws.connects_per_ip_per_s", self.ws.connects_per_ip_per_s),
            ("rate.vote_per_s", self.rate.vote_per_s),
            ("rate.comment_per_s", self.rate.comment_per_s),
            ("rate.idea_per_s", self.rate.idea_per_s),
            ("rate.flag_per_s", self.rate.flag_per_s),
            ("rate.self_service_per_s", self.rate.self_service_per_s),
            ("rate.signup_per_ip_per_s", self.rate.signup_per_ip_per_s),
            ("rate.login_per_ip_per_s", self.rate.login_per_ip_per_s),
            ("rate.sign_in_per_ip_per_s", self.rate.sign_in_per_ip_per_s),
            (
                "rate.sign_in_per_conversation_per_s",
                self.rate.sign_in_per_conversation_per_s,
            ),
            (
                "rate.login_per_account_per_s",
                self.rate.login_per_account_per_s,
            ),
        ];
        for (setting, value) in rates {
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
        let schemes = ["smtp://", "smtps://"];
        if !self.mail.smtp_url.is_empty()
            && !schemes.iter().any(|s| self.mail.smtp_url.starts_with(s))
        {
            return Err(invalid(
                "mail.smtp_url",
                "must be empty, smtp://host:port (add ?tls=required for STARTTLS) or smtps://host:port",
            ));
        }
        if self.mail.configured() {
            self.mail
                .from
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| invalid("mail.from", format!("is not a sender address ({e})")))?;
        }
        let base = &self.mail.base_url;
        if !(base.is_empty() || base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid(
                "mail.base_url",
                "must be empty or an http(s):// address",
            ));
        }
        if self.identity.key_file.trim().is_empty() {
            return Err(invalid("identity.key_file", "must name a file"));
        }
        // Lifetimes past ten years are surely a typo, and would overflow
        // nothing but would keep sessions practically forever.
        if self.sessions.participant_days.get() > 3650 {
            return Err(invalid("sessions.participant_days", "must be at most 3650"));
        }
        if self.sessions.staff_hours.get() > 24 * 366 {
            return Err(invalid(
                "sessions.staff_hours",
                "must be at most 8784 (a year)",
            ));
        }
        if self.ws.max_message_bytes.get() > 1 << 20 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chorus.toml");
        std::fs::write(&file, toml).unwrap();
        Settings::load(Some(&file))
    }

    #[test]
    fn session_lifetimes_are_checked() {
        let settings = load("").unwrap();
        assert_eq!(settings.sessions.participant_days.get(), 30);
        assert_eq!(settings.sessions.staff_hours.get(), 12);
        for (toml, setting) in [
            (
                "[sessions]\nparticipant_days = 0\n",
                "sessions.participant_days",
            ),
            ("[sessions]\nstaff_hours = 0\n", "sessions.staff_hours"),
            (
                "[sessions]\nparticipant_days = 4000\n",
                "sessions.participant_days",
            ),
            ("[sessions]\nstaff_hours = 9000\n", "sessions.staff_hours"),
            (
                "[rate]\nlogin_per_account_per_s = 0.0\n",
                "rate.login_per_account_per_s",
            ),
        ] {
            let error = load(toml).unwrap_err().to_string();
            assert!(error.contains(setting), "{toml}: {error}");
        }
    }

    #[test]
    fn the_defaults_load() {
        let settings = load("").unwrap();
        assert_eq!(settings.store.batch_max.get(), 512);
        assert_eq!(settings.report.min_group_size.get(), 5);
    }

    #[test]
    fn a_zero_names_the_setting() {
        for (toml, setting) in [
            ("[store]\nbatch_max = 0", "store.batch_max"),
            ("[store]\nread_connections = 0", "store.read_connections"),
            ("[limits]\nbody_bytes = 0", "limits.body_bytes"),
            ("[hub]\ntally_interval_ms = 0", "hub.tally_interval_ms"),
            ("[ws]\nmessage_burst = 0", "ws.message_burst"),
            ("[rate]\nvote_burst = -1", "rate.vote_burst"),
            ("[report]\nmin_group_size = 0", "report.min_group_size"),
        ] {
            let error = load(toml).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(&error, ConfigError::Invalid { setting: s, .. } if s == setting),
                "{toml}: {message}"
            );
            assert!(
                message.starts_with(&format!(
                    "configuration: `{setting}` must be greater than 0"
                )),
                "{toml}: {message}"
            );
            assert!(message.contains("chorus.toml"), "{toml}: {message}");
        }
        // Rates are checked after loading.
        let error = load("[rate]\nvote_per_s = 0.0").unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration: `rate.vote_per_s` must be greater than 0"
        );
        // Other mistakes keep figment's message.
        let error = load("[store]\nbatch_max = \"many\"").unwrap_err();
        assert!(matches!(error, ConfigError::Load(_)), "{error}");
    }
}
