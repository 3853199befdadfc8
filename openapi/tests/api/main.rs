//! The HTTP API through poem's `TestClient`: every route, every error class, and the spec snapshot.
#![expect(clippy::unwrap_used, reason = "tests")]

mod access;
mod catalogue;
mod client;
mod conditional;
mod docs;
mod errors;
mod hardening;
mod hostile;
mod idempotency;
mod key_fetching;
mod lending;
mod rules;
mod security;
mod soak;
mod spec;
mod timeouts;
mod tokens;
