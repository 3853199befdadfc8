//! Borrowers: library members. E-mail addresses are unique, case-insensitively.

use entity::{borrower, loan};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::authors::contains_ci;
use crate::domain::{AuthSubject, Email, PersonName, SearchTerm};
use crate::error::{DbFailure, classify};
use crate::page::{ListKind, Page, PageRequest};
use crate::retry::transaction;
use crate::versioning::{Expected, guarded_delete, guarded_update, settle};
use crate::{ConflictCode, Result, ServiceError};

/// A partial update of a borrower.
#[derive(Clone, Debug, Default)]
pub struct BorrowerChanges {
    pub name: Option<PersonName>,
    pub email: Option<Email>,
    /// `Some(None)` unlinks the borrower from their login.
    pub subject: Option<Option<AuthSubject>>,
}

/// A new borrower; `subject` links them to their identity-provider account so they can act themselves.
#[derive(Clone, Debug)]
pub struct NewBorrower {
    pub name: PersonName,
    pub email: Email,
    pub subject: Option<AuthSubject>,
}

/// Filters of the borrowers list (case-insensitive substrings).
#[derive(Clone, Debug, Default)]
pub struct BorrowerFilter {
    pub name: Option<SearchTerm>,
    pub email: Option<SearchTerm>,
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
/// `Conflict(email_taken)`.
pub async fn create<C: ConnectionTrait>(db: &C, name: PersonName, email: Email) -> Result<borrower::Model> {
    register(db, NewBorrower { name, email, subject: None }).await
}

/// Registers a borrower, optionally linked to their login.
///
/// # Errors
/// `Conflict(email_taken | subject_taken)`.
pub async fn register<C: ConnectionTrait>(db: &C, new: NewBorrower) -> Result<borrower::Model> {
    let subject = new.subject.map(AuthSubject::into_inner);
    let model = borrower::ActiveModel {
        name: Set(new.name.into_inner()),
        email: Set(new.email.into_inner()),
        auth_subject: Set(subject.clone()),
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
/// `NotFound`; `Conflict(email_taken | subject_taken)`.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    id: i64,
    changes: BorrowerChanges,
) -> Result<borrower::Model> {
    update_if(db, id, changes, &Expected::Any).await
}

/// Changes a borrower if they are still at an expected revision.
///
/// # Errors
/// `NotFound`; `Stale` when the borrower is at another revision; `Conflict(email_taken | subject_taken)`.
pub async fn update_if<C: ConnectionTrait>(
    db: &C,
    id: i64,
    changes: BorrowerChanges,
    expected: &Expected,
) -> Result<borrower::Model> {
    let subject = changes.subject.map(|subject| subject.map(AuthSubject::into_inner));
    let mut model: borrower::ActiveModel = Default::default();
    if let Some(name) = changes.name {
        model.name = Set(name.into_inner());
    }
    if let Some(email) = changes.email {
        model.email = Set(email.into_inner());
    }
    if let Some(subject) = subject.clone() {
        model.auth_subject = Set(subject);
    }
    match guarded_update::<borrower::Entity>(model, id, expected).exec(db).await {
        Ok(result) => settle::<borrower::Entity, _>(db, id, result.rows_affected).await?,
        Err(error) => return Err(unique_conflict(db, error, Some(id), subject.flatten().as_deref()).await),
    }
    get(db, id).await
}

/// Removes a borrower with their reviews and history; refused while they hold a loan.
///
/// # Errors
/// `NotFound`; `Conflict(borrower_has_loans)`.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(db: &C, id: i64) -> Result<()> {
    delete_if(db, id, &Expected::Any).await
}

/// Removes a borrower if they are still at an expected revision.
///
/// # Errors
/// `NotFound`; `Stale` when the borrower is at another revision; `Conflict(borrower_has_loans)`.
pub async fn delete_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    expected: &Expected,
) -> Result<()> {
    let has_loans =
        || ServiceError::conflict(ConflictCode::BorrowerHasLoans, "the borrower still holds loans");
    transaction(db, |txn| {
        let expected = expected.clone();
        Box::pin(async move {
            get(txn, id).await?;
            if loan::Entity::find().filter(loan::Column::BorrowerId.eq(id)).count(txn).await? > 0 {
                return Err(has_loans());
            }
            let deleted =
                guarded_delete::<borrower::Entity>(id, &expected).exec(txn).await.map_err(
                    |e| match classify(&e) {
                        DbFailure::ForeignKeyViolation => has_loans(),
                        _ => e.into(),
                    },
                )?;
            settle::<borrower::Entity, _>(txn, id, deleted.rows_affected).await
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
    if let Some(name) = &filter.name {
        condition = condition.add(contains_ci((borrower::Entity, borrower::Column::Name), name));
    }
    if let Some(email) = &filter.email {
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
