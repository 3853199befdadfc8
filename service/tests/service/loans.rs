//! Check-out, return and renewal rules, each with its own conflict code.

use chrono::{TimeDelta, Utc};
use migration::testkit::TestDb;
use service::loans::{self, CheckOut};
use service::page::PageRequest;
use service::{ConflictCode, LoanLimits, LoanPolicy};

use crate::support::*;

migration::backend_tests!(
    a_check_out_lends_the_book_for_the_loan_period,
    a_book_on_loan_cannot_be_checked_out_again,
    the_active_loan_limit_is_enforced,
    a_borrower_with_an_overdue_loan_cannot_borrow,
    check_outs_need_an_existing_book_and_borrower_and_a_sane_period,
    a_return_archives_the_loan_and_reports_lateness,
    a_loan_renews_once_and_never_when_overdue,
    a_borrowers_current_loans_and_history_are_listed,
);

fn request(book_id: i64, borrower_id: i64) -> CheckOut {
    CheckOut { book_id, borrower_id, period_days: None }
}

async fn a_check_out_lends_the_book_for_the_loan_period(db: TestDb) {
    let (book_id, reader) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    let before = Utc::now();
    let loan = loans::check_out(&db.conn, &LoanPolicy::default(), request(book_id, reader)).await.unwrap();
    assert_eq!((loan.book_id, loan.borrower_id, loan.renewals), (book_id, reader, 0));
    let period = loan.due_at - loan.borrowed_at;
    assert_eq!(period, TimeDelta::days(14));
    assert!(loan.borrowed_at >= before - TimeDelta::seconds(1));
    let custom = CheckOut { period_days: Some(7), ..request(book(&db.conn, "Short").await, reader) };
    let short = loans::check_out(&db.conn, &LoanPolicy::default(), custom).await.unwrap();
    assert_eq!(short.due_at - short.borrowed_at, TimeDelta::days(7));
}

async fn a_book_on_loan_cannot_be_checked_out_again(db: TestDb) {
    let book_id = book(&db.conn, "Dune").await;
    let (ada, alan) = (borrower(&db.conn, 1).await, borrower(&db.conn, 2).await);
    loans::check_out(&db.conn, &LoanPolicy::default(), request(book_id, ada)).await.unwrap();
    assert_conflict(
        loans::check_out(&db.conn, &LoanPolicy::default(), request(book_id, alan)).await,
        ConflictCode::BookOnLoan,
    );
    assert_conflict(
        loans::check_out(&db.conn, &LoanPolicy::default(), request(book_id, ada)).await,
        ConflictCode::BookOnLoan,
    );
}

async fn the_active_loan_limit_is_enforced(db: TestDb) {
    let policy = LoanPolicy::new(LoanLimits { max_active_loans: 2, ..LoanLimits::default() }).unwrap();
    let reader = borrower(&db.conn, 1).await;
    let mut loan_ids = Vec::new();
    for n in 0..2 {
        let id = book(&db.conn, &format!("Book {n}")).await;
        loan_ids.push(loans::check_out(&db.conn, &policy, request(id, reader)).await.unwrap().id);
    }
    let third = book(&db.conn, "Third").await;
    assert_conflict(
        loans::check_out(&db.conn, &policy, request(third, reader)).await,
        ConflictCode::LoanLimitReached,
    );
    loans::return_loan(&db.conn, loan_ids[0]).await.unwrap();
    loans::check_out(&db.conn, &policy, request(third, reader)).await.unwrap();
}

async fn a_borrower_with_an_overdue_loan_cannot_borrow(db: TestDb) {
    let reader = borrower(&db.conn, 1).await;
    let first = book(&db.conn, "Late").await;
    let loan = loans::check_out(&db.conn, &LoanPolicy::default(), request(first, reader)).await.unwrap();
    make_overdue(&db.conn, loan.id).await;
    let next = book(&db.conn, "Next").await;
    assert_conflict(
        loans::check_out(&db.conn, &LoanPolicy::default(), request(next, reader)).await,
        ConflictCode::BorrowerHasOverdueLoans,
    );
    loans::return_loan(&db.conn, loan.id).await.unwrap();
    loans::check_out(&db.conn, &LoanPolicy::default(), request(next, reader)).await.unwrap();
}

async fn check_outs_need_an_existing_book_and_borrower_and_a_sane_period(db: TestDb) {
    let (book_id, reader) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    let policy = LoanPolicy::default();
    assert_not_found(loans::check_out(&db.conn, &policy, request(book_id + 100, reader)).await, "book");
    assert_not_found(loans::check_out(&db.conn, &policy, request(book_id, reader + 100)).await, "borrower");
    for days in [0, -1, 61, i64::MAX] {
        let too_long = CheckOut { period_days: Some(days), ..request(book_id, reader) };
        assert_invalid(loans::check_out(&db.conn, &policy, too_long).await, "period_days");
    }
    assert!(
        loans::list(&db.conn, &Default::default(), &PageRequest::default()).await.unwrap().items.is_empty()
    );
}

async fn a_return_archives_the_loan_and_reports_lateness(db: TestDb) {
    let reader = borrower(&db.conn, 1).await;
    let policy = LoanPolicy::default();
    let on_time =
        loans::check_out(&db.conn, &policy, request(book(&db.conn, "A").await, reader)).await.unwrap();
    let returned = loans::return_loan(&db.conn, on_time.id).await.unwrap();
    assert!(!returned.late);
    assert_eq!(
        (returned.loan.id, returned.loan.book_id, returned.loan.due_at),
        (on_time.id, on_time.book_id, on_time.due_at)
    );
    assert_not_found(loans::get(&db.conn, on_time.id).await, "loan");
    assert_conflict(loans::return_loan(&db.conn, on_time.id).await, ConflictCode::LoanAlreadyReturned);
    assert_not_found(loans::return_loan(&db.conn, on_time.id + 100).await, "loan");

    let late = loans::check_out(&db.conn, &policy, request(book(&db.conn, "B").await, reader)).await.unwrap();
    make_overdue(&db.conn, late.id).await;
    let returned = loans::return_loan(&db.conn, late.id).await.unwrap();
    assert!(returned.late && returned.loan.returned_late);
    // The book is available again.
    let again = borrower(&db.conn, 2).await;
    loans::check_out(&db.conn, &policy, request(on_time.book_id, again)).await.unwrap();
}

async fn a_loan_renews_once_and_never_when_overdue(db: TestDb) {
    let reader = borrower(&db.conn, 1).await;
    let policy = LoanPolicy::default();
    let loan = loans::check_out(&db.conn, &policy, request(book(&db.conn, "A").await, reader)).await.unwrap();
    let renewed = loans::renew(&db.conn, &policy, loan.id).await.unwrap();
    assert_eq!(renewed.due_at - loan.due_at, TimeDelta::days(14));
    assert_eq!(renewed.renewals, 1);
    assert_conflict(loans::renew(&db.conn, &policy, loan.id).await, ConflictCode::RenewalLimitReached);
    let generous = LoanPolicy::new(LoanLimits { max_renewals: 3, ..policy.limits() }).unwrap();
    assert_eq!(loans::renew(&db.conn, &generous, loan.id).await.unwrap().renewals, 2);

    let overdue =
        loans::check_out(&db.conn, &policy, request(book(&db.conn, "B").await, reader)).await.unwrap();
    make_overdue(&db.conn, overdue.id).await;
    assert_conflict(loans::renew(&db.conn, &policy, overdue.id).await, ConflictCode::LoanOverdue);
    loans::return_loan(&db.conn, overdue.id).await.unwrap();
    assert_conflict(loans::renew(&db.conn, &policy, overdue.id).await, ConflictCode::LoanAlreadyReturned);
    assert_not_found(loans::renew(&db.conn, &policy, overdue.id + 100).await, "loan");
}

async fn a_borrowers_current_loans_and_history_are_listed(db: TestDb) {
    let (ada, alan) = (borrower(&db.conn, 1).await, borrower(&db.conn, 2).await);
    let policy = LoanPolicy::default();
    let mut ada_loans = Vec::new();
    for n in 0..3 {
        let id = book(&db.conn, &format!("Book {n}")).await;
        ada_loans.push(loans::check_out(&db.conn, &policy, request(id, ada)).await.unwrap().id);
    }
    loans::check_out(&db.conn, &policy, request(book(&db.conn, "Alan's").await, alan)).await.unwrap();
    loans::return_loan(&db.conn, ada_loans[0]).await.unwrap();
    loans::return_loan(&db.conn, ada_loans[2]).await.unwrap();

    let current = loans::current_of(&db.conn, ada, &PageRequest::default()).await.unwrap();
    assert_eq!(current.items.iter().map(|l| l.id).collect::<Vec<_>>(), [ada_loans[1]]);
    let first = loans::history_of(&db.conn, ada, &PageRequest::new(None, Some(1)).unwrap()).await.unwrap();
    assert_eq!(first.items[0].id, ada_loans[0]);
    let rest = loans::history_of(&db.conn, ada, &PageRequest::new(first.next_cursor, Some(1)).unwrap())
        .await
        .unwrap();
    assert_eq!(rest.items[0].id, ada_loans[2]);
    assert_eq!(rest.next_cursor, None);
    assert_not_found(loans::current_of(&db.conn, alan + 100, &PageRequest::default()).await, "borrower");
    assert_not_found(loans::history_of(&db.conn, alan + 100, &PageRequest::default()).await, "borrower");
}
