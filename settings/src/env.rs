//! [`Env`]: the environment reader every host shares, and its [`ConfigError`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a setting cannot be used; always names the variable, so the fix is obvious from the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

impl ConfigError {
    #[must_use]
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        Self { name, message: message.into() }
    }
}

/// Where settings come from: the process environment, or any lookup (tests pass a map).
///
/// Every read goes through [`Env::var`]: the value is trimmed and a blank one is unset, so `PORT=" 80 "`
/// and `PORT=80` mean the same, and `PORT=` means the default, whichever host reads it.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values may be secrets; the reader has nothing else to show.
        f.write_str("Env")
    }
}

fn process_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Env<'static> {
    /// The process environment.
    #[must_use]
    pub fn process() -> Self {
        Self { lookup: &process_var }
    }
}

impl<'a> Env<'a> {
    /// Settings from `lookup`, which returns a variable's raw value.
    #[must_use]
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The trimmed value, or `None` when the variable is unset or blank.
    #[must_use]
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
    }

    /// The value of a variable that must be set; `why` says when or what for.
    ///
    /// # Errors
    /// When the variable is unset or blank, with `why` as the message.
    pub fn required(&self, name: &'static str, why: &str) -> Result<String, ConfigError> {
        self.var(name).ok_or_else(|| ConfigError::new(name, why))
    }

    /// The value parsed as `T`, or `default` when unset.
    ///
    /// # Errors
    /// When the value is set but does not parse, with the parser's reason.
    pub fn parsed<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.var(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e| ConfigError::new(name, format!("{raw:?} is invalid: {e}"))),
        }
    }

    /// A duration given in whole milliseconds.
    ///
    /// # Errors
    /// When the value is set but is not a whole number.
    pub fn millis(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        self.parsed(name, default).map(Duration::from_millis)
    }

    /// A duration given in whole seconds.
    ///
    /// # Errors
    /// When the value is set but is not a whole number.
    pub fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        self.parsed(name, default.as_secs()).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use std::collections::HashMap;

    use super::*;

    fn read<T>(pairs: &[(&str, &str)], f: impl FnOnce(&Env<'_>) -> T) -> T {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let lookup = |name: &str| map.get(name).cloned();
        f(&Env::new(&lookup))
    }

    #[test]
    fn values_are_trimmed_and_blank_is_unset() {
        assert_eq!(read(&[("HOST", "  db.example  ")], |env| env.var("HOST")).as_deref(), Some("db.example"));
        assert_eq!(read(&[("HOST", "   ")], |env| env.var("HOST")), None);
        assert_eq!(read(&[], |env| env.var("HOST")), None);
    }

    #[test]
    fn parsed_values_fall_back_to_the_default_and_name_their_variable_when_bad() {
        assert_eq!(read(&[("PORT", " 8080 ")], |env| env.parsed("PORT", 3000_u16)), Ok(8080));
        assert_eq!(read(&[("PORT", "")], |env| env.parsed("PORT", 3000_u16)), Ok(3000));
        let error = read(&[("PORT", "eighty")], |env| env.parsed("PORT", 3000_u16)).unwrap_err();
        assert_eq!(error.name, "PORT");
        assert!(error.message.starts_with("\"eighty\" is invalid"), "{error}");
    }

    #[test]
    fn required_values_say_why_when_missing() {
        let error = read(&[("X", " ")], |env| env.required("X", "must be set for Y")).unwrap_err();
        assert_eq!(error.to_string(), "X: must be set for Y");
    }

    #[test]
    fn durations_come_in_their_unit() {
        let five = Duration::from_secs(5);
        assert_eq!(read(&[("T", "250")], |env| env.millis("T", five)), Ok(Duration::from_millis(250)));
        assert_eq!(read(&[("T", "7")], |env| env.seconds("T", five)), Ok(Duration::from_secs(7)));
        assert_eq!(read(&[], |env| env.seconds("T", five)), Ok(five));
        assert_eq!(read(&[("T", "1.5")], |env| env.millis("T", five)).unwrap_err().name, "T");
    }

    #[test]
    fn the_process_environment_is_read_like_any_other() {
        // PATH is set wherever tests run; a name nobody sets reads as unset.
        assert!(Env::process().var("PATH").is_some());
        assert_eq!(Env::process().var("LIBRIS_SETTINGS_TEST_NEVER_SET"), None);
    }
}
