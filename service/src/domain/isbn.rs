//! ISBN-10 and ISBN-13, checksum-verified and stored as ISBN-13 digits.

use crate::ServiceError;

/// A valid ISBN, normalised to its 13 digits (an ISBN-10 gets the 978 prefix and a new check digit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Isbn(String);

impl Isbn {
    /// Accepts ISBN-10 or ISBN-13, with or without hyphens and spaces; ISBN-10 may end in `X`.
    ///
    /// # Errors
    /// `Validation` on `isbn` for a wrong length, a stray character or a failed checksum.
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        let invalid = |message: &str| ServiceError::invalid("isbn", message);
        let compact: Vec<char> = raw.trim().chars().filter(|c| *c != '-' && *c != ' ').collect();
        match compact.len() {
            10 => {
                let mut digits = Vec::with_capacity(10);
                for (i, c) in compact.iter().enumerate() {
                    match (c.to_digit(10), c) {
                        (Some(d), _) => digits.push(d),
                        (None, 'X' | 'x') if i == 9 => digits.push(10),
                        _ => return Err(invalid("an ISBN-10 has nine digits and a digit or X")),
                    }
                }
                let sum: u32 = digits.iter().zip((1..=10).rev()).map(|(d, w)| d * w).sum();
                if !sum.is_multiple_of(11) {
                    return Err(invalid("the ISBN-10 check digit does not match"));
                }
                let mut isbn13: Vec<u32> = vec![9, 7, 8];
                isbn13.extend_from_slice(&digits[..9]);
                isbn13.push(check13(&isbn13));
                Ok(Self(isbn13.iter().map(u32::to_string).collect()))
            }
            13 => {
                let digits: Option<Vec<u32>> = compact.iter().map(|c| c.to_digit(10)).collect();
                let digits = digits.ok_or_else(|| invalid("an ISBN-13 has only digits"))?;
                if check13(&digits[..12]) != digits[12] {
                    return Err(invalid("the ISBN-13 check digit does not match"));
                }
                Ok(Self(compact.into_iter().collect()))
            }
            _ => Err(invalid("must be an ISBN-10 or ISBN-13")),
        }
    }

    /// The ISBN-13 that starts with these twelve digits: the check digit is computed, not checked.
    /// For data made up in bulk (the benchmarks' library), so every ISBN it stores is one `parse` accepts.
    ///
    /// # Errors
    /// `Validation` on `isbn` unless `first_twelve` is exactly twelve ASCII digits.
    pub fn with_check_digit(first_twelve: &str) -> Result<Self, ServiceError> {
        let digits: Option<Vec<u32>> = first_twelve.chars().map(|c| c.to_digit(10)).collect();
        match digits {
            Some(mut digits) if digits.len() == 12 => {
                digits.push(check13(&digits));
                Ok(Self(digits.iter().map(u32::to_string).collect()))
            }
            _ => Err(ServiceError::invalid("isbn", "needs the first twelve digits of an ISBN-13")),
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The ISBN-13 check digit of the first twelve digits.
fn check13(first12: &[u32]) -> u32 {
    let sum: u32 = first12.iter().enumerate().map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 }).sum();
    (10 - sum % 10) % 10
}
