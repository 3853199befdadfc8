//! `idempotency_slots`: a fixed set of rows that keyed requests lock, `SELECT … FOR UPDATE NOWAIT`, for as
//! long as their transaction runs. A key maps to one slot by a hash of its scope; a second request with the
//! same key finds its slot locked and is told at once that the first is still running. A row lock is
//! transaction state, released by `COMMIT` or `ROLLBACK` (or the connection's death), so it needs no
//! clean-up and does not pin a pooled session the way an advisory lock would.

use sea_orm::entity::prelude::*;

/// How many slots the migration creates: keys are spread over them by hash. Two different keys in flight
/// at the same moment share a slot with odds of one in this many. Never change it without a migration
/// that adds (or removes) the rows.
pub const COUNT: i32 = 16_384;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_slots")]
pub struct Model {
    /// 0 to `COUNT - 1`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
}

impl ActiveModelBehavior for ActiveModel {}
