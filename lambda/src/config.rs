//! The Lambda's configuration, from the environment, in one typed place. A bad or missing setting fails
//! the cold start with one message naming the variable; secrets never reach `Debug` output.

use std::fmt;
use std::time::Duration;

use openapi::AppSettings;
use openapi::auth::{AuthMode, AuthSettings};

mod proxy;
pub use proxy::{DbAuth, DbSource, TlsMode};

/// Why the configuration is unusable; always names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

fn error(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { name, message: message.into() }
}

/// What this function does with its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Serve HTTP events with the API (the default).
    Api,
    /// Apply pending migrations on each invocation and report what was applied.
    Migrate,
}

/// A value that must not be printed: a password, or a URL that may carry one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Pool settings; see [`PoolSettings::default`] for why the defaults suit Lambda.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
}

impl Default for PoolSettings {
    /// - one connection: an instance serves one request at a time, so a second would only idle, and
    ///   reserved concurrency × 1 bounds what the proxy sees;
    /// - short connect and acquire timeouts (3 s): a request fails fast with 503 instead of waiting out
    ///   the function timeout when the database or proxy is down;
    /// - a 60 s idle timeout: an instance that stops getting traffic gives its connection back long before
    ///   Lambda freezes or reaps it;
    /// - a 15 min lifetime: connections are recycled, so proxy failovers and credential rotations land.
    fn default() -> Self {
        Self {
            max_connections: 1,
            connect_timeout: Duration::from_secs(3),
            acquire_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(60),
            max_lifetime: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Clone, Debug)]
pub struct LambdaConfig {
    pub mode: Mode,
    pub database: DbSource,
    pub pool: PoolSettings,
    pub app: AppSettings,
    /// How callers are authenticated: read in API mode only (`None` for the migration function). Always a
    /// JWT issuer: dev mode, which hands out tokens to anyone, is refused here.
    pub auth: Option<AuthSettings>,
}

impl LambdaConfig {
    /// # Errors
    /// The first missing or invalid variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// # Errors
    /// The first missing or invalid variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mode = match var("LIBRIS_LAMBDA_MODE").as_deref() {
            None | Some("api") => Mode::Api,
            Some("migrate") => Mode::Migrate,
            Some(other) => {
                return Err(error("LIBRIS_LAMBDA_MODE", format!("{other:?} is not `api` or `migrate`")));
            }
        };
        let database = match var("DATABASE_URL") {
            Some(url) => DbSource::Url(Secret::new(url)),
            None => proxy::proxy_source(&var)?,
        };
        let defaults = PoolSettings::default();
        let pool = PoolSettings {
            max_connections: number(&var, "DB_MAX_CONNECTIONS", defaults.max_connections)?,
            connect_timeout: millis(&var, "DB_CONNECT_TIMEOUT_MS", defaults.connect_timeout)?,
            acquire_timeout: millis(&var, "DB_ACQUIRE_TIMEOUT_MS", defaults.acquire_timeout)?,
            idle_timeout: seconds(&var, "DB_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            max_lifetime: seconds(&var, "DB_MAX_LIFETIME_SECS", defaults.max_lifetime)?,
        };
        if pool.max_connections == 0 {
            return Err(error("DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        // The lending rules, limits and auth are the same settings the local server reads.
        let shared = |e: openapi::config::ConfigError| ConfigError { name: e.name, message: e.message };
        let app = AppSettings::from_lookup(&lookup).map_err(shared)?;
        let auth = match mode {
            Mode::Migrate => None,
            Mode::Api => match AuthSettings::from_lookup(&lookup).map_err(shared)? {
                AuthSettings { mode: AuthMode::Dev, .. } => {
                    return Err(error(
                        "LIBRIS_AUTH",
                        "`dev` hands out librarian tokens to anyone and is for the local server only; \
                         use `jwt` with LIBRIS_AUTH_ISSUER and LIBRIS_AUTH_AUDIENCE",
                    ));
                }
                settings => Some(settings),
            },
        };
        Ok(Self { mode, database, pool, app, auth })
    }
}

fn number<T: std::str::FromStr>(
    var: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    var(name).map_or(Ok(default), |raw| {
        raw.parse().map_err(|_| error(name, format!("{raw:?} is not a valid number")))
    })
}

fn millis(
    var: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    number(var, name, u64::try_from(default.as_millis()).unwrap_or(u64::MAX)).map(Duration::from_millis)
}

fn seconds(
    var: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    number(var, name, default.as_secs()).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<LambdaConfig, ConfigError> {
        let mut map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        for (name, value) in JWT {
            map.entry(name.to_owned()).or_insert_with(|| value.to_owned());
        }
        LambdaConfig::from_lookup(|name| map.get(name).cloned())
    }

    const JWT: [(&str, &str); 3] = [
        ("LIBRIS_AUTH", "jwt"),
        ("LIBRIS_AUTH_ISSUER", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"),
        ("LIBRIS_AUTH_AUDIENCE", "client"),
    ];

    #[test]
    fn the_api_needs_a_jwt_issuer_and_refuses_dev_mode() {
        let url = ("DATABASE_URL", "postgres://x");
        assert_eq!(config(&[url, ("LIBRIS_AUTH", "dev")]).unwrap_err().name, "LIBRIS_AUTH");
        assert_eq!(config(&[url, ("LIBRIS_AUTH", "")]).unwrap_err().name, "LIBRIS_AUTH");
        assert!(matches!(
            config(&[url]).unwrap().auth,
            Some(AuthSettings { mode: AuthMode::Jwt { .. }, .. })
        ));
        let migrate = config(&[url, ("LIBRIS_LAMBDA_MODE", "migrate"), ("LIBRIS_AUTH", "dev")]).unwrap();
        assert_eq!(migrate.auth, None, "the migration function serves no requests");
    }

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:libris-db-AbCdEf";

    #[test]
    fn proxy_mode_reads_host_secret_and_tls() {
        let config =
            config(&[("DB_HOST", "proxy.example"), ("DB_SECRET_ARN", ARN), ("DB_NAME", "libris")]).unwrap();
        assert_eq!(
            config.database,
            DbSource::Proxy {
                host: "proxy.example".to_owned(),
                port: 5432,
                name: Some("libris".to_owned()),
                auth: DbAuth::Secret { arn: ARN.to_owned() },
                tls: TlsMode::VerifyFull,
                extra_ca: None,
            }
        );
        assert_eq!(config.pool, PoolSettings::default());
        assert_eq!(config.mode, Mode::Api);
    }

    #[test]
    fn every_bad_setting_names_its_variable() {
        for (pairs, name) in [
            (vec![], "DB_HOST"),
            (vec![("DB_HOST", "h")], "DB_SECRET_ARN"),
            (vec![("DB_HOST", "h"), ("DB_SECRET_ARN", "secret")], "DB_SECRET_ARN"),
            (vec![("DB_HOST", "h"), ("DB_SECRET_ARN", ARN), ("DB_TLS", "maybe")], "DB_TLS"),
            (vec![("DB_HOST", "h"), ("DB_SECRET_ARN", ARN), ("DB_PORT", "x")], "DB_PORT"),
            (vec![("DATABASE_URL", "postgres://x"), ("DB_MAX_CONNECTIONS", "0")], "DB_MAX_CONNECTIONS"),
            (vec![("DATABASE_URL", "postgres://x"), ("LIBRIS_LAMBDA_MODE", "batch")], "LIBRIS_LAMBDA_MODE"),
            (vec![("DATABASE_URL", "postgres://x"), ("LIBRIS_MAX_RENEWALS", "-")], "LIBRIS_MAX_RENEWALS"),
        ] {
            assert_eq!(config(&pairs).unwrap_err().name, name, "{pairs:?}");
        }
    }

    #[test]
    fn urls_and_secrets_never_print() {
        let config = config(&[("DATABASE_URL", "postgres://libris:hunter2@db/libris")]).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
