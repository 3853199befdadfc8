//! The service's typed error, and the classification of database errors into it.

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

/// Why a service operation failed. The HTTP layer maps each variant to one status and problem type.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: i64 },
    /// A library rule forbids the operation; `code` tells clients which one.
    #[error("{message}")]
    Conflict { code: ConflictCode, message: String },
    /// A conditional write found the resource at another revision than the one expected: someone else
    /// changed it since the caller read it.
    #[error("{entity} {id} has changed since the revision given")]
    Stale { entity: &'static str, id: i64 },
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },
    /// The database cannot be reached right now; retrying later may succeed.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Db(#[source] DbErr),
}

/// The stable, machine-readable reasons for a conflict. Clients act on these; never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConflictCode {
    BookOnLoan,
    LoanLimitReached,
    BorrowerHasOverdueLoans,
    RenewalLimitReached,
    LoanOverdue,
    LoanAlreadyReturned,
    NotBorrowed,
    AlreadyReviewed,
    EmailTaken,
    IsbnTaken,
    BorrowerHasLoans,
    SubjectTaken,
}

impl ConflictCode {
    pub const ALL: [Self; 12] = [
        Self::BookOnLoan,
        Self::LoanLimitReached,
        Self::BorrowerHasOverdueLoans,
        Self::RenewalLimitReached,
        Self::LoanOverdue,
        Self::LoanAlreadyReturned,
        Self::NotBorrowed,
        Self::AlreadyReviewed,
        Self::EmailTaken,
        Self::IsbnTaken,
        Self::BorrowerHasLoans,
        Self::SubjectTaken,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BookOnLoan => "book_on_loan",
            Self::LoanLimitReached => "loan_limit_reached",
            Self::BorrowerHasOverdueLoans => "borrower_has_overdue_loans",
            Self::RenewalLimitReached => "renewal_limit_reached",
            Self::LoanOverdue => "loan_overdue",
            Self::LoanAlreadyReturned => "loan_already_returned",
            Self::NotBorrowed => "not_borrowed",
            Self::AlreadyReviewed => "already_reviewed",
            Self::EmailTaken => "email_taken",
            Self::IsbnTaken => "isbn_taken",
            Self::BorrowerHasLoans => "borrower_has_loans",
            Self::SubjectTaken => "subject_taken",
        }
    }
}

impl ServiceError {
    pub(crate) fn conflict(code: ConflictCode, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation { field, message: message.into() }
    }
}

/// How a database error should be treated, decided from driver error codes, never from message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DbFailure {
    UniqueViolation,
    ForeignKeyViolation,
    /// Serialization failure, deadlock or a busy SQLite file: the transaction may simply be retried.
    Retryable,
    /// The database cannot serve right now: unreachable, overloaded, or a statement ran past its time limit.
    Unavailable,
    Other,
}

pub(crate) fn classify(error: &DbErr) -> DbFailure {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => return DbFailure::UniqueViolation,
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => return DbFailure::ForeignKeyViolation,
        _ => {}
    }
    let runtime = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return DbFailure::Unavailable,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return DbFailure::Other,
    };
    let RuntimeErr::SqlxError(sqlx_error) = runtime else { return DbFailure::Other };
    match &**sqlx_error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DbFailure::Unavailable,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // PostgreSQL and MySQL: serialization_failure / deadlock (MySQL reports 1213 as 40001).
            Some("40001" | "40P01") => DbFailure::Retryable,
            // SQLite: SQLITE_BUSY and its extended codes.
            Some("5" | "261" | "517") => DbFailure::Retryable,
            // SQLite reports ON DELETE RESTRICT as SQLITE_CONSTRAINT_TRIGGER.
            Some("1811") => DbFailure::ForeignKeyViolation,
            // PostgreSQL: admin shutdown / cannot connect now / too many connections.
            Some("57P01" | "57P03" | "53300") => DbFailure::Unavailable,
            // Class 08, connection exception: also what a pooler answers when it has no server connection
            // to lend in time (PgBouncer's `query_wait_timeout` is 08P01, and it closes the client).
            Some(code) if code.starts_with("08") => DbFailure::Unavailable,
            // The statement ran past the role's time limit (PostgreSQL's query_canceled; MariaDB's
            // max_statement_time) or waited too long for a lock: the database is overloaded for now, and
            // the connection is fine, so the next request may go through.
            Some("57014" | "55P03" | "70100") => DbFailure::Unavailable,
            _ => DbFailure::Other,
        },
        _ => DbFailure::Other,
    }
}

/// Whether a `NOWAIT` lock found its row locked by another transaction (PostgreSQL's
/// `lock_not_available`): the holder is busy, and the caller is told so instead of waiting.
pub(crate) fn lock_not_available(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_error)) | DbErr::Query(RuntimeErr::SqlxError(sqlx_error))) =
        error
    else {
        return false;
    };
    matches!(&**sqlx_error, sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03"))
}

impl From<DbErr> for ServiceError {
    fn from(error: DbErr) -> Self {
        match classify(&error) {
            DbFailure::Unavailable => Self::Unavailable(error),
            _ => Self::Db(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_codes_are_distinct_snake_case() {
        let codes: std::collections::HashSet<_> = ConflictCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), ConflictCode::ALL.len());
        assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
    }

    #[test]
    fn connection_failures_are_unavailable() {
        let error = DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        assert!(matches!(ServiceError::from(error), ServiceError::Unavailable(_)));
        let io = DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::PoolTimedOut)));
        assert!(matches!(ServiceError::from(io), ServiceError::Unavailable(_)));
    }

    #[test]
    fn other_errors_stay_database_errors() {
        let error = DbErr::Custom("boom".to_owned());
        assert!(matches!(ServiceError::from(error), ServiceError::Db(_)));
    }
}
