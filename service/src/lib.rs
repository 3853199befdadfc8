//! The Libris domain core: every rule and query of the library.
//!
//! Functions are generic over SeaORM's `ConnectionTrait` (and `TransactionTrait` where a rule needs several
//! statements to be atomic), so they run on a pool, a connection or inside a caller's transaction. This
//! crate knows nothing of HTTP or Lambda: it speaks in domain types and [`ServiceError`].

pub mod authors;
pub mod books;
pub mod borrowers;
pub mod domain;
mod error;
pub mod idempotency;
pub mod loans;
pub mod page;
mod policy;
mod retry;
pub mod reviews;
pub mod versioning;

pub use error::{ConflictCode, ServiceError};
pub use policy::{LoanLimits, LoanPolicy, PolicyError};
pub use versioning::Expected;

/// Result of every service operation.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
