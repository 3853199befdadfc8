//! A search page is read in whichever way is cheap for its words (`service/src/books/matches.rs`): a probe
//! of the next ids, the rare words' one statement from the index, a walk past the probe, the index for the
//! rest, tier by tier, or (PostgreSQL, two words or more) one word's rows of the titles' words. Those ways are chosen by how far apart the results lie in id order, so here they lie
//! thousands of ids apart, and every page of every query, in several page sizes, must be what the reference
//! definition (`SearchQuery::matches`) says, in rank order, on all three backends.

use chrono::Utc;
use entity::{book, search_key};
use migration::testkit::TestDb;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryOrder};
use service::books::{self, BookFilter, CommonWords, SearchQuery};
use service::page::PageRequest;

use crate::support::*;

migration::backend_tests!(every_page_of_a_search_is_its_reference_results_however_far_apart_they_lie);

/// `count` books titled "Filler n", without authors, in few statements: they only put ids between results.
/// A hundred rows a statement keeps each under RDS Proxy's 16 KB (a larger one pins the connection, and the
/// suite's PgBouncer pass runs these tests through the proxy and refuses it).
async fn fillers(db: &DatabaseConnection, count: usize) {
    let now = Utc::now();
    let numbers: Vec<usize> = (0..count).collect();
    for chunk in numbers.chunks(100) {
        let rows = chunk.iter().map(|n| {
            let title = format!("Filler {n}");
            book::ActiveModel {
                title_key: Set(search_key::key(&title)),
                title: Set(title),
                author_key: Set(String::new()),
                isbn: Set(None),
                published_date: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
        });
        book::Entity::insert_many(rows).exec(db).await.unwrap();
    }
}

/// The results of `raw` by the reference definition: title matches, then author-only ones, each by id.
async fn reference(db: &DatabaseConnection, raw: &str) -> Vec<i64> {
    let query = SearchQuery::parse(raw).unwrap().unwrap();
    let all = book::Entity::find().order_by_asc(book::Column::Id).all(db).await.unwrap();
    let by_title = all.iter().filter(|b| query.matches(&b.title_key, ""));
    let by_author =
        all.iter().filter(|b| !query.matches(&b.title_key, "") && query.matches(&b.title_key, &b.author_key));
    by_title.chain(by_author).map(|b| b.id).collect()
}

/// Every result of `raw`, read page by page through the service.
async fn paged(db: &DatabaseConnection, raw: &str, size: i64) -> Vec<i64> {
    every_page(db, &BookFilter { q: SearchQuery::parse(raw).unwrap(), ..BookFilter::default() }, size).await
}

/// Every result of the search in `filter`, read page by page through the service.
async fn every_page(db: &DatabaseConnection, filter: &BookFilter, size: i64) -> Vec<i64> {
    let raw = filter.q.as_ref().map(|q| q.terms().join(" ")).unwrap_or_default();
    let (mut seen, mut cursor) = (Vec::new(), None);
    // Bounded: a cursor that does not move on would page forever; it fails here instead.
    for _ in 0..500 {
        let page =
            books::list(db, filter, &PageRequest::new(cursor.clone(), Some(size)).unwrap()).await.unwrap();
        seen.extend(page.items.iter().map(|summary| summary.book.id));
        match page.next_cursor {
            Some(next) if Some(&next) == cursor.as_ref() => panic!("q={raw}: the cursor {next} came back"),
            Some(next) => cursor = Some(next),
            None => return seen,
        }
    }
    panic!("q={raw}: more than 500 pages of {size}, seen {seen:?}");
}

async fn every_page_of_a_search_is_its_reference_results_however_far_apart_they_lie(db: TestDb) {
    let db = &db.conn;
    let jones = author(db, "Lantern Jones").await;
    let quokka = author(db, "Quokka Smith").await;
    fillers(db, 50).await;
    // In the first probe: one "lantern" title, three "harbour" titles, an author-only "lantern" and "jones",
    // and an author-only "quokka", a word of titles only far past it.
    book(db, "Lantern Light").await;
    for n in 0..3 {
        book(db, &format!("Harbour {n}")).await;
    }
    book_by(db, "Volume One", &[jones]).await;
    book_by(db, "Volume Zero", &[quokka]).await;
    // Thirty more "harbour" titles within a walk's reach of the probe.
    for n in 3..33 {
        fillers(db, 90).await;
        book(db, &format!("Harbour {n}")).await;
    }
    // Far past every window: the rest of "lantern", and every "quokka", title and author-only.
    fillers(db, 5_000).await;
    for n in 0..25 {
        book(db, &format!("Lantern {n}")).await;
        fillers(db, 7).await;
    }
    book_by(db, "Volume Two", &[jones]).await;
    book_by(db, "Volume Three", &[quokka]).await;
    book(db, "Quokka Island").await;
    book_by(db, "Quokka Quokka", &[quokka]).await;
    fillers(db, 600).await;
    book_by(db, "Volume Four", &[quokka]).await;
    book(db, "A Quokka Year").await;

    // One word reads books or the index; with two or more, PostgreSQL reads a title tier by a whole word's
    // rows of the titles' words, and "filler 42" has more of them (8,525) than one read takes (4,000); with
    // three, the rows are kept by the other whole word ("light") as well as the prefix. "jones" is in no
    // title, so its first page is the probe's author-only books, then the rest of them from past the probe.
    let queries = [
        "jones",
        "jon",
        "lantern",
        "lant",
        "harbour",
        "harb",
        "quokka",
        "quok",
        "lantern jones",
        "volume",
        "zero",
        "filler 42",
        "harbour 1",
        "quokka island",
        "lantern 2",
        "volume t",
        "jones volume",
        "light lantern l",
        "jones lantern l",
    ];
    for raw in queries {
        let expected = reference(db, raw).await;
        assert!(!expected.is_empty(), "{raw}: the data must hold results");
        for size in [1, 2, 7, 21, 100] {
            assert_eq!(paged(db, raw, size).await, expected, "q={raw}, pages of {size}");
        }
    }
    assert_eq!(paged(db, "wombat", 21).await, Vec::<i64>::new());

    // On PostgreSQL a row of the titles' words may carry no lexemes (its title's are too long to keep, or
    // the migration's back-fill has not reached it yet): it passes the rows' test and its book is tested.
    if db.get_database_backend() == DbBackend::Postgres {
        let dropped = "UPDATE book_title_words SET lexemes = NULL WHERE book_id % 2 = 0";
        db.execute_unprepared(dropped).await.unwrap();
        for raw in ["filler 42", "harbour 1", "quokka island", "lantern 2", "volume t", "light lantern l"] {
            let expected = reference(db, raw).await;
            for size in [2, 21] {
                assert_eq!(
                    paged(db, raw, size).await,
                    expected,
                    "q={raw}, pages of {size}, half the lexemes gone"
                );
            }
        }
    }
    a_word_the_statistics_call_rare_is_read_without_a_probe(db).await;
}

/// Once `ANALYZE` has run, PostgreSQL's statistics say which words are common (`CommonWords`): a one-word
/// search they call rare is read from the index without a probe, and its pages are the same, also when the
/// statistics are older than the books.
async fn a_word_the_statistics_call_rare_is_read_without_a_probe(db: &DatabaseConnection) {
    let common = CommonWords::default();
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        db.execute_unprepared("ANALYZE books").await.unwrap();
    }
    // Written after the statistics: a word they have never seen, in 30 titles and 5 author-only books.
    let keeper = author(db, "Wombat Keeper").await;
    for n in 0..30 {
        book(db, &format!("Wombat {n}")).await;
        fillers(db, 3).await;
        if n % 6 == 0 {
            book_by(db, &format!("Volume W{n}"), &[keeper]).await;
        }
    }
    // "zero" is in one title; every other word of these is in several books, or too short to judge.
    for (raw, rare) in [("zero", true), ("wombat", true), ("quokka", false), ("harb", false), ("jon", false)]
    {
        let mut filter = BookFilter { q: SearchQuery::parse(raw).unwrap(), ..BookFilter::default() };
        common.judge(db, &mut filter).await;
        let verdict = filter.q.as_ref().is_some_and(SearchQuery::judged_rare);
        assert_eq!(verdict, rare && postgres, "q={raw}: judged rare");
        let expected = reference(db, raw).await;
        for size in [1, 7, 21] {
            assert_eq!(every_page(db, &filter, size).await, expected, "q={raw}, judged, pages of {size}");
        }
    }
}
