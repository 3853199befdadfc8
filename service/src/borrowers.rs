//! Borrowers: library members. E-mail addresses are unique, case-insensitively.

use chrono::Utc;
use entity::{borrower, loan};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::authors::contains_ci;
use crate::domain::{AuthSubject, Email, PersonName, search_term};
use crate::error::{DbFailure, classify};
use crate::page::{ListKind, Page, PageRequest};
use crate::retry::transaction;
use crate::{ConflictCode, Result, ServiceError};

/// A partial update of a borrower.
#[derive(Clone, Debug, Default)]
pub struct BorrowerChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    /// `Some(None)` unlinks the borrower from their login.
    pub subject: Option<Option<String>>,
}

/// A new borrower; `subject` links them to their identity-provider account so they can act themselves.
#[derive(Clone, Debug, Default)]
pub struct NewBorrower {
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
}

/// Filters of the borrowers list (case-insensitive substrings).
#[derive(Clone, Debug, Default)]
pub struct BorrowerFilter {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Which unique key a write broke: the e-mail address or the login subject. Which one is read from the
/// database rather than guessed from the error text, so it is checked only after a unique violation.
async fn unique_conflict<C: ConnectionTrait>(
    db: &C,
    error: DbErr,
    id: Option<i64>,
    subject: Option<&str>,
) -> ServiceError {
    if classify(&error) != DbFailure::UniqueViolation {
        return error.into();
    }
    if let Some(subject) = subject {
        let holder = find_by_subject(db, subject).await;
        if matches!(holder, Ok(Some(ref other)) if Some(other.id) != id) {
            return ServiceError::conflict(
                ConflictCode::SubjectTaken,
                "another borrower is already linked to this subject",
            );
        }
    }
    ServiceError::conflict(ConflictCode::EmailTaken, "another borrower already uses this e-mail address")
}

/// Registers a borrower who does not log in (the librarian acts for them).
///
/// # Errors
/// `Validation` on `name` or `email`; `Conflict(email_taken)`.
pub async fn create<C: ConnectionTrait>(db: &C, name: &str, email: &str) -> Result<borrower::Model> {
    register(db, NewBorrower { name: name.to_owned(), email: email.to_owned(), subject: None }).await
}

/// Registers a borrower, optionally linked to their login.
///
/// # Errors
/// `Validation` on `name`, `email` or `subject`; `Conflict(email_taken | subject_taken)`.
pub async fn register<C: ConnectionTrait>(db: &C, new: NewBorrower) -> Result<borrower::Model> {
    let name = PersonName::parse(&new.name)?.into_inner();
    let email = Email::parse(&new.email)?.into_inner();
    let subject = new.subject.as_deref().map(AuthSubject::parse).transpose()?.map(AuthSubject::into_inner);
    let now = Utc::now();
    let model = borrower::ActiveModel {
        name: Set(name),
        email: Set(email),
        auth_subject: Set(subject.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    match model.insert(db).await {
        Ok(model) => Ok(model),
        Err(error) => Err(unique_conflict(db, error, None, subject.as_deref()).await),
    }
}

/// The borrower a token's subject is linked to, if any.
///
/// # Errors
/// Only database failures.
pub async fn find_by_subject<C: ConnectionTrait>(db: &C, subject: &str) -> Result<Option<borrower::Model>> {
    Ok(borrower::Entity::find().filter(borrower::Column::AuthSubject.eq(subject)).one(db).await?)
}

/// # Errors
/// `NotFound` when there is no such borrower.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<borrower::Model> {
    borrower::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::NotFound { entity: "borrower", id })
}

/// Changes a borrower's name, e-mail address or login link.
///
/// # Errors
/// `NotFound`; `Validation`; `Conflict(email_taken | subject_taken)`.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    id: i64,
    changes: BorrowerChanges,
) -> Result<borrower::Model> {
    let name = changes.name.as_deref().map(PersonName::parse).transpose()?;
    let email = changes.email.as_deref().map(Email::parse).transpose()?;
    let subject = match changes.subject {
        Some(Some(raw)) => Some(Some(AuthSubject::parse(&raw)?.into_inner())),
        Some(None) => Some(None),
        None => None,
    };
    let mut model: borrower::ActiveModel = get(db, id).await?.into();
    if let Some(name) = name {
        model.name = Set(name.into_inner());
    }
    if let Some(email) = email {
        model.email = Set(email.into_inner());
    }
    if let Some(subject) = subject.clone() {
        model.auth_subject = Set(subject);
    }
    model.updated_at = Set(Utc::now());
    match model.update(db).await {
        Ok(model) => Ok(model),
        Err(error) => Err(unique_conflict(db, error, Some(id), subject.flatten().as_deref()).await),
    }
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
