//! What clients send, and how each body becomes the service's typed input: the API edge. Every text is
//! parsed into its domain type here (`TryFrom`), so the service never sees an unchecked string; a value
//! the domain refuses is the same 422 problem, naming the same field, as when the service checked it.
//!
//! Within a body, `null` where a field is not nullable is checked first (400), then the fields are parsed
//! in the order the body lists them; the first invalid one is the one reported.

use chrono::NaiveDate;
use poem_openapi::Object;
use poem_openapi::types::{Example, MaybeUndefined};
use service::ServiceError;
use service::books::{BookChanges, NewBook as NewBookInput};
use service::borrowers::{BorrowerChanges, NewBorrower as NewBorrowerInput};
use service::domain::{AuthSubject, CalendarDate, Comment, Email, Isbn, PersonName, Rating, Title};
use service::loans::CheckOut;
use service::reviews::{NewReview as NewReviewInput, ReviewChanges};

use crate::problem::ApiError;
use crate::text::Text;

type EdgeResult<T> = Result<T, ApiError>;

/// A field that may be absent but, not being nullable, never `null` (a 400: the body does not match the
/// spec).
fn present<T>(field: &str, value: MaybeUndefined<T>) -> EdgeResult<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(ApiError::malformed(format!("{field}: must not be null"))),
        MaybeUndefined::Value(v) => Ok(Some(v)),
    }
}

/// A nullable field that may be absent (leave alone), `null` (clear) or a value (set), parsed.
fn nullable<T, U>(
    value: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> Result<U, ServiceError>,
) -> Result<Option<Option<U>>, ServiceError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(v).map(|u| Some(Some(u))),
    }
}

fn isbn(text: Text) -> Result<Isbn, ServiceError> {
    Isbn::parse(&text.0)
}

fn published_date(date: NaiveDate) -> Result<CalendarDate, ServiceError> {
    CalendarDate::parse("published_date", date)
}

fn subject(text: Text) -> Result<AuthSubject, ServiceError> {
    AuthSubject::parse(&text.0)
}

/// A book to add to the catalogue.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct NewBook {
    pub title: Text,
    /// ISBN-10 or ISBN-13, hyphens allowed; stored as ISBN-13. Absent or null: none.
    #[oai(nullable)]
    pub isbn: Option<Text>,
    /// Absent or null: unknown.
    #[oai(nullable)]
    pub published_date: Option<NaiveDate>,
    /// Existing authors to credit (none when absent or null).
    #[oai(nullable)]
    pub author_ids: Option<Vec<i64>>,
}

impl Example for NewBook {
    fn example() -> Self {
        Self {
            title: Text("Dune".to_owned()),
            isbn: Some(Text("978-0-441-17271-9".to_owned())),
            published_date: NaiveDate::from_ymd_opt(1965, 8, 1),
            author_ids: Some(vec![1]),
        }
    }
}

impl TryFrom<NewBook> for NewBookInput {
    type Error = ApiError;

    fn try_from(body: NewBook) -> EdgeResult<Self> {
        Ok(Self {
            title: Title::parse(&body.title.0)?,
            isbn: body.isbn.map(isbn).transpose()?,
            published_date: body.published_date.map(published_date).transpose()?,
            author_ids: body.author_ids.unwrap_or_default(),
        })
    }
}

/// Fields to change; absent fields stay, `null` clears `isbn` or `published_date`.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct BookPatch {
    /// Not nullable: a book always has a title.
    pub title: MaybeUndefined<Text>,
    #[oai(nullable)]
    pub isbn: MaybeUndefined<Text>,
    #[oai(nullable)]
    pub published_date: MaybeUndefined<NaiveDate>,
}

impl TryFrom<BookPatch> for BookChanges {
    type Error = ApiError;

    fn try_from(patch: BookPatch) -> EdgeResult<Self> {
        let title = present("title", patch.title)?;
        Ok(Self {
            title: title.map(|title| Title::parse(&title.0)).transpose()?,
            isbn: nullable(patch.isbn, isbn)?,
            published_date: nullable(patch.published_date, published_date)?,
        })
    }
}

/// The complete list of a book's authors, replacing the ones it has.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct BookAuthors {
    pub author_ids: Vec<i64>,
}

/// One more author to credit on a book.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewBookAuthor {
    pub author_id: i64,
}

/// Declares the bodies that carry only an author's name (the one field an author has, so it is required
/// in both): each parses into a `PersonName`.
macro_rules! author_name_bodies {
    ($($(#[doc = $doc:literal])* $body:ident),* $(,)?) => {$(
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Object)]
        #[oai(deny_unknown_fields, example)]
        pub struct $body {
            pub name: Text,
        }

        impl Example for $body {
            fn example() -> Self {
                Self { name: Text("Ursula K. Le Guin".to_owned()) }
            }
        }

        impl TryFrom<$body> for PersonName {
            type Error = ApiError;

            fn try_from(body: $body) -> EdgeResult<Self> {
                Ok(Self::parse(&body.name.0)?)
            }
        }
    )*};
}

author_name_bodies!(
    /// An author to add.
    NewAuthor,
    /// An author's new name.
    AuthorPatch,
);

/// A new library member.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct NewBorrower {
    pub name: Text,
    pub email: Text,
    /// Links the borrower to their login (the token `sub`); unique (`subject_taken`). Absent or null: none.
    #[oai(nullable)]
    pub subject: Option<Text>,
}

impl Example for NewBorrower {
    fn example() -> Self {
        Self {
            name: Text("Ada Lovelace".to_owned()),
            email: Text("ada@example.org".to_owned()),
            subject: Some(Text("5f1c2a7e-8d3b-4c2a-9f6e-1b2c3d4e5f60".to_owned())),
        }
    }
}

impl TryFrom<NewBorrower> for NewBorrowerInput {
    type Error = ApiError;

    fn try_from(body: NewBorrower) -> EdgeResult<Self> {
        Ok(Self {
            name: PersonName::parse(&body.name.0)?,
            email: Email::parse(&body.email.0)?,
            subject: body.subject.map(subject).transpose()?,
        })
    }
}

/// Borrower fields to change.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct BorrowerPatch {
    pub name: MaybeUndefined<Text>,
    pub email: MaybeUndefined<Text>,
    /// `null` unlinks the borrower from their login.
    #[oai(nullable)]
    pub subject: MaybeUndefined<Text>,
}

impl TryFrom<BorrowerPatch> for BorrowerChanges {
    type Error = ApiError;

    fn try_from(patch: BorrowerPatch) -> EdgeResult<Self> {
        let (name, email) = (present("name", patch.name)?, present("email", patch.email)?);
        Ok(Self {
            name: name.map(|name| PersonName::parse(&name.0)).transpose()?,
            email: email.map(|email| Email::parse(&email.0)).transpose()?,
            subject: nullable(patch.subject, subject)?,
        })
    }
}

/// A check-out: which book, to whom, for how long (days; the library's default when absent).
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct NewLoan {
    pub book_id: i64,
    pub borrower_id: i64,
    /// Absent or null: the library's default period.
    #[oai(nullable)]
    pub period_days: Option<i64>,
}

impl Example for NewLoan {
    fn example() -> Self {
        Self { book_id: 1, borrower_id: 1, period_days: Some(14) }
    }
}

/// The period stays a number: only the service, which holds the loan policy, knows its bounds.
impl From<NewLoan> for CheckOut {
    fn from(body: NewLoan) -> Self {
        Self { book_id: body.book_id, borrower_id: body.borrower_id, period_days: body.period_days }
    }
}

/// A review of a book by a borrower who has borrowed it.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct NewReview {
    pub borrower_id: i64,
    /// 1 to 5.
    pub rating: i64,
    /// Absent, null or blank: no comment.
    #[oai(nullable)]
    pub comment: Option<Text>,
}

impl Example for NewReview {
    fn example() -> Self {
        Self { borrower_id: 1, rating: 5, comment: Some(Text("Spice, sand and politics.".to_owned())) }
    }
}

impl NewReview {
    /// The service's input for a review of `book_id` (the book comes from the path, not the body).
    ///
    /// # Errors
    /// 422 on `rating` or `comment`.
    pub fn of_book(self, book_id: i64) -> EdgeResult<NewReviewInput> {
        Ok(NewReviewInput {
            book_id,
            borrower_id: self.borrower_id,
            rating: Rating::parse(self.rating)?,
            comment: Comment::parse(self.comment.as_ref().map(|text| text.0.as_str()))?,
        })
    }
}

/// Review fields to change; `comment: null` removes the comment.
#[derive(Clone, Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReviewPatch {
    /// Not nullable.
    pub rating: MaybeUndefined<i64>,
    #[oai(nullable)]
    pub comment: MaybeUndefined<Text>,
}

impl TryFrom<ReviewPatch> for ReviewChanges {
    type Error = ApiError;

    fn try_from(patch: ReviewPatch) -> EdgeResult<Self> {
        let rating = present("rating", patch.rating)?.map(Rating::parse).transpose()?;
        let comment = nullable(patch.comment, |text| Comment::parse(Some(&text.0)))?;
        // `null` means no comment, as a blank one does.
        Ok(Self { rating, comment: comment.map(Option::unwrap_or_default) })
    }
}
