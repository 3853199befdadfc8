//! The schema's own guarantees, exercised through the entities: they hold even if the service had a bug.

use chrono::{TimeDelta, Utc};
use entity::{author, book, book_author, borrower, loan, loan_history, review};
use migration::testkit::TestDb;
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, ModelTrait, PaginatorTrait, SqlErr,
};

fn is_unique_violation(result: Result<impl Sized, DbErr>) -> bool {
    matches!(result.map(|_| ()).err().and_then(|e| e.sql_err()), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn is_fk_violation(result: Result<impl Sized, DbErr>) -> bool {
    matches!(
        result.map(|_| ()).err().and_then(|e| e.sql_err()),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

pub async fn hold(db: &TestDb) {
    let conn = &db.conn;
    let now = Utc::now();
    let new_book = |title: &str, isbn: Option<&str>| book::ActiveModel {
        title: Set(title.to_owned()),
        isbn: Set(isbn.map(str::to_owned)),
        published_date: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let new_borrower = |email: &str| borrower::ActiveModel {
        name: Set("Ada".to_owned()),
        email: Set(email.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let new_loan = |book_id: i64, borrower_id: i64| loan::ActiveModel {
        book_id: Set(book_id),
        borrower_id: Set(borrower_id),
        borrowed_at: Set(now),
        due_at: Set(now + TimeDelta::days(14)),
        renewals: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };

    let dune = new_book("Dune", Some("9780441172719")).insert(conn).await.unwrap();
    assert!(is_unique_violation(new_book("Dune again", Some("9780441172719")).insert(conn).await));
    // Many books may have no ISBN.
    let untitled_a = new_book("A", None).insert(conn).await.unwrap();
    new_book("B", None).insert(conn).await.unwrap();

    let ada = new_borrower("ada@example.org").insert(conn).await.unwrap();
    assert!(is_unique_violation(new_borrower("ada@example.org").insert(conn).await));
    // One identity-provider account acts as at most one borrower; borrowers without one are many.
    let linked = |email: &str| {
        let mut borrower = new_borrower(email);
        borrower.auth_subject = Set(Some("cognito-sub-1".to_owned()));
        borrower
    };
    linked("grace@example.org").insert(conn).await.unwrap();
    assert!(is_unique_violation(linked("alan@example.org").insert(conn).await), "one borrower per subject");
    new_borrower("edsger@example.org").insert(conn).await.unwrap();

    let active = new_loan(dune.id, ada.id).insert(conn).await.unwrap();
    assert_eq!(active.due_at.timestamp(), (now + TimeDelta::days(14)).timestamp());
    assert!(is_unique_violation(new_loan(dune.id, ada.id).insert(conn).await), "one active loan per book");
    assert!(
        is_fk_violation(new_loan(untitled_a.id, ada.id + 1000).insert(conn).await),
        "loan needs a borrower"
    );
    // ON DELETE RESTRICT (SQLite reports it as a trigger constraint, hence no classification here).
    assert!(dune.clone().delete(conn).await.is_err(), "a book on loan cannot be deleted");
    assert!(ada.clone().delete(conn).await.is_err(), "a borrower with a loan cannot be deleted");

    let review = |rating: i16| review::ActiveModel {
        book_id: Set(dune.id),
        borrower_id: Set(ada.id),
        rating: Set(rating),
        comment: Set(Some("'); DROP TABLE books; --".to_owned())),
        reviewed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    assert!(review(6).insert(conn).await.is_err(), "rating 6 violates the CHECK");
    assert!(review(0).insert(conn).await.is_err(), "rating 0 violates the CHECK");
    let stored = review(5).insert(conn).await.unwrap();
    assert_eq!(stored.comment.as_deref(), Some("'); DROP TABLE books; --"));
    assert!(is_unique_violation(review(4).insert(conn).await), "one review per borrower per book");

    let herbert = author::ActiveModel {
        name: Set("Frank Herbert".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    book_author::ActiveModel { book_id: Set(dune.id), author_id: Set(herbert.id) }
        .insert(conn)
        .await
        .unwrap();
    herbert.delete(conn).await.unwrap();
    assert_eq!(book_author::Entity::find().count(conn).await.unwrap(), 0, "deleting an author detaches it");

    // Return the loan into the history, then the book can go, taking its history and reviews along.
    loan_history::ActiveModel {
        id: Set(active.id),
        book_id: Set(dune.id),
        borrower_id: Set(ada.id),
        borrowed_at: Set(active.borrowed_at),
        due_at: Set(active.due_at),
        returned_at: Set(now),
        renewals: Set(0),
        returned_late: Set(false),
    }
    .insert(conn)
    .await
    .unwrap();
    active.delete(conn).await.unwrap();
    dune.delete(conn).await.unwrap();
    assert_eq!(review::Entity::find().count(conn).await.unwrap(), 0);
    assert_eq!(loan_history::Entity::find().count(conn).await.unwrap(), 0);
    assert!(book::Entity::find_by_id(untitled_a.id).one(conn).await.unwrap().is_some());
}
