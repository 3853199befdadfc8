//! Authors: create, read, rename, delete (which detaches them from their books), list.

use entity::{author, book_author};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::books::refresh_author_keys;
use crate::domain::{PersonName, SearchTerm};
use crate::page::{ListKind, Page, PageRequest};
use crate::retry::transaction;
use crate::versioning::{Expected, guarded_delete, guarded_update, settle};
use crate::{Result, ServiceError};

/// Adds an author.
///
/// # Errors
/// Database failures only.
pub async fn create<C: ConnectionTrait>(db: &C, name: PersonName) -> Result<author::Model> {
    let model = author::ActiveModel { name: Set(name.into_inner()), ..Default::default() };
    Ok(model.insert(db).await?)
}

/// # Errors
/// `NotFound` when there is no such author.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<author::Model> {
    author::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::NotFound { entity: "author", id })
}

/// Renames an author, and rewrites the search keys of their books in the same transaction.
///
/// # Errors
/// `NotFound`.
pub async fn rename<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    name: PersonName,
) -> Result<author::Model> {
    rename_if(db, id, name, &Expected::Any).await
}

/// Renames an author if they are still at an expected revision, and rewrites the search keys of their
/// books in the same transaction.
///
/// # Errors
/// `NotFound`; `Stale` when the author is at another revision.
pub async fn rename_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    name: PersonName,
    expected: &Expected,
) -> Result<author::Model> {
    let name = name.into_inner();
    transaction(db, |txn| {
        let (name, expected) = (name.clone(), expected.clone());
        Box::pin(async move {
            let changes = author::ActiveModel { name: Set(name), ..Default::default() };
            let result = guarded_update::<author::Entity>(changes, id, &expected).exec(txn).await?;
            settle::<author::Entity, _>(txn, id, result.rows_affected).await?;
            // The books are read after the row is written: a credit change that read the old name holds a
            // share lock on it, so the update waited for it and this read finds its book; one that reads
            // after the update waits for this commit and reads the new name (see `books::keys`).
            refresh_author_keys(txn, &books_of(txn, id).await?).await?;
            get(txn, id).await
        })
    })
    .await
}

/// Deletes an author; the schema detaches them from their books (ON DELETE CASCADE on the join rows), and
/// those books' search keys lose the name in the same transaction.
///
/// # Errors
/// `NotFound` when there is no such author.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(db: &C, id: i64) -> Result<()> {
    delete_if(db, id, &Expected::Any).await
}

/// Deletes an author if they are still at an expected revision, and drops the name from their books'
/// search keys in the same transaction.
///
/// # Errors
/// `NotFound`; `Stale` when the author is at another revision.
pub async fn delete_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    expected: &Expected,
) -> Result<()> {
    transaction(db, |txn| {
        let expected = expected.clone();
        Box::pin(async move {
            // Locked before its books are read: a credit being added holds a key-share lock on the row
            // (its foreign key), so the delete waits for it and then finds its book (see `books::keys`).
            author::Entity::find_by_id(id).lock(LockType::Update).one(txn).await?;
            let books = books_of(txn, id).await?;
            let result = guarded_delete::<author::Entity>(id, &expected).exec(txn).await?;
            settle::<author::Entity, _>(txn, id, result.rows_affected).await?;
            refresh_author_keys(txn, &books).await
        })
    })
    .await
}

/// The ids of the books credited to an author (the `(author_id, book_id)` index).
async fn books_of<C: ConnectionTrait>(db: &C, author_id: i64) -> Result<Vec<i64>> {
    Ok(book_author::Entity::find()
        .select_only()
        .column(book_author::Column::BookId)
        .filter(book_author::Column::AuthorId.eq(author_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Lists authors in id order, optionally those whose name contains `name` (case-insensitive).
///
/// # Errors
/// `Validation` for an invalid cursor.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    name: Option<&SearchTerm>,
    page: &PageRequest,
) -> Result<Page<author::Model>> {
    let mut condition = Condition::all();
    if let Some(after) = page.after(ListKind::Authors)? {
        condition = condition.add(author::Column::Id.gt(after));
    }
    if let Some(name) = name {
        condition = condition.add(contains_ci((author::Entity, author::Column::Name), name));
    }
    let rows = author::Entity::find()
        .filter(condition)
        .order_by_asc(author::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok(Page::from_rows(ListKind::Authors, page, rows, |a| a.id))
}

/// Checks that every id names an author, so a bad id is the caller's mistake rather than a database error.
///
/// # Errors
/// `NotFound` naming the first unknown author.
pub(crate) async fn ensure_exist<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<i64> = author::Entity::find()
        .select_only()
        .column(author::Column::Id)
        .filter(author::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    match ids.iter().find(|id| !found.contains(id)) {
        Some(missing) => Err(ServiceError::NotFound { entity: "author", id: *missing }),
        None => Ok(()),
    }
}

/// How many authors there are (demo data uses it to seed an empty catalogue only once).
///
/// # Errors
/// Database failures only.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64> {
    Ok(author::Entity::find().count(db).await?)
}

/// `LOWER(column) LIKE '%term%'` with wildcards in the term escaped.
pub(crate) fn contains_ci(column: impl sea_orm::sea_query::IntoColumnRef, term: &SearchTerm) -> Expr {
    let mut pattern = String::from("%");
    for c in term.as_str().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern).escape('!'))
}
