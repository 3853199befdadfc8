//! PostgreSQL: each row of `book_title_words` also carries its title's lexemes (`lexemes`, the title's
//! `tsvector` without positions), and the table's key includes them (`PRIMARY KEY (word, book_id) INCLUDE
//! (lexemes)`), so a search of two words reads one word's rows and tests the others on the index alone.
//!
//! Before, "crimson garden" read ~320 rows of "crimson" and looked each book up by its key to test
//! "garden" (~960 buffers for a page of 21); now the ~300 books that fail are dropped while their rows are
//! read, and only the page's books are looked up (~70 buffers). A row keeps no lexemes (`NULL`) when its
//! word and they would take more than [`KEPT_BYTES`]: an index entry has a size limit (2,704 bytes with
//! 8 kB pages), and only a title that normalisation lengthened many times over comes near it; such a row
//! passes the test and its book is tested instead.
//!
//! Expand only, so the previous release runs on the new schema: a new nullable column, the trigger
//! function replaced (the previous code never writes the table itself), and a new key built beside the
//! old one before it takes its place. Outside a transaction, like the other index builds
//! (`m20261202_000003`): the key is built `CONCURRENTLY`, and the back-fill runs in batches of
//! [`BATCH_BOOKS`] books, each its own transaction, so no title edit waits for all of them. A row the
//! back-fill has not reached yet is `NULL`, which every search already reads correctly; each step is
//! idempotent, so a deploy that failed half-way runs again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::m20261202_000001_book_search::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The most bytes a row's word and lexemes may take for it to keep them (see the module's comment).
const KEPT_BYTES: i32 = 2_000;
/// Books per back-fill statement.
const BATCH_BOOKS: i64 = 20_000;

/// A row's lexemes, or `NULL` when they and its word are too long to keep.
fn kept(word: &str, lexemes: &str) -> String {
    format!("CASE WHEN octet_length({word}) + pg_column_size({lexemes}) <= {KEPT_BYTES} THEN {lexemes} END")
}

/// The trigger function, `m20261202_000006`'s with the lexemes written too.
fn function() -> String {
    format!(
        "CREATE OR REPLACE FUNCTION book_title_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF TG_OP = 'UPDATE' THEN DELETE FROM book_title_words WHERE book_id = NEW.id; END IF; \
         INSERT INTO book_title_words (word, book_id, lexemes) \
         SELECT word, NEW.id, {} \
         FROM (SELECT strip(to_tsvector('simple'::regconfig, NEW.title_key)) AS lexemes) AS title, \
         unnest(tsvector_to_array(title.lexemes)) AS word; \
         RETURN NULL; END $$",
        kept("word", "title.lexemes")
    )
}

/// The previous function (`m20261202_000006`), for `down`.
const PREVIOUS_FUNCTION: &str = "CREATE OR REPLACE FUNCTION book_title_words() RETURNS trigger LANGUAGE plpgsql \
     AS $$ BEGIN \
     IF TG_OP = 'UPDATE' THEN DELETE FROM book_title_words WHERE book_id = NEW.id; END IF; \
     INSERT INTO book_title_words (word, book_id) \
     SELECT word, NEW.id FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, NEW.title_key))) AS word; \
     RETURN NULL; END $$";

/// The rows of the books with ids in `(after, last]` that have no lexemes yet get them.
fn backfill(after: i64, last: i64) -> String {
    format!(
        "UPDATE book_title_words AS w SET lexemes = {} \
         FROM (SELECT id, strip(to_tsvector('simple'::regconfig, title_key)) AS lexemes FROM books \
         WHERE id > {after} AND id <= {last}) AS title \
         WHERE w.book_id = title.id AND w.lexemes IS NULL",
        kept("w.word", "title.lexemes")
    )
}

/// Makes the unique index `index` the table's primary key, named as before, in place of the one before
/// (whose index goes with it). One statement, so the key is never missing or misnamed.
fn key_from(index: &str) -> String {
    format!(
        "DO $$ BEGIN ALTER TABLE book_title_words DROP CONSTRAINT book_title_words_pkey, \
         ADD CONSTRAINT {index} PRIMARY KEY USING INDEX {index}; \
         ALTER TABLE book_title_words RENAME CONSTRAINT {index} TO book_title_words_pkey; END $$"
    )
}

/// Whether the table's key includes the lexemes: `up` ran to its end.
async fn key_has_lexemes<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    let sql =
        "SELECT indnatts > indnkeyatts FROM pg_index WHERE indexrelid = 'book_title_words_pkey'::regclass";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(row.map(|row| row.try_get_by_index::<bool>(0)).transpose()?.unwrap_or(false))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE book_title_words ADD COLUMN IF NOT EXISTS lexemes tsvector")
            .await?;
        // Before the back-fill: a book written meanwhile gets its lexemes from the trigger.
        db.execute_unprepared(&function()).await?;
        let last = db
            .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT max(id) FROM books"))
            .await?
            .map(|row| row.try_get_by_index::<Option<i64>>(0))
            .transpose()?
            .flatten()
            .unwrap_or(0);
        let mut after = 0;
        while after < last {
            let through = after.saturating_add(BATCH_BOOKS);
            db.execute_unprepared(&backfill(after, through)).await?;
            after = through;
        }
        if key_has_lexemes(db).await? {
            return Ok(());
        }
        run_all(
            manager,
            &[
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS book_title_words_lexemes \
                 ON book_title_words (word, book_id) INCLUDE (lexemes)",
                &key_from("book_title_words_lexemes"),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        if key_has_lexemes(manager.get_connection()).await? {
            let plain = "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS book_title_words_words \
                         ON book_title_words (word, book_id)";
            run_all(manager, &[plain, &key_from("book_title_words_words")]).await?;
        }
        run_all(manager, &[PREVIOUS_FUNCTION, "ALTER TABLE book_title_words DROP COLUMN IF EXISTS lexemes"])
            .await
    }

    /// `CREATE INDEX CONCURRENTLY` refuses to run inside a transaction block, and the back-fill commits
    /// each batch.
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }
}
