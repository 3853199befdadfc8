//! Secrets that never print: [`SecretUrl`] for connection URLs, [`redact_url`] for showing one.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A connection URL that may carry a password. `Debug` shows it through [`redact_url`], so a config
/// dump still says which server and database are meant; the whole URL only comes out through
/// [`ExposeSecret`], at the one call that connects.
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }
}

impl ExposeSecret<str> for SecretUrl {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.0.expose_secret()))
    }
}

/// Settings compare by value (tests compare whole configurations). Not constant-time: never use this to
/// check a credential.
impl PartialEq for SecretUrl {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for SecretUrl {}

/// The URL with the password of its user info replaced by `[redacted]`, everything else kept:
/// `postgres://libris:[redacted]@db:5432/libris`. A URL with no password comes back unchanged.
///
/// Errs on the side of hiding: everything between `://` and the last `@` is taken as user info, so a
/// password holding an unescaped `@` or `/` still does not show.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let Some(at) = rest.rfind('@') else { return url.to_owned() };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{}{user}:[redacted]{}", &url[..scheme_end], &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_url("postgres://libris:hunter2@db:5432/libris?sslmode=require"),
            "postgres://libris:[redacted]@db:5432/libris?sslmode=require"
        );
        assert_eq!(redact_url("mysql://root:pw@h:3306/x"), "mysql://root:[redacted]@h:3306/x");
    }

    #[test]
    fn awkward_passwords_stay_hidden() {
        for url in ["postgres://u:p@ss@h/db", "postgres://u:a/b:c@h/db", "postgres://u:%40x@h/db"] {
            let shown = redact_url(url);
            assert!(shown.starts_with("postgres://u:[redacted]@"), "{url} -> {shown}");
            assert!(shown.ends_with("h/db"), "{url} -> {shown}");
        }
    }

    #[test]
    fn urls_without_a_password_are_unchanged() {
        for url in ["postgres://postgres@127.0.0.1:5432/postgres", "sqlite://libris.db?mode=rwc", "not a url"]
        {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn a_secret_url_debugs_redacted_and_exposes_whole() {
        let url = SecretUrl::new("postgres://libris:hunter2@db/libris");
        assert_eq!(format!("{url:?}"), "postgres://libris:[redacted]@db/libris");
        assert_eq!(url.expose_secret(), "postgres://libris:hunter2@db/libris");
    }
}
