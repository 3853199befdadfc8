//! The Lambda's configuration, from the environment, in one typed place, read through the one reader
//! (`settings::Env`). A bad or missing setting fails the cold start with one message naming the
//! variable; secrets never reach `Debug` output.

use std::str::FromStr;
use std::time::Duration;

use openapi::AppSettings;
use openapi::auth::{AuthMode, AuthSettings};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
use settings::{ConfigError, Env, ExposeSecret};

mod proxy;
pub use proxy::{DbAuth, DbSource, TlsMode};
pub use settings::SecretUrl;

/// What this function does with its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Serve HTTP events with the API (the default).
    Api,
    /// Apply pending migrations on each invocation and report what was applied.
    Migrate,
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
    /// `DB_TLS_ALLOW_INSECURE=true`: a database connection whose server is not verified (`DB_TLS=require`
    /// or `disable`, a `DATABASE_URL` whose `sslmode` is not `verify-full`) is accepted. Logged at error
    /// level on every cold start ([`LambdaConfig::insecure_tls_warning`]).
    pub allow_insecure_db_tls: bool,
}

/// The setting that lets the function talk to a database it has not verified.
pub const ALLOW_INSECURE_TLS: &str = "DB_TLS_ALLOW_INSECURE";

impl LambdaConfig {
    /// # Errors
    /// The first missing or invalid variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&Env::process())
    }

    /// The same, from any lookup (tests use a map).
    ///
    /// # Errors
    /// The first missing or invalid variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Env::new(&lookup))
    }

    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let mode = match env.var("LIBRIS_LAMBDA_MODE").as_deref() {
            None | Some("api") => Mode::Api,
            Some("migrate") => Mode::Migrate,
            Some(other) => {
                return Err(ConfigError::new(
                    "LIBRIS_LAMBDA_MODE",
                    format!("{other:?} is not `api` or `migrate`"),
                ));
            }
        };
        let allow_insecure_db_tls = env.parsed(ALLOW_INSECURE_TLS, false)?;
        let database = match env.var("DATABASE_URL") {
            Some(url) => DbSource::Url(verified_url(SecretUrl::new(url), allow_insecure_db_tls)?),
            None => proxy::proxy_source(env, allow_insecure_db_tls)?,
        };
        let defaults = PoolSettings::default();
        let pool = PoolSettings {
            max_connections: env.parsed("DB_MAX_CONNECTIONS", defaults.max_connections)?,
            connect_timeout: env.millis("DB_CONNECT_TIMEOUT_MS", defaults.connect_timeout)?,
            acquire_timeout: env.millis("DB_ACQUIRE_TIMEOUT_MS", defaults.acquire_timeout)?,
            idle_timeout: env.seconds("DB_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            max_lifetime: env.seconds("DB_MAX_LIFETIME_SECS", defaults.max_lifetime)?,
        };
        if pool.max_connections == 0 {
            return Err(ConfigError::new("DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        // The lending rules, limits and auth are the same settings the local server reads.
        let app = AppSettings::read(env)?;
        let auth = match mode {
            Mode::Migrate => None,
            Mode::Api => match AuthSettings::read(env)? {
                AuthSettings { mode: AuthMode::Dev, .. } => {
                    return Err(ConfigError::new(
                        "LIBRIS_AUTH",
                        "`dev` hands out librarian tokens to anyone and is for the local server only; \
                         use `jwt` with LIBRIS_AUTH_ISSUER and LIBRIS_AUTH_AUDIENCE",
                    ));
                }
                settings => Some(settings),
            },
        };
        Ok(Self { mode, database, pool, app, auth, allow_insecure_db_tls })
    }

    /// What to log, loudly, on every cold start when the database's server may go unverified.
    #[must_use]
    pub fn insecure_tls_warning(&self) -> Option<String> {
        let verified = match &self.database {
            DbSource::Proxy { tls, .. } => *tls == TlsMode::VerifyFull,
            DbSource::Url(url) => PgConnectOptions::from_str(url.expose_secret())
                .is_ok_and(|options| matches!(options.get_ssl_mode(), PgSslMode::VerifyFull)),
        };
        (self.allow_insecure_db_tls && !verified).then(|| {
            format!(
                "{ALLOW_INSECURE_TLS}=true: the database server's certificate is NOT verified; whoever can \
                 intercept the connection can read the data and the credentials sent on it"
            )
        })
    }
}

/// A `DATABASE_URL` must ask for `sslmode=verify-full` unless insecure TLS is allowed: without `sslmode`
/// sqlx uses `prefer`, which falls back to plain text, and `require` encrypts to any server at all, so the
/// password (or IAM token) would go to whoever answers.
fn verified_url(url: SecretUrl, allow_insecure: bool) -> Result<SecretUrl, ConfigError> {
    let options = PgConnectOptions::from_str(url.expose_secret()).map_err(|_| {
        ConfigError::new("DATABASE_URL", "must be a PostgreSQL URL (postgres://…?sslmode=verify-full)")
    })?;
    if allow_insecure || matches!(options.get_ssl_mode(), PgSslMode::VerifyFull) {
        return Ok(url);
    }
    Err(ConfigError::new(
        "DATABASE_URL",
        format!(
            "must carry sslmode=verify-full, so the server is verified before any credential is sent \
             (set {ALLOW_INSECURE_TLS}=true to accept an unverified server, for a local database only)"
        ),
    ))
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
        let url = ("DATABASE_URL", VERIFIED);
        assert_eq!(config(&[url, ("LIBRIS_AUTH", "dev")]).unwrap_err().name, "LIBRIS_AUTH");
        assert_eq!(config(&[url, ("LIBRIS_AUTH", "")]).unwrap_err().name, "LIBRIS_AUTH");
        assert!(matches!(
            config(&[url]).unwrap().auth,
            Some(AuthSettings { mode: AuthMode::Jwt { .. }, .. })
        ));
        let migrate = config(&[url, ("LIBRIS_LAMBDA_MODE", "migrate"), ("LIBRIS_AUTH", "dev")]).unwrap();
        assert_eq!(migrate.auth, None, "the migration function serves no requests");
    }

    const VERIFIED: &str = "postgres://db.example/libris?sslmode=verify-full";
    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:libris-db-AbCdEf";

    #[test]
    fn only_a_verified_database_server_is_accepted_unless_insecure_tls_is_allowed() {
        let insecure = (ALLOW_INSECURE_TLS, "true");
        for url in [
            "postgres://db.example/libris",
            "postgres://db.example/libris?sslmode=prefer",
            "postgres://db.example/libris?sslmode=require",
            "postgres://db.example/libris?sslmode=verify-ca",
            "postgres://db.example/libris?sslmode=disable",
        ] {
            assert_eq!(config(&[("DATABASE_URL", url)]).unwrap_err().name, "DATABASE_URL", "{url}");
            let allowed = config(&[("DATABASE_URL", url), insecure]).unwrap();
            assert!(allowed.insecure_tls_warning().unwrap().contains("NOT verified"), "{url}");
        }
        assert_eq!(config(&[("DATABASE_URL", "sqlite::memory:")]).unwrap_err().name, "DATABASE_URL");
        let verified = config(&[("DATABASE_URL", VERIFIED), insecure]).unwrap();
        assert_eq!(verified.insecure_tls_warning(), None, "nothing to warn about");

        let proxy = [("DB_HOST", "proxy.example"), ("DB_SECRET_ARN", ARN)];
        for tls in ["require", "disable"] {
            let pairs = [&proxy[..], &[("DB_TLS", tls)]].concat();
            assert_eq!(config(&pairs).unwrap_err().name, "DB_TLS", "{tls}");
            let allowed = config(&[&pairs[..], &[insecure]].concat()).unwrap();
            assert!(allowed.insecure_tls_warning().is_some());
        }
        assert_eq!(config(&proxy).unwrap().insecure_tls_warning(), None);
        assert_eq!(
            config(&[("DATABASE_URL", VERIFIED), (ALLOW_INSECURE_TLS, "yes")]).unwrap_err().name,
            ALLOW_INSECURE_TLS
        );
    }

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
            (vec![("DATABASE_URL", VERIFIED), ("DB_MAX_CONNECTIONS", "0")], "DB_MAX_CONNECTIONS"),
            (vec![("DATABASE_URL", VERIFIED), ("LIBRIS_LAMBDA_MODE", "batch")], "LIBRIS_LAMBDA_MODE"),
            (vec![("DATABASE_URL", VERIFIED), ("LIBRIS_MAX_RENEWALS", "-")], "LIBRIS_MAX_RENEWALS"),
            (vec![("DATABASE_URL", VERIFIED), ("LIBRIS_MAX_ACTIVE_LOANS", "0")], "LIBRIS_MAX_ACTIVE_LOANS"),
        ] {
            assert_eq!(config(&pairs).unwrap_err().name, name, "{pairs:?}");
        }
    }

    #[test]
    fn urls_and_secrets_never_print() {
        let config =
            config(&[("DATABASE_URL", "postgres://libris:hunter2@db/libris?sslmode=verify-full")]).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("@db/libris"), "the redacted URL still names the server: {shown}");
    }
}
