//! Ways in: how a person becomes a participant of a conversation. An admin
//! picks one or more per conversation. `open` and `code` let anyone with
//! the link (or the code) sign up as often as they like, so they do not
//! make one person one voice; `email` (a verified work address from the
//! allowed domains) and `invite` (a single-use code) do.

use std::fmt;

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use super::text::Invalid;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum WayIn {
    /// Anyone with the link, in one click.
    Open,
    /// Anyone who has the conversation's access code.
    Code,
    /// A verified work email address from the allowed domains.
    Email,
    /// A single-use invite code handed out by the organisers.
    Invite,
}

impl WayIn {
    /// The name in JSON and in the database; `"open".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether this way in makes one person one voice: a person cannot
    /// come in twice by it (short of holding two addresses or invites).
    pub fn verified(self) -> bool {
        matches!(self, WayIn::Email | WayIn::Invite)
    }
}

/// The ways in a conversation allows: at least one, each once, in a fixed
/// order (open, code, email, invite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WaysIn(Vec<WayIn>);

impl WaysIn {
    pub fn new(ways: &[WayIn]) -> Result<WaysIn, Invalid> {
        let mut ways = ways.to_vec();
        ways.sort();
        ways.dedup();
        if ways.is_empty() {
            return Err(Invalid::field(
                "ways_in",
                "must name at least one of open, code, email, invite",
            ));
        }
        Ok(WaysIn(ways))
    }

    pub fn only(way: WayIn) -> WaysIn {
        WaysIn(vec![way])
    }

    pub fn allows(&self, way: WayIn) -> bool {
        self.0.contains(&way)
    }

    pub fn iter(&self) -> impl Iterator<Item = WayIn> + '_ {
        self.0.iter().copied()
    }

    /// As stored: the names joined by commas ("email,invite").
    pub fn to_column(&self) -> String {
        let names: Vec<&str> = self.iter().map(WayIn::as_str).collect();
        names.join(",")
    }

    /// Reads the stored form back; `None` if a name is unknown.
    pub fn from_column(text: &str) -> Option<WaysIn> {
        let ways: Option<Vec<WayIn>> = text.split(',').map(|w| w.parse().ok()).collect();
        WaysIn::new(&ways?).ok()
    }
}

impl<'de> Deserialize<'de> for WaysIn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<WaysIn, D::Error> {
        let ways = Vec::<WayIn>::deserialize(deserializer)?;
        WaysIn::new(&ways).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// One allowed email domain: `nhs.net` (exactly that domain) or
/// `*.nhs.uk` (any domain under nhs.uk, not nhs.uk itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailDomain {
    /// Lower case, without the `*.`.
    domain: String,
    wildcard: bool,
}

impl EmailDomain {
    pub fn parse(pattern: &str) -> Result<EmailDomain, Invalid> {
        let pattern = pattern.trim().to_ascii_lowercase();
        let (wildcard, domain) = match pattern.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, pattern.clone()),
        };
        if !is_domain(&domain) {
            return Err(Invalid::field(
                "email_domains",
                format!(
                    "{pattern:?} is not a domain such as nhs.net, or a pattern such as *.nhs.uk"
                ),
            ));
        }
        Ok(EmailDomain { domain, wildcard })
    }

    pub fn matches(&self, domain: &str) -> bool {
        if self.wildcard {
            domain
                .strip_suffix(&self.domain)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            domain == self.domain
        }
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            write!(f, "*.{}", self.domain)
        } else {
            f.write_str(&self.domain)
        }
    }
}

impl Serialize for EmailDomain {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EmailDomain {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EmailDomain, D::Error> {
        let text = String::deserialize(deserializer)?;
        EmailDomain::parse(&text).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// Letters, digits and hyphens in dot-separated labels, at least two.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A work email address, normalised (trimmed, lower case). It must never
/// reach a log, an error message or the database: `Debug` shows only the
/// domain, there is no `Display`, and the text is read with `expose`.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkEmail {
    address: String,
    at: usize,
}

impl WorkEmail {
    /// Parses what a person typed. The error names the field, never the address.
    pub fn parse(text: &str) -> Result<WorkEmail, Invalid> {
        let address = text.trim().to_lowercase();
        let bad = || Invalid::field("address", "is not an email address such as name@nhs.net");
        let at = address.rfind('@').ok_or_else(bad)?;
        let (local, domain) = (&address[..at], &address[at + 1..]);
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\"\\".contains(c));
        if !local_ok || !is_domain(domain) || address.len() > 254 {
            return Err(bad());
        }
        Ok(WorkEmail { address, at })
    }

    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }

    /// The address itself: for the message being sent and the keyed hash,
    /// nothing else.
    pub fn expose(&self) -> &str {
        &self.address
    }

    /// Whether one of `allowed` takes this address.
    pub fn allowed_by(&self, allowed: &[EmailDomain]) -> bool {
        allowed.iter().any(|d| d.matches(self.domain()))
    }
}

impl fmt::Debug for WorkEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkEmail(…@{})", self.domain())
    }
}

/// Cleans an admin's list of domain patterns: parsed, without duplicates,
/// at most 100.
pub fn clean_email_domains(patterns: &[String]) -> Result<Vec<EmailDomain>, Invalid> {
    let mut domains: Vec<EmailDomain> = Vec::new();
    for pattern in patterns {
        let domain = EmailDomain::parse(pattern)?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > 100 {
        return Err(Invalid::field(
            "email_domains",
            "must have at most 100 entries",
        ));
    }
    Ok(domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_exactly_or_below_a_wildcard() {
        let nhs_net = EmailDomain::parse(" NHS.net ").unwrap();
        let nhs_uk = EmailDomain::parse("*.nhs.uk").unwrap();
        assert_eq!(nhs_uk.to_string(), "*.nhs.uk");
        assert!(nhs_net.matches("nhs.net"));
        assert!(!nhs_net.matches("x.nhs.net"));
        assert!(nhs_uk.matches("uhb.nhs.uk"));
        assert!(nhs_uk.matches("a.b.nhs.uk"));
        assert!(!nhs_uk.matches("nhs.uk"));
        assert!(!nhs_uk.matches("evilnhs.uk"));
        for bad in [
            "", "nhs", "*.", "*nhs.uk", "nhs..uk", "-a.uk", "a b.uk", "@nhs.net",
        ] {
            assert!(EmailDomain::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_are_normalised_and_never_shown() {
        let email = WorkEmail::parse("  Sam.Jones@NHS.net ").unwrap();
        assert_eq!(email.expose(), "sam.jones@nhs.net");
        assert_eq!(email.domain(), "nhs.net");
        let shown = format!("{email:?}");
        assert!(!shown.contains("sam"), "{shown}");
        for bad in [
            "",
            "sam",
            "@nhs.net",
            "sam@",
            "sam@nhs",
            "a b@nhs.net",
            "sam@nhs..net",
        ] {
            let error = WorkEmail::parse(bad).unwrap_err();
            assert_eq!(error.0[0].field, "address");
        }
        let allowed = clean_email_domains(&["nhs.net".into(), "*.nhs.uk".into()]).unwrap();
        assert!(email.allowed_by(&allowed));
        assert!(WorkEmail::parse("a@uhb.nhs.uk")
            .unwrap()
            .allowed_by(&allowed));
        assert!(!WorkEmail::parse("a@gmail.com")
            .unwrap()
            .allowed_by(&allowed));
    }

    #[test]
    fn ways_in_are_a_set() {
        let ways = WaysIn::new(&[WayIn::Invite, WayIn::Email, WayIn::Invite]).unwrap();
        assert_eq!(ways.to_column(), "email,invite");
        assert_eq!(WaysIn::from_column("email,invite"), Some(ways));
        assert_eq!(WaysIn::from_column("open"), Some(WaysIn::only(WayIn::Open)));
        assert_eq!(WaysIn::from_column("bogus"), None);
        assert_eq!(WaysIn::from_column(""), None);
        assert!(WaysIn::new(&[]).is_err());
        assert!(WayIn::Email.verified() && !WayIn::Code.verified());
    }
}
