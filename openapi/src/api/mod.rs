//! The API's operations, one `#[OpenApi]` struct per resource, combined into one tuple.

use poem::web::Data;
use poem_openapi::{ApiResponse, Tags, payload::Json};
use service::ServiceError;
use service::domain::SearchTerm;
use service::page::PageRequest;

use crate::problem::ApiError;
use db::Db;
pub(crate) use db::OperationTxn;

pub mod access;
mod authors;
mod books;
mod borrowers;
pub mod conditional;
mod db;
mod direct_json;
mod health;
mod loans;
mod reviews;

/// Every operation of the API.
pub type Api = (
    books::BooksApi,
    authors::AuthorsApi,
    borrowers::BorrowersApi,
    loans::LoansApi,
    reviews::ReviewsApi,
    health::HealthApi,
);

pub fn api() -> Api {
    Api::default()
}

#[derive(Tags)]
enum Tag {
    /// The catalogue: books, their authors and reviews, and which are available.
    Books,
    /// The people who wrote the books.
    Authors,
    /// Library members and their loans.
    Borrowers,
    /// Check-outs, returns and renewals.
    Loans,
    /// Ratings and comments by borrowers.
    Reviews,
    /// Liveness and readiness probes.
    Health,
}

type ApiResult<T> = Result<T, ApiError>;

pub use direct_json::DirectJson;

/// The path prefix the app is served under (an API Gateway stage such as `/prod`), or empty.
#[derive(Clone, Debug, Default)]
pub struct BasePath(pub String);

impl BasePath {
    fn location(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

fn page(cursor: Option<String>, limit: Option<i64>) -> ApiResult<PageRequest> {
    Ok(PageRequest::new(cursor, limit)?)
}

/// A search filter from the query string, parsed by `kind` (e.g. [`SearchTerm::title`]); blank is none.
fn search(
    raw: Option<String>,
    kind: fn(&str) -> Result<Option<SearchTerm>, ServiceError>,
) -> ApiResult<Option<SearchTerm>> {
    Ok(raw.as_deref().map(kind).transpose()?.flatten())
}

/// 204 with no body.
#[derive(Debug, ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

/// Declares a "201 Created with Location" response per resource type.
macro_rules! created_response {
    ($($name:ident => $dto:ty),* $(,)?) => {$(
        #[derive(Debug, ApiResponse)]
        pub enum $name {
            /// Created; `Location` is its URL.
            #[oai(status = 201)]
            Created(Json<$dto>, #[oai(header = "Location")] String),
        }
    )*};
}

created_response!(
    BookCreated => crate::dto::Book,
    AuthorCreated => crate::dto::Author,
    BorrowerCreated => crate::dto::Borrower,
    LoanCreated => crate::dto::Loan,
    ReviewCreated => crate::dto::Review,
);

type State<'a> = Data<&'a crate::AppState>;
