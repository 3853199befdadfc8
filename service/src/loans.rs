//! Loans: check out, return, renew, and the lists of current, past and overdue loans.
//!
//! Every rule is checked inside one short transaction that first locks the borrower (or the loan) row, so
//! racing requests queue on that row and see each other's committed work. The unique key on
//! `loans.book_id` is the last word on "one active loan per book".

use chrono::Utc;
use entity::{book, borrower, loan, loan_history};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::domain::LoanPeriod;
use crate::error::{DbFailure, classify};
use crate::page::{ListKind, Page, PageRequest};
use crate::retry::transaction;
use crate::{ConflictCode, LoanPolicy, Result, ServiceError, borrowers};

mod overdue;
pub use overdue::is_overdue;
use overdue::{in_time_at, overdue_at};

/// A check-out request. `period_days` defaults to the policy's loan period.
#[derive(Clone, Copy, Debug)]
pub struct CheckOut {
    pub book_id: i64,
    pub borrower_id: i64,
    pub period_days: Option<i64>,
}

/// Filters of the loans list.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoanFilter {
    pub borrower_id: Option<i64>,
    pub book_id: Option<i64>,
    /// `Some(true)`: only loans past their due time; `Some(false)`: only loans still in time.
    pub overdue: Option<bool>,
}

/// What a return reports: the archived loan, and whether it came back late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Returned {
    pub loan: loan_history::Model,
    pub late: bool,
}

fn conflict(code: ConflictCode, message: &str) -> ServiceError {
    ServiceError::conflict(code, message)
}

fn book_on_loan() -> ServiceError {
    conflict(ConflictCode::BookOnLoan, "the book is already on loan")
}

/// Lends a book to a borrower.
///
/// # Errors
/// `NotFound` for the book or borrower; `Validation` on `period_days`; `Conflict` with `book_on_loan`,
/// `borrower_has_overdue_loans` or `loan_limit_reached`.
pub async fn check_out<C>(db: &C, policy: &LoanPolicy, request: CheckOut) -> Result<loan::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let period = policy.period(request.period_days)?;
    let max_active = policy.max_active_loans();
    transaction(db, |txn| Box::pin(check_out_in(txn, max_active, period, request))).await
}

async fn check_out_in<C: ConnectionTrait>(
    txn: &C,
    max_active: u64,
    period: LoanPeriod,
    CheckOut { book_id, borrower_id, .. }: CheckOut,
) -> Result<loan::Model> {
    // Lock the borrower: their concurrent check-outs queue here, so the count below is exact.
    borrower::Entity::find_by_id(borrower_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(ServiceError::NotFound { entity: "borrower", id: borrower_id })?;
    book::Entity::find_by_id(book_id)
        .one(txn)
        .await?
        .ok_or(ServiceError::NotFound { entity: "book", id: book_id })?;
    if loan::Entity::find().filter(loan::Column::BookId.eq(book_id)).count(txn).await? > 0 {
        return Err(book_on_loan());
    }
    let now = Utc::now();
    let mine = loan::Entity::find().filter(loan::Column::BorrowerId.eq(borrower_id));
    if mine.clone().filter(overdue_at(now)).count(txn).await? > 0 {
        return Err(conflict(
            ConflictCode::BorrowerHasOverdueLoans,
            "the borrower has an overdue loan; return it before borrowing again",
        ));
    }
    if mine.count(txn).await? >= max_active {
        return Err(conflict(
            ConflictCode::LoanLimitReached,
            &format!("the borrower already holds the maximum of {max_active} loans"),
        ));
    }
    let loan = loan::ActiveModel {
        book_id: Set(book_id),
        borrower_id: Set(borrower_id),
        borrowed_at: Set(now),
        due_at: Set(now + period.duration()),
        renewals: Set(0),
        ..Default::default()
    };
    loan.insert(txn).await.map_err(|error| match classify(&error) {
        // Another check-out of this book committed first.
        DbFailure::UniqueViolation => book_on_loan(),
        // The book was deleted after we looked it up.
        DbFailure::ForeignKeyViolation => ServiceError::NotFound { entity: "book", id: book_id },
        _ => error.into(),
    })
}

/// Locks an active loan, or explains why there is none.
async fn lock_loan<C: ConnectionTrait>(txn: &C, id: i64) -> Result<loan::Model> {
    if let Some(loan) = loan::Entity::find_by_id(id).lock_exclusive().one(txn).await? {
        return Ok(loan);
    }
    if loan_history::Entity::find_by_id(id).one(txn).await?.is_some() {
        return Err(conflict(ConflictCode::LoanAlreadyReturned, "the loan has already been returned"));
    }
    Err(ServiceError::NotFound { entity: "loan", id })
}

/// Returns a book: the loan moves to the history, atomically.
///
/// # Errors
/// `NotFound`; `Conflict(loan_already_returned)`.
pub async fn return_loan<C: ConnectionTrait + TransactionTrait>(db: &C, id: i64) -> Result<Returned> {
    transaction(db, |txn| {
        Box::pin(async move {
            let loan = lock_loan(txn, id).await?;
            let now = Utc::now();
            let late = is_overdue(loan.due_at, now);
            let archived = loan_history::ActiveModel {
                id: Set(loan.id),
                book_id: Set(loan.book_id),
                borrower_id: Set(loan.borrower_id),
                borrowed_at: Set(loan.borrowed_at),
                due_at: Set(loan.due_at),
                returned_at: Set(now),
                renewals: Set(loan.renewals),
                returned_late: Set(late),
            }
            .insert(txn)
            .await?;
            loan::Entity::delete_by_id(id).exec(txn).await?;
            Ok(Returned { loan: archived, late })
        })
    })
    .await
}

/// Extends a loan by one loan period.
///
/// # Errors
/// `NotFound`; `Conflict` with `loan_already_returned`, `loan_overdue` or `renewal_limit_reached`.
pub async fn renew<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    policy: &LoanPolicy,
    id: i64,
) -> Result<loan::Model> {
    let policy = *policy;
    transaction(db, |txn| {
        Box::pin(async move {
            let loan = lock_loan(txn, id).await?;
            if is_overdue(loan.due_at, Utc::now()) {
                return Err(conflict(
                    ConflictCode::LoanOverdue,
                    "an overdue loan cannot be renewed; return it",
                ));
            }
            let max_renewals = policy.max_renewals();
            if i64::from(loan.renewals) >= i64::from(max_renewals) {
                return Err(conflict(
                    ConflictCode::RenewalLimitReached,
                    &format!("the loan has been renewed the maximum of {max_renewals} times"),
                ));
            }
            let (due_at, renewals) = (loan.due_at + policy.renewal(), loan.renewals + 1);
            let mut model: loan::ActiveModel = loan.into();
            model.due_at = Set(due_at);
            model.renewals = Set(renewals);
            Ok(model.update(txn).await?)
        })
    })
    .await
}

/// # Errors
/// `NotFound` when there is no active loan with this id.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<loan::Model> {
    loan::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::NotFound { entity: "loan", id })
}

/// Lists active loans in id order.
///
/// # Errors
/// `Validation` for an invalid cursor.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &LoanFilter,
    page: &PageRequest,
) -> Result<Page<loan::Model>> {
    let mut condition = Condition::all();
    if let Some(after) = page.after(ListKind::Loans)? {
        condition = condition.add(loan::Column::Id.gt(after));
    }
    if let Some(borrower_id) = filter.borrower_id {
        condition = condition.add(loan::Column::BorrowerId.eq(borrower_id));
    }
    if let Some(book_id) = filter.book_id {
        condition = condition.add(loan::Column::BookId.eq(book_id));
    }
    match filter.overdue {
        Some(true) => condition = condition.add(overdue_at(Utc::now())),
        Some(false) => condition = condition.add(in_time_at(Utc::now())),
        None => {}
    }
    let rows = loan::Entity::find()
        .filter(condition)
        .order_by_asc(loan::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok(Page::from_rows(ListKind::Loans, page, rows, |l| l.id))
}

/// The loans a borrower holds now.
///
/// # Errors
/// `NotFound` for an unknown borrower; `Validation` for an invalid cursor.
pub async fn current_of<C: ConnectionTrait>(
    db: &C,
    borrower_id: i64,
    page: &PageRequest,
) -> Result<Page<loan::Model>> {
    borrowers::get(db, borrower_id).await?;
    list(db, &LoanFilter { borrower_id: Some(borrower_id), ..LoanFilter::default() }, page).await
}

/// The loans a borrower has returned, oldest first.
///
/// # Errors
/// `NotFound` for an unknown borrower; `Validation` for an invalid cursor.
pub async fn history_of<C: ConnectionTrait>(
    db: &C,
    borrower_id: i64,
    page: &PageRequest,
) -> Result<Page<loan_history::Model>> {
    borrowers::get(db, borrower_id).await?;
    let mut condition = Condition::all().add(loan_history::Column::BorrowerId.eq(borrower_id));
    if let Some(after) = page.after(ListKind::LoanHistory)? {
        condition = condition.add(loan_history::Column::Id.gt(after));
    }
    let rows = loan_history::Entity::find()
        .filter(condition)
        .order_by_asc(loan_history::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok(Page::from_rows(ListKind::LoanHistory, page, rows, |l| l.id))
}

/// Whether the borrower has ever borrowed the book (now or in the past): the right to review it.
pub(crate) async fn has_borrowed<C: ConnectionTrait>(db: &C, book_id: i64, borrower_id: i64) -> Result<bool> {
    let now = loan::Entity::find()
        .filter(loan::Column::BookId.eq(book_id))
        .filter(loan::Column::BorrowerId.eq(borrower_id))
        .count(db)
        .await?;
    if now > 0 {
        return Ok(true);
    }
    let past = loan_history::Entity::find()
        .filter(loan_history::Column::BookId.eq(book_id))
        .filter(loan_history::Column::BorrowerId.eq(borrower_id))
        .count(db)
        .await?;
    Ok(past > 0)
}
