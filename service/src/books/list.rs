//! The books lists (`/books`, `/books/available`, an author's books): filters, search and keyset pages, in
//! two statements a page whatever its size.

use entity::{author, book, book_author, loan};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use super::search::SearchQuery;
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
    pub book: book::Model,
    pub authors: Vec<author::Model>,
    pub available: bool,
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

/// Where a page starts: after an id, or after a `(tier, id)` in a search's order.
enum After {
    Start,
    Id(i64),
    Ranked(i64, i64),
}

/// The column holding the id of a listed book's active loan (none when the book is available).
const LOAN_ID: &str = "active_loan_id";

async fn list_as<C: ConnectionTrait>(
    db: &C,
    kind: ListKind,
    filter: &BookFilter,
    page: &PageRequest,
) -> Result<Page<BookSummary>> {
    let backend = db.get_database_backend();
    let after = if filter.q.is_some() {
        page.after_ranked(kind)?.map_or(After::Start, |(tier, id)| After::Ranked(tier, id))
    } else {
        page.after(kind)?.map_or(After::Start, After::Id)
    };
    let published_from = filter.published_from.map(CalendarDate::get);
    let published_to = filter.published_to.map(CalendarDate::get);
    if let (Some(from), Some(to)) = (published_from, published_to)
        && from > to
    {
        return Err(ServiceError::invalid("published_from", "must not be after published_to"));
    }
    let mut condition = Condition::all();
    if let After::Id(after) = after {
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
        if let After::Id(after) = after {
            // Repeat the cursor bound inside the subquery, so the planner starts the loans index there.
            on_loan.and_where(Expr::col((loan::Entity, loan::Column::BookId)).gt(after));
        }
        let on_loan = on_loan.to_owned();
        condition = condition.add(if available { Expr::not_exists(on_loan) } else { Expr::exists(on_loan) });
    }
    let mut select = book::Entity::find();
    if let Some(q) = &filter.q {
        let tier = q.tier_expr(backend);
        condition = condition.add(q.condition(backend));
        if let After::Ranked(last_tier, last_id) = after {
            condition = condition.add(
                tier.clone().lt(last_tier).or(tier.clone().eq(last_tier).and(book::Column::Id.gt(last_id))),
            );
        }
        select = select.order_by(tier, Order::Desc);
    }
    // The active loan rides along (one at most per book: `loans.book_id` is unique), so availability costs
    // no statement of its own.
    let statement = select
        .left_join(loan::Entity)
        .column_as(Expr::col((loan::Entity, loan::Column::Id)), LOAN_ID)
        .filter(condition)
        .order_by_asc(book::Column::Id)
        .limit(page.fetch_limit())
        .build(backend);
    let mut rows = Vec::new();
    for row in db.query_all_raw(statement).await? {
        let loan_id: Option<i64> = row.try_get("", LOAN_ID)?;
        rows.push((book::Model::from_query_result(&row, "")?, loan_id.is_none()));
    }
    let page = match &filter.q {
        Some(q) => Page::from_ranked_rows(kind, page, rows, |(b, _)| (q.tier(&b.title_key), b.id)),
        None => Page::from_rows(kind, page, rows, |(b, _)| b.id),
    };
    summarise(db, page).await
}

/// Adds authors to a page of books: one statement, whatever the page size.
async fn summarise<C: ConnectionTrait>(db: &C, page: Page<(book::Model, bool)>) -> Result<Page<BookSummary>> {
    let ids: Vec<i64> = page.items.iter().map(|(b, _)| b.id).collect();
    let mut authors = super::authors_of(db, &ids).await?;
    Ok(page.map(|(book, available)| {
        let mine = authors.extract_if(.., |(book_id, _)| *book_id == book.id).map(|(_, a)| a).collect();
        BookSummary { available, authors: mine, book }
    }))
}
