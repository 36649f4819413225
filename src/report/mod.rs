//! The report: what the conversation said (being built; see issue 8).
