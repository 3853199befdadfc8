//! Keyset pagination and the filters of every list.

use migration::testkit::TestDb;
use service::books::{BookFilter, NewBook, SearchQuery};
use service::borrowers::BorrowerFilter;
use service::loans::{CheckOut, LoanFilter};
use service::page::PageRequest;
use service::{LoanPolicy, authors, books, borrowers, loans};

use crate::support::*;

migration::backend_tests!(
    pages_walk_the_whole_list_once_in_id_order,
    page_limits_default_to_twenty_and_stop_at_one_hundred,
    pages_are_keyset_queries_without_offset,
    a_cursor_only_works_for_its_own_list,
    books_filter_by_words_author_date_and_availability,
    available_books_are_an_anti_join_that_keeps_the_cursor_in_the_subquery,
    borrowers_and_authors_filter_by_name_and_email,
    loans_filter_by_borrower_book_and_overdue,
);

fn page(cursor: Option<String>, limit: i64) -> PageRequest {
    PageRequest::new(cursor, Some(limit)).unwrap()
}

async fn pages_walk_the_whole_list_once_in_id_order(db: TestDb) {
    let mut created = Vec::new();
    for n in 0..45 {
        created.push(book(&db.conn, &format!("Book {n:02}")).await);
    }
    let (mut seen, mut cursor, mut sizes) = (Vec::new(), None, Vec::new());
    loop {
        let page = books::list(&db.conn, &BookFilter::default(), &page(cursor, 20)).await.unwrap();
        sizes.push(page.items.len());
        seen.extend(page.items.iter().map(|s| s.book.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    assert_eq!(seen, created);
}

async fn page_limits_default_to_twenty_and_stop_at_one_hundred(db: TestDb) {
    for n in 0..105 {
        book(&db.conn, &format!("Book {n}")).await;
    }
    let default = books::list(&db.conn, &BookFilter::default(), &PageRequest::default()).await.unwrap();
    assert_eq!(default.items.len(), 20);
    let max = books::list(&db.conn, &BookFilter::default(), &page(None, 100)).await.unwrap();
    assert_eq!(max.items.len(), 100);
    assert!(max.next_cursor.is_some());
    assert_invalid(PageRequest::new(None, Some(101)), "limit");
    assert_invalid(PageRequest::new(None, Some(0)), "limit");
}

async fn pages_are_keyset_queries_without_offset(mut db: TestDb) {
    let log = StatementLog::attach(&mut db.conn);
    for n in 0..30 {
        book(&db.conn, &format!("Book {n}")).await;
    }
    let first = books::list(&db.conn, &BookFilter::default(), &page(None, 10)).await.unwrap();
    log.take();
    books::list(&db.conn, &BookFilter::default(), &page(first.next_cursor, 10)).await.unwrap();
    let statements = log.take();
    assert_eq!(statements.len(), 1, "books with their loans and authors, in one: {statements:#?}");
    books::available(&db.conn, &BookFilter::default(), &page(None, 10)).await.unwrap();
    assert_eq!(log.take().len(), 1, "the available books likewise");
    let main = statements[0].to_uppercase();
    assert!(!main.contains("OFFSET"), "{main}");
    assert!(main.contains(r#""ID" >"#) || main.contains("`ID` >"), "the cursor is a bound on id: {main}");
}

async fn a_cursor_only_works_for_its_own_list(db: TestDb) {
    for n in 0..3 {
        book(&db.conn, &format!("Book {n}")).await;
        borrower(&db.conn, n).await;
    }
    let books_page = books::list(&db.conn, &BookFilter::default(), &page(None, 1)).await.unwrap();
    let borrowers_page = borrowers::list(&db.conn, &BorrowerFilter::default(), &page(None, 1)).await.unwrap();
    let foreign = page(borrowers_page.next_cursor.clone(), 1);
    assert_invalid(books::list(&db.conn, &BookFilter::default(), &foreign).await, "cursor");
    assert_invalid(
        books::available(&db.conn, &BookFilter::default(), &page(books_page.next_cursor.clone(), 1)).await,
        "cursor",
    );
    let mut tampered = books_page.next_cursor.unwrap();
    tampered.insert(2, 'x');
    assert_invalid(books::list(&db.conn, &BookFilter::default(), &page(Some(tampered), 1)).await, "cursor");
    assert_invalid(
        books::list(&db.conn, &BookFilter::default(), &page(Some("%%%".to_owned()), 1)).await,
        "cursor",
    );
}

async fn books_filter_by_words_author_date_and_availability(db: TestDb) {
    let gaiman = author(&db.conn, "Neil Gaiman").await;
    let dated = |book_title: &str, year: i32, authors: Vec<i64>| NewBook {
        published_date: Some(date(year, 1, 1)),
        author_ids: authors,
        ..NewBook::titled(title(book_title))
    };
    let gods = books::create(&db.conn, dated("American Gods", 2001, vec![gaiman])).await.unwrap().book.id;
    let omens = books::create(&db.conn, dated("Good Omens", 1990, vec![gaiman])).await.unwrap().book.id;
    let sale = books::create(&db.conn, dated("50% Off: a Novel", 2010, vec![])).await.unwrap().book.id;
    let undated = book(&db.conn, "GODS of the undated").await;
    let reader = borrower(&db.conn, 1).await;
    loans::check_out(
        &db.conn,
        &LoanPolicy::default(),
        CheckOut { book_id: omens, borrower_id: reader, period_days: None },
    )
    .await
    .unwrap();

    let ids = |filter: BookFilter| {
        let conn = &db.conn;
        async move {
            let page = books::list(conn, &filter, &PageRequest::default()).await.unwrap();
            page.items.iter().map(|s| s.book.id).collect::<Vec<_>>()
        }
    };
    let search = |raw: &str| BookFilter { q: SearchQuery::parse(raw).unwrap(), ..Default::default() };
    assert_eq!(ids(search("gods")).await, [gods, undated]);
    assert_eq!(ids(search("50% off")).await, [sale], "punctuation is no wildcard");
    assert_eq!(ids(BookFilter { author_id: Some(gaiman), ..Default::default() }).await, [gods, omens]);
    let range = BookFilter {
        published_from: Some(date(1995, 1, 1)),
        published_to: Some(date(2005, 12, 31)),
        ..Default::default()
    };
    assert_eq!(ids(range).await, [gods]);
    assert_eq!(ids(BookFilter { available: Some(false), ..Default::default() }).await, [omens]);
    assert_eq!(ids(BookFilter { available: Some(true), ..Default::default() }).await, [gods, sale, undated]);
    let combined = BookFilter { author_id: Some(gaiman), available: Some(true), ..Default::default() };
    assert_eq!(ids(combined).await, [gods]);
    let listed = books::list(&db.conn, &BookFilter::default(), &PageRequest::default()).await.unwrap();
    let omens_summary = listed.items.iter().find(|s| s.book.id == omens).unwrap();
    assert!(!omens_summary.available);
    assert_eq!(omens_summary.authors.iter().map(|a| a.id).collect::<Vec<_>>(), [gaiman]);
    let backwards = BookFilter {
        published_from: Some(date(2005, 1, 1)),
        published_to: Some(date(1995, 1, 1)),
        ..Default::default()
    };
    // A range that ends before it starts is a filter no book passes, not an invalid request.
    assert!(books::list(&db.conn, &backwards, &PageRequest::default()).await.unwrap().items.is_empty());
}

async fn available_books_are_an_anti_join_that_keeps_the_cursor_in_the_subquery(mut db: TestDb) {
    let log = StatementLog::attach(&mut db.conn);
    let policy = LoanPolicy::default();
    let mut available = Vec::new();
    for n in 0..12 {
        let id = book(&db.conn, &format!("Book {n}")).await;
        if n % 3 == 0 {
            let reader = borrower(&db.conn, n).await;
            loans::check_out(
                &db.conn,
                &policy,
                CheckOut { book_id: id, borrower_id: reader, period_days: None },
            )
            .await
            .unwrap();
        } else {
            available.push(id);
        }
    }
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        log.take();
        let page =
            books::available(&db.conn, &BookFilter::default(), &page(cursor.clone(), 3)).await.unwrap();
        let main = log.take()[0].to_uppercase();
        assert!(main.contains("NOT EXISTS"), "{main}");
        if cursor.is_some() {
            let subquery = &main[main.find("NOT EXISTS").unwrap()..];
            assert!(subquery.contains("BOOK_ID\" >") || subquery.contains("BOOK_ID` >"), "{subquery}");
        }
        assert!(page.items.iter().all(|s| s.available));
        seen.extend(page.items.iter().map(|s| s.book.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, available);
}

async fn borrowers_and_authors_filter_by_name_and_email(db: TestDb) {
    borrowers::create(&db.conn, name("Ada Lovelace"), email("ada@example.org")).await.unwrap();
    let grace = borrowers::create(&db.conn, name("Grace Hopper"), email("grace@navy.example")).await.unwrap();
    let by = |name: Option<&str>, email: Option<&str>| BorrowerFilter {
        name: name.map(term),
        email: email.map(term),
    };
    let found = borrowers::list(&db.conn, &by(Some("HOPP"), None), &PageRequest::default()).await.unwrap();
    assert_eq!(found.items, vec![grace.clone()]);
    let found = borrowers::list(&db.conn, &by(None, Some("NAVY")), &PageRequest::default()).await.unwrap();
    assert_eq!(found.items, vec![grace]);
    let none =
        borrowers::list(&db.conn, &by(Some("ada"), Some("navy")), &PageRequest::default()).await.unwrap();
    assert!(none.items.is_empty());
    author(&db.conn, "Terry Pratchett").await;
    let pratchett = authors::list(&db.conn, Some(&term("pratch")), &PageRequest::default()).await.unwrap();
    assert_eq!(pratchett.items.len(), 1);
}

async fn loans_filter_by_borrower_book_and_overdue(db: TestDb) {
    let policy = LoanPolicy::default();
    let (ada, alan) = (borrower(&db.conn, 1).await, borrower(&db.conn, 2).await);
    let mut loan_ids = Vec::new();
    for (n, who) in [ada, ada, alan].into_iter().enumerate() {
        let id = book(&db.conn, &format!("Book {n}")).await;
        let loan = loans::check_out(
            &db.conn,
            &policy,
            CheckOut { book_id: id, borrower_id: who, period_days: None },
        )
        .await
        .unwrap();
        loan_ids.push((loan.id, id));
    }
    make_overdue(&db.conn, loan_ids[1].0).await;
    let ids = |filter: LoanFilter| {
        let conn = &db.conn;
        async move {
            let page = loans::list(conn, &filter, &PageRequest::default()).await.unwrap();
            page.items.iter().map(|l| l.id).collect::<Vec<_>>()
        }
    };
    let all: Vec<i64> = loan_ids.iter().map(|(loan, _)| *loan).collect();
    assert_eq!(ids(LoanFilter::default()).await, all);
    assert_eq!(ids(LoanFilter { borrower_id: Some(ada), ..Default::default() }).await, all[..2]);
    assert_eq!(ids(LoanFilter { book_id: Some(loan_ids[2].1), ..Default::default() }).await, [all[2]]);
    assert_eq!(ids(LoanFilter { overdue: Some(true), ..Default::default() }).await, [all[1]]);
    assert_eq!(ids(LoanFilter { overdue: Some(false), ..Default::default() }).await, [all[0], all[2]]);
}
