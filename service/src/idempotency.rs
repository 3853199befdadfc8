//! The idempotency-key store: the first request with a key claims it, its answer is kept, and a retry
//! with the same key gets that answer again instead of running twice.
//!
//! Everything lives in the `idempotency_keys` table (and, for the lock, `idempotency_slots`), so it works
//! across instances and through a transaction-mode pooler. Two ways to hold a key:
//!
//! - [`take`] and [`keep`] (PostgreSQL, SQLite): the claim, the operation and the stored answer are one
//!   transaction with one commit. The transaction locks the key's slot row `FOR UPDATE NOWAIT`; a
//!   concurrent request with the same key finds it locked and learns at once that the first still runs.
//!   The answer is stored atomically with the effect, and a request that dies takes its claim with it.
//! - [`claim`], [`complete`] and [`release`] (MariaDB/MySQL): each step is one autocommit statement. The
//!   primary key `(caller, operation, key)` lets one INSERT win; the losers read the row and learn whether
//!   to replay, wait or refuse. Taking over an expired key, or one whose request died (its lease ran out),
//!   is an UPDATE whose WHERE re-checks that condition, so two takers cannot both win. InnoDB rolls a
//!   whole transaction back on a deadlock, savepoints included, so an operation nested in a keyed
//!   transaction could not retry safely there; this path keeps every operation top-level.
//!
//! The answer is opaque here (a status, a header blob and a body): what a response is belongs to the
//! HTTP layer.

use chrono::{DateTime, TimeDelta, Utc};
use entity::idempotency_key::{self, ActiveModel, Column, Entity};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::Result;
use crate::error::{DbFailure, classify};

mod in_transaction;
pub use in_transaction::{Held, Taken, keep, take};

/// Which key: a caller's key for one operation. The same key string may serve another caller or
/// another operation without clashing.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub caller: &'a str,
    pub operation: &'a str,
    pub key: &'a str,
}

/// A kept answer, as the HTTP layer handed it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The headers that matter, encoded by the HTTP layer.
    pub headers: String,
    pub body: Vec<u8>,
}

/// What became of a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then [`complete`] or [`release`].
    Claimed,
    /// The same request already ran: answer with this again.
    Replay(Answer),
    /// The same request is still running elsewhere.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// How long keys live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// How long an answer is kept for retries.
    pub ttl: TimeDelta,
    /// How long a running request holds its key before another may take it over (its instance died).
    pub lease: TimeDelta,
}

/// Claims `scope` for a request with this `fingerprint`.
///
/// # Errors
/// Database failures only.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    scope: Scope<'_>,
    fingerprint: &[u8],
    terms: Terms,
) -> Result<Claim> {
    let now = Utc::now();
    // A row can vanish or change between our statements (a sweep, a takeover); a few rounds settle it.
    for _ in 0..3 {
        match Entity::insert(row(scope, fingerprint, None, now, terms.ttl)).exec_without_returning(db).await {
            Ok(_) => return Ok(Claim::Claimed),
            Err(error) if classify(&error) == DbFailure::UniqueViolation => {}
            Err(error) => return Err(error.into()),
        }
        let Some(held) = Entity::find_by_id(key_of(scope)).one(db).await? else { continue };
        let condition = match judge(held, fingerprint, now, terms.lease) {
            Verdict::Expired => Column::ExpiresAt.lte(now),
            Verdict::Abandoned => Column::Status.is_null().and(Column::CreatedAt.lte(now - terms.lease)),
            Verdict::Mismatch => return Ok(Claim::Mismatch),
            Verdict::Replay(answer) => return Ok(Claim::Replay(answer)),
            Verdict::Running => return Ok(Claim::InFlight),
        };
        if take_over(db, scope, fingerprint, now, terms, condition).await? {
            return Ok(Claim::Claimed);
        }
    }
    Ok(Claim::InFlight)
}

/// A key's whole row: claimed and running without an answer, finished with one.
fn row(
    scope: Scope<'_>,
    fingerprint: &[u8],
    answer: Option<Answer>,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> ActiveModel {
    let (status, headers, body) = match answer {
        Some(answer) => {
            (Some(i16::try_from(answer.status).unwrap_or(i16::MAX)), Some(answer.headers), Some(answer.body))
        }
        None => (None, None, None),
    };
    ActiveModel {
        caller: Set(scope.caller.to_owned()),
        operation: Set(scope.operation.to_owned()),
        key: Set(scope.key.to_owned()),
        fingerprint: Set(fingerprint.to_vec()),
        status: Set(status),
        headers: Set(headers),
        body: Set(body),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
}

/// What a key's stored row says to a new request with it.
enum Verdict {
    /// Past its expiry: a new key, whatever it was used for.
    Expired,
    /// Used for a different request.
    Mismatch,
    /// The same request's kept answer.
    Replay(Answer),
    /// Claimed by a request still within its lease (the autocommit path's running request).
    Running,
    /// Claimed by a request whose lease ran out: its instance died.
    Abandoned,
}

fn judge(held: idempotency_key::Model, fingerprint: &[u8], now: DateTime<Utc>, lease: TimeDelta) -> Verdict {
    if held.expires_at <= now {
        return Verdict::Expired;
    }
    if held.fingerprint != fingerprint {
        return Verdict::Mismatch;
    }
    match held.status {
        Some(status) => Verdict::Replay(Answer {
            status: u16::try_from(status).unwrap_or_default(),
            headers: held.headers.unwrap_or_default(),
            body: held.body.unwrap_or_default(),
        }),
        None if held.created_at + lease <= now => Verdict::Abandoned,
        None => Verdict::Running,
    }
}

fn key_of(scope: Scope<'_>) -> (String, String, String) {
    (scope.caller.to_owned(), scope.operation.to_owned(), scope.key.to_owned())
}

/// Re-claims a held row if it still meets `condition`, as one statement: of two takers, the second finds
/// the condition no longer true.
async fn take_over<C: ConnectionTrait>(
    db: &C,
    scope: Scope<'_>,
    fingerprint: &[u8],
    now: DateTime<Utc>,
    terms: Terms,
    condition: sea_orm::sea_query::SimpleExpr,
) -> Result<bool> {
    let reset = ActiveModel {
        fingerprint: Set(fingerprint.to_vec()),
        status: Set(None),
        headers: Set(None),
        body: Set(None),
        created_at: Set(now),
        expires_at: Set(now + terms.ttl),
        ..Default::default()
    };
    let result = Entity::update_many().set(reset).filter(this(scope)).filter(condition).exec(db).await?;
    Ok(result.rows_affected == 1)
}

fn this(scope: Scope<'_>) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(Column::Caller.eq(scope.caller))
        .add(Column::Operation.eq(scope.operation))
        .add(Column::Key.eq(scope.key))
}

/// Keeps the answer of a claimed key's request, for its retries.
///
/// # Errors
/// Database failures only.
pub async fn complete<C: ConnectionTrait>(db: &C, scope: Scope<'_>, answer: Answer) -> Result<()> {
    let done = ActiveModel {
        status: Set(Some(i16::try_from(answer.status).unwrap_or(i16::MAX))),
        headers: Set(Some(answer.headers)),
        body: Set(Some(answer.body)),
        ..Default::default()
    };
    Entity::update_many().set(done).filter(this(scope)).filter(Column::Status.is_null()).exec(db).await?;
    Ok(())
}

/// Gives a claimed key back unused (the request failed validation or on our side), so a retry runs
/// afresh and nothing is kept.
///
/// # Errors
/// Database failures only.
pub async fn release<C: ConnectionTrait>(db: &C, scope: Scope<'_>) -> Result<()> {
    Entity::delete_many().filter(this(scope)).filter(Column::Status.is_null()).exec(db).await?;
    Ok(())
}

/// Deletes up to about `batch` expired keys, oldest first, and says how many went. Requests call it now
/// and then, so expired keys go without a separate job, a little at a time.
///
/// # Errors
/// Database failures only.
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, batch: u64) -> Result<u64> {
    // The expiry of the `batch`-th oldest expired key bounds the delete (ties may add a few); MySQL
    // allows no LIMIT in a DELETE's subquery, so the bound is read first.
    let bound: Option<DateTime<Utc>> = Entity::find()
        .select_only()
        .column(Column::ExpiresAt)
        .filter(Column::ExpiresAt.lt(now))
        .order_by_asc(Column::ExpiresAt)
        .offset(batch.saturating_sub(1))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let mut delete = Entity::delete_many().filter(Column::ExpiresAt.lt(now));
    if let Some(bound) = bound {
        delete = delete.filter(Column::ExpiresAt.lte(bound));
    }
    Ok(delete.exec(db).await?.rows_affected)
}

/// How many keys are kept, finished or running (for tests and operators).
///
/// # Errors
/// Database failures only.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find().count(db).await?)
}

/// A key's row as stored (for tests and operators).
///
/// # Errors
/// Database failures only.
pub async fn find<C: ConnectionTrait>(db: &C, scope: Scope<'_>) -> Result<Option<idempotency_key::Model>> {
    Ok(Entity::find_by_id(key_of(scope)).one(db).await?)
}
