//! PostgreSQL: every title's words as rows, `book_title_words (word, book_id)`, in the order of the primary
//! key, so a search can read one word's titles in id order and stop at a full page.
//!
//! The full-text index returns a word's matches as a bitmap, all of them at once: cheap for a rare word,
//! but two common words ("crimson garden", each in one title in eight, together in one in 120) made a
//! page either read both words' thousands of matches from it or walk ~2,500 books in id order testing
//! each. Read from here, the same page walks one word's titles (~300 rows of an index) and looks up only
//! those books. The rows are the title's lexemes as `search_vector` holds them (weight A), so both agree.
//!
//! Kept by triggers on `books` (a new book, a changed `title_key`); a deleted book's rows go with it
//! (`ON DELETE CASCADE`, served by the `book_id` index). The table is new, so its indexes are built
//! before it holds a row and no `CONCURRENTLY` is needed; the back-fill runs in the migration's
//! transaction, after the triggers exist, so no book is missed. `word` sorts by bytes (`COLLATE "C"`):
//! the order is only ever read for one word at a time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261202_000001_book_search::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 6] = [
    "CREATE TABLE book_title_words (word text COLLATE \"C\" NOT NULL, \
     book_id bigint NOT NULL REFERENCES books (id) ON DELETE CASCADE, PRIMARY KEY (word, book_id))",
    "CREATE INDEX idx_book_title_words_book ON book_title_words (book_id)",
    "CREATE FUNCTION book_title_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP = 'UPDATE' THEN DELETE FROM book_title_words WHERE book_id = NEW.id; END IF; \
     INSERT INTO book_title_words (word, book_id) \
     SELECT word, NEW.id FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, NEW.title_key))) AS word; \
     RETURN NULL; END $$",
    "CREATE TRIGGER book_title_words_insert AFTER INSERT ON books \
     FOR EACH ROW EXECUTE FUNCTION book_title_words()",
    "CREATE TRIGGER book_title_words_update AFTER UPDATE OF title_key ON books FOR EACH ROW \
     WHEN (OLD.title_key IS DISTINCT FROM NEW.title_key) EXECUTE FUNCTION book_title_words()",
    "INSERT INTO book_title_words (word, book_id) \
     SELECT word, books.id FROM books, unnest(tsvector_to_array(to_tsvector('simple'::regconfig, books.title_key))) AS word",
];

const DOWN: [&str; 4] = [
    "DROP TRIGGER book_title_words_update ON books",
    "DROP TRIGGER book_title_words_insert ON books",
    "DROP FUNCTION book_title_words()",
    "DROP TABLE book_title_words",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run_all(manager, &UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run_all(manager, &DOWN).await
    }
}
