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
use crate::{ConflictCode, Result, ServiceError, borrowers, loans};

/// A new review.
#[derive(Clone, Debug)]
pub struct NewReview {
    pub book_id: i64,
    pub borrower_id: i64,
    pub rating: i64,
    pub comment: Option<String>,
}

/// A partial update: `comment: Some(None)` removes the comment.
#[derive(Clone, Debug, Default)]
pub struct ReviewChanges {
    pub rating: Option<i64>,
    pub comment: Option<Option<String>>,
}

/// Records a review.
///
/// # Errors
/// `NotFound` for the book or borrower; `Validation` on `rating` or `comment`; `Conflict` with
/// `not_borrowed` or `already_reviewed`.
pub async fn create<C: ConnectionTrait>(db: &C, input: NewReview) -> Result<review::Model> {
    let rating = Rating::parse(input.rating)?;
    let comment = Comment::parse(input.comment.as_deref())?;
    book::Entity::find_by_id(input.book_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "book", id: input.book_id })?;
    borrowers::get(db, input.borrower_id).await?;
    if !loans::has_borrowed(db, input.book_id, input.borrower_id).await? {
        return Err(ServiceError::conflict(
            ConflictCode::NotBorrowed,
            "only a borrower of this book may review it",
        ));
    }
    let now = Utc::now();
    let model = review::ActiveModel {
        book_id: Set(input.book_id),
        borrower_id: Set(input.borrower_id),
        rating: Set(rating.get()),
        comment: Set(comment.into_inner()),
        reviewed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
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
/// `NotFound`; `Validation` on `rating` or `comment`.
pub async fn update<C: ConnectionTrait>(db: &C, id: i64, changes: ReviewChanges) -> Result<review::Model> {
    let rating = changes.rating.map(Rating::parse).transpose()?;
    let comment = changes.comment.as_ref().map(|c| Comment::parse(c.as_deref())).transpose()?;
    let mut model: review::ActiveModel = get(db, id).await?.into();
    if let Some(rating) = rating {
        model.rating = Set(rating.get());
    }
    if let Some(comment) = comment {
        model.comment = Set(comment.into_inner());
    }
    let now = Utc::now();
    model.reviewed_at = Set(now);
    model.updated_at = Set(now);
    Ok(model.update(db).await?)
}

/// # Errors
/// `NotFound` when there is no such review.
pub async fn delete<C: ConnectionTrait>(db: &C, id: i64) -> Result<()> {
    if review::Entity::delete_by_id(id).exec(db).await?.rows_affected == 0 {
        return Err(ServiceError::NotFound { entity: "review", id });
    }
    Ok(())
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
