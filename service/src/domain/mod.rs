//! Domain values that are valid by construction ("parse, don't validate").
//!
//! Each `parse` returns the value or a [`ServiceError::Validation`] naming the field, so no unchecked
//! string reaches a query.

mod isbn;

pub use isbn::Isbn;

use crate::ServiceError;

/// Whether `c` changes how the text around it is displayed without showing itself: the bidirectional
/// embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069), which can make a title read
/// backwards or hide what follows (CVE-2021-42574, "Trojan Source"); and the zero-width characters and
/// marks (U+200B–U+200F, U+2060, U+FEFF), which make two names that look the same compare different. A
/// title, name or login subject is shown in lists and compared by eye, so none of them may carry one.
#[must_use]
pub fn is_hidden_formatting(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

/// Rejects characters that have no business in a name or title: control characters (NUL included) and
/// hidden formatting ([`is_hidden_formatting`]).
fn text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, ServiceError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(ServiceError::invalid(field, format!("must be at most {max_chars} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ServiceError::invalid(field, "must not contain control characters"));
    }
    if trimmed.chars().any(is_hidden_formatting) {
        return Err(ServiceError::invalid(
            field,
            "must not contain bidirectional overrides or zero-width characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A list filter's search text, trimmed. Refused when longer than the column it searches (it could never
/// match, and a megabyte pattern is only load) or holding control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// `None` when blank: a blank filter filters nothing.
    ///
    /// # Errors
    /// `Validation` on `field` when longer than `max_chars` or holding control characters.
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Option<Self>, ServiceError> {
        let term = raw.trim();
        if term.is_empty() {
            return Ok(None);
        }
        if term.chars().count() > max_chars {
            return Err(ServiceError::invalid(field, format!("must be at most {max_chars} characters")));
        }
        if term.chars().any(char::is_control) {
            return Err(ServiceError::invalid(field, "must not contain control characters"));
        }
        Ok(Some(Self(term.to_owned())))
    }

    /// A search in book titles (`title`).
    ///
    /// # Errors
    /// As [`SearchTerm::parse`].
    pub fn title(raw: &str) -> Result<Option<Self>, ServiceError> {
        Self::parse("title", raw, Title::MAX_CHARS)
    }

    /// A search in names (`name`).
    ///
    /// # Errors
    /// As [`SearchTerm::parse`].
    pub fn name(raw: &str) -> Result<Option<Self>, ServiceError> {
        Self::parse("name", raw, PersonName::MAX_CHARS)
    }

    /// A search in e-mail addresses (`email`).
    ///
    /// # Errors
    /// As [`SearchTerm::parse`].
    pub fn email(raw: &str) -> Result<Option<Self>, ServiceError> {
        Self::parse("email", raw, Email::MAX_CHARS)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date every backend stores and every client parses: years 1 to 9999 (RFC 3339's four digits;
/// PostgreSQL refuses dates before 4714 BC, and chrono would also print five-digit years). RFC 3339 also
/// has year 0000, which PostgreSQL reads only as `0001-01-01 BC`, and a search writes its dates into the
/// statement as text; until that is spelled for year 0, year 0 is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate(chrono::NaiveDate);

impl CalendarDate {
    /// # Errors
    /// `Validation` on `field` outside years 1..=9999.
    pub fn parse(field: &'static str, date: chrono::NaiveDate) -> Result<Self, ServiceError> {
        use chrono::Datelike;
        if (1..=9999).contains(&date.year()) {
            Ok(Self(date))
        } else {
            Err(ServiceError::invalid(field, "must be a date between 0001-01-01 and 9999-12-31"))
        }
    }

    #[must_use]
    pub fn get(self) -> chrono::NaiveDate {
        self.0
    }
}

/// A book title: 1 to 500 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 500;

    /// # Errors
    /// `Validation` on `title` when empty, too long or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        text("title", raw, Self::MAX_CHARS).map(Self)
    }

    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A person's name (author or borrower): 1 to 200 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 200;

    /// # Errors
    /// `Validation` on `name` when empty, too long or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        text("name", raw, Self::MAX_CHARS).map(Self)
    }

    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The `sub` claim of an identity provider's tokens that a borrower is linked to. Opaque and compared
/// exactly (Cognito uses UUIDs, other providers other shapes), so only its length and characters are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSubject(String);

impl AuthSubject {
    pub const MAX_CHARS: usize = 255;

    /// # Errors
    /// `Validation` on `subject` when empty, too long, or containing spaces or control characters.
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        let subject = text("subject", raw, Self::MAX_CHARS)?;
        if subject.chars().any(char::is_whitespace) {
            return Err(ServiceError::invalid("subject", "must not contain spaces"));
        }
        Ok(Self(subject))
    }

    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An e-mail address, lower-cased so that uniqueness is case-insensitive on every backend.
///
/// The rule is one a regular expression states exactly, so the spec can declare it as a `pattern` (see
/// `openapi::rules`): lengths are counted in characters of the value as sent, the domain is the DNS
/// "letters, digits, hyphen" form (an internationalised domain is sent as its `xn--` A-labels, as SMTP
/// without SMTPUTF8 carries it), and the value is lower-cased only once it has been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The longest value, spaces around it included (RFC 5321's 254-character path limit).
    pub const MAX_CHARS: usize = 254;
    /// The longest local part, in characters.
    pub const MAX_LOCAL_CHARS: usize = 64;

    /// # Errors
    /// `Validation` on `email` unless the value is `local@domain.tld` with sane lengths and characters.
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        let invalid = |message: &str| ServiceError::invalid("email", message);
        let value = raw.trim();
        if value.is_empty() || raw.chars().count() > Self::MAX_CHARS {
            return Err(invalid("must be between 1 and 254 characters"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces or control characters"));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(invalid("must contain '@'"));
        };
        if local.is_empty() || local.chars().count() > Self::MAX_LOCAL_CHARS || local.contains('@') {
            return Err(invalid("must have a single '@' after 1 to 64 characters"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("must have a domain such as example.org (letters, digits and hyphens)"));
        }
        Ok(Self(value.to_lowercase()))
    }

    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A review rating from 1 to 5 stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rating(i16);

impl Rating {
    /// # Errors
    /// `Validation` on `rating` outside 1..=5.
    pub fn parse(raw: i64) -> Result<Self, ServiceError> {
        match i16::try_from(raw) {
            Ok(value @ 1..=5) => Ok(Self(value)),
            _ => Err(ServiceError::invalid("rating", "must be an integer from 1 to 5")),
        }
    }

    #[must_use]
    pub fn get(self) -> i16 {
        self.0
    }
}

/// A review's optional free text, at most 4,000 characters; blank means none (the default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comment(Option<String>);

impl Comment {
    pub const MAX_CHARS: usize = 4000;

    /// Line breaks and tabs are a comment's paragraphs and lists; every other control character (NUL, ESC
    /// and its terminal escape sequences, backspace, DEL, the C1 set) only disturbs whoever displays it.
    ///
    /// # Errors
    /// `Validation` on `comment` when too long or containing a control character other than a line
    /// break or tab.
    pub fn parse(raw: Option<&str>) -> Result<Self, ServiceError> {
        let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(Self(None)) };
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ServiceError::invalid("comment", "must be at most 4000 characters"));
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(ServiceError::invalid(
                "comment",
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        Ok(Self(Some(text.to_owned())))
    }

    #[must_use]
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// A loan period in whole days, bounded by the library's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoanPeriod(u32);

impl LoanPeriod {
    /// # Errors
    /// `Validation` on `period_days` outside `1..=max_days`.
    pub fn parse(days: i64, max_days: u32) -> Result<Self, ServiceError> {
        match u32::try_from(days) {
            Ok(days) if (1..=max_days).contains(&days) => Ok(Self(days)),
            _ => Err(ServiceError::invalid("period_days", format!("must be from 1 to {max_days} days"))),
        }
    }

    #[must_use]
    pub fn days(self) -> u32 {
        self.0
    }

    #[must_use]
    pub fn duration(self) -> chrono::TimeDelta {
        chrono::TimeDelta::days(i64::from(self.0))
    }
}

/// How many items a page holds: 20 unless asked, never more than 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u64);

impl PageLimit {
    pub const DEFAULT: u64 = 20;
    pub const MAX: u64 = 100;

    /// # Errors
    /// `Validation` on `limit` outside `1..=100`.
    pub fn parse(raw: Option<i64>) -> Result<Self, ServiceError> {
        match raw {
            None => Ok(Self(Self::DEFAULT)),
            Some(n) => match u64::try_from(n) {
                Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
                _ => Err(ServiceError::invalid("limit", "must be from 1 to 100")),
            },
        }
    }

    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

#[cfg(test)]
mod tests;
