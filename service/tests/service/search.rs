//! `q`, the catalogue search: the same behaviour on SQLite (FTS5), PostgreSQL (tsvector + GIN) and MariaDB
//! (FULLTEXT, with `LIKE` for the words it does not index), and an index that follows every change.

use migration::testkit::{Backend, TestDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use service::books::{self, BookChanges, BookFilter, SearchQuery};
use service::loans::{self, CheckOut};
use service::page::PageRequest;
use service::{LoanPolicy, authors};

use crate::support::*;

migration::backend_tests!(
    words_match_titles_and_authors_ignoring_case_and_accents,
    the_last_word_is_also_a_prefix_and_the_others_are_whole_words,
    title_matches_come_first_then_author_matches_each_in_id_order,
    pages_of_a_search_walk_every_result_once_in_rank_order,
    search_combines_with_availability_and_dates,
    the_index_follows_every_change_to_titles_credits_and_names,
);

fn q(raw: &str) -> Option<SearchQuery> {
    Some(SearchQuery::parse(raw).unwrap().unwrap())
}

async fn found(db: &DatabaseConnection, raw: &str) -> Vec<i64> {
    let filter = BookFilter { q: q(raw), ..BookFilter::default() };
    let page = books::list(db, &filter, &PageRequest::new(None, Some(100)).unwrap()).await.unwrap();
    page.items.iter().map(|summary| summary.book.id).collect()
}

async fn words_match_titles_and_authors_ignoring_case_and_accents(db: TestDb) {
    let bronte = author(&db.conn, "Emily Brontë").await;
    let le_guin = author(&db.conn, "Ursula K. Le Guin").await;
    let heights = book_by(&db.conn, "Wuthering Heights", &[bronte]).await.book.id;
    let darkness = book_by(&db.conn, "The Left Hand of Darkness", &[le_guin]).await.book.id;
    let earthsea = book_by(&db.conn, "A Wizard of Earthsea", &[le_guin]).await.book.id;
    let cafe = book(&db.conn, "CAFÉ Society").await;

    assert_eq!(found(&db.conn, "bronte").await, [heights]);
    assert_eq!(found(&db.conn, "BRONTË heights").await, [heights]);
    assert_eq!(found(&db.conn, "le guin").await, [darkness, earthsea]);
    assert_eq!(found(&db.conn, "guin, le").await, [darkness, earthsea], "word order does not matter");
    assert_eq!(found(&db.conn, "café").await, [cafe]);
    assert_eq!(found(&db.conn, "cafe society").await, [cafe]);
    // Short and stop words (MariaDB indexes neither) behave as everywhere else.
    assert_eq!(found(&db.conn, "of darkness").await, [darkness]);
    assert_eq!(found(&db.conn, "the left").await, [darkness]);
    assert_eq!(found(&db.conn, "a wizard").await, [earthsea]);
    assert_eq!(found(&db.conn, "k").await, [darkness, earthsea]);
    assert_eq!(found(&db.conn, "wuthering guin").await, Vec::<i64>::new(), "every word must match");
    assert_eq!(found(&db.conn, "tolkien").await, Vec::<i64>::new());
}

async fn the_last_word_is_also_a_prefix_and_the_others_are_whole_words(db: TestDb) {
    let dune = book(&db.conn, "Dune").await;
    let children = book(&db.conn, "Children of Dune").await;
    let dunwich = book(&db.conn, "The Dunwich Horror").await;
    let earthsea = book(&db.conn, "A Wizard of Earthsea").await;

    assert_eq!(found(&db.conn, "dun").await, [dune, children, dunwich]);
    assert_eq!(found(&db.conn, "dune").await, [dune, children]);
    assert_eq!(found(&db.conn, "of du").await, [children]);
    assert_eq!(found(&db.conn, "th").await, [dunwich]);
    assert_eq!(found(&db.conn, "ear").await, [earthsea]);
    assert_eq!(found(&db.conn, "earth wizard").await, Vec::<i64>::new(), "only the last word is a prefix");
    assert_eq!(found(&db.conn, "une").await, Vec::<i64>::new(), "a prefix, never a substring");
}

async fn title_matches_come_first_then_author_matches_each_in_id_order(db: TestDb) {
    let herbert = author(&db.conn, "Frank Herbert").await;
    let dune = book_by(&db.conn, "Dune", &[herbert]).await.book.id;
    let letters = book(&db.conn, "Herbert's Letters").await;
    let messiah = book_by(&db.conn, "Dune Messiah", &[herbert]).await.book.id;
    let about = book_by(&db.conn, "On Herbert", &[herbert]).await.book.id;

    assert_eq!(found(&db.conn, "herbert").await, [letters, about, dune, messiah]);
    assert_eq!(found(&db.conn, "dune herb").await, [dune, messiah], "both needed the authors");
    assert_eq!(found(&db.conn, "dune").await, [dune, messiah]);
}

async fn pages_of_a_search_walk_every_result_once_in_rank_order(db: TestDb) {
    let garden = author(&db.conn, "Gardener Jones").await;
    let mut by_title = Vec::new();
    let mut by_author = Vec::new();
    for n in 0..9 {
        // Interleaved, so id order alone would mix the tiers.
        by_author.push(book_by(&db.conn, &format!("Volume {n}"), &[garden]).await.book.id);
        by_title.push(book(&db.conn, &format!("The Garden {n}")).await);
        book(&db.conn, &format!("Unrelated {n}")).await;
    }
    let filter = BookFilter { q: q("garden"), ..BookFilter::default() };
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        let page = books::list(&db.conn, &filter, &PageRequest::new(cursor, Some(4)).unwrap()).await.unwrap();
        seen.extend(page.items.iter().map(|s| s.book.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [by_title, by_author].concat());
    let first = PageRequest::new(None, Some(1)).unwrap();
    let plain = books::list(&db.conn, &BookFilter::default(), &first).await.unwrap();
    let mixed = PageRequest::new(plain.next_cursor, Some(4)).unwrap();
    assert_invalid(books::list(&db.conn, &filter, &mixed).await, "cursor");
}

async fn search_combines_with_availability_and_dates(db: TestDb) {
    let dated = |raw: &str, year: i32| books::NewBook {
        published_date: Some(date(year, 1, 1)),
        ..books::NewBook::titled(title(raw))
    };
    let old = books::create(&db.conn, dated("River Song", 1950)).await.unwrap().book.id;
    let lent = books::create(&db.conn, dated("River Deep", 2000)).await.unwrap().book.id;
    let new = books::create(&db.conn, dated("River Town", 2020)).await.unwrap().book.id;
    let reader = borrower(&db.conn, 1).await;
    let out = CheckOut { book_id: lent, borrower_id: reader, period_days: None };
    loans::check_out(&db.conn, &LoanPolicy::default(), out).await.unwrap();

    let ids = |filter: BookFilter| {
        let conn = &db.conn;
        async move {
            let page = books::list(conn, &filter, &PageRequest::default()).await.unwrap();
            page.items.iter().map(|s| (s.book.id, s.available)).collect::<Vec<_>>()
        }
    };
    let river = || BookFilter { q: q("river"), ..BookFilter::default() };
    assert_eq!(ids(river()).await, [(old, true), (lent, false), (new, true)]);
    assert_eq!(ids(BookFilter { available: Some(true), ..river() }).await, [(old, true), (new, true)]);
    assert_eq!(ids(BookFilter { available: Some(false), ..river() }).await, [(lent, false)]);
    let since = BookFilter { published_from: Some(date(1990, 1, 1)), ..river() };
    assert_eq!(ids(since).await, [(lent, false), (new, true)]);
    // Two words: PostgreSQL reads the title tier by one word's rows, and filters each book it finds.
    let two = |words: &str| BookFilter { q: q(words), ..BookFilter::default() };
    assert_eq!(ids(BookFilter { available: Some(false), ..two("river d") }).await, [(lent, false)]);
    assert_eq!(
        ids(BookFilter { available: Some(true), ..two("river deep") }).await,
        Vec::<(i64, bool)>::new()
    );
    assert_eq!(
        ids(BookFilter { published_from: Some(date(2010, 1, 1)), ..two("river t") }).await,
        [(new, true)]
    );
    let available = books::available(&db.conn, &river(), &PageRequest::default()).await.unwrap();
    assert_eq!(available.items.iter().map(|s| s.book.id).collect::<Vec<_>>(), [old, new]);
}

/// On PostgreSQL, the table of titles' words holds the words of every book's title, no more, no fewer, each
/// with the title's lexemes: a search reads titles from it, tests their words on those lexemes, and reads no
/// title tier at all when it says no title holds every word.
async fn assert_title_words_agree(db: &TestDb, after: &str) {
    if db.backend != Backend::Postgres {
        return;
    }
    let sql = "WITH stored AS (SELECT word COLLATE \"C\" AS word, book_id FROM book_title_words), \
         keyed AS (SELECT DISTINCT word COLLATE \"C\" AS word, id AS book_id \
         FROM books, unnest(string_to_array(NULLIF(title_key, ''), ' ')) AS word) \
         SELECT NOT EXISTS (SELECT * FROM stored EXCEPT ALL SELECT * FROM keyed) \
         AND NOT EXISTS (SELECT * FROM keyed EXCEPT ALL SELECT * FROM stored) \
         AND NOT EXISTS (SELECT 1 FROM book_title_words AS w JOIN books ON books.id = w.book_id \
         WHERE w.lexemes IS DISTINCT FROM strip(to_tsvector('simple', books.title_key)))";
    let rows = db.conn.query_all_raw(Statement::from_string(db.db_backend(), sql)).await.unwrap();
    assert!(rows[0].try_get_by_index::<bool>(0).unwrap(), "book_title_words after {after}");
}

async fn the_index_follows_every_change_to_titles_credits_and_names(db: TestDb) {
    let pratchett = author(&db.conn, "Terry Pratchett").await;
    let gaiman = author(&db.conn, "Neil Gaiman").await;
    let omens = book_by(&db.conn, "Good Omens", &[pratchett]).await.book.id;
    assert_eq!(found(&db.conn, "pratchett omens").await, [omens], "a new book with its authors");
    assert_title_words_agree(&db, "a new book").await;

    let retitled = BookChanges {
        title: Some(title("Good Omens: The Nice and Accurate Prophecies")),
        ..BookChanges::default()
    };
    books::update(&db.conn, omens, retitled).await.unwrap();
    assert_eq!(found(&db.conn, "accurate prophecies").await, [omens], "a title edit");
    let shorter = BookChanges { title: Some(title("Accurate Prophecies")), ..BookChanges::default() };
    books::update(&db.conn, omens, shorter).await.unwrap();
    assert_eq!(found(&db.conn, "prophecies accurate").await, [omens], "a title edit that drops words");
    assert_eq!(found(&db.conn, "good omens").await, Vec::<i64>::new(), "the dropped words");
    assert_title_words_agree(&db, "a title edit").await;
    books::update(
        &db.conn,
        omens,
        BookChanges { title: Some(title("Good Omens")), ..BookChanges::default() },
    )
    .await
    .unwrap();

    books::add_author(&db.conn, omens, gaiman).await.unwrap();
    assert_eq!(found(&db.conn, "gaiman").await, [omens], "a credit added");
    assert_title_words_agree(&db, "a credit added").await;
    books::remove_author(&db.conn, omens, pratchett).await.unwrap();
    assert_eq!(found(&db.conn, "pratchett").await, Vec::<i64>::new(), "a credit removed");
    assert_title_words_agree(&db, "a credit removed").await;
    books::set_authors(&db.conn, omens, vec![pratchett]).await.unwrap();
    assert_eq!((found(&db.conn, "gaiman").await, found(&db.conn, "terry").await), (vec![], vec![omens]));
    assert_title_words_agree(&db, "the credits set").await;

    authors::rename(&db.conn, pratchett, name("Sir Terry Pratchett")).await.unwrap();
    assert_eq!(found(&db.conn, "sir terry").await, [omens], "an author renamed");
    assert_title_words_agree(&db, "an author renamed").await;
    authors::delete(&db.conn, pratchett).await.unwrap();
    assert_eq!(found(&db.conn, "terry").await, Vec::<i64>::new(), "an author deleted");
    assert_title_words_agree(&db, "an author deleted").await;

    books::delete(&db.conn, omens).await.unwrap();
    assert_eq!(found(&db.conn, "omens").await, Vec::<i64>::new(), "a book deleted");
    assert_title_words_agree(&db, "a book deleted").await;
}
