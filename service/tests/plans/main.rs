//! Every public read is index-backed, proven on PostgreSQL with a library of 100,000 books: each statement
//! the service sends for each public list, search, filter and detail is captured as sent (SQL and bound
//! values) and run under `EXPLAIN ANALYZE`. A sequential scan of `books`, `loans`, `reviews` or
//! `book_authors` fails the test, so does an index walked while filtering away half the books or more, and
//! so does a sort over all the books (a sort of one page's candidates,
//! like the matches of a search, is what ranking costs).
//!
//! The library is loaded once, with `INSERT … SELECT generate_series` (seconds, not the service's minutes),
//! into `libris_se_plans` on the test server, and kept between runs: a marker row names the load and the
//! migrations it was made with, and any other marker (or none) rebuilds it.
#![expect(clippy::unwrap_used, reason = "tests")]

mod generic;
mod library;

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use service::books::{self, BookFilter, CommonWords, SearchQuery};
use service::domain::CalendarDate;
use service::page::PageRequest;
use service::{authors, reviews};

/// Tables whose full scan would grow with the library.
const LARGE_TABLES: [&str; 4] = ["books", "loans", "reviews", "book_authors"];

/// The statements a connection sends, with their bound values.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<Vec<Statement>>>);

impl Sent {
    fn attach(db: &mut DatabaseConnection) -> Self {
        let sent = Self::default();
        let sink = sent.0.clone();
        db.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
        sent
    }

    fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn page(cursor: Option<String>) -> PageRequest {
    PageRequest::new(cursor, None).unwrap()
}

fn q(raw: &str) -> Option<SearchQuery> {
    SearchQuery::parse(raw).unwrap()
}

fn date(year: i32) -> Option<CalendarDate> {
    Some(CalendarDate::parse("date", chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap()).unwrap())
}

/// What is wrong with a plan, if anything: each full scan of a large table, each sort over all the books.
fn faults(plan: &[String], books: u64) -> Vec<String> {
    let mut faults = Vec::new();
    for (n, line) in plan.iter().enumerate() {
        if let Some(rest) = line.split("Seq Scan on ").nth(1) {
            let table = rest.split_whitespace().next().unwrap_or_default();
            if LARGE_TABLES.contains(&table) {
                faults.push(format!("sequential scan of {table}: {}", line.trim()));
            }
        }
        if let Some(removed) = line.split("Rows Removed by Filter: ").nth(1) {
            // An index walked from end to end, filtering as it goes, is a full scan by another name.
            let removed: u64 = removed.trim().parse().unwrap_or(0);
            if removed * 2 >= books {
                faults.push(format!(
                    "{removed} of {books} rows read and filtered away: {}",
                    plan[n - 1].trim()
                ));
            }
        }
        let node = line.trim_start().trim_start_matches("->").trim_start();
        if node.contains("Index Scan") || node.contains("Index Only Scan") {
            // An index read for most of the books (a bitmap of the whole key's range, say) is a full scan too.
            let rows = actual_rows(line);
            if rows * 2 >= books {
                faults.push(format!("{rows} of {books} index entries read: {}", line.trim()));
            }
        }
        if node.starts_with("Sort  (") {
            // The rows a sort reads are those its input (the next node down) produced.
            let input =
                plan[n + 1..].iter().find(|l| l.trim_start().starts_with("->")).map_or(0, |l| actual_rows(l));
            if input * 2 >= books {
                faults.push(format!("sort over {input} of {books} books: {}", line.trim()));
            }
        }
    }
    faults
}

/// `rows × loops` of a plan line's `(actual time=… rows=N loops=M)`.
fn actual_rows(line: &str) -> u64 {
    let Some(actual) = line.split("(actual ").nth(1) else { return 0 };
    let number = |key: &str| -> u64 {
        actual
            .split(key)
            .nth(1)
            .and_then(|s| s.split([' ', ')']).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    number("rows=") * number("loops=").max(1)
}

async fn explain(db: &DatabaseConnection, statement: &Statement) -> Vec<String> {
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {}", statement.sql);
    let rows = db.query_all_raw(Statement { sql, ..statement.clone() }).await.unwrap();
    rows.iter().map(|row| row.try_get::<String>("", "QUERY PLAN").unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_read_is_index_backed_on_a_library_of_100000_books() {
    let Some(mut db) = library::connect().await else { return };
    let books_count = library::BOOKS;
    let common = CommonWords::default();
    let sent = Sent::attach(&mut db);
    let mut checked: Vec<(String, Vec<Statement>)> = Vec::new();
    macro_rules! capture {
        ($name:expr, $call:expr) => {{
            sent.take();
            let result = $call.await.expect($name);
            checked.push(($name.to_owned(), sent.take()));
            result
        }};
    }
    let first = capture!("GET /books", books::list(&db, &BookFilter::default(), &page(None)));
    capture!("GET /books, page 2", books::list(&db, &BookFilter::default(), &page(first.next_cursor)));
    let late = BookFilter { published_from: date(2000), ..BookFilter::default() };
    capture!("GET /books?published_from", books::list(&db, &late, &page(None)));
    let early = BookFilter { published_to: date(1901), ..BookFilter::default() };
    capture!("GET /books?published_to", books::list(&db, &early, &page(None)));
    let span = BookFilter { published_from: date(1950), published_to: date(1951), ..BookFilter::default() };
    let spanned = capture!("GET /books?published_from&published_to", books::list(&db, &span, &page(None)));
    capture!("… page 2", books::list(&db, &span, &page(spanned.next_cursor)));
    let by_author = BookFilter { author_id: Some(17), ..BookFilter::default() };
    capture!("GET /books?author_id", books::list(&db, &by_author, &page(None)));
    let lent = BookFilter { available: Some(false), ..BookFilter::default() };
    let on_loan = capture!("GET /books?available=false", books::list(&db, &lent, &page(None)));
    capture!("… page 2", books::list(&db, &lent, &page(on_loan.next_cursor)));
    let free = capture!("GET /books/available", books::available(&db, &BookFilter::default(), &page(None)));
    capture!(
        "GET /books/available, page 2",
        books::available(&db, &BookFilter::default(), &page(free.next_cursor))
    );
    for (name, words) in [
        ("one word", "orchard"),
        ("two words", "silent crimson"),
        ("a prefix", "lante"),
        ("a rare word", "12345"),
        ("a rare prefix", "1234"),
        ("an author's name", "author 17"),
        ("a word of every author's name and no title", "author"),
        ("a common word and a rare prefix", "orchard 4242"),
    ] {
        let search = BookFilter { q: q(words), ..BookFilter::default() };
        let found = capture!(&format!("GET /books?q= {name}"), books::list(&db, &search, &page(None)));
        let second =
            capture!(&format!("… {name}, page 2"), books::list(&db, &search, &page(found.next_cursor)));
        capture!(&format!("… {name}, page 3"), books::list(&db, &search, &page(second.next_cursor)));
        capture!(&format!("GET /books/available?q= {name}"), books::available(&db, &search, &page(None)));
        let dated = BookFilter { published_from: date(1990), ..search.clone() };
        capture!(&format!("GET /books?q= {name} &published_from"), books::list(&db, &dated, &page(None)));
        // As the server reads it once the statistics say the word is rare: from the index, without a probe.
        let mut judged = search;
        common.judge(&db, &mut judged).await;
        if judged.q.as_ref().is_some_and(SearchQuery::judged_rare) {
            let name = format!("{name}, known rare");
            let found = capture!(&format!("GET /books?q= {name}"), books::list(&db, &judged, &page(None)));
            capture!(&format!("… {name}, page 2"), books::list(&db, &judged, &page(found.next_cursor)));
            capture!(&format!("GET /books/available?q= {name}"), books::available(&db, &judged, &page(None)));
        }
    }
    for rare in ["a rare word", "a rare prefix"] {
        let judged =
            checked.iter().any(|(name, _)| name.starts_with(&format!("GET /books?q= {rare}, known")));
        assert!(judged, "{rare}: the statistics of 100,000 books must say it is rare");
    }
    capture!("GET /books/{id}", books::get(&db, 4242));
    capture!("GET /authors/{id}/books", books::of_author(&db, 17, &page(None)));
    capture!("GET /books/{id}/reviews", reviews::of_book(&db, 4242, &page(None)));
    capture!("GET /authors", authors::list(&db, None, &page(None)));
    capture!("GET /authors/{id}", authors::get(&db, 17));

    let mut failures = Vec::new();
    for (name, statements) in &checked {
        assert!(!statements.is_empty(), "{name} sent nothing");
        for statement in statements {
            let plan = explain(&db, statement).await;
            // One connection for the PREPARE, the setting and the EXECUTE: a transaction's.
            let txn = db.begin().await.unwrap();
            let generic = generic::explain(&txn, statement).await.unwrap();
            txn.rollback().await.unwrap();
            for (kind, plan) in [("", plan), ("generic plan: ", generic)] {
                for fault in faults(&plan, books_count) {
                    failures.push(format!("{name}: {kind}{fault}\n  {}\n{}", statement.sql, plan.join("\n")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} plans scan or sort the whole library:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_plan_reader_finds_full_scans_and_whole_table_sorts() {
    let plan = |lines: &[&str]| lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    let scan = plan(&[
        "Limit  (cost=0..1 rows=21) (actual time=0..1 rows=21 loops=1)",
        "  ->  Seq Scan on books  (cost=0..1 rows=100000) (actual time=0..1 rows=21 loops=1)",
    ]);
    assert_eq!(faults(&scan, 100_000).len(), 1);
    let bitmap = plan(&[
        "  ->  Bitmap Index Scan on books_pkey  (cost=0..1 rows=1) (actual time=0..1 rows=96000 loops=1)",
    ]);
    assert_eq!(faults(&bitmap, 100_000).len(), 1, "the key's entries read for a range");
    let walked = plan(&[
        "  ->  Index Scan using books_pkey on books  (actual time=0..1 rows=11 loops=1)",
        "        Filter: (search_vector @@ to_tsquery('simple', $1))",
        "        Rows Removed by Filter: 99989",
    ]);
    assert_eq!(faults(&walked, 100_000).len(), 1, "a key walked to the end");
    let authors = plan(&["Seq Scan on authors  (cost=0..1 rows=1) (actual time=0..1 rows=20 loops=1)"]);
    assert!(faults(&authors, 100_000).is_empty(), "authors are not a large table");
    let sort = plan(&[
        "Limit  (actual time=0..1 rows=21 loops=1)",
        "  ->  Sort  (cost=0..1 rows=100000) (actual time=0..1 rows=21 loops=1)",
        "        Sort Key: books.title",
        "        ->  Index Scan using books_pkey on books  (actual time=0..1 rows=100000 loops=1)",
    ]);
    assert_eq!(faults(&sort, 100_000).len(), 2, "every book read from an index, then sorted");
    let small = plan(&[
        "  ->  Sort  (actual time=0..1 rows=21 loops=1)",
        "        ->  Bitmap Heap Scan on books  (actual time=0..1 rows=390 loops=1)",
    ]);
    assert!(faults(&small, 100_000).is_empty(), "sorting a search's matches is ranking them");
}
