//! The library's rules, proven on SQLite, PostgreSQL and MariaDB with the same test bodies.
#![expect(clippy::unwrap_used, reason = "tests")]

mod catalogue;
mod concurrency;
mod deletes;
mod idempotency;
mod listing;
mod loans;
mod reviews;
mod search;
mod search_paths;
mod search_races;
mod support;
