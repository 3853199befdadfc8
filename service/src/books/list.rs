//! The books lists (`/books`, `/books/available`, an author's books): filters, search and keyset pages. A
//! page of a list is one statement, with the books' authors and availability, whatever its size; a page of a
//! search is read by `matches`.

use chrono::NaiveDate;
use entity::{author, book, book_author, loan};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use super::matches;
use super::rows::{self, Scan, Shape};
use super::search::{AUTHOR_TIER, SearchQuery, TITLE_TIER};
use crate::domain::CalendarDate;
use crate::page::{ListKind, Page, PageRequest};
use crate::{Result, ServiceError, authors};

/// Filters of the books lists. Every field narrows the list; none given lists everything.
#[derive(Clone, Debug, Default)]
pub struct BookFilter {
    /// Words of the title or the authors' names; ranks the results (see [`SearchQuery`]).
    pub q: Option<SearchQuery>,
    pub author_id: Option<i64>,
    pub published_from: Option<CalendarDate>,
    pub published_to: Option<CalendarDate>,
    /// `Some(true)`: only books not on loan; `Some(false)`: only books on loan.
    pub available: Option<bool>,
}

/// A book as lists show it: its fields, its authors and whether it can be borrowed now.
#[derive(Clone, Debug, PartialEq)]
pub struct BookSummary {
    pub book: ListedBook,
    pub authors: Vec<author::Model>,
    pub available: bool,
}

/// The fields of a book a list shows: only these are read (a page's rows repeat them once per author).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedBook {
    pub id: i64,
    pub title: String,
    pub isbn: Option<String>,
    pub published_date: Option<NaiveDate>,
}

/// Lists books in id order (by relevance, then id, with `q`), filtered, one keyset page at a time.
///
/// # Errors
/// `Validation` for an invalid cursor or an empty date range.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &BookFilter,
    page: &PageRequest,
) -> Result<Page<BookSummary>> {
    list_as(db, ListKind::Books, filter, page).await
}

/// The original's headline query: books with no active loan, as a `NOT EXISTS` anti-join on the unique
/// `loans.book_id` index, filtered and paginated like any list.
///
/// # Errors
/// `Validation` for an invalid cursor or an empty date range.
pub async fn available<C: ConnectionTrait>(
    db: &C,
    filter: &BookFilter,
    page: &PageRequest,
) -> Result<Page<BookSummary>> {
    let filter = BookFilter { available: Some(true), ..filter.clone() };
    list_as(db, ListKind::AvailableBooks, &filter, page).await
}

/// Books of one author, in id order.
///
/// # Errors
/// `NotFound` for an unknown author; `Validation` for an invalid cursor.
pub async fn of_author<C: ConnectionTrait>(
    db: &C,
    author_id: i64,
    page: &PageRequest,
) -> Result<Page<BookSummary>> {
    authors::get(db, author_id).await?;
    let filter = BookFilter { author_id: Some(author_id), ..BookFilter::default() };
    list_as(db, ListKind::AuthorBooks, &filter, page).await
}

async fn list_as<C: ConnectionTrait>(
    db: &C,
    kind: ListKind,
    filter: &BookFilter,
    page: &PageRequest,
) -> Result<Page<BookSummary>> {
    let Some(q) = &filter.q else {
        let condition = filters(filter, page.after(kind)?);
        let rows =
            rows::fetch(db, condition, page.fetch_limit(), Shape::new(Scan::Walk, filter.available)).await?;
        return Ok(Page::from_rows(kind, page, rows, |summary| summary.book.id));
    };
    let after = page.after_ranked(kind)?;
    if after.is_some_and(|(tier, _)| tier != TITLE_TIER && tier != AUTHOR_TIER) {
        return Err(ServiceError::invalid(
            "cursor",
            "is not a cursor from this search; start again without it",
        ));
    }
    let rows = matches::page(db, q, filter, after, page.fetch_limit()).await?;
    let page = Page::from_ranked_rows(kind, page, rows, |(tier, summary)| (*tier, summary.book.id));
    Ok(page.map(|(_, summary)| summary))
}

/// The list's filters, and the keyset bound when the page continues after an id.
///
/// Filters are conditions that combine: a date range that ends before it starts is a filter no book
/// passes (an empty page), as an author with no books is, not an invalid request; no schema could state
/// a rule between two parameters, so a client could not know it.
pub(super) fn filters(filter: &BookFilter, after: Option<i64>) -> Condition {
    let published_from = filter.published_from.map(CalendarDate::get);
    let published_to = filter.published_to.map(CalendarDate::get);
    let mut condition = Condition::all();
    if let Some(after) = after {
        condition = condition.add(book::Column::Id.gt(after));
    }
    if let Some(author_id) = filter.author_id {
        condition = condition.add(
            book::Column::Id.in_subquery(
                Query::select()
                    .column(book_author::Column::BookId)
                    .from(book_author::Entity)
                    .and_where(book_author::Column::AuthorId.eq(author_id))
                    .to_owned(),
            ),
        );
    }
    if let Some(from) = published_from {
        condition = condition.add(book::Column::PublishedDate.gte(from));
    }
    if let Some(to) = published_to {
        condition = condition.add(book::Column::PublishedDate.lte(to));
    }
    if let Some(available) = filter.available {
        let mut on_loan = Query::select();
        on_loan.expr(Expr::val(1)).from(loan::Entity).and_where(
            Expr::col((loan::Entity, loan::Column::BookId)).equals((book::Entity, book::Column::Id)),
        );
        if let Some(after) = after {
            // Repeat the cursor bound inside the subquery, so the planner starts the loans index there.
            on_loan.and_where(Expr::col((loan::Entity, loan::Column::BookId)).gt(after));
        }
        let on_loan = on_loan.to_owned();
        condition = condition.add(if available { Expr::not_exists(on_loan) } else { Expr::exists(on_loan) });
    }
    condition
}
