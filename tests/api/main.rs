//! chorus's integration tests: one binary (for link time), one module per
//! concern. Every test starts a real server on port 0 with its own
//! database and talks to it over real sockets.

mod helpers;

mod bad_input;
mod cluster;
mod comment_pages;
mod concurrency;
mod config;
mod crash;
mod desk;
mod docs_contract;
mod live;
mod live_resume;
mod loadtest_smoke;
mod opinion;
mod organising;
mod participation;
mod postgres_outage;
mod report;
mod report_cache;
mod report_privacy;
mod retries;
mod self_service;
mod sessions;
mod shutdown;
mod smtp;
mod store_suite;
mod tallies_visible;
mod ways_in;
mod ways_in_privacy;
mod web;
