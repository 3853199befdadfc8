//! Links a borrower to an identity-provider account: `auth_subject` holds the `sub` claim of the
//! borrower's access tokens (a Cognito user's UUID, say), so a token can act as that borrower.
//!
//! Nullable, because most borrowers never log in themselves; unique, because one account must never act as
//! two borrowers. Compared exactly on every backend. A separate index rather than a column constraint: SQLite cannot add a UNIQUE column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Borrowers {
    Table,
    AuthSubject,
}

const INDEX: &str = "borrowers_auth_subject_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = ColumnDef::new(Borrowers::AuthSubject);
        column.string_len(255).null();
        if manager.get_database_backend() == DbBackend::MySql {
            // Subjects are case-sensitive; MySQL's default collation would make `Abc` find `abc`.
            column.extra("COLLATE utf8mb4_bin");
        }
        manager.alter_table(Table::alter().table(Borrowers::Table).add_column(column).to_owned()).await?;
        // Serves the look-up of the borrower behind a token, once per borrower request.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Borrowers::Table)
                    .col(Borrowers::AuthSubject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Borrowers::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(Borrowers::Table).drop_column(Borrowers::AuthSubject).to_owned(),
            )
            .await
    }
}
