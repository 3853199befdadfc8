//! Reviews: who may write them, one per borrower per book, edits, deletes and the book's list.

use migration::testkit::TestDb;
use service::domain::Comment;
use service::loans::{self, CheckOut};
use service::page::PageRequest;
use service::reviews::{self, NewReview, ReviewChanges};
use service::{ConflictCode, LoanPolicy};

use crate::support::*;

migration::backend_tests!(
    only_a_borrower_of_the_book_may_review_it,
    one_review_per_borrower_per_book,
    comments_are_stored_literally,
    a_review_can_be_edited_and_deleted,
    a_books_reviews_are_paginated,
);

fn review(book_id: i64, borrower_id: i64, stars: i64) -> NewReview {
    NewReview { book_id, borrower_id, rating: rating(stars), comment: comment("Loved it") }
}

fn comment(text: &str) -> Comment {
    Comment::parse(Some(text)).unwrap()
}

async fn borrow(db: &TestDb, book_id: i64, borrower_id: i64) -> i64 {
    let request = CheckOut { book_id, borrower_id, period_days: None };
    loans::check_out(&db.conn, &LoanPolicy::default(), request).await.unwrap().id
}

async fn only_a_borrower_of_the_book_may_review_it(db: TestDb) {
    let (dune, ada, alan) =
        (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await, borrower(&db.conn, 2).await);
    assert_conflict(reviews::create(&db.conn, review(dune, ada, 5)).await, ConflictCode::NotBorrowed);
    let loan = borrow(&db, dune, ada).await;
    // While the book is out...
    reviews::create(&db.conn, review(dune, ada, 5)).await.unwrap();
    loans::return_loan(&db.conn, loan).await.unwrap();
    // ...and after it came back.
    borrow(&db, dune, alan).await;
    let alan_loan =
        loans::list(&db.conn, &Default::default(), &PageRequest::default()).await.unwrap().items[0].id;
    loans::return_loan(&db.conn, alan_loan).await.unwrap();
    reviews::create(&db.conn, review(dune, alan, 3)).await.unwrap();
    assert_not_found(reviews::create(&db.conn, review(dune + 100, ada, 5)).await, "book");
    assert_not_found(reviews::create(&db.conn, review(dune, ada + 100, 5)).await, "borrower");
}

async fn one_review_per_borrower_per_book(db: TestDb) {
    let (dune, ada) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    borrow(&db, dune, ada).await;
    reviews::create(&db.conn, review(dune, ada, 4)).await.unwrap();
    assert_conflict(reviews::create(&db.conn, review(dune, ada, 2)).await, ConflictCode::AlreadyReviewed);
}

async fn comments_are_stored_literally(db: TestDb) {
    let (dune, ada) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    borrow(&db, dune, ada).await;
    let injection = NewReview { comment: comment("Robert'); DROP TABLE reviews;--"), ..review(dune, ada, 4) };
    let stored = reviews::create(&db.conn, injection).await.unwrap();
    assert_eq!(
        reviews::get(&db.conn, stored.id).await.unwrap().comment.as_deref(),
        Some("Robert'); DROP TABLE reviews;--")
    );
}

async fn a_review_can_be_edited_and_deleted(db: TestDb) {
    let (dune, ada) = (book(&db.conn, "Dune").await, borrower(&db.conn, 1).await);
    borrow(&db, dune, ada).await;
    let created = reviews::create(&db.conn, review(dune, ada, 2)).await.unwrap();
    let edited = reviews::update(
        &db.conn,
        created.id,
        ReviewChanges { rating: Some(rating(4)), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!((edited.rating, edited.comment.as_deref()), (4, Some("Loved it")));
    let cleared = reviews::update(
        &db.conn,
        created.id,
        ReviewChanges { comment: Some(Comment::default()), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!((cleared.rating, cleared.comment), (4, None));
    reviews::delete(&db.conn, created.id).await.unwrap();
    assert_not_found(reviews::get(&db.conn, created.id).await, "review");
    assert_not_found(reviews::update(&db.conn, created.id, ReviewChanges::default()).await, "review");
    // Deleted, the borrower may review the book again.
    reviews::create(&db.conn, review(dune, ada, 5)).await.unwrap();
}

async fn a_books_reviews_are_paginated(db: TestDb) {
    let dune = book(&db.conn, "Dune").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let reader = borrower(&db.conn, n).await;
        let loan = borrow(&db, dune, reader).await;
        loans::return_loan(&db.conn, loan).await.unwrap();
        ids.push(reviews::create(&db.conn, review(dune, reader, 1 + n as i64 % 5)).await.unwrap().id);
    }
    let first = reviews::of_book(&db.conn, dune, &PageRequest::new(None, Some(3)).unwrap()).await.unwrap();
    let second =
        reviews::of_book(&db.conn, dune, &PageRequest::new(first.next_cursor.clone(), Some(3)).unwrap())
            .await
            .unwrap();
    let seen: Vec<i64> = first.items.iter().chain(&second.items).map(|r| r.id).collect();
    assert_eq!(seen, ids);
    assert_eq!(second.next_cursor, None);
    assert_not_found(reviews::of_book(&db.conn, dune + 100, &PageRequest::default()).await, "book");
}
