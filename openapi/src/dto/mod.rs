//! The JSON shapes of the API: what it answers here, what it is sent in `requests`. The names are the
//! schema names client generators see, in one pattern: a resource is `X` (`Book`, `BookSummary`), a body
//! that creates one `NewX` (`NewLoan`, `NewBookAuthor`), a partial update `XPatch`, a page `XPage`; the one
//! body that is none of these says what it holds (`BookAuthors`, a book's whole author list). Keep them
//! stable.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{author, borrower, loan, loan_history, review};
use poem_openapi::Object;
use poem_openapi::types::Example;
use serde::{Serialize, Serializer};

use service::books::BookDetail;
use service::page::Page;

mod requests;
pub use requests::{
    AuthorPatch, BookAuthors, BookPatch, BorrowerPatch, NewAuthor, NewBook, NewBookAuthor, NewBorrower,
    NewLoan, NewReview, ReviewPatch,
};

/// A person who wrote books.
#[derive(Clone, Debug, PartialEq, Object, Serialize)]
pub struct Author {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A time as poem-openapi writes it (`+00:00`, where chrono's serde form writes `Z`), for the types also
/// served by [`crate::api::DirectJson`].
fn rfc3339<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339())
}

impl From<author::Model> for Author {
    fn from(m: author::Model) -> Self {
        Self { id: m.id, name: m.name, created_at: m.created_at, updated_at: m.updated_at }
    }
}

/// A book with everything its page shows.
#[derive(Clone, Debug, PartialEq, Object)]
#[oai(example)]
pub struct Book {
    pub id: i64,
    pub title: String,
    /// ISBN-13, digits only.
    #[oai(nullable)]
    pub isbn: Option<String>,
    #[oai(nullable)]
    pub published_date: Option<NaiveDate>,
    pub authors: Vec<Author>,
    /// Whether the book can be checked out now.
    pub available: bool,
    /// When the current loan is due, if the book is on loan.
    #[oai(nullable)]
    pub due_at: Option<DateTime<Utc>>,
    pub review_count: i64,
    /// Mean rating to two decimals; null before the first review.
    #[oai(nullable)]
    pub average_rating: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<BookDetail> for Book {
    fn from(d: BookDetail) -> Self {
        Self {
            id: d.book.id,
            title: d.book.title,
            isbn: d.book.isbn,
            published_date: d.book.published_date,
            authors: d.authors.into_iter().map(Author::from).collect(),
            available: d.current_loan.is_none(),
            due_at: d.current_loan.map(|loan| loan.due_at),
            review_count: d.review_count,
            average_rating: d.average_rating,
            created_at: d.book.created_at,
            updated_at: d.book.updated_at,
        }
    }
}

/// A book as lists show it.
#[derive(Clone, Debug, PartialEq, Object, Serialize)]
pub struct BookSummary {
    pub id: i64,
    pub title: String,
    #[oai(nullable)]
    pub isbn: Option<String>,
    #[oai(nullable)]
    pub published_date: Option<NaiveDate>,
    pub authors: Vec<Author>,
    pub available: bool,
}

impl From<service::books::BookSummary> for BookSummary {
    fn from(s: service::books::BookSummary) -> Self {
        Self {
            id: s.book.id,
            title: s.book.title,
            isbn: s.book.isbn,
            published_date: s.book.published_date,
            authors: s.authors.into_iter().map(Author::from).collect(),
            available: s.available,
        }
    }
}

/// A library member.
#[derive(Clone, Debug, PartialEq, Object)]
pub struct Borrower {
    pub id: i64,
    pub name: String,
    /// Lower-cased; unique.
    pub email: String,
    /// The `sub` of this borrower's own login tokens (their Cognito user), which lets them see their loans
    /// and write reviews themselves; null for borrowers who do not log in.
    #[oai(nullable)]
    pub subject: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<borrower::Model> for Borrower {
    fn from(m: borrower::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            email: m.email,
            subject: m.auth_subject,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A loan, active or returned. A returned loan keeps its id.
#[derive(Clone, Debug, PartialEq, Object)]
#[oai(example)]
pub struct Loan {
    pub id: i64,
    pub book_id: i64,
    pub borrower_id: i64,
    pub borrowed_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub renewals: i32,
    /// Active and past its due time.
    pub overdue: bool,
    /// When the book came back; null while the loan is active.
    #[oai(nullable)]
    pub returned_at: Option<DateTime<Utc>>,
    /// Whether it came back after its due time; null while the loan is active.
    #[oai(nullable)]
    pub returned_late: Option<bool>,
}

impl From<loan::Model> for Loan {
    fn from(m: loan::Model) -> Self {
        Self {
            overdue: service::loans::is_overdue(m.due_at, Utc::now()),
            id: m.id,
            book_id: m.book_id,
            borrower_id: m.borrower_id,
            borrowed_at: m.borrowed_at,
            due_at: m.due_at,
            renewals: m.renewals,
            returned_at: None,
            returned_late: None,
        }
    }
}

impl From<loan_history::Model> for Loan {
    fn from(m: loan_history::Model) -> Self {
        Self {
            id: m.id,
            book_id: m.book_id,
            borrower_id: m.borrower_id,
            borrowed_at: m.borrowed_at,
            due_at: m.due_at,
            renewals: m.renewals,
            overdue: false,
            returned_at: Some(m.returned_at),
            returned_late: Some(m.returned_late),
        }
    }
}

/// A borrower's rating and comment on a book.
#[derive(Clone, Debug, PartialEq, Object)]
pub struct Review {
    pub id: i64,
    pub book_id: i64,
    /// Who wrote it: shown only to librarians and to the review's author, since a review proves its
    /// author borrowed the book.
    #[oai(skip_serializing_if_is_none)]
    pub borrower_id: Option<i64>,
    /// 1 to 5.
    pub rating: i64,
    #[oai(nullable)]
    pub comment: Option<String>,
    pub reviewed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<review::Model> for Review {
    fn from(m: review::Model) -> Self {
        Self {
            id: m.id,
            book_id: m.book_id,
            borrower_id: Some(m.borrower_id),
            rating: i64::from(m.rating),
            comment: m.comment,
            reviewed_at: m.reviewed_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl Review {
    /// The review as `reader` may see it: without `borrower_id` unless they are a librarian or its author.
    #[must_use]
    pub fn seen_by(mut self, reader: ReviewReader) -> Self {
        let shown = match reader {
            ReviewReader::Librarian => true,
            ReviewReader::Borrower(id) => self.borrower_id == Some(id),
            ReviewReader::Public => false,
        };
        if !shown {
            self.borrower_id = None;
        }
        self
    }
}

impl ReviewPage {
    /// Every review as `reader` may see it ([`Review::seen_by`]).
    #[must_use]
    pub fn seen_by(mut self, reader: ReviewReader) -> Self {
        self.items = self.items.into_iter().map(|review| review.seen_by(reader)).collect();
        self
    }
}

/// Who is reading reviews, as far as authorship goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewReader {
    Librarian,
    /// A borrower record's owner: sees who wrote their own reviews only.
    Borrower(i64),
    /// No token, or one that links to no borrower.
    Public,
}

/// Declares a page schema per item type: every list answers `{items, next_cursor}` the same way.
macro_rules! page_object {
    ($($(#[$extra:meta])* $page:ident => $item:ty),* $(,)?) => {$(
        #[doc = concat!("A page of `", stringify!($item), "`; pass `next_cursor` back as `cursor` for the next.")]
        #[derive(Clone, Debug, PartialEq, Object)]
        $(#[$extra])*
        pub struct $page {
            pub items: Vec<$item>,
            /// Opaque; null on the last page.
            #[oai(nullable)]
            pub next_cursor: Option<String>,
        }

        impl<T: Into<$item>> From<Page<T>> for $page {
            fn from(page: Page<T>) -> Self {
                Self { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor }
            }
        }
    )*};
}

page_object!(
    // Served by `DirectJson` (the books lists).
    #[derive(Serialize)]
    BookPage => BookSummary,
    AuthorPage => Author,
    BorrowerPage => Borrower,
    LoanPage => Loan,
    ReviewPage => Review,
);

fn example_time(day: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 11, day)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .map_or_else(Utc::now, |t| t.and_utc())
}

impl Example for Book {
    fn example() -> Self {
        Self {
            id: 1,
            title: "Dune".to_owned(),
            isbn: Some("9780441172719".to_owned()),
            published_date: NaiveDate::from_ymd_opt(1965, 8, 1),
            authors: vec![Author {
                id: 1,
                name: "Frank Herbert".to_owned(),
                created_at: example_time(1),
                updated_at: example_time(1),
            }],
            available: false,
            due_at: Some(example_time(20)),
            review_count: 2,
            average_rating: Some(4.5),
            created_at: example_time(1),
            updated_at: example_time(1),
        }
    }
}

impl Example for Loan {
    fn example() -> Self {
        Self {
            id: 7,
            book_id: 1,
            borrower_id: 1,
            borrowed_at: example_time(6),
            due_at: example_time(20),
            renewals: 0,
            overdue: false,
            returned_at: None,
            returned_late: None,
        }
    }
}

#[cfg(test)]
mod tests;
