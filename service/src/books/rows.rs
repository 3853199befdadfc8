//! One page of books in one statement: the books matching a condition in id order, each with its authors
//! and whether it is on loan. Every books list and search page is read through [`fetch`].

use entity::{author, book, book_author, loan};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    Condition, ConnectionTrait, DbBackend, Order, QueryResult, Statement, StatementBuilder, Value, Values,
};

use super::list::{BookSummary, ListedBook};
use crate::Result;

/// The column holding the id of a listed book's active loan (none when the book is available).
const LOAN_ID: &str = "active_loan_id";
/// The rank column of a ranked page (see [`Shape::first`]).
const RANK: &str = "first_tier";
/// The book's columns a page reads, first in each row, in this order ([`ListedBook`]'s fields).
const LISTED: [book::Column; 4] =
    [book::Column::Id, book::Column::Title, book::Column::Isbn, book::Column::PublishedDate];

/// The author's columns a page reads, after the book's (and the loan's), in this order.
const AUTHOR_COLUMNS: [author::Column; 5] = [
    author::Column::Id,
    author::Column::Name,
    author::Column::CreatedAt,
    author::Column::UpdatedAt,
    author::Column::Version,
];

/// PostgreSQL's table of every title's words, one row per (word, book), keyed in that order (migration
/// `m20261202_000006`).
pub(super) const TITLE_WORDS: &str = "book_title_words";
/// How many of a word's rows a [`Scan::Words`] page reads at most.
pub(super) const WORDS_READ: u64 = 4_000;

/// How a page's books are found in id order.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Scan {
    /// Walking the primary key, testing the condition on each book, until the page is full.
    Walk,
    /// The same, over the ids in `after + 1 ..= end` only, and never from the full-text index (whose list
    /// of a common word's matches would all be read to intersect them with the range): on PostgreSQL the
    /// range is read in a derived table with `OFFSET 0`, which the planner keeps apart, so the search
    /// condition can only filter its rows.
    Window { after: i64, end: i64 },
    /// PostgreSQL only: the books whose titles hold `word`, from [`TITLE_WORDS`] in id order, its first
    /// [`WORDS_READ`] rows after `after`, each row tested by `rows_tested` (a condition on
    /// [`words_lexemes`]) as it is read; each book that passes is looked up by its key and tested (a
    /// lateral join with a `LIMIT`, which the planner cannot turn into a join that reads every book, nor
    /// hand the condition to the full-text index).
    Words { word: String, after: i64, rows_tested: Expr },
    /// Every match from whatever index serves the condition, then sorted (`ORDER BY id + 0`, which no
    /// index provides, so the planner cannot walk the key instead).
    Sort,
}

/// How one page is read, beyond its condition.
#[derive(Clone, Debug)]
pub(super) struct Shape {
    pub scan: Scan,
    /// What the condition already says of every book's availability (`Some` for the availability
    /// lists): then the loans are not joined again.
    pub available: Option<bool>,
    /// A condition each book comes with whether it met (a search's title tier).
    pub first: Option<Expr>,
    /// Whether the books meeting `first` come before the others (else the page is in id order only).
    pub first_first: bool,
    /// A boolean of the whole statement, worked out once and read back with its rows (see [`Fetched`]).
    pub also: Option<Expr>,
}

impl Shape {
    pub(super) fn new(scan: Scan, available: Option<bool>) -> Self {
        Self { scan, available, first: None, first_first: false, also: None }
    }

    /// Books meeting `first` before the others, each with whether it did.
    pub(super) fn ranked(self, first: Expr) -> Self {
        Self { first: Some(first), first_first: true, ..self }
    }

    /// Books in id order, each with whether it met `first`.
    pub(super) fn marked(self, first: Expr) -> Self {
        Self { first: Some(first), first_first: false, ..self }
    }

    /// The statement also answers `also`, a boolean that depends on no book (see [`Fetched::also`]).
    pub(super) fn also(self, also: Expr) -> Self {
        Self { also: Some(also), ..self }
    }
}

/// A page's books, each with whether it met the shape's `first` condition (always `false` without one).
pub(super) struct Fetched {
    pub books: Vec<(bool, BookSummary)>,
    /// The value of the shape's `also`; `None` without one, or when no row came back to carry it.
    pub also: Option<bool>,
}

/// Up to `limit` books matching `condition` in id order, found as `shape` says, each with its authors (in
/// id order) and whether it is available: `SELECT page.*, loans.id, authors.* FROM (SELECT … FROM books
/// WHERE … ORDER BY id LIMIT n) AS page LEFT JOIN loans … LEFT JOIN book_authors … LEFT JOIN authors …
/// ORDER BY page.id`.
///
/// Everything is joined outside the page's derived table, so it is looked up for that page's books only,
/// by index, however many books the condition matches: the active loan (one at most per book:
/// `loans.book_id` is unique) and one row per author (one with no author columns for a book without).
/// One statement rather than a second for the authors: a list page's cost was per statement (building,
/// sending, planning and decoding each), not the few index lookups.
pub(super) async fn fetch<C: ConnectionTrait>(
    db: &C,
    condition: Condition,
    limit: u64,
    shape: Shape,
) -> Result<Vec<BookSummary>> {
    let books = fetch_ranked(db, condition, limit, shape).await?.books;
    Ok(books.into_iter().map(|(_, summary)| summary).collect())
}

/// As [`fetch`], each book with whether it met the shape's `first` condition, and the shape's `also`.
pub(super) async fn fetch_ranked<C: ConnectionTrait>(
    db: &C,
    condition: Condition,
    limit: u64,
    shape: Shape,
) -> Result<Fetched> {
    let backend = db.get_database_backend();
    let columns =
        Columns { ranked: shape.first.is_some(), available: shape.available, also: shape.also.is_some() };
    let statement = built(backend, &page_query(backend, condition, limit, shape), limit);
    decode(&db.query_all_raw(statement).await?, columns)
}

/// The statement of `query`, a page of `limit` books, for `backend` (on PostgreSQL with its page size
/// written in: [`with_literal_limits`]).
pub(super) fn built<S: StatementBuilder>(backend: DbBackend, query: &S, limit: u64) -> Statement {
    let statement = backend.build(query);
    if backend == DbBackend::Postgres { with_literal_limits(statement, limit) } else { statement }
}

/// Which of the optional columns a page's rows hold, as its [`Shape`] says.
#[derive(Clone, Copy, Debug)]
pub(super) struct Columns {
    /// The rank column (a `first` condition).
    pub ranked: bool,
    /// The shape's `available`: `None` when each row says it with its loan's id.
    pub available: Option<bool>,
    /// The `also` column, last.
    pub also: bool,
}

/// The books of a page's rows, each with whether it met the shape's `first` condition, and its `also`.
pub(super) fn decode(rows: &[QueryResult], columns: Columns) -> Result<Fetched> {
    let Columns { ranked, available, also } = columns;
    let mut books: Vec<(bool, BookSummary)> = Vec::new();
    // By position, in the order `page_query` selects them: the book's columns, the rank, the loan's id,
    // the author's columns (not by name, which formatted and looked up five column names per row), `also`.
    let loan_at = LISTED.len() + usize::from(ranked);
    let author_at = loan_at + usize::from(available.is_none());
    let also = match rows.first() {
        Some(row) if also => Some(row.try_get_by_index::<bool>(author_at + AUTHOR_COLUMNS.len())?),
        _ => None,
    };
    for row in rows {
        let id: i64 = row.try_get_by_index(0)?;
        let author = author_in(row, author_at)?;
        match books.last_mut() {
            Some((_, summary)) if summary.book.id == id => summary.authors.extend(author),
            _ => {
                let book = ListedBook {
                    id,
                    title: row.try_get_by_index(1)?,
                    isbn: row.try_get_by_index(2)?,
                    published_date: row.try_get_by_index(3)?,
                };
                let first = ranked && row.try_get_by_index::<i64>(LISTED.len())? == 1;
                let available = match available {
                    Some(known) => known,
                    None => row.try_get_by_index::<Option<i64>>(loan_at)?.is_none(),
                };
                let authors = author.into_iter().collect();
                books.push((first, BookSummary { book, authors, available }));
            }
        }
    }
    for (_, summary) in &mut books {
        // Ordered here, not in SQL: a sort key beyond the page's id would sort the joined rows.
        summary.authors.sort_unstable_by_key(|author| author.id);
    }
    Ok(Fetched { books, also })
}

/// The author in a page's row, from its [`AUTHOR_COLUMNS`] at `at` on; `None` in the row of a book without
/// authors.
fn author_in(row: &QueryResult, at: usize) -> Result<Option<author::Model>> {
    let Some(id) = row.try_get_by_index::<Option<i64>>(at)? else {
        return Ok(None);
    };
    Ok(Some(author::Model {
        id,
        name: row.try_get_by_index(at + 1)?,
        created_at: row.try_get_by_index(at + 2)?,
        updated_at: row.try_get_by_index(at + 3)?,
        version: row.try_get_by_index(at + 4)?,
    }))
}

/// The rank column: 1 for a book meeting `first`, else 0, as a 64-bit integer on every backend.
fn rank(backend: DbBackend, first: Expr) -> Expr {
    let integer = if backend == DbBackend::MySql { "SIGNED" } else { "BIGINT" };
    Expr::case(first, 1).finally(0).cast_as(Alias::new(integer))
}

pub(super) fn page_query(
    backend: DbBackend,
    condition: Condition,
    limit: u64,
    shape: Shape,
) -> SelectStatement {
    let Shape { scan, available, first, first_first, also } = shape;
    let sorted = matches!(scan, Scan::Sort);
    let id = Expr::col((book::Entity, book::Column::Id));
    let mut inner = Query::select();
    inner.columns(LISTED.map(|column| (book::Entity, column)));
    let first = first.map(|first| rank(backend, first));
    if let Some(first) = &first {
        inner.expr_as(first.clone(), Alias::new(RANK));
    }
    match scan {
        Scan::Window { after, end } if backend == DbBackend::Postgres => {
            // The columns the page and the conditions read (`search_vector` is PostgreSQL's own, not the
            // entity's), not every column of every book walked past.
            let range = Query::select()
                .columns(LISTED)
                .column(Alias::new("search_vector"))
                .from(book::Entity)
                .and_where(id.clone().gt(after))
                .and_where(id.clone().lte(end))
                .order_by(book::Column::Id, Order::Asc)
                .offset(0)
                .to_owned();
            inner.from_subquery(range, book::Entity);
        }
        Scan::Window { after, end } => {
            inner.from(book::Entity).and_where(id.clone().gt(after)).and_where(id.clone().lte(end));
        }
        Scan::Words { word, after, rows_tested } => {
            inner.from_subquery(titled(word, after, rows_tested), book::Entity);
        }
        Scan::Walk | Scan::Sort => {
            inner.from(book::Entity);
        }
    }
    if first_first {
        inner.order_by_expr(Expr::col(Alias::new(RANK)), Order::Desc);
    }
    // `+ 0` written in, not bound: a bound 0 is still no index's order, but plainer to read in a plan.
    let key = if sorted { id.add(Expr::cust("0")) } else { id };
    inner.cond_where(condition).order_by_expr(key, Order::Asc).limit(limit);
    let page = Alias::new("page");
    let join_loans = available.is_none();
    let mut statement = Query::select();
    statement.column((page.clone(), Asterisk));
    if join_loans {
        statement.expr_as(Expr::col((loan::Entity, loan::Column::Id)), LOAN_ID);
    }
    statement.columns(AUTHOR_COLUMNS.map(|column| (author::Entity, column)));
    if let Some(also) = also {
        statement.expr_as(also, Alias::new("also"));
    }
    statement.from_subquery(inner, page.clone());
    if join_loans {
        statement.left_join(
            loan::Entity,
            Expr::col((loan::Entity, loan::Column::BookId)).equals((page.clone(), book::Column::Id)),
        );
    }
    if first_first {
        statement.order_by((page.clone(), Alias::new(RANK)), Order::Desc);
    }
    statement
        .left_join(
            book_author::Entity,
            Expr::col((book_author::Entity, book_author::Column::BookId))
                .equals((page.clone(), book::Column::Id)),
        )
        .left_join(
            author::Entity,
            Expr::col((author::Entity, author::Column::Id))
                .equals((book_author::Entity, book_author::Column::AuthorId)),
        )
        .order_by((page, book::Column::Id), Order::Asc)
        .to_owned()
}

/// The `lexemes` of a [`Scan::Words`] row: its title's, as the table's key holds them (migration
/// `m20261203_000001`), so a condition on them is tested on the index alone.
pub(super) fn words_lexemes() -> Expr {
    Expr::col((Alias::new(WORDS_ROW), Alias::new("lexemes")))
}

/// The alias of a [`Scan::Words`] row.
const WORDS_ROW: &str = "w";

/// The derived table of [`Scan::Words`]: `SELECT w.book_id AS id, b.title, … FROM (SELECT book_id, lexemes
/// FROM book_title_words WHERE word = $1 AND book_id > $2 ORDER BY book_id LIMIT n) AS w JOIN LATERAL
/// (SELECT … FROM books WHERE books.id = w.book_id LIMIT 1) AS b ON TRUE WHERE <rows_tested> ORDER BY
/// w.book_id OFFSET 0`. The rows' test is on `w` alone, so it runs on each row read, before the lookup. Its
/// `id` is the word row's, so the page's `ORDER BY id` is the order the rows are read in, and the page
/// stops reading when it is full.
fn titled(word: String, after: i64, rows_tested: Expr) -> SelectStatement {
    let (words, found, book_id) = (Alias::new(TITLE_WORDS), Alias::new(WORDS_ROW), Alias::new("book_id"));
    let rows = Query::select()
        .column(book_id.clone())
        .column(Alias::new("lexemes"))
        .from(words)
        .and_where(Expr::col(Alias::new("word")).eq(word))
        .and_where(Expr::col(book_id.clone()).gt(after))
        .order_by(book_id.clone(), Order::Asc)
        .limit(WORDS_READ)
        .to_owned();
    let listed = Alias::new("b");
    let book = Query::select()
        .columns(LISTED[1..].iter().copied())
        .column(Alias::new("search_vector"))
        .from(book::Entity)
        .and_where(Expr::col((book::Entity, book::Column::Id)).equals((found.clone(), book_id.clone())))
        .limit(1)
        .to_owned();
    let mut table = Query::select();
    table.expr_as(Expr::col((found.clone(), book_id.clone())), book::Column::Id);
    table.columns(LISTED[1..].iter().map(|column| (listed.clone(), *column)));
    table
        .column((listed.clone(), Alias::new("search_vector")))
        .from_subquery(rows, found.clone())
        .join_lateral(JoinType::InnerJoin, book, listed, Expr::cust("TRUE"))
        .and_where(rows_tested)
        .order_by((found, book_id), Order::Asc)
        .offset(0)
        .to_owned()
}

/// The id of the book in `word`'s [`WORDS_READ`]th row after `after` (where a [`Scan::Words`] page stopped
/// reading), or `None` when it has fewer rows: then that page read them all.
pub(super) async fn words_end<C: ConnectionTrait>(db: &C, word: &str, after: i64) -> Result<Option<i64>> {
    let book_id = Alias::new("book_id");
    let last = Query::select()
        .column(book_id.clone())
        .from(Alias::new(TITLE_WORDS))
        .and_where(Expr::col(Alias::new("word")).eq(word))
        .and_where(Expr::col(book_id.clone()).gt(after))
        .order_by(book_id, Order::Asc)
        .offset(WORDS_READ - 1)
        .limit(1)
        .to_owned();
    let row = db.query_one(&last).await?;
    Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?)
}

/// The PostgreSQL statement with its page size written in rather than bound (the other values stay bound):
/// every `LIMIT $n` whose value is `limit`.
///
/// PostgreSQL plans a prepared statement once for any values (a generic plan), and keeps that plan, when it
/// looks no dearer than the plans made for each run's values. A bound `LIMIT` is estimated at a tenth of
/// the table, so the generic plan of a page joined whole tables by hashing (132 ms at 100,000 books) and
/// every run was planned afresh (0.17 ms, more than running it: 0.11 ms). Written in, the size is known to
/// the generic plan, which is then the nested loop over 21 books and is kept. The size is one of a hundred
/// numbers, so there are at most that many statements per list shape. The placeholders after a removed
/// one are numbered down.
fn with_literal_limits(statement: Statement, limit: u64) -> Statement {
    let Statement { sql, values, db_backend } = statement;
    let Some(Values(values)) = values else {
        return Statement { sql, values, db_backend };
    };
    let (mut text, mut kept) = (String::with_capacity(sql.len()), Vec::with_capacity(values.len()));
    let mut rest = sql.as_str();
    while let Some(at) = rest.find('$') {
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let number: Option<usize> = rest[at + 1..at + 1 + digits].parse().ok();
        let value = number.and_then(|n| n.checked_sub(1)).and_then(|n| values.get(n));
        text.push_str(&rest[..at]);
        match value {
            Some(Value::BigUnsigned(Some(bound))) if *bound == limit && text.ends_with("LIMIT ") => {
                text.push_str(&limit.to_string());
            }
            Some(value) => {
                kept.push(value.clone());
                text.push_str(&format!("${}", kept.len()));
            }
            None => text.push_str(&rest[at..=at + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    text.push_str(rest);
    Statement { sql: text, values: Some(Values(kept)), db_backend }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use sea_orm::ColumnTrait;
    use sea_orm::sea_query::PostgresQueryBuilder;

    use super::*;

    fn rendered(condition: Condition) -> Statement {
        with_literal_limits(
            DbBackend::Postgres.build(&page_query(
                DbBackend::Postgres,
                condition,
                21,
                Shape::new(Scan::Walk, None),
            )),
            21,
        )
    }

    #[test]
    fn every_limit_of_the_page_size_is_written_in_and_the_later_values_numbered_down() {
        let sql = "SELECT a FROM t WHERE x = $1 LIMIT $2 UNION ALL SELECT b FROM u WHERE y = $3 LIMIT $4 OFFSET $5 \
                   UNION ALL SELECT c FROM v LIMIT $6";
        let values: [Value; 6] =
            ["w".into(), 21_u64.into(), "v".into(), 4_000_u64.into(), 21_u64.into(), 21_u64.into()];
        let written =
            with_literal_limits(Statement::from_sql_and_values(DbBackend::Postgres, sql, values), 21);
        assert_eq!(
            written.sql,
            "SELECT a FROM t WHERE x = $1 LIMIT 21 UNION ALL SELECT b FROM u WHERE y = $2 LIMIT $3 OFFSET $4 \
             UNION ALL SELECT c FROM v LIMIT 21",
            "another size stays bound, and so does an offset of the same value"
        );
        let kept: [Value; 4] = ["w".into(), "v".into(), 4_000_u64.into(), 21_u64.into()];
        assert_eq!(written.values.unwrap().0, kept);
    }

    #[test]
    fn the_page_size_is_written_in_and_every_other_value_stays_bound() {
        let first = rendered(Condition::all());
        assert!(first.sql.contains("LIMIT 21)"), "{}", first.sql);
        assert_eq!(first.values.map(|v| v.0.len()), Some(0));

        let filtered =
            Condition::all().add(book::Column::Id.gt(500)).add(book::Column::Isbn.eq("9780441172719"));
        let next = rendered(filtered.clone());
        assert!(next.sql.contains("LIMIT 21)") && next.sql.contains("$2") && !next.sql.contains("$3"));
        let expected = DbBackend::Postgres.build(&page_query(
            DbBackend::Postgres,
            filtered,
            21,
            Shape::new(Scan::Walk, None),
        ));
        let mut bound = expected.values.unwrap().0;
        bound.pop();
        assert_eq!(next.values.unwrap().0, bound, "the same values, less the size");
        let literal = page_query(DbBackend::Postgres, Condition::all(), 21, Shape::new(Scan::Walk, None));
        assert_eq!(first.sql, literal.to_string(PostgresQueryBuilder), "as if every value were written in");
    }
}
