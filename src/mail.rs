//! Sending sign-in codes: lettre over SMTP (plain, STARTTLS or TLS, through
//! rustls), or `.eml` files in `mail.outbox_dir` for development.
//!
//! The address exists only in memory while its message is sent. It is
//! carried as a [`WorkEmail`], whose `Debug` shows only the domain; a
//! failure is logged by its kind alone, because an SMTP server's answer
//! often repeats the recipient's address.

use std::path::PathBuf;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailSettings;
use crate::domain::WorkEmail;
use crate::identity::secrets::EmailCode;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

/// One sign-in message: the code and the link that carries it.
pub struct SignInMessage<'a> {
    pub to: &'a WorkEmail,
    pub code: &'a EmailCode,
    /// The conversation's title, as its participants see it.
    pub title: &'a str,
    /// `{base}/c/{slug}#signin={attempt}.{code}`: the fragment never
    /// reaches a server, so the code stays out of access logs.
    pub link: String,
}

/// Why a message was not sent, without the address.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message could not be built")]
    Build,
    #[error("the mail server refused or could not be reached ({0})")]
    Send(&'static str),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Where the sign-in link points (no trailing slash).
    pub base_url: String,
    per_node: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
    per_address: RateLimiter<Vec<u8>, DashMapStateStore<Vec<u8>>, DefaultClock>,
}

impl Mailer {
    /// A mailer for the settings, or `None` when neither SMTP nor an
    /// outbox is configured (the `email` way in is then unavailable).
    pub fn new(settings: &MailSettings, base_url: String) -> anyhow::Result<Option<Mailer>> {
        let transport = if !settings.smtp_url.is_empty() {
            // The URL may hold a password: say what is wrong, not the URL.
            let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
                .map_err(|e| anyhow::anyhow!("mail.smtp_url: {}", without_url(&e.to_string())))?;
            Transport::Smtp(builder.timeout(Some(Duration::from_secs(20))).build())
        } else if !settings.outbox_dir.is_empty() {
            let dir = PathBuf::from(&settings.outbox_dir);
            std::fs::create_dir_all(&dir).map_err(|e| {
                anyhow::anyhow!("mail.outbox_dir: cannot create {}: {e}", dir.display())
            })?;
            Transport::Outbox(AsyncFileTransport::<Tokio1Executor>::new(dir))
        } else {
            return Ok(None);
        };
        let from = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?;
        let per_minute = settings.per_minute;
        let per_hour = settings.per_address_per_hour;
        Ok(Some(Mailer {
            transport,
            from,
            base_url: base_url.trim_end_matches('/').to_string(),
            per_node: RateLimiter::direct(Quota::per_minute(per_minute)),
            per_address: RateLimiter::keyed(
                Quota::with_period(Duration::from_secs(3600) / per_hour.get())
                    .expect("a positive period")
                    .allow_burst(per_hour),
            ),
        }))
    }

    /// Takes one message from this node's budget and from the address's
    /// (known by its keyed hash), or says how long to wait.
    pub fn admit(&self, address_hash: &[u8]) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        if let Err(not_until) = self.per_address.check_key(&address_hash.to_vec()) {
            return Err(not_until.wait_time_from(now));
        }
        self.per_node
            .check()
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets addresses whose limits have recovered (every minute).
    pub fn retain_recent(&self) {
        self.per_address.retain_recent();
        self.per_address.shrink_to_fit();
    }

    pub async fn send(&self, message: SignInMessage<'_>) -> Result<(), MailError> {
        let to: Mailbox = message.to.expose().parse().map_err(|_| MailError::Build)?;
        let body = format!(
            "Your code to take part in \"{title}\" is:\n\n    {code}\n\n\
             It works for 15 minutes. Or open this link on the device you want to use:\n\
             {link}\n\n\
             If you did not ask for this code, ignore this message: nothing happens without it.\n\
             chorus does not keep your address: it is used to send this message and then forgotten.\n",
            title = message.title,
            code = message.code.digits(),
            link = message.link,
        );
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Your code for \"{}\"", message.title))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| MailError::Build)?;
        let result = match &self.transport {
            Transport::Smtp(smtp) => smtp.send(email).await.map(|_| ()).map_err(|e| {
                MailError::Send(if e.is_timeout() {
                    "timeout"
                } else if e.is_tls() {
                    "tls"
                } else if e.is_permanent() {
                    "permanent"
                } else if e.is_transient() {
                    "transient"
                } else {
                    "connection"
                })
            }),
            Transport::Outbox(outbox) => outbox
                .send(email)
                .await
                .map(|_| ())
                .map_err(|_| MailError::Send("outbox")),
        };
        let outcome = if result.is_ok() { "sent" } else { "failed" };
        metrics::counter!("chorus_mail_total", "outcome" => outcome).increment(1);
        result
    }
}

/// lettre's URL errors may quote the URL (and so a password): keep only
/// what comes before a quote.
fn without_url(message: &str) -> String {
    message
        .split(['\'', '"'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}
