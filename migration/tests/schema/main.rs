//! The migrations round-trip on every backend (up, all the way down, up again) and leave the schema the
//! service relies on: the tables, the unique keys, the foreign keys with their ON DELETE rules, and the
//! constraints that make the rules hold even against a buggy caller.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod constraints;
mod introspect;
mod roles;
mod search;

use migration::testkit::TestDb;
use migration::{Migrator, MigratorTrait};

use introspect::{foreign_keys, tables, unique_keys};

const TABLES: [&str; 9] = [
    "authors",
    "book_authors",
    "books",
    "borrowers",
    "idempotency_keys",
    "idempotency_slots",
    "loan_history",
    "loans",
    "reviews",
];

/// SQLite's FTS5 index of the catalogue search: the virtual table and the tables it keeps its index in.
const SQLITE_SEARCH_TABLES: [&str; 5] =
    ["books_fts", "books_fts_config", "books_fts_data", "books_fts_docsize", "books_fts_idx"];

/// PostgreSQL's table of every title's words, read by searches of two words or more.
const POSTGRES_SEARCH_TABLES: [&str; 1] = ["book_title_words"];

async fn assert_full_schema(db: &TestDb) {
    let mut expected = TABLES.map(str::to_owned).to_vec();
    match db.backend {
        migration::testkit::Backend::Sqlite => expected.extend(SQLITE_SEARCH_TABLES.map(str::to_owned)),
        migration::testkit::Backend::Postgres => expected.extend(POSTGRES_SEARCH_TABLES.map(str::to_owned)),
        migration::testkit::Backend::MySql => {}
    }
    expected.sort();
    assert_eq!(tables(db).await, expected, "tables after up");
    assert_eq!(
        unique_keys(db).await,
        vec![
            ("books".to_owned(), "isbn".to_owned()),
            ("borrowers".to_owned(), "auth_subject".to_owned()),
            ("borrowers".to_owned(), "email".to_owned()),
            ("loans".to_owned(), "book_id".to_owned()),
            ("reviews".to_owned(), "book_id,borrower_id".to_owned()),
        ],
        "unique keys"
    );
    let mut expected_fks = vec![
        ("book_authors", "authors", "CASCADE"),
        ("book_authors", "books", "CASCADE"),
        ("loan_history", "books", "CASCADE"),
        ("loan_history", "borrowers", "CASCADE"),
        ("loans", "books", "RESTRICT"),
        ("loans", "borrowers", "RESTRICT"),
        ("reviews", "books", "CASCADE"),
        ("reviews", "borrowers", "CASCADE"),
    ];
    if db.backend == migration::testkit::Backend::Postgres {
        expected_fks.insert(2, ("book_title_words", "books", "CASCADE"));
    }
    assert_eq!(
        foreign_keys(db).await,
        expected_fks
            .into_iter()
            .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
            .collect::<Vec<_>>(),
        "foreign keys (table, referenced table, on delete)"
    );
}

async fn migrations_round_trip(db: TestDb) {
    Migrator::up(&db.conn, None).await.expect("first up");
    assert_full_schema(&db).await;
    assert!(Migrator::get_pending_migrations(&db.conn).await.unwrap().is_empty());

    Migrator::down(&db.conn, None).await.expect("down all the way");
    assert_eq!(tables(&db).await, Vec::<String>::new(), "no table of ours is left after down");
    assert_eq!(Migrator::get_applied_migrations(&db.conn).await.unwrap().len(), 0);

    Migrator::up(&db.conn, None).await.expect("second up");
    assert_full_schema(&db).await;
    constraints::hold(&db).await;
}

macro_rules! on_every_backend {
    ($($module:ident => $variant:ident),*) => {$(
        mod $module {
            #[tokio::test]
            async fn migrations_round_trip() {
                if let Some(db) = migration::testkit::TestDb::empty(migration::testkit::Backend::$variant).await {
                    super::migrations_round_trip(db).await;
                }
            }

            #[tokio::test]
            async fn search_migration_keys_existing_books_and_rolls_back() {
                if let Some(db) = migration::testkit::TestDb::empty(migration::testkit::Backend::$variant).await {
                    super::search::keys_existing_books_and_rolls_back(db).await;
                }
            }
        }
    )*};
}

on_every_backend!(sqlite => Sqlite, postgres => Postgres, mysql => MySql);
