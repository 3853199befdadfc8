//! A key held by the request's own transaction (PostgreSQL, SQLite): [`take`] at its start, the
//! operation in the same transaction, [`keep`] its answer, one commit for all three.
//!
//! A request in flight is the transaction that holds its key's slot row locked; there is no "running" row
//! for anyone to clean up after a crash, because an unfinished transaction leaves nothing behind. On
//! SQLite the pool's single connection already runs one transaction at a time (`openapi::connect`), so
//! there is no row lock to take: a retry waits its turn and then finds the answer.

use chrono::{DateTime, TimeDelta, Utc};
use entity::idempotency_key::{self, Entity};
use entity::idempotency_slot;
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Statement,
};

use super::{Answer, Scope, Verdict, judge, key_of, row, this};
use crate::error::{DbFailure, classify, lock_not_available};
use crate::{Result, ServiceError};

/// What a request found when it took its key.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// The key is this transaction's: run the operation in it, then [`keep`] the answer (or roll back).
    Ours(Held),
    /// The same request already ran: answer with this again.
    Replay(Answer),
    /// A request with this key is running now.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// Proof that this transaction holds a key, and whether a stale row of it (expired, or left by a dead
/// request of the autocommit path) is to be overwritten.
#[derive(Debug, PartialEq, Eq)]
pub struct Held {
    replaces: bool,
}

/// Takes `scope` for a request with this `fingerprint`, inside the transaction `txn` that will also run
/// the operation. `lease` is how long a row without an answer counts as running (rows the autocommit path
/// writes, e.g. during a rolling deploy).
///
/// # Errors
/// Database failures only.
pub async fn take<C: ConnectionTrait>(
    txn: &C,
    scope: Scope<'_>,
    fingerprint: &[u8],
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Taken> {
    let stored = if txn.get_database_backend() == DbBackend::Postgres {
        match lock_and_read(txn, scope).await? {
            Some(stored) => stored,
            None => return Ok(Taken::InFlight),
        }
    } else {
        if !lock_slot(txn, scope).await? {
            return Ok(Taken::InFlight);
        }
        // Read after the lock: whoever held it before us has committed (or rolled back) by now.
        Entity::find_by_id(key_of(scope)).one(txn).await?
    };
    let Some(stored) = stored else {
        return Ok(Taken::Ours(Held { replaces: false }));
    };
    Ok(match judge(stored, fingerprint, now, lease) {
        Verdict::Expired | Verdict::Abandoned => Taken::Ours(Held { replaces: true }),
        Verdict::Mismatch => Taken::Mismatch,
        Verdict::Replay(answer) => Taken::Replay(answer),
        Verdict::Running => Taken::InFlight,
    })
}

/// PostgreSQL: locks the key's slot and reads the key's row in one round trip; `None` when another
/// transaction holds the slot. The row comes from the statement's snapshot, which may predate the commit
/// of the slot's previous holder by a hair: then [`keep`] meets that holder's row and says so.
async fn lock_and_read<C: ConnectionTrait>(
    txn: &C,
    scope: Scope<'_>,
) -> Result<Option<Option<idempotency_key::Model>>> {
    const SQL: &str = "SELECT k.* FROM idempotency_slots s LEFT JOIN idempotency_keys k \
        ON k.caller = $1 AND k.operation = $2 AND k.key = $3 WHERE s.slot = $4 FOR UPDATE OF s NOWAIT";
    let slot = slot_of(scope);
    let values = [scope.caller.into(), scope.operation.into(), scope.key.into(), slot.into()];
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, SQL, values);
    let row = match txn.query_one_raw(statement).await {
        Ok(Some(row)) => row,
        Ok(None) => return Err(missing(slot)),
        Err(error) if lock_not_available(&error) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    if row.try_get::<Option<String>>("", "caller")?.is_none() {
        return Ok(Some(None));
    }
    Ok(Some(Some(idempotency_key::Model::from_query_result(&row, "")?)))
}

fn missing(slot: i32) -> ServiceError {
    ServiceError::Db(DbErr::RecordNotFound(format!("idempotency slot {slot}")))
}

/// Locks the key's slot without waiting: `false` when another transaction holds it.
async fn lock_slot<C: ConnectionTrait>(txn: &C, scope: Scope<'_>) -> Result<bool> {
    if txn.get_database_backend() == DbBackend::Sqlite {
        return Ok(true);
    }
    let slot = slot_of(scope);
    let locked = idempotency_slot::Entity::find_by_id(slot)
        .lock_with_behavior(LockType::Update, LockBehavior::Nowait)
        .one(txn)
        .await;
    match locked {
        Ok(Some(_)) => Ok(true),
        Ok(None) => Err(missing(slot)),
        Err(error) if lock_not_available(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The slot of a key: FNV-1a over its scope, its bits then mixed (MurmurHash3's finaliser: FNV's low
/// bits alone spread similar keys poorly), so every instance and every version maps a key alike.
fn slot_of(scope: Scope<'_>) -> i32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let parts = [scope.caller.as_bytes(), b"\0", scope.operation.as_bytes(), b"\0", scope.key.as_bytes()];
    let mut hash = parts
        .iter()
        .flat_map(|part| part.iter())
        .fold(OFFSET, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME));
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    let slots = u64::from(idempotency_slot::COUNT.unsigned_abs());
    i32::try_from(hash % slots).unwrap_or_default()
}

/// Stores the answer of the request that holds `scope`, in its transaction: it commits with the
/// operation's effect or not at all. `false` when another request's answer is already there (it
/// committed just before [`take`] locked the slot): roll back, and [`take`] again in a new transaction
/// to find it.
///
/// # Errors
/// Database failures only.
pub async fn keep<C: ConnectionTrait>(
    txn: &C,
    held: Held,
    scope: Scope<'_>,
    fingerprint: &[u8],
    answer: Answer,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<bool> {
    let kept = row(scope, fingerprint, Some(answer), now, ttl);
    if held.replaces {
        // A sweep may have deleted the stale row since we read it: then there is nothing to update.
        let updated = Entity::update_many().set(kept.clone()).filter(this(scope)).exec(txn).await?;
        if updated.rows_affected == 1 {
            return Ok(true);
        }
    }
    match Entity::insert(kept).exec_without_returning(txn).await {
        Ok(_) => Ok(true),
        Err(error) if classify(&error) == DbFailure::UniqueViolation => Ok(false),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_over_every_slot_range_and_map_alike_every_time() {
        let scope = |key| Scope { caller: "librarian-1", operation: "checkOutBook", key };
        assert_eq!(slot_of(scope("a")), slot_of(scope("a")));
        assert_ne!(slot_of(scope("a")), slot_of(scope("b")));
        let keys: Vec<String> = (0..4096).map(|n| format!("key-{n}")).collect();
        let slots: std::collections::HashSet<i32> = keys.iter().map(|k| slot_of(scope(k))).collect();
        assert!(slots.iter().all(|s| (0..idempotency_slot::COUNT).contains(s)));
        assert!(slots.len() > 3500, "4096 keys fell into only {} slots", slots.len());
        // Pinned: a change here would map live keys elsewhere during a deploy.
        assert_eq!(slot_of(scope("abc")), 7_614);
    }
}
