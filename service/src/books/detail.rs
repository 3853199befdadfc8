//! A book's page, `GET /books/{id}`: the hottest read of the API, so one statement whatever the book.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use entity::{author, book, book_author, loan, review};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoIden, Query, SelectStatement, TableRef};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, FromQueryResult, IdenStatic, Iterable, Statement, Value,
};

use super::{BookDetail, CurrentLoan};
use crate::loans::is_overdue;
use crate::{Result, ServiceError};

/// A book with its authors, current loan and review statistics, in one query whatever the book.
///
/// The detail is the hottest read of the API, and its cost was round trips, not work: four queries meant
/// four network exchanges and four trips through the driver for a few index lookups. So the book, its
/// active loan (at most one: `loans.book_id` is unique) and its authors are joined, one row per author
/// (one row with no author columns when it has none), and the review statistics come from an aggregate
/// over `reviews` filtered by the same id, computed once and joined to every row.
///
/// # Errors
/// `NotFound` when there is no such book.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<BookDetail> {
    let rows = db.query_all_raw(detail_statement(db.get_database_backend(), id)).await?;
    let first = rows.first().ok_or(ServiceError::NotFound { entity: "book", id })?;
    let book = book::Model::from_query_result(first, BOOK)?;
    let due_at: Option<DateTime<Utc>> = first.try_get("", "loan_due_at")?;
    let count: i64 = first.try_get("", "review_count")?;
    let total: Option<i64> = first.try_get("", "review_total")?;
    let mut authors = Vec::with_capacity(rows.len());
    for row in &rows {
        authors.extend(Option::<author::Model>::from_query_result(row, AUTHOR)?);
    }
    // Ordered here, not in SQL: pgbench ran this statement at 12,600 tps with `ORDER BY` and 15,900 without.
    authors.sort_unstable_by_key(|author| author.id);
    Ok(BookDetail {
        book,
        authors,
        current_loan: due_at.map(|due_at| CurrentLoan { overdue: is_overdue(due_at, Utc::now()), due_at }),
        review_count: count,
        average_rating: average(count, total),
    })
}

/// The detail query for `id`, rendered once per backend and reused: only the id changes between requests,
/// and building and rendering the statement (column aliases, joins, the derived table) was a quarter of a
/// request's instructions in the profile (BENCHMARKS.md).
fn detail_statement(backend: DbBackend, id: i64) -> Statement {
    /// The SQL, and how many times the id is bound in it.
    static RENDERED: [OnceLock<(String, usize)>; 3] = [const { OnceLock::new() }; 3];
    let slot = match backend {
        DbBackend::Postgres => 0,
        DbBackend::MySql => 1,
        DbBackend::Sqlite => 2,
        _ => return backend.build(&detail_query(backend, id)),
    };
    let (sql, binds) = RENDERED[slot].get_or_init(|| {
        let Statement { sql, values, .. } = backend.build(&detail_query(backend, 0));
        (sql, values.map_or(0, |values| values.0.len()))
    });
    Statement::from_sql_and_values(backend, sql.clone(), vec![Value::from(id); *binds])
}

/// Column prefixes of the detail query, so a book's and an author's `id` and `name` stay apart.
const BOOK: &str = "b_";
const AUTHOR: &str = "a_";

/// `SELECT b.*, a.*, loans.due_at, stats.* FROM books CROSS JOIN (review count and total of this book)
/// LEFT JOIN loans … LEFT JOIN book_authors … LEFT JOIN authors … WHERE books.id = ?`.
///
/// The statistics are a derived table bound to the id rather than a correlated subquery per row, so they
/// are aggregated once however many authors the book has; every join is on a primary or unique key.
fn detail_query(backend: DbBackend, id: i64) -> SelectStatement {
    // SUM's result type differs per backend (DECIMAL on MySQL); cast it to a 64-bit integer everywhere.
    let integer = if backend == DbBackend::MySql { "SIGNED" } else { "BIGINT" };
    let stats = Alias::new("stats");
    let review_stats = Query::select()
        .expr_as(Expr::col(review::Column::Id).count(), "review_count")
        .expr_as(Expr::col(review::Column::Rating).sum().cast_as(integer), "review_total")
        .from(review::Entity)
        .and_where(review::Column::BookId.eq(id))
        .to_owned();
    let mut query = Query::select();
    for column in book::Column::iter() {
        query.expr_as(Expr::col((book::Entity, column)), format!("{BOOK}{}", column.as_str()));
    }
    for column in author::Column::iter() {
        query.expr_as(Expr::col((author::Entity, column)), format!("{AUTHOR}{}", column.as_str()));
    }
    query
        .expr_as(Expr::col((loan::Entity, loan::Column::DueAt)), "loan_due_at")
        .column((stats.clone(), "review_count"))
        .column((stats.clone(), "review_total"))
        .from(book::Entity)
        .cross_join(TableRef::SubQuery(Box::new(review_stats), stats.into_iden()))
        .left_join(
            loan::Entity,
            Expr::col((loan::Entity, loan::Column::BookId)).equals((book::Entity, book::Column::Id)),
        )
        .left_join(
            book_author::Entity,
            Expr::col((book_author::Entity, book_author::Column::BookId))
                .equals((book::Entity, book::Column::Id)),
        )
        .left_join(
            author::Entity,
            Expr::col((author::Entity, author::Column::Id))
                .equals((book_author::Entity, book_author::Column::AuthorId)),
        )
        .and_where(Expr::col((book::Entity, book::Column::Id)).eq(id))
        .to_owned()
}

/// The mean rating rounded to two decimals, from a review count and rating total; `None` before the first.
fn average(count: i64, total: Option<i64>) -> Option<f64> {
    let total = total.filter(|_| count > 0)?;
    #[expect(clippy::cast_precision_loss, reason = "review totals are far below 2^52")]
    let average = (total as f64 / count as f64 * 100.0).round() / 100.0;
    Some(average)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reused_statement_is_the_freshly_built_one_for_every_id() {
        for backend in [DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite] {
            for id in [1, 42, i64::MAX] {
                let fresh = backend.build(&detail_query(backend, id));
                let reused = detail_statement(backend, id);
                assert_eq!(
                    (&reused.sql, &reused.values),
                    (&fresh.sql, &fresh.values),
                    "{backend:?}, id {id}"
                );
            }
        }
    }
}
