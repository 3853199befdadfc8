//! The local server's configuration, from the environment, in one typed place.

use std::fmt;
use std::str::FromStr;

use service::LoanPolicy;

use crate::AppState;
use crate::auth::AuthSettings;

/// Why the configuration could not be read; always names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

/// A database URL, which may carry a password: `Debug` never shows it.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                write!(f, "{}://[redacted]{}", &self.0[..scheme], &self.0[at..])
            }
            _ => f.write_str(&self.0),
        }
    }
}

/// The local server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub database_url: DatabaseUrl,
    /// Load the demo library into an empty database at start-up.
    pub demo_data: bool,
    pub app: AppSettings,
    pub auth: AuthSettings,
}

/// What the app itself is told, wherever it is hosted (the local server and the Lambda read the same).
#[derive(Clone, Debug)]
pub struct AppSettings {
    pub policy: LoanPolicy,
    pub max_body_bytes: usize,
    pub request_timeout: std::time::Duration,
    pub cors_origins: Vec<String>,
}

/// Where the embedded database lives unless `DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://libris.db?mode=rwc";

impl Config {
    /// Reads `HOST`, `PORT`, `DATABASE_URL`, `LIBRIS_DEMO_DATA`, `LIBRIS_MAX_ACTIVE_LOANS`,
    /// `LIBRIS_LOAN_PERIOD_DAYS`, `LIBRIS_MAX_LOAN_PERIOD_DAYS`, `LIBRIS_MAX_RENEWALS`, `LIBRIS_MAX_BODY_BYTES`,
    /// and the `LIBRIS_AUTH*` settings ([`AuthSettings::from_lookup`]).
    ///
    /// # Errors
    /// A variable that is set but cannot be parsed.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same, from any lookup (tests use a map).
    ///
    /// # Errors
    /// A variable that is set but cannot be parsed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port: parsed(&var, "PORT", 3000)?,
            database_url: DatabaseUrl(var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())),
            demo_data: parsed(&var, "LIBRIS_DEMO_DATA", true)?,
            app: AppSettings::from_lookup(&lookup)?,
            auth: AuthSettings::from_lookup(&lookup)?,
        })
    }
}

impl AppSettings {
    /// Reads `LIBRIS_MAX_ACTIVE_LOANS`, `LIBRIS_LOAN_PERIOD_DAYS`, `LIBRIS_MAX_LOAN_PERIOD_DAYS`,
    /// `LIBRIS_MAX_RENEWALS`, `LIBRIS_MAX_BODY_BYTES`, `LIBRIS_REQUEST_TIMEOUT_MS`, `LIBRIS_CORS_ORIGINS`.
    ///
    /// # Errors
    /// A variable that is set but cannot be parsed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let defaults = LoanPolicy::default();
        let policy = LoanPolicy {
            max_active_loans: parsed(&var, "LIBRIS_MAX_ACTIVE_LOANS", defaults.max_active_loans)?,
            default_period_days: parsed(&var, "LIBRIS_LOAN_PERIOD_DAYS", defaults.default_period_days)?,
            max_period_days: parsed(&var, "LIBRIS_MAX_LOAN_PERIOD_DAYS", defaults.max_period_days)?,
            max_renewals: parsed(&var, "LIBRIS_MAX_RENEWALS", defaults.max_renewals)?,
        };
        if policy.default_period_days == 0 || policy.default_period_days > policy.max_period_days {
            return Err(ConfigError {
                name: "LIBRIS_LOAN_PERIOD_DAYS",
                message: format!(
                    "must be from 1 to LIBRIS_MAX_LOAN_PERIOD_DAYS ({})",
                    policy.max_period_days
                ),
            });
        }
        Ok(Self {
            policy,
            max_body_bytes: parsed(&var, "LIBRIS_MAX_BODY_BYTES", AppState::DEFAULT_MAX_BODY_BYTES)?,
            request_timeout: std::time::Duration::from_millis(parsed(
                &var,
                "LIBRIS_REQUEST_TIMEOUT_MS",
                u64::try_from(AppState::DEFAULT_REQUEST_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
            )?),
            cors_origins: cors_origins(var("LIBRIS_CORS_ORIGINS"))?,
        })
    }
}

/// `LIBRIS_CORS_ORIGINS`: a comma-separated list of exact origins such as `https://app.example.org`.
fn cors_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let origins: Vec<String> =
        raw.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
    match origins
        .iter()
        .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/'))
    {
        Some(bad) => Err(ConfigError {
            name: "LIBRIS_CORS_ORIGINS",
            message: format!("{bad:?} is not an origin like https://app.example.org"),
        }),
        None => Ok(origins),
    }
}

fn parsed<T: FromStr>(
    var: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError { name, message: format!("{raw:?} is invalid: {e}") }),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        map.entry("LIBRIS_AUTH".to_owned()).or_insert_with(|| "dev".to_owned());
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_the_embedded_database_on_localhost() {
        let config = config(&[]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 3000));
        assert_eq!(config.database_url.expose(), DEFAULT_DATABASE_URL);
        assert!(config.demo_data);
        assert_eq!(config.app.policy, LoanPolicy::default());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let error = config(&[("PORT", "eighty")]).unwrap_err();
        assert_eq!(error.name, "PORT");
        assert_eq!(config(&[("LIBRIS_LOAN_PERIOD_DAYS", "90")]).unwrap_err().name, "LIBRIS_LOAN_PERIOD_DAYS");
        assert_eq!(config(&[("LIBRIS_CORS_ORIGINS", "*")]).unwrap_err().name, "LIBRIS_CORS_ORIGINS");
    }

    #[test]
    fn cors_is_off_unless_origins_are_listed() {
        assert!(config(&[]).unwrap().app.cors_origins.is_empty());
        let listed = config(&[("LIBRIS_CORS_ORIGINS", "https://a.example, http://localhost:5173")]).unwrap();
        assert_eq!(listed.app.cors_origins, ["https://a.example", "http://localhost:5173"]);
    }

    #[test]
    fn database_passwords_never_reach_debug_output() {
        let config = config(&[("DATABASE_URL", "postgres://libris:hunter2@db:5432/libris")]).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("@db:5432/libris"));
    }
}
