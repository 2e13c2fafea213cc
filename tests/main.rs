//! Zhongfu's integration tests: one binary. Every test starts a real server
//! on a fresh database and talks HTTP to it. The database is SQLite unless
//! `ZHONGFU_TEST_DB=postgres` (then `ZHONGFU_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, with a schema per test).

// Helpers fail the test that calls them, like assertions.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "a failed helper fails its test")]

mod admin;
mod api;
mod audit;
mod auth;
mod bench;
mod helpers;
mod policies;
mod registry;
mod startup;
mod store;
mod taper;
mod totp;
mod volunteers;
mod walk;
