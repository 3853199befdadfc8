//! Catalogue search: each book's title and authors as normalised words (`books.title_key`,
//! `books.author_key`, see `entity::search_key`), each backend's own full-text index over them, and an index
//! for the published-date filter.
//!
//! - PostgreSQL: a weighted `tsvector` column, `search_vector` (title words weight A, author words B, in
//!   the `simple` configuration, which only lower-cases: the keys are already folded, so no stemming or
//!   stop words make PostgreSQL disagree with the other backends), kept by a trigger whenever a key
//!   changes. Not a stored generated column: adding one rewrites the whole table under an exclusive lock,
//!   while a nullable column without a default is added instantly and the back-fill below fills it. The
//!   next migration builds its GIN index and the published-date index `CONCURRENTLY`, outside a
//!   transaction, so a deploy never blocks writes to `books` while they build.
//! - SQLite: an FTS5 external-content table over the two columns (no second copy of the text), kept in
//!   step by triggers on `books`.
//! - MariaDB/MySQL: FULLTEXT indexes over both columns and over the title alone, for BOOLEAN MODE. Their
//!   minimum word length and stop words are the service's business (it matches those words with `LIKE`).
//!
//! Existing books are keyed here, in batches, with the same function the service uses; `down` removes all
//! of it. Plain DDL and DML only, like every migration here: nothing that pins a proxy session.

use entity::search_key;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Books {
    Table,
    Id,
    Title,
    TitleKey,
    AuthorKey,
    PublishedDate,
}

#[derive(DeriveIden)]
enum BookAuthors {
    Table,
    BookId,
    AuthorId,
}

#[derive(DeriveIden)]
enum Authors {
    Table,
    Id,
    Name,
}

/// Serves `published_from`/`published_to` on the books lists (PostgreSQL's is built concurrently in
/// the next migration).
pub(crate) const PUBLISHED_INDEX: &str = "idx_books_published";
/// Books keyed per statement by the back-fill: a few thousand bound values, under every backend's limit.
const BATCH: u64 = 500;

const POSTGRES_UP: [&str; 3] = [
    "ALTER TABLE books ADD COLUMN search_vector tsvector",
    "CREATE FUNCTION books_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     NEW.search_vector := setweight(to_tsvector('simple'::regconfig, NEW.title_key), 'A') || \
     setweight(to_tsvector('simple'::regconfig, NEW.author_key), 'B'); RETURN NEW; END $$",
    "CREATE TRIGGER books_search_vector BEFORE INSERT OR UPDATE OF title_key, author_key ON books \
     FOR EACH ROW EXECUTE FUNCTION books_search_vector()",
];
const POSTGRES_DOWN: [&str; 3] = [
    "DROP TRIGGER books_search_vector ON books",
    "DROP FUNCTION books_search_vector()",
    "ALTER TABLE books DROP COLUMN search_vector",
];

const SQLITE_UP: [&str; 5] = [
    "CREATE VIRTUAL TABLE books_fts USING fts5(title_key, author_key, content='books', content_rowid='id')",
    "CREATE TRIGGER books_fts_insert AFTER INSERT ON books BEGIN \
     INSERT INTO books_fts(rowid, title_key, author_key) VALUES (new.id, new.title_key, new.author_key); END",
    "CREATE TRIGGER books_fts_delete AFTER DELETE ON books BEGIN \
     INSERT INTO books_fts(books_fts, rowid, title_key, author_key) \
     VALUES ('delete', old.id, old.title_key, old.author_key); END",
    "CREATE TRIGGER books_fts_update AFTER UPDATE ON books BEGIN \
     INSERT INTO books_fts(books_fts, rowid, title_key, author_key) \
     VALUES ('delete', old.id, old.title_key, old.author_key); \
     INSERT INTO books_fts(rowid, title_key, author_key) VALUES (new.id, new.title_key, new.author_key); END",
    // Indexes the books that were already there.
    "INSERT INTO books_fts(books_fts) VALUES ('rebuild')",
];
const SQLITE_DOWN: [&str; 4] = [
    "DROP TRIGGER books_fts_update",
    "DROP TRIGGER books_fts_delete",
    "DROP TRIGGER books_fts_insert",
    "DROP TABLE books_fts",
];

const MYSQL_UP: [&str; 2] = [
    "CREATE FULLTEXT INDEX ft_books_keys ON books (title_key, author_key)",
    "CREATE FULLTEXT INDEX ft_books_title ON books (title_key)",
];
const MYSQL_DOWN: [&str; 2] = ["DROP INDEX ft_books_title ON books", "DROP INDEX ft_books_keys ON books"];

fn key_column(name: Books) -> ColumnDef {
    ColumnDef::new(name).text().not_null().default("").take()
}

/// Runs raw statements in order (shared with `m20261202_000006`).
pub(crate) async fn run_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [Books::TitleKey, Books::AuthorKey] {
            manager
                .alter_table(Table::alter().table(Books::Table).add_column(key_column(column)).to_owned())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            // Before the back-fill, so the trigger fills `search_vector` as the keys are written.
            run_all(manager, &POSTGRES_UP).await?;
        }
        backfill(manager).await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => return Ok(()),
            DbBackend::Sqlite => run_all(manager, &SQLITE_UP).await?,
            _ => run_all(manager, &MYSQL_UP).await?,
        }
        manager
            .create_index(
                Index::create()
                    .name(PUBLISHED_INDEX)
                    .table(Books::Table)
                    .col(Books::PublishedDate)
                    .col(Books::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run_all(manager, &POSTGRES_DOWN).await?,
            backend => {
                manager
                    .drop_index(Index::drop().name(PUBLISHED_INDEX).table(Books::Table).to_owned())
                    .await?;
                let statements: &[&str] =
                    if backend == DbBackend::Sqlite { &SQLITE_DOWN } else { &MYSQL_DOWN };
                run_all(manager, statements).await?;
            }
        }
        for column in [Books::AuthorKey, Books::TitleKey] {
            manager.alter_table(Table::alter().table(Books::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Keys every existing book, `BATCH` books per `UPDATE … SET title_key = CASE id …`, in id order.
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let mut after = 0_i64;
    loop {
        let books = Query::select()
            .columns([Books::Id, Books::Title])
            .from(Books::Table)
            .and_where(Expr::col(Books::Id).gt(after))
            .order_by(Books::Id, Order::Asc)
            .limit(BATCH)
            .to_owned();
        let mut keyed = Vec::new();
        for row in db.query_all_raw(backend.build(&books)).await? {
            let (id, title): (i64, String) = (row.try_get("", "id")?, row.try_get("", "title")?);
            keyed.push((id, search_key::key(&title), Vec::new()));
        }
        let Some(last) = keyed.last().map(|(id, _, _)| *id) else { return Ok(()) };
        let ids: Vec<i64> = keyed.iter().map(|(id, _, _)| *id).collect();
        let names = Query::select()
            .column((BookAuthors::Table, BookAuthors::BookId))
            .column((Authors::Table, Authors::Name))
            .from(BookAuthors::Table)
            .inner_join(
                Authors::Table,
                Expr::col((Authors::Table, Authors::Id)).equals((BookAuthors::Table, BookAuthors::AuthorId)),
            )
            .and_where(Expr::col((BookAuthors::Table, BookAuthors::BookId)).is_in(ids.clone()))
            .order_by((BookAuthors::Table, BookAuthors::AuthorId), Order::Asc)
            .to_owned();
        for row in db.query_all_raw(backend.build(&names)).await? {
            let (book_id, name): (i64, String) = (row.try_get("", "book_id")?, row.try_get("", "name")?);
            if let Some((_, _, names)) = keyed.iter_mut().find(|(id, _, _)| *id == book_id) {
                names.push(name);
            }
        }
        let (mut titles, mut authors) = (CaseStatement::new(), CaseStatement::new());
        for (id, title_key, names) in keyed {
            let author_key = search_key::key_of_all(names.iter().map(String::as_str));
            titles = titles.case(Expr::col(Books::Id).eq(id), title_key);
            authors = authors.case(Expr::col(Books::Id).eq(id), author_key);
        }
        let update = Query::update()
            .table(Books::Table)
            .value(Books::TitleKey, Expr::Case(Box::new(titles.finally(""))))
            .value(Books::AuthorKey, Expr::Case(Box::new(authors.finally(""))))
            .and_where(Expr::col(Books::Id).is_in(ids))
            .to_owned();
        db.execute_raw(backend.build(&update)).await?;
        after = last;
    }
}
