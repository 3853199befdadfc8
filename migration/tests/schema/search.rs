//! The search migration on a library that already has books: it keys them, its index answers, and `down`
//! leaves the schema as it found it.

use chrono::Utc;
use migration::testkit::{Backend, TestDb};
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::prelude::{Alias, Query};
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::introspect::tables;

/// The migrations before the search one.
const BEFORE_SEARCH: u32 = 2;

async fn insert(db: &TestDb, table: &str, columns: &[&str], values: Vec<sea_orm_migration::sea_orm::Value>) {
    let now = Utc::now();
    let mut insert = Query::insert();
    insert.into_table(Alias::new(table));
    let mut all_columns: Vec<Alias> = columns.iter().map(|c| Alias::new(*c)).collect();
    let mut all_values: Vec<sea_orm_migration::prelude::Expr> = values.into_iter().map(Into::into).collect();
    if table != "book_authors" {
        all_columns.extend([Alias::new("created_at"), Alias::new("updated_at")]);
        all_values.extend([now.into(), now.into()]);
    }
    insert.columns(all_columns).values_panic(all_values);
    db.conn.execute(&insert).await.unwrap();
}

async fn column(db: &TestDb, sql: &str) -> Vec<String> {
    let rows = db.conn.query_all_raw(Statement::from_string(db.db_backend(), sql.to_owned())).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect()
}

async fn ids(db: &TestDb, sql: &str) -> Vec<i64> {
    let rows = db.conn.query_all_raw(Statement::from_string(db.db_backend(), sql.to_owned())).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<i64>(0).unwrap()).collect()
}

/// Book ids whose keys hold `word`, asked of the backend's full-text index itself.
async fn indexed(db: &TestDb, word: &str) -> Vec<i64> {
    let sql = match db.backend {
        Backend::Postgres => {
            format!("SELECT id FROM books WHERE search_vector @@ to_tsquery('simple', '{word}') ORDER BY id")
        }
        Backend::Sqlite => {
            format!("SELECT rowid FROM books_fts WHERE books_fts MATCH '\"{word}\"' ORDER BY rowid")
        }
        Backend::MySql => format!(
            "SELECT id FROM books WHERE MATCH(title_key, author_key) AGAINST('+{word}' IN BOOLEAN MODE) ORDER BY id"
        ),
    };
    ids(db, &sql).await
}

pub async fn keys_existing_books_and_rolls_back(db: TestDb) {
    Migrator::up(&db.conn, Some(BEFORE_SEARCH)).await.expect("up to the migration before search");
    let tables_before = tables(&db).await;
    insert(&db, "authors", &["id", "name"], vec![1_i64.into(), "Emily Brontë".into()]).await;
    insert(&db, "authors", &["id", "name"], vec![2_i64.into(), "Charlotte Brontë".into()]).await;
    insert(&db, "books", &["id", "title"], vec![1_i64.into(), "Wuthering Heights".into()]).await;
    insert(&db, "books", &["id", "title"], vec![2_i64.into(), "Jane EYRE (Norton)".into()]).await;
    insert(&db, "books", &["id", "title"], vec![3_i64.into(), "Anonymous".into()]).await;
    // Normalised, each "㍿" is four ideographs (12 bytes): this title's lexemes are too long to keep.
    let long: Vec<String> =
        (0..120).map(|n| format!("㍿{}{}", char::from(b'a' + n / 26), char::from(b'a' + n % 26))).collect();
    insert(&db, "books", &["id", "title"], vec![4_i64.into(), long.join(" ").into()]).await;
    for (book, author) in [(1_i64, 1_i64), (2, 2), (2, 1)] {
        insert(&db, "book_authors", &["book_id", "author_id"], vec![book.into(), author.into()]).await;
    }

    Migrator::up(&db.conn, None).await.expect("the search migration on a library with books");
    assert_eq!(
        column(&db, "SELECT title_key FROM books WHERE id < 4 ORDER BY id").await,
        ["wuthering heights", "jane eyre norton", "anonymous"]
    );
    assert_eq!(
        column(&db, "SELECT author_key FROM books WHERE id < 4 ORDER BY id").await,
        ["emily bronte", "emily bronte charlotte bronte", ""],
        "authors in id order"
    );
    assert_eq!(indexed(&db, "bronte").await, [1, 2]);
    assert_eq!(indexed(&db, "eyre").await, [2]);
    if db.backend == Backend::Postgres {
        // Searches read a title's words in id order from here (m20261202_000006), so it must hold the old books.
        // Each row with its title's lexemes (m20261203_000001), but those too long to keep.
        let words = "SELECT word || ' ' || book_id || ' ' || coalesce(lexemes::text, '-') FROM book_title_words \
                     WHERE book_id < 4 ORDER BY book_id, word";
        assert_eq!(
            column(&db, words).await,
            [
                "heights 1 'heights' 'wuthering'",
                "wuthering 1 'heights' 'wuthering'",
                "eyre 2 'eyre' 'jane' 'norton'",
                "jane 2 'eyre' 'jane' 'norton'",
                "norton 2 'eyre' 'jane' 'norton'",
                "anonymous 3 'anonymous'"
            ]
        );
        let long =
            "SELECT count(*)::text || ' ' || count(lexemes)::text FROM book_title_words WHERE book_id = 4";
        assert_eq!(column(&db, long).await, ["120 0"], "every word of the long title, none with its lexemes");
        let key = "SELECT pg_get_indexdef('book_title_words_pkey'::regclass)";
        assert!(
            column(&db, key).await[0].ends_with("(word, book_id) INCLUDE (lexemes)"),
            "the key holds them"
        );
        Migrator::down(&db.conn, Some(1)).await.expect("down the lexemes");
        assert!(column(&db, key).await[0].ends_with("(word, book_id)"), "the key as it was");
        let lexemes = "SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'lexemes'";
        assert_eq!(column(&db, lexemes).await, ["0"]);
        Migrator::up(&db.conn, None).await.expect("the lexemes again");
        assert_eq!(column(&db, long).await, ["120 0"]);
    }

    let since_search = u32::try_from(Migrator::migrations().len()).unwrap() - BEFORE_SEARCH;
    Migrator::down(&db.conn, Some(since_search)).await.expect("down the search migration and those after it");
    assert_eq!(tables(&db).await, tables_before, "no search table is left");
    let books_columns = match db.backend {
        Backend::Sqlite => "SELECT name FROM pragma_table_info('books') ORDER BY name".to_owned(),
        Backend::Postgres => "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'books' ORDER BY 1"
            .to_owned(),
        Backend::MySql => "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = 'books' ORDER BY 1"
            .to_owned(),
    };
    assert_eq!(
        column(&db, &books_columns).await,
        ["created_at", "id", "isbn", "published_date", "title", "updated_at"],
        "the books table as it was"
    );
    Migrator::up(&db.conn, None).await.expect("and up again");
    assert_eq!(indexed(&db, "heights").await, [1]);
}
