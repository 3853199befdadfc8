//! Deletes never leave orphans and never pull a record out from under an active loan.

use entity::{book_author, loan_history, review};
use migration::testkit::TestDb;
use sea_orm::{EntityTrait, PaginatorTrait};
use service::loans::{self, CheckOut};
use service::reviews::{self, NewReview};
use service::{ConflictCode, LoanPolicy, authors, books, borrowers};

use crate::support::*;

migration::backend_tests!(
    a_book_on_loan_cannot_be_deleted,
    a_borrower_with_loans_cannot_be_deleted,
    deleting_an_author_detaches_them_from_their_books,
    deleting_a_book_or_borrower_leaves_no_orphans,
);

async fn lend_and_review(db: &TestDb, book_id: i64, borrower_id: i64) -> i64 {
    let request = CheckOut { book_id, borrower_id, period_days: None };
    let loan = loans::check_out(&db.conn, &LoanPolicy::default(), request).await.unwrap();
    let review = NewReview { book_id, borrower_id, rating: rating(4), comment: Default::default() };
    reviews::create(&db.conn, review).await.unwrap();
    loan.id
}

async fn a_book_on_loan_cannot_be_deleted(db: TestDb) {
    let (dune, ada) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    let loan = lend_and_review(&db, dune, ada).await;
    assert_conflict(books::delete(&db.conn, dune).await, ConflictCode::BookOnLoan);
    assert!(books::get(&db.conn, dune).await.is_ok());
    loans::return_loan(&db.conn, loan).await.unwrap();
    books::delete(&db.conn, dune).await.unwrap();
    assert_not_found(books::get(&db.conn, dune).await, "book");
}

async fn a_borrower_with_loans_cannot_be_deleted(db: TestDb) {
    let (dune, ada) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    let loan = lend_and_review(&db, dune, ada).await;
    assert_conflict(borrowers::delete(&db.conn, ada).await, ConflictCode::BorrowerHasLoans);
    loans::return_loan(&db.conn, loan).await.unwrap();
    borrowers::delete(&db.conn, ada).await.unwrap();
    assert_not_found(borrowers::get(&db.conn, ada).await, "borrower");
}

async fn deleting_an_author_detaches_them_from_their_books(db: TestDb) {
    let (pratchett, gaiman) = (author(&db.conn, "Pratchett").await, author(&db.conn, "Gaiman").await);
    let omens = book_by(&db.conn, "Good Omens", &[pratchett, gaiman]).await.book.id;
    authors::delete(&db.conn, pratchett).await.unwrap();
    let detail = books::get(&db.conn, omens).await.unwrap();
    assert_eq!(detail.authors.iter().map(|a| a.id).collect::<Vec<_>>(), [gaiman]);
    assert_eq!(book_author::Entity::find().count(&db.conn).await.unwrap(), 1);
}

async fn deleting_a_book_or_borrower_leaves_no_orphans(db: TestDb) {
    let writer = author(&db.conn, "Writer").await;
    let (a, b) = (book_by(&db.conn, "A", &[writer]).await.book.id, book(&db.conn, "B").await);
    let (ada, alan) = (borrower(&db.conn, 1).await, borrower(&db.conn, 2).await);
    for (book_id, who) in [(a, ada), (b, alan)] {
        let loan = lend_and_review(&db, book_id, who).await;
        loans::return_loan(&db.conn, loan).await.unwrap();
    }
    books::delete(&db.conn, a).await.unwrap();
    borrowers::delete(&db.conn, alan).await.unwrap();
    assert_eq!(review::Entity::find().count(&db.conn).await.unwrap(), 0);
    assert_eq!(loan_history::Entity::find().count(&db.conn).await.unwrap(), 0);
    assert_eq!(book_author::Entity::find().count(&db.conn).await.unwrap(), 0);
    assert!(authors::get(&db.conn, writer).await.is_ok(), "the author stays");
}
