//! The Libris data model as SeaORM 2 entities (dense format), and nothing else.
//!
//! Each module mirrors one table created by the `migration` crate. Rules, queries and validation live in
//! `service`; this crate must not grow behaviour, so that the schema can be read in one sitting.

pub mod author;
pub mod book;
pub mod book_author;
pub mod borrower;
pub mod loan;
pub mod loan_history;
pub mod review;

/// Everything a caller usually needs in one import.
pub mod prelude {
    pub use crate::author::Entity as Author;
    pub use crate::book::Entity as Book;
    pub use crate::book_author::Entity as BookAuthor;
    pub use crate::borrower::Entity as Borrower;
    pub use crate::loan::Entity as Loan;
    pub use crate::loan_history::Entity as LoanHistory;
    pub use crate::review::Entity as Review;
}
