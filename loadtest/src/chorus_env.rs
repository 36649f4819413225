//! The chorus settings a load test overrides, in one place.
//!
//! chorus reads `CHORUS_*` environment variables with `__` as the nesting
//! separator (figment). A load test sends thousands of sign-ups, votes and
//! connections from one machine, so the per-IP and per-participant limits
//! that stop a script in production would stop the test instead.

/// Environment for every chorus process the load test starts.
pub const LOAD_TEST_ENV: &[(&str, &str)] = &[
    ("CHORUS_RATE__SIGNUP_PER_IP_BURST", "1000000"),
    ("CHORUS_RATE__SIGNUP_PER_IP_PER_S", "1000000"),
    ("CHORUS_RATE__LOGIN_PER_IP_BURST", "1000000"),
    ("CHORUS_RATE__LOGIN_PER_IP_PER_S", "1000000"),
    ("CHORUS_RATE__VOTE_BURST", "1000000"),
    ("CHORUS_RATE__VOTE_PER_S", "1000000"),
    ("CHORUS_RATE__COMMENT_BURST", "1000000"),
    ("CHORUS_RATE__COMMENT_PER_S", "1000000"),
    ("CHORUS_WS__CONNECTS_PER_IP_PER_S", "1000000"),
    ("CHORUS_WS__CONNECTS_PER_IP_BURST", "1000000"),
    ("CHORUS_WS__MAX_CONNECTIONS", "100000"),
];

/// Log level for the server: quiet, so logging does not eat the CPU being measured.
pub const LOG_ENV: (&str, &str) = ("RUST_LOG", "warn");

/// The line chorus prints on stdout once it accepts connections.
pub const LISTENING_PREFIX: &str = "chorus listening on ";
