//! Borrowers: library members. E-mail addresses are unique, case-insensitively.

use chrono::Utc;
use entity::{borrower, loan};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::authors::contains_ci;
use crate::domain::{Email, PersonName, search_term};
use crate::error::{DbFailure, classify};
use crate::page::{ListKind, Page, PageRequest};
use crate::retry::transaction;
use crate::{ConflictCode, Result, ServiceError};

/// A partial update of a borrower.
#[derive(Clone, Debug, Default)]
pub struct BorrowerChanges {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Filters of the borrowers list (case-insensitive substrings).
#[derive(Clone, Debug, Default)]
pub struct BorrowerFilter {
    pub name: Option<String>,
    pub email: Option<String>,
}

fn email_conflict(error: DbErr) -> ServiceError {
    if classify(&error) == DbFailure::UniqueViolation {
        ServiceError::conflict(ConflictCode::EmailTaken, "another borrower already uses this e-mail address")
    } else {
        error.into()
    }
}

/// Registers a borrower.
///
/// # Errors
/// `Validation` on `name` or `email`; `Conflict(email_taken)`.
pub async fn create<C: ConnectionTrait>(db: &C, name: &str, email: &str) -> Result<borrower::Model> {
    let name = PersonName::parse(name)?.into_inner();
    let email = Email::parse(email)?.into_inner();
    let now = Utc::now();
    let model = borrower::ActiveModel {
        name: Set(name),
        email: Set(email),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    model.insert(db).await.map_err(email_conflict)
}

/// # Errors
/// `NotFound` when there is no such borrower.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<borrower::Model> {
    borrower::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::NotFound { entity: "borrower", id })
}

/// Changes a borrower's name or e-mail address.
///
/// # Errors
/// `NotFound`; `Validation`; `Conflict(email_taken)`.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    id: i64,
    changes: BorrowerChanges,
) -> Result<borrower::Model> {
    let name = changes.name.as_deref().map(PersonName::parse).transpose()?;
    let email = changes.email.as_deref().map(Email::parse).transpose()?;
    let mut model: borrower::ActiveModel = get(db, id).await?.into();
    if let Some(name) = name {
        model.name = Set(name.into_inner());
    }
    if let Some(email) = email {
        model.email = Set(email.into_inner());
    }
    model.updated_at = Set(Utc::now());
    model.update(db).await.map_err(email_conflict)
}

/// Removes a borrower with their reviews and history; refused while they hold a loan.
///
/// # Errors
/// `NotFound`; `Conflict(borrower_has_loans)`.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(db: &C, id: i64) -> Result<()> {
    let has_loans =
        || ServiceError::conflict(ConflictCode::BorrowerHasLoans, "the borrower still holds loans");
    transaction(db, |txn| {
        Box::pin(async move {
            get(txn, id).await?;
            if loan::Entity::find().filter(loan::Column::BorrowerId.eq(id)).count(txn).await? > 0 {
                return Err(has_loans());
            }
            borrower::Entity::delete_by_id(id).exec(txn).await.map_err(|e| match classify(&e) {
                DbFailure::ForeignKeyViolation => has_loans(),
                _ => e.into(),
            })?;
            Ok(())
        })
    })
    .await
}

/// Lists borrowers in id order.
///
/// # Errors
/// `Validation` for an invalid cursor.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &BorrowerFilter,
    page: &PageRequest,
) -> Result<Page<borrower::Model>> {
    let mut condition = Condition::all();
    if let Some(after) = page.after(ListKind::Borrowers)? {
        condition = condition.add(borrower::Column::Id.gt(after));
    }
    if let Some(name) = search_term("name", filter.name.as_deref(), PersonName::MAX_CHARS)? {
        condition = condition.add(contains_ci((borrower::Entity, borrower::Column::Name), name));
    }
    if let Some(email) = search_term("email", filter.email.as_deref(), Email::MAX_CHARS)? {
        condition = condition.add(contains_ci((borrower::Entity, borrower::Column::Email), email));
    }
    let rows = borrower::Entity::find()
        .filter(condition)
        .order_by_asc(borrower::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok(Page::from_rows(ListKind::Borrowers, page, rows, |b| b.id))
}
