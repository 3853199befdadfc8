//! The catalogue: books, their authors, and the "available books" list.

use chrono::{DateTime, Utc};
use entity::{author, book, book_author, loan, search_key};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::domain::{CalendarDate, Isbn, Title};
use crate::error::{DbFailure, classify};
use crate::retry::transaction;
use crate::versioning::{Expected, book_expectation, guarded_delete, guarded_update, settle};
use crate::{ConflictCode, Result, ServiceError, authors};

mod common_words;
mod detail;
mod keys;
mod list;
mod matches;
mod rows;
mod search;
pub use common_words::CommonWords;
pub use detail::get;
pub(crate) use keys::refresh_author_keys;
pub use list::{BookFilter, BookSummary, ListedBook, available, list, of_author};
pub use search::SearchQuery;

/// What a librarian supplies to add a book.
#[derive(Clone, Debug)]
pub struct NewBook {
    pub title: Title,
    pub isbn: Option<Isbn>,
    pub published_date: Option<CalendarDate>,
    pub author_ids: Vec<i64>,
}

impl NewBook {
    /// A book with only a title: no ISBN, date or authors.
    #[must_use]
    pub fn titled(title: Title) -> Self {
        Self { title, isbn: None, published_date: None, author_ids: Vec::new() }
    }
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default)]
pub struct BookChanges {
    pub title: Option<Title>,
    pub isbn: Option<Option<Isbn>>,
    pub published_date: Option<Option<CalendarDate>>,
}

/// The due date of a book's active loan; who borrowed it is not the catalogue's business.
#[derive(Clone, Debug, PartialEq)]
pub struct CurrentLoan {
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

/// A book with everything its page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct BookDetail {
    pub book: book::Model,
    pub authors: Vec<author::Model>,
    pub current_loan: Option<CurrentLoan>,
    pub review_count: i64,
    /// Mean rating rounded to two decimals; `None` before the first review.
    pub average_rating: Option<f64>,
}

fn isbn_conflict(error: sea_orm::DbErr) -> ServiceError {
    if classify(&error) == DbFailure::UniqueViolation {
        ServiceError::conflict(ConflictCode::IsbnTaken, "another book already has this ISBN")
    } else {
        error.into()
    }
}

/// Adds a book (and its authors, atomically).
///
/// # Errors
/// `NotFound` for an unknown author; `Conflict(isbn_taken)` for a duplicate ISBN.
pub async fn create<C: ConnectionTrait + TransactionTrait>(db: &C, input: NewBook) -> Result<BookDetail> {
    let NewBook { title, isbn, published_date, author_ids } = input;
    let (title, isbn) = (title.into_inner(), isbn.map(Isbn::into_inner));
    let published_date = published_date.map(CalendarDate::get);
    let id = transaction(db, |txn| {
        let (title, isbn, author_ids) = (title.clone(), isbn.clone(), author_ids.clone());
        Box::pin(async move {
            let book = book::ActiveModel {
                title_key: Set(search_key::key(&title)),
                title: Set(title),
                isbn: Set(isbn),
                published_date: Set(published_date),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(isbn_conflict)?;
            link_authors(txn, book.id, &author_ids).await?;
            refresh_author_keys(txn, &[book.id]).await?;
            Ok(book.id)
        })
    })
    .await?;
    get(db, id).await
}

/// Links authors to a book, after checking each exists. Ids already linked are left alone.
async fn link_authors<C: ConnectionTrait>(db: &C, book_id: i64, author_ids: &[i64]) -> Result<()> {
    let mut ids = author_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    authors::ensure_exist(db, &ids).await?;
    let linked: Vec<i64> = book_author::Entity::find()
        .select_only()
        .column(book_author::Column::AuthorId)
        .filter(book_author::Column::BookId.eq(book_id))
        .filter(book_author::Column::AuthorId.is_in(ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let new: Vec<i64> = ids.into_iter().filter(|id| !linked.contains(id)).collect();
    let Some(&first) = new.first() else { return Ok(()) };
    let rows = new
        .iter()
        .map(|&author_id| book_author::ActiveModel { book_id: Set(book_id), author_id: Set(author_id) });
    book_author::Entity::insert_many(rows).exec_without_returning(db).await.map_err(|error| {
        // An author deleted between the check above and this insert: a 404 as if the check had seen it.
        // The database does not say which one; with several, the first stands for them.
        match classify(&error) {
            DbFailure::ForeignKeyViolation => ServiceError::NotFound { entity: "author", id: first },
            _ => error.into(),
        }
    })?;
    Ok(())
}

async fn find<C: ConnectionTrait>(db: &C, id: i64) -> Result<book::Model> {
    book::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::NotFound { entity: "book", id })
}

/// The authors of several books in one query, as `(book_id, author)` pairs ordered by author id.
pub(crate) async fn authors_of<C: ConnectionTrait>(
    db: &C,
    book_ids: &[i64],
) -> Result<Vec<(i64, author::Model)>> {
    if book_ids.is_empty() {
        return Ok(Vec::new());
    }
    let pairs = book_author::Entity::find()
        .filter(book_author::Column::BookId.is_in(book_ids.to_vec()))
        .find_also_related(author::Entity)
        .order_by_asc(book_author::Column::AuthorId)
        .all(db)
        .await?;
    Ok(pairs.into_iter().filter_map(|(link, author)| Some((link.book_id, author?))).collect())
}

/// Changes some of a book's fields.
///
/// # Errors
/// `NotFound`, `Conflict(isbn_taken)` for a duplicate ISBN.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    changes: BookChanges,
) -> Result<BookDetail> {
    update_if(db, id, changes, &Expected::Any).await
}

/// Changes some of a book's fields if its page is still at an expected revision.
///
/// # Errors
/// `NotFound`; `Stale` when the page is at another revision; `Conflict(isbn_taken)` for a duplicate ISBN.
pub async fn update_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    changes: BookChanges,
    expected: &Expected,
) -> Result<BookDetail> {
    let expected = book_expectation(db, id, expected).await?;
    let mut model: book::ActiveModel = Default::default();
    if let Some(title) = changes.title {
        // The key goes in the same statement as the title, so search never sees one without the other.
        let title = title.into_inner();
        model.title_key = Set(search_key::key(&title));
        model.title = Set(title);
    }
    if let Some(isbn) = changes.isbn {
        model.isbn = Set(isbn.map(Isbn::into_inner));
    }
    if let Some(published_date) = changes.published_date {
        model.published_date = Set(published_date.map(CalendarDate::get));
    }
    let result =
        guarded_update::<book::Entity>(model, id, &expected).exec(db).await.map_err(isbn_conflict)?;
    settle::<book::Entity, _>(db, id, result.rows_affected).await?;
    get(db, id).await
}

/// Moves a book to its next version, if it is at the expected one: the first step of every change to
/// its author list, which also queues concurrent changes of one book on its row.
async fn bump<C: ConnectionTrait>(db: &C, id: i64, expected: &Expected) -> Result<()> {
    let expected = book_expectation(db, id, expected).await?;
    let unchanged: book::ActiveModel = Default::default();
    let result = guarded_update::<book::Entity>(unchanged, id, &expected).exec(db).await?;
    settle::<book::Entity, _>(db, id, result.rows_affected).await
}

/// Removes a book with its reviews and loan history; refused while it is on loan.
///
/// # Errors
/// `NotFound`; `Conflict(book_on_loan)` while the book is on loan.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(db: &C, id: i64) -> Result<()> {
    delete_if(db, id, &Expected::Any).await
}

/// Removes a book if its page is still at an expected revision.
///
/// # Errors
/// `NotFound`; `Stale` when the page is at another revision; `Conflict(book_on_loan)` while it is on loan.
pub async fn delete_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: i64,
    expected: &Expected,
) -> Result<()> {
    let on_loan = || ServiceError::conflict(ConflictCode::BookOnLoan, "the book is on loan; return it first");
    transaction(db, |txn| {
        let expected = expected.clone();
        Box::pin(async move {
            find(txn, id).await?;
            if loan::Entity::find().filter(loan::Column::BookId.eq(id)).one(txn).await?.is_some() {
                return Err(on_loan());
            }
            let expected = book_expectation(txn, id, &expected).await?;
            // The foreign key from loans restricts the delete if a check-out raced in after the check.
            let deleted =
                guarded_delete::<book::Entity>(id, &expected).exec(txn).await.map_err(
                    |e| match classify(&e) {
                        DbFailure::ForeignKeyViolation => on_loan(),
                        _ => e.into(),
                    },
                )?;
            settle::<book::Entity, _>(txn, id, deleted.rows_affected).await
        })
    })
    .await
}

/// Replaces a book's authors with exactly the given ones.
///
/// # Errors
/// `NotFound` for the book or an unknown author.
pub async fn set_authors<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    book_id: i64,
    author_ids: Vec<i64>,
) -> Result<Vec<author::Model>> {
    set_authors_if(db, book_id, author_ids, &Expected::Any).await
}

/// Replaces a book's authors if its page is still at an expected revision.
///
/// # Errors
/// `NotFound` for the book or an unknown author; `Stale` when its page is at another revision.
pub async fn set_authors_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    book_id: i64,
    author_ids: Vec<i64>,
    expected: &Expected,
) -> Result<Vec<author::Model>> {
    transaction(db, |txn| {
        let (ids, expected) = (author_ids.clone(), expected.clone());
        Box::pin(async move {
            bump(txn, book_id, &expected).await?;
            authors::ensure_exist(txn, &ids).await?;
            book_author::Entity::delete_many()
                .filter(book_author::Column::BookId.eq(book_id))
                .filter(book_author::Column::AuthorId.is_not_in(ids.clone()))
                .exec(txn)
                .await?;
            link_authors(txn, book_id, &ids).await?;
            refresh_author_keys(txn, &[book_id]).await
        })
    })
    .await?;
    authors_of_book(db, book_id).await
}

/// Adds one author to a book; adding one already there changes nothing.
///
/// # Errors
/// `NotFound` for the book or an unknown author.
pub async fn add_author<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    book_id: i64,
    author_id: i64,
) -> Result<Vec<author::Model>> {
    transaction(db, |txn| {
        Box::pin(async move {
            bump(txn, book_id, &Expected::Any).await?;
            link_authors(txn, book_id, &[author_id]).await?;
            refresh_author_keys(txn, &[book_id]).await
        })
    })
    .await?;
    authors_of_book(db, book_id).await
}

/// Detaches an author from a book.
///
/// # Errors
/// `NotFound` for the book, or when that author is not one of the book's.
pub async fn remove_author<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    book_id: i64,
    author_id: i64,
) -> Result<Vec<author::Model>> {
    remove_author_if(db, book_id, author_id, &Expected::Any).await
}

/// Detaches an author from a book if its page is still at an expected revision.
///
/// # Errors
/// `NotFound` for the book, or when that author is not one of the book's; `Stale` when the book's page is
/// at another revision.
pub async fn remove_author_if<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    book_id: i64,
    author_id: i64,
    expected: &Expected,
) -> Result<Vec<author::Model>> {
    transaction(db, |txn| {
        let expected = expected.clone();
        Box::pin(async move {
            bump(txn, book_id, &expected).await?;
            let removed = book_author::Entity::delete_many()
                .filter(book_author::Column::BookId.eq(book_id))
                .filter(book_author::Column::AuthorId.eq(author_id))
                .exec(txn)
                .await?;
            if removed.rows_affected == 0 {
                return Err(ServiceError::NotFound { entity: "book author", id: author_id });
            }
            refresh_author_keys(txn, &[book_id]).await
        })
    })
    .await?;
    authors_of_book(db, book_id).await
}

async fn authors_of_book<C: ConnectionTrait>(db: &C, book_id: i64) -> Result<Vec<author::Model>> {
    Ok(authors_of(db, &[book_id]).await?.into_iter().map(|(_, author)| author).collect())
}
