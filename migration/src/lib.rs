//! Libris schema migrations.
//!
//! Proxy-safe by construction: only plain DDL inside the migrator's own transactions. No `SET`, no advisory
//! locks, no temporary tables, nothing that pins an RDS Proxy session or breaks under PgBouncer's
//! transaction pooling. Applied migrations are never edited; add a new one instead. Demo data is not a
//! migration: the local server loads it.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_library;
mod m20261127_000001_borrower_subject;
mod m20261202_000001_book_search;
mod m20261202_000001_retries_and_revisions;
mod m20261202_000003_book_search_indexes;
mod m20261202_000004_idempotency_slots;
mod m20261202_000005_title_search_index;
mod m20261202_000006_title_words;
mod m20261203_000001_title_words_lexemes;
pub mod roles;
#[cfg(feature = "testkit")]
pub mod testkit;

/// The ordered list of Libris migrations.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_library::Migration),
            Box::new(m20261127_000001_borrower_subject::Migration),
            Box::new(m20261202_000001_book_search::Migration),
            Box::new(m20261202_000001_retries_and_revisions::Migration),
            Box::new(m20261202_000003_book_search_indexes::Migration),
            Box::new(m20261202_000004_idempotency_slots::Migration),
            Box::new(m20261202_000005_title_search_index::Migration),
            Box::new(m20261202_000006_title_words::Migration),
            Box::new(m20261203_000001_title_words_lexemes::Migration),
        ]
    }
}
