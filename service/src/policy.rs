//! The library's lending rules, with the defaults a small public library would use.

/// Limits applied to check-outs and renewals. The host application builds it from its configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoanPolicy {
    /// Active loans a borrower may hold at once.
    pub max_active_loans: u64,
    /// Loan period when the caller asks for none, in days.
    pub default_period_days: u32,
    /// The longest period a caller may ask for, in days.
    pub max_period_days: u32,
    /// How many times one loan may be renewed.
    pub max_renewals: i32,
}

impl Default for LoanPolicy {
    fn default() -> Self {
        Self { max_active_loans: 5, default_period_days: 14, max_period_days: 60, max_renewals: 1 }
    }
}
