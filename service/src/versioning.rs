//! Revisions of the resources clients edit, and writes that happen only if the resource is still at the
//! revision the client saw (what HTTP calls `ETag` and `If-Match`; this crate knows neither).
//!
//! Authors, borrowers and reviews are their own row, so their revision is the row's `version`. A book's
//! page also shows its authors, its current loan and its review statistics, which change without the
//! book's row changing; its revision is the row's version plus a digest of those, so a revision never
//! names two different pages. A conditional write is one statement, `UPDATE … SET version = version + 1
//! WHERE id = ? AND version IN (…)`: when it changes no row, the resource is gone or has moved on, and
//! there is no moment between the check and the write for another edit to slip in.

use chrono::Utc;
use entity::{author, book, borrower, review};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany};

use crate::books::BookDetail;
use crate::{Result, ServiceError};

/// The revision a conditional write expects the resource to be at (`If-Match`, parsed by the caller).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Expected {
    /// Write whatever the revision.
    #[default]
    Any,
    /// Write only if the current revision is one of these (revisions handed out with the resource).
    OneOf(Vec<String>),
}

impl Expected {
    /// Whether `revision` satisfies the expectation.
    #[must_use]
    pub fn admits(&self, revision: &str) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(revisions) => revisions.iter().any(|r| r == revision),
        }
    }

    /// The row versions named, for a resource whose revision is its version. Revisions that are not a
    /// version (another resource's, or made up) can match no row.
    fn versions(&self) -> Option<Vec<i32>> {
        match self {
            Self::Any => None,
            Self::OneOf(revisions) => Some(revisions.iter().filter_map(|r| r.parse().ok()).collect()),
        }
    }
}

/// The revision of a resource that is exactly its row.
#[must_use]
pub fn revision(version: i32) -> String {
    version.to_string()
}

impl BookDetail {
    /// The book page's revision: the row's version and a digest of what else the page shows.
    #[must_use]
    pub fn revision(&self) -> String {
        let mut digest = Fnv64::default();
        for author in &self.authors {
            digest.write(&author.id.to_le_bytes());
            digest.write(&author.version.to_le_bytes());
        }
        let due = self.current_loan.as_ref().map_or(i64::MIN, |loan| loan.due_at.timestamp_micros());
        digest.write(&due.to_le_bytes());
        digest.write(&self.review_count.to_le_bytes());
        digest.write(&self.average_rating.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        format!("{}-{:016x}", self.book.version, digest.0)
    }
}

/// FNV-1a, 64 bits: stable across builds and machines (unlike std's hasher), which a revision handed to
/// clients and compared by other instances must be. Not a defence against forgery; nothing here needs one.
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The columns a conditional write of a versioned table uses.
pub(crate) trait Versioned: EntityTrait {
    const NAME: &'static str;
    fn id() -> Self::Column;
    fn version() -> Self::Column;
    fn updated_at() -> Self::Column;
}

macro_rules! versioned {
    ($($module:ident => $name:literal),* $(,)?) => {$(
        impl Versioned for $module::Entity {
            const NAME: &'static str = $name;
            fn id() -> Self::Column {
                $module::Column::Id
            }
            fn version() -> Self::Column {
                $module::Column::Version
            }
            fn updated_at() -> Self::Column {
                $module::Column::UpdatedAt
            }
        }
    )*};
}

versioned!(author => "author", book => "book", borrower => "borrower", review => "review");

/// `UPDATE <table> SET <changes>, version = version + 1, updated_at = now WHERE id = ? [AND version IN
/// (…)]`; run it, then hand its row count to [`settle`].
pub(crate) fn guarded_update<E: Versioned>(
    changes: E::ActiveModel,
    id: i64,
    expected: &Expected,
) -> UpdateMany<E>
where
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E>,
{
    let update = E::update_many()
        .set(changes)
        .col_expr(E::version(), Expr::col(E::version()).add(1))
        .col_expr(E::updated_at(), Expr::value(Utc::now()))
        .filter(E::id().eq(id));
    match expected.versions() {
        Some(versions) => update.filter(E::version().is_in(versions)),
        None => update,
    }
}

/// `DELETE FROM <table> WHERE id = ? [AND version IN (…)]`; run it, then hand its row count to [`settle`].
pub(crate) fn guarded_delete<E: Versioned>(id: i64, expected: &Expected) -> sea_orm::DeleteMany<E> {
    let delete = E::delete_many().filter(E::id().eq(id));
    match expected.versions() {
        Some(versions) => delete.filter(E::version().is_in(versions)),
        None => delete,
    }
}

/// What a guarded write that touched `rows` rows means: done, or why not (`Stale` when the row is there
/// at another revision, `NotFound` when it is gone).
pub(crate) async fn settle<E: Versioned, C: ConnectionTrait>(db: &C, id: i64, rows: u64) -> Result<()> {
    if rows > 0 {
        return Ok(());
    }
    if E::find().filter(E::id().eq(id)).one(db).await?.is_some() {
        Err(ServiceError::Stale { entity: E::NAME, id })
    } else {
        Err(ServiceError::NotFound { entity: E::NAME, id })
    }
}

/// For a book: what the version must be, given the page revisions the caller expects. The page is read
/// first; the write that follows is guarded by the version read, so an edit that lands in between is
/// still caught. (A loan or review in between changes nothing the write touches.)
pub(crate) async fn book_expectation<C: ConnectionTrait>(
    db: &C,
    id: i64,
    expected: &Expected,
) -> Result<Expected> {
    if *expected == Expected::Any {
        return Ok(Expected::Any);
    }
    let detail = crate::books::get(db, id).await?;
    if expected.admits(&detail.revision()) {
        Ok(Expected::OneOf(vec![revision(detail.book.version)]))
    } else {
        Err(ServiceError::Stale { entity: "book", id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_revisions_are_admitted() {
        let expected = Expected::OneOf(vec!["3".to_owned(), "4-00ff".to_owned()]);
        assert!(expected.admits("3") && expected.admits("4-00ff"));
        assert!(!expected.admits("4") && !expected.admits("30"));
        assert!(Expected::Any.admits("anything"));
        assert_eq!(expected.versions(), Some(vec![3]), "a book's page revision is no row version");
        assert_eq!(Expected::Any.versions(), None);
    }

    #[test]
    fn the_digest_is_fnv1a() {
        let mut digest = Fnv64::default();
        digest.write(b"a");
        assert_eq!(digest.0, 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 of \"a\"");
    }
}
