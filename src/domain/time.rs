//! Instants as milliseconds since the Unix epoch: one integer column in
//! both databases, RFC 3339 on the wire.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub i64);

impl Millis {
    pub fn now() -> Millis {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970");
        Millis(d.as_millis() as i64)
    }

    pub fn parse_rfc3339(text: &str) -> Option<Millis> {
        let t = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
        Some(Millis((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }

    /// The UTC day number, for per-day charts.
    pub fn day(self) -> i64 {
        self.0.div_euclid(86_400_000)
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        let text = String::deserialize(d)?;
        Millis::parse_rfc3339(&text).ok_or_else(|| {
            serde::de::Error::custom("expected an RFC 3339 time such as 2026-11-30T17:00:00Z")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let m = Millis::parse_rfc3339("2026-11-30T17:00:00.250Z").unwrap();
        assert_eq!(m.to_rfc3339(), "2026-11-30T17:00:00.25Z");
        assert_eq!(Millis::parse_rfc3339(&m.to_rfc3339()), Some(m));
        assert!(Millis::parse_rfc3339("next tuesday").is_none());
    }
}
