//! The overdue rule, stated once: a loan is overdue once its due time has passed, not at it. The checks
//! (check-out, renewal, return), the flags clients see and the list filters all ask here, in Rust or in
//! SQL, so they can never disagree about a loan due this very instant.

use chrono::{DateTime, Utc};
use entity::loan;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::Expr;

/// Whether a loan due at `due_at` is overdue at `now`.
#[must_use]
pub fn is_overdue(due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    due_at < now
}

/// The same rule as a condition on `loans.due_at`: the loans overdue at `now`.
pub(crate) fn overdue_at(now: DateTime<Utc>) -> Expr {
    loan::Column::DueAt.lt(now)
}

/// The loans still in time at `now`: exactly those [`overdue_at`] leaves out (`due_at` is never null).
pub(crate) fn in_time_at(now: DateTime<Utc>) -> Expr {
    loan::Column::DueAt.gte(now)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query};

    use super::*;

    fn sql(condition: Expr) -> String {
        Query::select()
            .column(loan::Column::Id)
            .from(loan::Entity)
            .and_where(condition)
            .to_string(PostgresQueryBuilder)
    }

    #[test]
    fn a_loan_is_overdue_only_after_its_due_time() {
        let due = Utc::now();
        assert!(!is_overdue(due, due - TimeDelta::seconds(1)));
        assert!(!is_overdue(due, due), "due this instant is still in time");
        assert!(is_overdue(due, due + TimeDelta::microseconds(1)));
    }

    #[test]
    fn the_sql_conditions_split_at_the_same_instant() {
        let now = Utc::now();
        assert!(sql(overdue_at(now)).contains(r#""due_at" < "#), "{}", sql(overdue_at(now)));
        assert!(sql(in_time_at(now)).contains(r#""due_at" >= "#), "{}", sql(in_time_at(now)));
    }
}
