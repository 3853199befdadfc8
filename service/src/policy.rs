//! The library's lending rules: limits a host configures, checked once when the policy is built, so no
//! request ever meets a policy that refuses every check-out or due dates no client can read.

use crate::ServiceError;
use crate::domain::LoanPeriod;

/// The numbers a host reads from its configuration, unchecked; [`LoanPolicy::new`] checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoanLimits {
    /// Active loans a borrower may hold at once.
    pub max_active_loans: u64,
    /// Loan period when the caller asks for none, and the length of a renewal, in days.
    pub default_period_days: u32,
    /// The longest period a caller may ask for, in days.
    pub max_period_days: u32,
    /// How many times one loan may be renewed (0: never).
    pub max_renewals: u32,
}

/// What a small public library would use.
impl Default for LoanLimits {
    fn default() -> Self {
        Self { max_active_loans: 5, default_period_days: 14, max_period_days: 60, max_renewals: 1 }
    }
}

/// Why limits cannot make a policy. The host names its own setting for each (see `openapi::config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("must be at least 1: with 0 every check-out would be refused")]
    NoActiveLoans,
    #[error("must be from 1 to {} days", LoanPolicy::LONGEST_PERIOD_DAYS)]
    MaxPeriod,
    #[error("must be from 1 to the longest loan period ({max_period_days} days)")]
    DefaultPeriod { max_period_days: u32 },
}

/// Limits applied to check-outs and renewals; valid by construction (fields private, built by
/// [`LoanPolicy::new`] or [`LoanPolicy::default`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoanPolicy(LoanLimits);

impl LoanPolicy {
    /// A hundred years: any longer and a due date could leave the four-digit years that RFC 3339 and
    /// every client parse (and chrono's date arithmetic would eventually overflow).
    pub const LONGEST_PERIOD_DAYS: u32 = 36_500;

    /// # Errors
    /// No active loan allowed; a longest period of 0 or beyond [`Self::LONGEST_PERIOD_DAYS`]; a default
    /// period of 0 or longer than the longest.
    pub fn new(limits: LoanLimits) -> Result<Self, PolicyError> {
        if limits.max_active_loans == 0 {
            return Err(PolicyError::NoActiveLoans);
        }
        if !(1..=Self::LONGEST_PERIOD_DAYS).contains(&limits.max_period_days) {
            return Err(PolicyError::MaxPeriod);
        }
        if !(1..=limits.max_period_days).contains(&limits.default_period_days) {
            return Err(PolicyError::DefaultPeriod { max_period_days: limits.max_period_days });
        }
        Ok(Self(limits))
    }

    /// The limits this policy was built from.
    #[must_use]
    pub fn limits(&self) -> LoanLimits {
        self.0
    }

    #[must_use]
    pub fn max_active_loans(&self) -> u64 {
        self.0.max_active_loans
    }

    #[must_use]
    pub fn max_renewals(&self) -> u32 {
        self.0.max_renewals
    }

    /// The period a check-out asks for (`None`: the default), checked against the longest allowed.
    ///
    /// # Errors
    /// `Validation` on `period_days` outside `1..=max_period_days`.
    pub fn period(&self, requested_days: Option<i64>) -> Result<LoanPeriod, ServiceError> {
        let days = requested_days.unwrap_or(i64::from(self.0.default_period_days));
        LoanPeriod::parse(days, self.0.max_period_days)
    }

    /// How far a renewal moves the due date: one default period.
    #[must_use]
    pub fn renewal(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::days(i64::from(self.0.default_period_days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut LoanLimits)) -> Result<LoanPolicy, PolicyError> {
        let mut limits = LoanLimits::default();
        change(&mut limits);
        LoanPolicy::new(limits)
    }

    #[test]
    fn the_default_policy_is_a_valid_one() {
        assert_eq!(LoanPolicy::new(LoanLimits::default()), Ok(LoanPolicy::default()));
    }

    #[test]
    fn limits_that_would_refuse_every_loan_or_overflow_dates_are_refused() {
        assert_eq!(with(|l| l.max_active_loans = 0), Err(PolicyError::NoActiveLoans));
        assert_eq!(with(|l| l.max_period_days = 0), Err(PolicyError::MaxPeriod));
        assert_eq!(with(|l| l.max_period_days = u32::MAX), Err(PolicyError::MaxPeriod));
        let too_long = with(|l| l.default_period_days = 90);
        assert_eq!(too_long, Err(PolicyError::DefaultPeriod { max_period_days: 60 }));
        assert_eq!(
            with(|l| l.default_period_days = 0),
            Err(PolicyError::DefaultPeriod { max_period_days: 60 })
        );
    }

    #[test]
    fn edge_values_are_accepted() {
        let tight = with(|l| {
            l.max_active_loans = 1;
            l.default_period_days = 1;
            l.max_period_days = 1;
            l.max_renewals = 0;
        });
        assert!(tight.is_ok());
        let long = with(|l| l.max_period_days = LoanPolicy::LONGEST_PERIOD_DAYS);
        assert!(long.is_ok());
    }

    #[test]
    fn requested_periods_are_checked_against_the_longest() {
        let policy = LoanPolicy::default();
        assert_eq!(policy.period(None).map(LoanPeriod::days).ok(), Some(14));
        assert_eq!(policy.period(Some(60)).map(LoanPeriod::days).ok(), Some(60));
        assert!(matches!(
            policy.period(Some(61)),
            Err(ServiceError::Validation { field: "period_days", .. })
        ));
        assert_eq!(policy.renewal(), chrono::TimeDelta::days(14));
    }
}
