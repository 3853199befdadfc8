//! The rules hold when requests race: no double loans, no borrower over the limit, no database errors.

use futures::future::join_all;
use migration::testkit::TestDb;
use service::loans::{self, CheckOut};
use service::page::PageRequest;
use service::{ConflictCode, LoanPolicy, ServiceError};

use crate::support::*;

migration::backend_tests!(
    fifty_racing_check_outs_of_one_book_lend_it_once,
    twenty_racing_check_outs_by_one_borrower_stop_at_the_limit,
);

/// Tallies outcomes: successes, and conflicts by code. Anything else fails the test.
fn tally<T: std::fmt::Debug>(results: Vec<Result<T, ServiceError>>) -> (usize, Vec<ConflictCode>) {
    let mut ok = 0;
    let mut conflicts = Vec::new();
    for result in results {
        match result {
            Ok(_) => ok += 1,
            Err(ServiceError::Conflict { code, .. }) => conflicts.push(code),
            Err(other) => panic!("a racing check-out failed with something other than a conflict: {other:?}"),
        }
    }
    (ok, conflicts)
}

async fn fifty_racing_check_outs_of_one_book_lend_it_once(db: TestDb) {
    let dune = book(&db.conn, "Dune").await;
    let mut readers = Vec::new();
    for n in 0..50 {
        readers.push(borrower(&db.conn, n).await);
    }
    let attempts = readers.into_iter().map(|reader| {
        let conn = db.conn.clone();
        tokio::spawn(async move {
            let request = CheckOut { book_id: dune, borrower_id: reader, period_days: None };
            loans::check_out(&conn, &LoanPolicy::default(), request).await
        })
    });
    let results = join_all(attempts).await.into_iter().map(|joined| joined.unwrap()).collect();
    let (ok, conflicts) = tally(results);
    assert_eq!(ok, 1, "exactly one check-out wins");
    assert_eq!(conflicts.len(), 49);
    assert!(conflicts.iter().all(|code| *code == ConflictCode::BookOnLoan), "{conflicts:?}");
    let active = loans::list(&db.conn, &Default::default(), &PageRequest::default()).await.unwrap();
    assert_eq!(active.items.len(), 1);
}

async fn twenty_racing_check_outs_by_one_borrower_stop_at_the_limit(db: TestDb) {
    let reader = borrower(&db.conn, 1).await;
    let mut book_ids = Vec::new();
    for n in 0..20 {
        book_ids.push(book(&db.conn, &format!("Book {n}")).await);
    }
    let attempts = book_ids.into_iter().map(|book_id| {
        let conn = db.conn.clone();
        tokio::spawn(async move {
            let request = CheckOut { book_id, borrower_id: reader, period_days: None };
            loans::check_out(&conn, &LoanPolicy::default(), request).await
        })
    });
    let results = join_all(attempts).await.into_iter().map(|joined| joined.unwrap()).collect();
    let (ok, conflicts) = tally(results);
    assert_eq!(ok, 5, "exactly the limit succeeds");
    assert!(conflicts.iter().all(|code| *code == ConflictCode::LoanLimitReached), "{conflicts:?}");
    let held = loans::current_of(&db.conn, reader, &PageRequest::default()).await.unwrap();
    assert_eq!(held.items.len(), 5);
}
