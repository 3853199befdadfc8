//! Safe retries and concurrent edits.
//!
//! `version` on every resource a client edits (authors, books, borrowers, reviews): starts at 1 and goes
//! up by one with each change, so an `ETag` can name the state a client saw and an `If-Match` write can be
//! one conditional `UPDATE … WHERE id = ? AND version = ?`.
//!
//! `idempotency_keys`: the outcome of a request sent with an `Idempotency-Key`, per caller, operation and
//! key, so a retry gets the first answer again. A row with no `status` is a request still running. All the
//! state is in this table (no session state, nothing in memory), so it holds across instances and through
//! a transaction-mode pooler; `expires_at` lets requests delete expired rows as they go.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Authors {
    Table,
}

#[derive(DeriveIden)]
enum Books {
    Table,
}

#[derive(DeriveIden)]
enum Borrowers {
    Table,
}

#[derive(DeriveIden)]
enum Reviews {
    Table,
}

#[derive(DeriveIden)]
enum Versioned {
    Version,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Caller,
    Operation,
    Key,
    Fingerprint,
    Status,
    Headers,
    Body,
    CreatedAt,
    ExpiresAt,
}

const EXPIRY_INDEX: &str = "idx_idempotency_keys_expires";

fn versioned() -> [TableRef; 4] {
    [
        Authors::Table.into_table_ref(),
        Books::Table.into_table_ref(),
        Borrowers::Table.into_table_ref(),
        Reviews::Table.into_table_ref(),
    ]
}

/// A UTC instant, as the first migration stores them (`DATETIME(6)` on MySQL/MariaDB).
fn instant(backend: DbBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom("DATETIME(6)"),
        _ => column.timestamp_with_time_zone(),
    };
    column.not_null().take()
}

/// Text compared byte for byte: keys and subjects are case-sensitive, which MySQL's default collation is not.
fn exact_text(backend: DbBackend, name: impl IntoIden, len: u32) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.string_len(len).not_null();
    if backend == DbBackend::MySql {
        column.extra("COLLATE utf8mb4_bin");
    }
    column
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        for table in versioned() {
            let column = ColumnDef::new(Versioned::Version).integer().not_null().default(1).take();
            manager.alter_table(Table::alter().table(table).add_column(column).to_owned()).await?;
        }
        // A stored answer: MySQL's BLOB stops at 64 KiB, so a larger type there.
        let mut body = ColumnDef::new(IdempotencyKeys::Body);
        match backend {
            DbBackend::MySql => body.custom("MEDIUMBLOB"),
            _ => body.blob(),
        };
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    // The token's subject, or `anonymous`.
                    .col(exact_text(backend, IdempotencyKeys::Caller, 255))
                    // The operationId.
                    .col(exact_text(backend, IdempotencyKeys::Operation, 64))
                    .col(exact_text(backend, IdempotencyKeys::Key, 255))
                    // SHA-256 of the method, the path and the canonical body: a key reused for another
                    // request is refused.
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).blob().not_null())
                    // Null while the first request runs.
                    .col(ColumnDef::new(IdempotencyKeys::Status).small_integer().null())
                    // The answer's headers that matter (Location, ETag, Content-Type), as JSON text.
                    .col(ColumnDef::new(IdempotencyKeys::Headers).text().null())
                    .col(body.null())
                    .col(instant(backend, IdempotencyKeys::CreatedAt))
                    .col(instant(backend, IdempotencyKeys::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Caller)
                            .col(IdempotencyKeys::Operation)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        // Serves the sweep of expired keys.
        manager
            .create_index(
                Index::create()
                    .name(EXPIRY_INDEX)
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await?;
        for table in versioned() {
            manager
                .alter_table(Table::alter().table(table).drop_column(Versioned::Version).to_owned())
                .await?;
        }
        Ok(())
    }
}
