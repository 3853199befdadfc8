//! The demo and the generated library, loaded on SQLite, PostgreSQL and MariaDB.
#![expect(clippy::unwrap_used, reason = "tests")]

use entity::{author, book, borrower, loan, loan_history, review};
use migration::testkit::TestDb;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use seed::dataset::{DatasetError, DatasetSize, generate};
use seed::demo::DemoLogins;
use service::books::NewBook;
use service::domain::{Email, PersonName, Title};
use service::loans::{self, CheckOut};
use service::{LoanPolicy, books, borrowers};

migration::backend_tests!(
    the_demo_loads_once_into_an_empty_library,
    demo_borrowers_get_guessable_subjects_only_for_dev_mode,
    a_generated_library_has_the_sizes_asked_for_and_room_for_new_loans,
);

async fn rows<E>(db: &DatabaseConnection, _: E) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().count(db).await.unwrap()
}

async fn the_demo_loads_once_into_an_empty_library(db: TestDb) {
    assert!(seed::demo::load(&db.conn, DemoLogins::DevSubjects).await.unwrap());
    assert!(
        !seed::demo::load(&db.conn, DemoLogins::DevSubjects).await.unwrap(),
        "a second start loads nothing"
    );
    assert_eq!(rows(&db.conn, book::Entity).await, 8);
    assert_eq!(rows(&db.conn, borrower::Entity).await, 3);
    assert_eq!(rows(&db.conn, loan::Entity).await, 1, "Alan has Neuromancer out");
    assert_eq!(rows(&db.conn, review::Entity).await, 1, "Ada reviewed Dune");
}

async fn demo_borrowers_get_guessable_subjects_only_for_dev_mode(db: TestDb) {
    let subjects = |db: DatabaseConnection| async move {
        let borrowers = borrower::Entity::find().all(&db).await.unwrap();
        borrowers.into_iter().filter_map(|b| b.auth_subject).collect::<Vec<_>>()
    };
    assert!(seed::demo::load(&db.conn, DemoLogins::Unlinked).await.unwrap());
    assert_eq!(subjects(db.conn.clone()).await, Vec::<String>::new(), "no login reaches a demo borrower");
    let dev = TestDb::migrated(db.backend).await.unwrap();
    assert!(seed::demo::load(&dev.conn, DemoLogins::DevSubjects).await.unwrap());
    let mut linked = subjects(dev.conn.clone()).await;
    linked.sort();
    assert_eq!(linked, ["demo-ada", "demo-alan", "demo-grace"]);
}

async fn a_generated_library_has_the_sizes_asked_for_and_room_for_new_loans(db: TestDb) {
    let size = DatasetSize { books: 30, authors: 7, borrowers: 6, active_loans: 12, reviews: 40 };
    generate(&db.conn, size, 7).await.unwrap();
    let found = [
        rows(&db.conn, book::Entity).await,
        rows(&db.conn, author::Entity).await,
        rows(&db.conn, borrower::Entity).await,
        rows(&db.conn, loan::Entity).await,
        rows(&db.conn, loan_history::Entity).await,
        rows(&db.conn, review::Entity).await,
    ];
    assert_eq!(found, [30, 7, 6, 12, 40, 40], "books, authors, borrowers, loans, history, reviews");
    assert_eq!(books::get(&db.conn, 30).await.unwrap().book.isbn.map(|isbn| isbn.len()), Some(13));

    // A new check-out gets an id past the history's, not one a returned loan already has.
    let fresh = NewBook::titled(Title::parse("Fresh").unwrap());
    let book_id = books::create(&db.conn, fresh).await.unwrap().book.id;
    let (name, email) = (PersonName::parse("New Reader").unwrap(), Email::parse("new@example.org").unwrap());
    let borrower_id = borrowers::create(&db.conn, name, email).await.unwrap().id;
    let request = CheckOut { book_id, borrower_id, period_days: None };
    let loan = loans::check_out(&db.conn, &LoanPolicy::default(), request).await.unwrap();
    assert_eq!(loan.id, 12 + 40 + 1);
    assert!(matches!(generate(&db.conn, size, 7).await, Err(DatasetError::NotEmpty)));
}
