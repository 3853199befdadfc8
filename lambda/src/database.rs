//! The database pool, made once per cold start and kept across invocations.
//!
//! Lazy: no connection is opened until a request needs one, so a cold start with the database down still
//! serves `/health`, and the first real query pays for the connection.

use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_secretsmanager::Client as SecretsClient;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlxPostgresConnector};
use serde::Deserialize;
use settings::{ExposeSecret, SecretString, SecretUrl};

use crate::config::{DbAuth, DbSource, PoolSettings, TlsMode};
use crate::iam::{Clock, TokenError, TokenSource, TokenTarget};
use crate::relay::{self, NoDelayRelay};
use crate::tls::{self, ExtraCa};

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot read the database secret {arn}: {message}")]
    Secret { arn: String, message: String },
    #[error("IAM database authentication: {0}")]
    Iam(#[from] TokenError),
    #[error("cannot configure the database pool: {0}")]
    Pool(#[from] DbErr),
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    Url(#[source] sea_orm::sqlx::Error),
    #[error("cannot start the database relay: {0}")]
    Relay(#[source] std::io::Error),
    #[error("the API needs LIBRIS_AUTH settings")]
    NoAuth,
    #[error("cannot set up token checking: {0}")]
    Auth(String),
}

/// What RDS and RDS Proxy keep in a database secret. Only `username` and `password` are required.
#[derive(Clone, Debug, Deserialize)]
pub struct DbSecret {
    pub username: String,
    pub password: SecretString,
    pub dbname: Option<String>,
}

/// The AWS side of a proxy login, made once per cold start: a Secrets Manager client in secret mode,
/// credentials to sign tokens with in IAM mode. Tests pass an emulator's client or fixed keys.
#[derive(Clone, Debug, Default)]
pub struct Aws {
    pub secrets: Option<SecretsClient>,
    pub credentials: Option<SharedCredentialsProvider>,
}

impl Aws {
    /// Loads the environment's AWS configuration (the default chain) only for the mode that needs it, so
    /// a function that uses `DATABASE_URL` never pays for it.
    pub async fn from_env(source: &DbSource) -> Self {
        let DbSource::Proxy { auth, .. } = source else { return Self::default() };
        let config = aws_config::load_from_env().await;
        match auth {
            DbAuth::Secret { .. } => Self { secrets: Some(SecretsClient::new(&config)), credentials: None },
            DbAuth::Iam { .. } => Self { secrets: None, credentials: config.credentials_provider() },
        }
    }
}

/// A database pool and, in IAM mode, what keeps its login token fresh.
#[derive(Clone, Debug)]
pub struct Pool {
    db: DatabaseConnection,
    iam: Option<Arc<IamLogin>>,
    /// Carries the pool's connections when they may use TLS; lives as long as the pool.
    relay: Option<Arc<NoDelayRelay>>,
}

impl Pool {
    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether new connections go through the [`NoDelayRelay`].
    #[must_use]
    pub fn relayed(&self) -> bool {
        self.relay.is_some()
    }

    /// Whether PostgreSQL refuses a new login with the pool's current options for its credentials
    /// (SQLSTATE 28P01 or 28000).
    ///
    /// Asks with a connection of its own, never a pooled one: whatever cut the request's connection (a
    /// recycled backend, a failover) may have cut the idle ones too, and a dead connection's error says
    /// nothing about the password. Bounded by the pool's acquire timeout, as a pooled login would be.
    pub async fn login_refused(&self) -> bool {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return false;
        }
        let pool = self.db.get_postgres_connection_pool();
        let options = pool.connect_options();
        match tokio::time::timeout(pool.options().get_acquire_timeout(), options.connect()).await {
            Ok(Ok(connection)) => {
                drop(connection.close().await);
                false
            }
            Ok(Err(error)) => refused_for_credentials(&error),
            Err(_elapsed) => false,
        }
    }

    /// Call before each invocation's database work: in IAM mode, renews the token new connections log in
    /// with once it is [`RENEW_AFTER`] old (see [`IamLogin`] for why here). Otherwise does nothing.
    ///
    /// # Errors
    /// When no credentials can be had to sign a new token; the old one stays in place.
    pub async fn renew_login(&self) -> Result<(), TokenError> {
        match &self.iam {
            Some(iam) => iam.renew_if_old().await,
            None => Ok(()),
        }
    }
}

/// A token older than this is replaced before an invocation's work. With [`crate::iam::TOKEN_LIFETIME`] at
/// 15 minutes, any connection an invocation opens in its first 14 minutes logs in with a valid token;
/// Lambda stops every invocation at 15. Renewing costs one HMAC chain and an options swap, so once a
/// minute at most is nothing.
pub const RENEW_AFTER: Duration = Duration::from_secs(60);

/// Keeps an IAM-mode pool's password a valid token.
///
/// Why this way: sqlx 0.9 opens every pool connection from one stored `PgConnectOptions` (sqlx-core 0.9.0
/// `pool/inner.rs`, `PoolInner::connect`, which clones them per attempt) and has no hook that runs
/// *before* a connection is opened: `after_connect` runs after the login and `before_acquire` only on idle
/// connections. A short `max_lifetime` does not help, since a new connection needs a new password, not an
/// old one sooner. What sqlx has is `Pool::set_connect_options`, which replaces the options for every later
/// connection and leaves open ones alone; so the token is renewed on the invocation path, before any
/// connection can be opened. Rebuilding the pool instead (as the rotation path does after SQLSTATE 28P01)
/// would drop the warm connection and pay a new TLS handshake every 15 minutes, and a background timer
/// would not run while Lambda freezes the process, which is exactly when tokens go stale. The rotation
/// path stays as the backstop: if the proxy still refuses a login, the pool is rebuilt with a new token.
struct IamLogin {
    pool: PgPool,
    /// The connect options without a password.
    options: PgConnectOptions,
    tokens: TokenSource,
    issued: Mutex<SystemTime>,
}

impl std::fmt::Debug for IamLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the options: they hold the token.
        f.debug_struct("IamLogin").field("tokens", &self.tokens).finish_non_exhaustive()
    }
}

impl IamLogin {
    async fn renew_if_old(&self) -> Result<(), TokenError> {
        let issued = *self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        // A clock that went backwards makes the age unknown: renew.
        let age = self.tokens.now().duration_since(issued).unwrap_or(Duration::MAX);
        if age < RENEW_AFTER {
            return Ok(());
        }
        let (token, at) = self.tokens.token().await?;
        self.pool.set_connect_options(self.options.clone().password(token.expose_secret()));
        *self.issued.lock().unwrap_or_else(PoisonError::into_inner) = at;
        tracing::debug!("renewed the RDS auth token");
        Ok(())
    }
}

/// Opens (lazily) the pool described by the configuration, with the AWS configuration from the
/// environment in proxy mode.
///
/// # Errors
/// A secret that cannot be read or parsed, no credentials to sign a token with, or pool options SeaORM
/// rejects.
pub async fn connect(source: &DbSource, pool: &PoolSettings) -> Result<Pool, DbSetupError> {
    connect_with(source, pool, &Aws::from_env(source).await).await
}

/// [`connect`] with given AWS clients and credentials (tests point them at an emulator or fixed keys).
///
/// # Errors
/// A secret that cannot be read or parsed, a proxy source without the client or credentials its mode
/// needs, or pool options SeaORM rejects.
pub async fn connect_with(source: &DbSource, pool: &PoolSettings, aws: &Aws) -> Result<Pool, DbSetupError> {
    connect_at(source, pool, aws, Arc::new(SystemTime::now)).await
}

async fn connect_at(
    source: &DbSource,
    settings: &PoolSettings,
    aws: &Aws,
    clock: Clock,
) -> Result<Pool, DbSetupError> {
    let (host, port, name, auth, tls, extra_ca) = match source {
        DbSource::Url(url) => return connect_url(url, settings).await,
        DbSource::Proxy { host, port, name, auth, tls, extra_ca } => {
            (host, *port, name, auth, *tls, extra_ca)
        }
    };
    let (relay, options) = relay_if_wanted(proxy_options(host, port, tls, extra_ca.as_ref()))?;
    match auth {
        DbAuth::Secret { arn } => {
            let Some(secrets) = &aws.secrets else {
                return Err(DbSetupError::Secret {
                    arn: arn.clone(),
                    message: "no Secrets Manager client".to_owned(),
                });
            };
            let secret = fetch_secret(secrets, arn).await?;
            let options = options
                .username(&secret.username)
                .password(secret.password.expose_secret())
                .database(name.as_deref().or(secret.dbname.as_deref()).unwrap_or("postgres"));
            Ok(Pool {
                db: wrap(pg_pool(settings, relay.clone()).connect_lazy_with(options)),
                iam: None,
                relay,
            })
        }
        DbAuth::Iam { user, region } => {
            let credentials = aws.credentials.clone().ok_or(TokenError::NoCredentialsProvider)?;
            let target = TokenTarget { host: host.clone(), port, user: user.clone(), region: region.clone() };
            let tokens = TokenSource::new(target, credentials, clock);
            let options = options.username(user).database(name.as_deref().unwrap_or("postgres"));
            // Signed now, so missing credentials fail the cold start rather than the first request.
            let (token, issued) = tokens.token().await?;
            let pool = pg_pool(settings, relay.clone())
                .connect_lazy_with(options.clone().password(token.expose_secret()));
            let iam = IamLogin { pool: pool.clone(), options, tokens, issued: Mutex::new(issued) };
            Ok(Pool { db: wrap(pool), iam: Some(Arc::new(iam)), relay })
        }
    }
}

/// A PostgreSQL URL gets the same pool as proxy mode (and the relay, when it may use TLS); any other URL
/// (SQLite in tests) goes through SeaORM's own connect.
async fn connect_url(url: &SecretUrl, pool: &PoolSettings) -> Result<Pool, DbSetupError> {
    let url = url.expose_secret();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(url).map_err(DbSetupError::Url)?;
        let (relay, options) = relay_if_wanted(options.disable_statement_logging())?;
        let db = wrap(pg_pool(pool, relay.clone()).connect_lazy_with(options));
        return Ok(Pool { db, iam: None, relay });
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool.max_connections)
        .min_connections(0)
        .connect_timeout(pool.connect_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .idle_timeout(pool.idle_timeout)
        .max_lifetime(pool.max_lifetime)
        .connect_lazy(true)
        .test_before_acquire_if_idle_for(IDLE_PING_AFTER)
        .sqlx_logging(false);
    Ok(Pool { db: Database::connect(options).await?, iam: None, relay: None })
}

fn relay_if_wanted(
    options: PgConnectOptions,
) -> Result<(Option<Arc<NoDelayRelay>>, PgConnectOptions), DbSetupError> {
    if !relay::wanted(&options) {
        return Ok((None, options));
    }
    let (relay, options) = NoDelayRelay::start(options).map_err(DbSetupError::Relay)?;
    Ok((Some(relay), options))
}

/// Host, port and TLS; verify-full trusts the public roots, the RDS CAs and `DB_TLS_EXTRA_CA` (see
/// [`crate::tls`]).
fn proxy_options(host: &str, port: u16, tls: TlsMode, extra_ca: Option<&ExtraCa>) -> PgConnectOptions {
    let options = PgConnectOptions::new().host(host).port(port).disable_statement_logging();
    match tls {
        TlsMode::Disable => options.ssl_mode(PgSslMode::Disable),
        TlsMode::Require => options.ssl_mode(PgSslMode::Require),
        TlsMode::VerifyFull => {
            options.ssl_mode(PgSslMode::VerifyFull).ssl_root_cert_from_pem(tls::trusted_roots(extra_ca))
        }
    }
}

fn wrap(pool: PgPool) -> DatabaseConnection {
    SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
}

/// A pooled connection is pinged before use only after sitting idle this long (a frozen Lambda's
/// connection may have been cut); a ping on every acquire would double each query's round trips.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

/// `relay` is kept alive by the pool itself (captured by its `before_acquire` callback, which sqlx keeps
/// as long as any handle to the pool): callers keep only the `DatabaseConnection`, and the relay must
/// outlive every connection the pool will open.
fn pg_pool(pool: &PoolSettings, relay: Option<Arc<NoDelayRelay>>) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(pool.max_connections)
        .min_connections(0)
        .acquire_timeout(pool.acquire_timeout)
        .idle_timeout(pool.idle_timeout)
        .max_lifetime(pool.max_lifetime)
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            let _relay = &relay;
            Box::pin(async move {
                if meta.idle_for >= IDLE_PING_AFTER {
                    sea_orm::sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Classifies by SQLSTATE, never by message text.
fn refused_for_credentials(error: &sea_orm::sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == "28P01" || code == "28000")
}

/// Reads the database secret: once per cold start, and again after a rotation.
///
/// # Errors
/// When Secrets Manager cannot be reached, refuses, or the secret is not the RDS JSON shape.
pub async fn fetch_secret(client: &SecretsClient, arn: &str) -> Result<DbSecret, DbSetupError> {
    let failed = |message: String| DbSetupError::Secret { arn: arn.to_owned(), message };
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| failed(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
    let text = output.secret_string().ok_or_else(|| failed("the secret has no string value".to_owned()))?;
    serde_json::from_str(text).map_err(|e| failed(format!("not an RDS database secret: {e}")))
}

#[cfg(test)]
mod tests;
