//! `idempotency_slots`: the rows a request with an `Idempotency-Key` locks (`FOR UPDATE NOWAIT`) while its
//! transaction runs, so a concurrent retry with the same key learns at once that the first is still
//! running, and the claim, the operation and its stored answer can be one transaction with one commit.
//! A fixed set of `entity::idempotency_slot::COUNT` rows, created here once; keys map onto them by hash.
//! Row locks are transaction state: nothing to clean up, nothing that pins a pooled session.

use entity::idempotency_slot::COUNT;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencySlots {
    Table,
    Slot,
}

/// Rows per `INSERT`: its text stays near 9 KB, under the 16 KB past which RDS Proxy is documented to pin
/// a session (and the suite's pinning check flags it), and well inside every backend's parameter limit.
const BATCH: i32 = 1_024;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencySlots::Table)
                    .col(ColumnDef::new(IdempotencySlots::Slot).integer().not_null().primary_key())
                    .to_owned(),
            )
            .await?;
        let mut start = 0;
        while start < COUNT {
            let mut insert = Query::insert();
            insert.into_table(IdempotencySlots::Table).columns([IdempotencySlots::Slot]);
            for slot in start..Ord::min(start + BATCH, COUNT) {
                insert.values([slot.into()]).map_err(|error| DbErr::Custom(error.to_string()))?;
            }
            manager.exec_stmt(insert).await?;
            start += BATCH;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencySlots::Table).to_owned()).await
    }
}
