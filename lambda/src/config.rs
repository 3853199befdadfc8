//! The Lambda's configuration, from the environment, in one typed place. A bad or missing setting fails
//! the cold start with one message naming the variable; secrets never reach `Debug` output.

use std::fmt;
use std::time::Duration;

use service::LoanPolicy;

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

/// How the connection to PostgreSQL is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Require,
    VerifyFull,
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

/// Where the database is and how to log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbSource {
    /// `DATABASE_URL`: local runs and tests (any backend SeaORM supports).
    Url(Secret),
    /// Production: RDS Proxy at `DB_HOST`, credentials from the Secrets Manager secret `DB_SECRET_ARN`.
    Proxy { host: String, port: u16, name: Option<String>, secret_arn: String, tls: TlsMode },
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
    pub policy: LoanPolicy,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub cors_origins: Vec<String>,
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
            None => proxy_source(&var)?,
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
        // The lending rules and body limit are the same settings the local server reads.
        let app = openapi::Config::from_lookup(|name| var_owned(&lookup, name))
            .map_err(|e| ConfigError { name: e.name, message: e.message })?;
        Ok(Self {
            mode,
            database,
            pool,
            policy: app.policy,
            max_body_bytes: app.max_body_bytes,
            request_timeout: app.request_timeout,
            cors_origins: app.cors_origins,
        })
    }
}

fn var_owned(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    // The local server's defaults for DATABASE_URL, HOST and PORT do not apply here.
    if matches!(name, "DATABASE_URL" | "HOST" | "PORT") { None } else { lookup(name) }
}

fn proxy_source(var: &impl Fn(&'static str) -> Option<String>) -> Result<DbSource, ConfigError> {
    let host = var("DB_HOST")
        .ok_or_else(|| error("DB_HOST", "set DB_HOST (the RDS Proxy endpoint) or DATABASE_URL"))?;
    if var("DB_IAM_AUTH").is_some_and(|v| v == "true") {
        return Err(error(
            "DB_IAM_AUTH",
            "IAM authentication is not supported by this build; use DB_SECRET_ARN",
        ));
    }
    let secret_arn = var("DB_SECRET_ARN").ok_or_else(|| error("DB_SECRET_ARN", "required with DB_HOST"))?;
    if !secret_arn.starts_with("arn:") {
        return Err(error("DB_SECRET_ARN", "must be a Secrets Manager ARN (arn:…)"));
    }
    let tls = match var("DB_TLS").as_deref() {
        None | Some("verify-full") => TlsMode::VerifyFull,
        Some("require") => TlsMode::Require,
        Some("disable") => TlsMode::Disable,
        Some(other) => {
            return Err(error("DB_TLS", format!("{other:?} is not disable, require or verify-full")));
        }
    };
    Ok(DbSource::Proxy { host, port: number(var, "DB_PORT", 5432)?, name: var("DB_NAME"), secret_arn, tls })
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
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        LambdaConfig::from_lookup(|name| map.get(name).cloned())
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
                secret_arn: ARN.to_owned(),
                tls: TlsMode::VerifyFull
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
