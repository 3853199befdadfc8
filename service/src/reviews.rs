//! Reviews: a rating from 1 to 5 and an optional comment, by a borrower who has borrowed the book.

use chrono::Utc;
use entity::{book, review};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::{Comment, Rating};
use crate::error::{DbFailure, classify};
use crate::page::{ListKind, Page, PageRequest};
use crate::versioning::{Expected, guarded_delete, guarded_update, settle};
use crate::{ConflictCode, Result, ServiceError, borrowers, loans};

/// A new review.
#[derive(Clone, Debug)]
pub struct NewReview {
    pub book_id: i64,
    pub borrower_id: i64,
    pub rating: Rating,
    pub comment: Comment,
}

/// A partial update: `comment: Some(c)` replaces the comment, removing it when `c` is empty.
#[derive(Clone, Debug, Default)]
pub struct ReviewChanges {
    pub rating: Option<Rating>,
    pub comment: Option<Comment>,
}

/// Records a review.
///
/// # Errors
/// `NotFound` for the book or borrower; `Conflict` with `not_borrowed` or `already_reviewed`.
pub async fn create<C: ConnectionTrait>(db: &C, input: NewReview) -> Result<review::Model> {
    let NewReview { book_id, borrower_id, rating, comment } = input;
    book::Entity::find_by_id(book_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "book", id: book_id })?;
    borrowers::get(db, borrower_id).await?;
    if !loans::has_borrowed(db, book_id, borrower_id).await? {
        return Err(ServiceError::conflict(
            ConflictCode::NotBorrowed,
            "only a borrower of this book may review it",
        ));
    }
    let model = review::ActiveModel {
        book_id: Set(book_id),
        borrower_id: Set(borrower_id),
        rating: Set(rating.get()),
        comment: Set(comment.into_inner()),
        reviewed_at: Set(Utc::now()),
        ..Default::default()
    };
    model.insert(db).await.map_err(|error| match classify(&error) {
        DbFailure::UniqueViolation => ServiceError::conflict(
            ConflictCode::AlreadyReviewed,
            "this borrower has already reviewed this book",
        ),
        _ => error.into(),
    })
}

/// # Errors
/// `NotFound` when there is no such review.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<review::Model> {
    review::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::NotFound { entity: "review", id })
}

/// Changes a review's rating or comment; the review date becomes now.
///
/// # Errors
/// `NotFound`.
pub async fn update<C: ConnectionTrait>(db: &C, id: i64, changes: ReviewChanges) -> Result<review::Model> {
    update_if(db, id, changes, &Expected::Any).await
}

/// Changes a review if it is still at an expected revision.
///
/// # Errors
/// `NotFound`; `Stale` when the review is at another revision.
pub async fn update_if<C: ConnectionTrait>(
    db: &C,
    id: i64,
    changes: ReviewChanges,
    expected: &Expected,
) -> Result<review::Model> {
    let mut model = review::ActiveModel { reviewed_at: Set(Utc::now()), ..Default::default() };
    if let Some(rating) = changes.rating {
        model.rating = Set(rating.get());
    }
    if let Some(comment) = changes.comment {
        model.comment = Set(comment.into_inner());
    }
    let result = guarded_update::<review::Entity>(model, id, expected).exec(db).await?;
    settle::<review::Entity, _>(db, id, result.rows_affected).await?;
    get(db, id).await
}

/// # Errors
/// `NotFound` when there is no such review.
pub async fn delete<C: ConnectionTrait>(db: &C, id: i64) -> Result<()> {
    delete_if(db, id, &Expected::Any).await
}

/// Deletes a review if it is still at an expected revision.
///
/// # Errors
/// `NotFound`; `Stale` when the review is at another revision.
pub async fn delete_if<C: ConnectionTrait>(db: &C, id: i64, expected: &Expected) -> Result<()> {
    let result = guarded_delete::<review::Entity>(id, expected).exec(db).await?;
    settle::<review::Entity, _>(db, id, result.rows_affected).await
}

/// A book's reviews in id order.
///
/// # Errors
/// `NotFound` for an unknown book; `Validation` for an invalid cursor.
pub async fn of_book<C: ConnectionTrait>(
    db: &C,
    book_id: i64,
    page: &PageRequest,
) -> Result<Page<review::Model>> {
    book::Entity::find_by_id(book_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "book", id: book_id })?;
    let mut condition = Condition::all().add(review::Column::BookId.eq(book_id));
    if let Some(after) = page.after(ListKind::Reviews)? {
        condition = condition.add(review::Column::Id.gt(after));
    }
    let rows = review::Entity::find()
        .filter(condition)
        .order_by_asc(review::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok(Page::from_rows(ListKind::Reviews, page, rows, |r| r.id))
}
