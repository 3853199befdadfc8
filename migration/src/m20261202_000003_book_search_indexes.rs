//! PostgreSQL's catalogue-search and published-date indexes, built `CONCURRENTLY`: old and new function
//! versions keep reading and writing `books` while they build, which a plain `CREATE INDEX` (it blocks
//! writes) or a stored generated column (it rewrites the table under an exclusive lock) would not allow on
//! a large catalogue. `CONCURRENTLY` cannot run inside a transaction, so this migration opts out of one;
//! each statement is idempotent (`IF NOT EXISTS`), so a deploy that failed half-way can simply run again.
//! (An interrupted concurrent build leaves an INVALID index behind; `down` then `up` rebuilds it.)
//! Other backends got theirs in the previous migration.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261202_000001_book_search::PUBLISHED_INDEX;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_books_search ON books USING GIN (search_vector)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS {PUBLISHED_INDEX} ON books (published_date, id)"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX CONCURRENTLY IF EXISTS {PUBLISHED_INDEX}")).await?;
        db.execute_unprepared("DROP INDEX CONCURRENTLY IF EXISTS idx_books_search").await?;
        Ok(())
    }

    /// `CREATE INDEX CONCURRENTLY` refuses to run inside a transaction block.
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }
}
