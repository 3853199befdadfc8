//! Books, authors and borrowers: create, read, update, delete, and a book's detail.

use chrono::TimeDelta;
use entity::author;
use migration::testkit::TestDb;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use service::books::{BookChanges, NewBook};
use service::borrowers::{BorrowerChanges, NewBorrower};
use service::loans::CheckOut;
use service::reviews::NewReview;
use service::{ConflictCode, LoanPolicy, authors, books, borrowers, loans, reviews};

use crate::support::*;

migration::backend_tests!(
    a_book_is_created_with_its_authors_and_normalised_isbn,
    a_duplicate_isbn_is_a_conflict,
    a_partial_update_changes_only_what_it_names,
    writes_stamp_created_at_once_and_updated_at_every_time,
    a_books_authors_can_be_replaced_added_and_removed,
    unknown_author_ids_are_rejected,
    the_book_detail_costs_one_query_however_much_it_shows,
    authors_can_be_renamed_and_listed_with_their_books,
    borrower_emails_are_unique_case_insensitively,
    a_login_subject_links_to_at_most_one_borrower,
    missing_records_are_not_found,
);

async fn a_book_is_created_with_its_authors_and_normalised_isbn(db: TestDb) {
    let herbert = author(&db.conn, "Frank Herbert").await;
    let input = NewBook {
        title: title("  Dune "),
        isbn: Some(isbn("0-441-17271-7")),
        published_date: Some(date(1965, 8, 1)),
        author_ids: vec![herbert, herbert],
    };
    let detail = books::create(&db.conn, input).await.unwrap();
    assert_eq!(detail.book.title, "Dune");
    assert_eq!(detail.book.isbn.as_deref(), Some("9780441172719"));
    assert_eq!(detail.book.published_date, Some(date(1965, 8, 1).get()));
    assert_eq!(detail.authors.iter().map(|a| a.id).collect::<Vec<_>>(), vec![herbert]);
    assert_eq!(detail.current_loan, None);
    assert_eq!((detail.review_count, detail.average_rating), (0, None));
    assert_eq!(books::get(&db.conn, detail.book.id).await.unwrap(), detail);
}

async fn a_duplicate_isbn_is_a_conflict(db: TestDb) {
    let input = NewBook { isbn: Some(isbn("9780441172719")), ..NewBook::titled(title("Dune")) };
    books::create(&db.conn, input.clone()).await.unwrap();
    // The same ISBN written as an ISBN-10 is the same book.
    let same = NewBook { isbn: Some(isbn("0441172717")), ..input };
    assert_conflict(books::create(&db.conn, same).await, ConflictCode::IsbnTaken);
    let other = book(&db.conn, "Other").await;
    let changes = BookChanges { isbn: Some(Some(isbn("978-0441172719"))), ..BookChanges::default() };
    assert_conflict(books::update(&db.conn, other, changes).await, ConflictCode::IsbnTaken);
}

async fn a_partial_update_changes_only_what_it_names(db: TestDb) {
    let input = NewBook {
        isbn: Some(isbn("9780441172719")),
        published_date: Some(date(1965, 8, 1)),
        ..NewBook::titled(title("Dune"))
    };
    let id = books::create(&db.conn, input).await.unwrap().book.id;
    let renamed = books::update(
        &db.conn,
        id,
        BookChanges { title: Some(title("Dune Messiah")), ..BookChanges::default() },
    )
    .await
    .unwrap();
    assert_eq!(renamed.book.title, "Dune Messiah");
    assert_eq!(renamed.book.isbn.as_deref(), Some("9780441172719"));
    let cleared = books::update(
        &db.conn,
        id,
        BookChanges { isbn: Some(None), published_date: Some(None), ..BookChanges::default() },
    )
    .await
    .unwrap();
    assert_eq!((cleared.book.isbn, cleared.book.published_date), (None, None));
    assert_eq!(cleared.book.title, "Dune Messiah");
    assert!(cleared.book.updated_at >= renamed.book.updated_at);
}

async fn writes_stamp_created_at_once_and_updated_at_every_time(db: TestDb) {
    let id = author(&db.conn, "Ursula Le Guin").await;
    let created = authors::get(&db.conn, id).await.unwrap();
    assert_eq!(created.created_at, created.updated_at, "an insert stamps both");
    // Back-date both without a save hook (update_many bypasses before_save), then rename.
    let day_ago = created.created_at - TimeDelta::days(1);
    author::Entity::update_many()
        .col_expr(author::Column::CreatedAt, Expr::value(day_ago))
        .col_expr(author::Column::UpdatedAt, Expr::value(day_ago))
        .filter(author::Column::Id.eq(id))
        .exec(&db.conn)
        .await
        .unwrap();
    let renamed = authors::rename(&db.conn, id, name("Ursula K. Le Guin")).await.unwrap();
    assert_eq!(renamed.created_at, day_ago, "created_at is kept");
    assert!(renamed.updated_at > day_ago, "updated_at is stamped: {renamed:?}");
}

async fn a_books_authors_can_be_replaced_added_and_removed(db: TestDb) {
    let (a, b, c) = (author(&db.conn, "A").await, author(&db.conn, "B").await, author(&db.conn, "C").await);
    let id = book_by(&db.conn, "Good Omens", &[a]).await.book.id;
    let ids = |authors: Vec<author::Model>| authors.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(books::set_authors(&db.conn, id, vec![b, c]).await.unwrap()), vec![b, c]);
    assert_eq!(ids(books::add_author(&db.conn, id, a).await.unwrap()), vec![a, b, c]);
    assert_eq!(
        ids(books::add_author(&db.conn, id, a).await.unwrap()),
        vec![a, b, c],
        "adding twice is a no-op"
    );
    assert_eq!(ids(books::remove_author(&db.conn, id, b).await.unwrap()), vec![a, c]);
    assert_not_found(books::remove_author(&db.conn, id, b).await, "book author");
    assert_eq!(ids(books::set_authors(&db.conn, id, vec![]).await.unwrap()), Vec::<i64>::new());
}

async fn unknown_author_ids_are_rejected(db: TestDb) {
    let a = author(&db.conn, "A").await;
    let id = book_by(&db.conn, "Kept", &[a]).await.book.id;
    assert_not_found(books::set_authors(&db.conn, id, vec![a, a + 99]).await, "author");
    assert_eq!(books::get(&db.conn, id).await.unwrap().authors.len(), 1, "a failed replace changes nothing");
    assert_not_found(books::add_author(&db.conn, id, a + 99).await, "author");
    let input = NewBook { author_ids: vec![a + 99], ..NewBook::titled(title("New")) };
    assert_not_found(books::create(&db.conn, input).await, "author");
    assert_eq!(books::list(&db.conn, &Default::default(), &Default::default()).await.unwrap().items.len(), 1);
}

async fn the_book_detail_costs_one_query_however_much_it_shows(mut db: TestDb) {
    let log = StatementLog::attach(&mut db.conn);
    let plain = book(&db.conn, "Plain").await;
    let mut author_ids = Vec::new();
    for n in 0..5 {
        author_ids.push(author(&db.conn, &format!("Author {n}")).await);
    }
    let rich = book_by(&db.conn, "Rich", &author_ids).await.book.id;
    let policy = LoanPolicy::default();
    for n in 0..3 {
        let reader = borrower(&db.conn, n).await;
        let request = CheckOut { book_id: rich, borrower_id: reader, period_days: None };
        let loan = loans::check_out(&db.conn, &policy, request).await.unwrap();
        loans::return_loan(&db.conn, loan.id).await.unwrap();
        let stars = rating(3 + n as i64 % 3);
        let review =
            NewReview { book_id: rich, borrower_id: reader, rating: stars, comment: Default::default() };
        reviews::create(&db.conn, review).await.unwrap();
    }
    let reader = borrower(&db.conn, 9).await;
    loans::check_out(&db.conn, &policy, CheckOut { book_id: rich, borrower_id: reader, period_days: None })
        .await
        .unwrap();

    log.take();
    let detail = books::get(&db.conn, plain).await.unwrap();
    assert_eq!(log.take().len(), 1, "detail of a plain book");
    assert_eq!((detail.book.title.as_str(), detail.authors.len()), ("Plain", 0));
    assert_eq!((detail.review_count, detail.average_rating, detail.current_loan), (0, None, None));

    let detail = books::get(&db.conn, rich).await.unwrap();
    assert_eq!(log.take().len(), 1, "detail of a book with five authors, three reviews and a loan");
    assert_eq!(detail.authors.iter().map(|a| a.id).collect::<Vec<_>>(), author_ids, "each once, by id");
    assert_eq!(detail.review_count, 3);
    assert_eq!(detail.average_rating, Some(4.0), "ratings 3, 4 and 5");
    assert!(detail.current_loan.is_some_and(|loan| !loan.overdue));
}

async fn authors_can_be_renamed_and_listed_with_their_books(db: TestDb) {
    let le_guin = author(&db.conn, "Ursula Le Guin").await;
    let renamed = authors::rename(&db.conn, le_guin, name("Ursula K. Le Guin")).await.unwrap();
    assert_eq!(renamed.name, "Ursula K. Le Guin");
    assert_eq!(authors::get(&db.conn, le_guin).await.unwrap(), renamed);
    book_by(&db.conn, "Earthsea", &[le_guin]).await;
    book_by(&db.conn, "The Dispossessed", &[le_guin]).await;
    book(&db.conn, "Unrelated").await;
    let theirs = books::of_author(&db.conn, le_guin, &Default::default()).await.unwrap();
    let titles: Vec<_> = theirs.items.iter().map(|s| s.book.title.as_str()).collect();
    assert_eq!(titles, ["Earthsea", "The Dispossessed"]);
    assert_not_found(books::of_author(&db.conn, le_guin + 1, &Default::default()).await, "author");
    assert_not_found(authors::rename(&db.conn, le_guin + 1, name("Nobody")).await, "author");
}

async fn borrower_emails_are_unique_case_insensitively(db: TestDb) {
    let ada = borrowers::create(&db.conn, name("Ada"), email("Ada@Example.org")).await.unwrap();
    assert_eq!(ada.email, "ada@example.org");
    assert_conflict(
        borrowers::create(&db.conn, name("Ada 2"), email("ADA@example.ORG")).await,
        ConflictCode::EmailTaken,
    );
    let grace = borrowers::create(&db.conn, name("Grace"), email("grace@example.org")).await.unwrap();
    let changes = BorrowerChanges { email: Some(email("ada@EXAMPLE.org")), ..BorrowerChanges::default() };
    assert_conflict(borrowers::update(&db.conn, grace.id, changes).await, ConflictCode::EmailTaken);
    let changes = BorrowerChanges { name: Some(name("Grace Hopper")), ..BorrowerChanges::default() };
    let updated = borrowers::update(&db.conn, grace.id, changes).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.email.as_str()), ("Grace Hopper", "grace@example.org"));
}

async fn a_login_subject_links_to_at_most_one_borrower(db: TestDb) {
    let new = |who: &str, address: &str, login: Option<&str>| NewBorrower {
        name: name(who),
        email: email(address),
        subject: login.map(subject),
    };
    let ada = borrowers::register(&db.conn, new("Ada", "ada@example.org", Some("sub-ada"))).await.unwrap();
    assert_eq!(ada.auth_subject.as_deref(), Some("sub-ada"));
    assert_eq!(borrowers::find_by_subject(&db.conn, "sub-ada").await.unwrap().map(|b| b.id), Some(ada.id));
    assert_eq!(borrowers::find_by_subject(&db.conn, "SUB-ADA").await.unwrap(), None, "compared exactly");
    assert_conflict(
        borrowers::register(&db.conn, new("Ada 2", "ada2@example.org", Some("sub-ada"))).await,
        ConflictCode::SubjectTaken,
    );
    // The e-mail conflict is still named as such when the subject is free.
    assert_conflict(
        borrowers::register(&db.conn, new("Ada 3", "ada@example.org", Some("sub-other"))).await,
        ConflictCode::EmailTaken,
    );
    let grace = borrowers::register(&db.conn, new("Grace", "grace@example.org", None)).await.unwrap();
    let link = |login: Option<&str>| BorrowerChanges {
        subject: Some(login.map(subject)),
        ..BorrowerChanges::default()
    };
    assert_conflict(
        borrowers::update(&db.conn, grace.id, link(Some("sub-ada"))).await,
        ConflictCode::SubjectTaken,
    );
    assert_eq!(borrowers::update(&db.conn, ada.id, link(None)).await.unwrap().auth_subject, None);
    let linked = borrowers::update(&db.conn, grace.id, link(Some("sub-ada"))).await.unwrap();
    assert_eq!(linked.auth_subject.as_deref(), Some("sub-ada"), "free again once Ada was unlinked");
}

async fn missing_records_are_not_found(db: TestDb) {
    assert_not_found(books::get(&db.conn, 404).await, "book");
    assert_not_found(authors::get(&db.conn, 404).await, "author");
    assert_not_found(borrowers::get(&db.conn, 404).await, "borrower");
    assert_not_found(reviews::get(&db.conn, 404).await, "review");
    assert_not_found(loans::get(&db.conn, 404).await, "loan");
    assert_not_found(books::update(&db.conn, 404, BookChanges::default()).await, "book");
    assert_not_found(books::delete(&db.conn, 404).await, "book");
    assert_not_found(authors::delete(&db.conn, 404).await, "author");
    assert_not_found(borrowers::delete(&db.conn, 404).await, "borrower");
    assert_not_found(reviews::delete(&db.conn, 404).await, "review");
    assert_not_found(books::set_authors(&db.conn, 404, vec![]).await, "book");
}
