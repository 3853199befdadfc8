//! The database pool, made once per cold start and kept across invocations: how it is opened (a URL, or
//! RDS Proxy over TLS through the relay) here; the two ways of logging in to the proxy in their own
//! modules, `secret` (the RDS secret from Secrets Manager) and `iam_login` (IAM auth tokens).
//!
//! Lazy: no connection is opened until a request needs one, so a cold start with the database down still
//! serves `/health`, and the first real query pays for the connection.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_secretsmanager::Client as SecretsClient;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlxPostgresConnector};
use settings::{ExposeSecret, SecretUrl};

use crate::config::{DbAuth, DbSource, PoolSettings, TlsMode};
use crate::iam::{Clock, TokenError, TokenSource, TokenTarget};
use crate::relay::{self, NoDelayRelay};
use crate::tls::{self, ExtraCa};

mod iam_login;
mod refusal;
mod secret;

use iam_login::IamLogin;
pub use iam_login::RENEW_AFTER;
use refusal::Logins;
pub use refusal::{PROBE_AFTER, refused_for_capacity};
pub use secret::{DbSecret, SecretError, fetch_secret};

/// Why the pool cannot be set up. Each cause is kept as the source, for the one cause-chain formatter
/// (`openapi::CauseChain`) to print.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot read the database secret {arn}")]
    Secret {
        arn: String,
        #[source]
        source: SecretError,
    },
    #[error("cannot log in with IAM database authentication")]
    Iam(#[from] TokenError),
    #[error("cannot configure the database pool")]
    Pool(#[from] DbErr),
    #[error("DATABASE_URL is not a valid PostgreSQL URL")]
    Url(#[source] sea_orm::sqlx::Error),
    #[error("cannot start the database relay")]
    Relay(#[source] std::io::Error),
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
    /// The logins the pool has completed, for [`Pool::refused_login`].
    logins: Arc<Logins>,
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
        refusal::try_login(self.db.get_postgres_connection_pool(), Duration::MAX)
            .await
            .is_some_and(|error| refused_for_credentials(&error))
    }

    /// For a request about to start: `None` when the pool holds a connection already; otherwise a future
    /// that resolves only if the login this request will need is being refused for lack of connections
    /// (SQLSTATE 53300 or 57P03), so that the request can answer 503 at once rather than wait out the
    /// acquire timeout while sqlx retries. Race it against the request (see [`refusal`] for how).
    #[must_use]
    pub fn refused_login(&self) -> Option<impl Future<Output = ()> + use<>> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        refusal::watch(self.db.get_postgres_connection_pool(), &self.logins)
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
    let (relay, options) =
        relay_if_wanted(proxy_options(host, port, tls, extra_ca.as_ref()), settings.connect_timeout)?;
    match auth {
        DbAuth::Secret { arn } => {
            let failed = |source| DbSetupError::Secret { arn: arn.clone(), source };
            let secrets = aws.secrets.as_ref().ok_or_else(|| failed(SecretError::NoClient))?;
            let secret = fetch_secret(secrets, arn).await.map_err(failed)?;
            let options = options
                .username(&secret.username)
                .password(secret.password.expose_secret())
                .database(name.as_deref().or(secret.dbname.as_deref()).unwrap_or("postgres"));
            let logins = Arc::new(Logins::default());
            Ok(Pool {
                db: wrap(pg_pool(settings, relay.clone(), &logins).connect_lazy_with(options)),
                iam: None,
                relay,
                logins,
            })
        }
        DbAuth::Iam { user, region } => {
            let credentials = aws.credentials.clone().ok_or(TokenError::NoCredentialsProvider)?;
            let target = TokenTarget { host: host.clone(), port, user: user.clone(), region: region.clone() };
            let tokens = TokenSource::new(target, credentials, clock);
            let options = options.username(user).database(name.as_deref().unwrap_or("postgres"));
            // Signed now, so missing credentials fail the cold start rather than the first request.
            let (token, issued) = tokens.token().await?;
            let logins = Arc::new(Logins::default());
            let pool = pg_pool(settings, relay.clone(), &logins)
                .connect_lazy_with(options.clone().password(token.expose_secret()));
            let iam = IamLogin::new(pool.clone(), options, tokens, issued);
            Ok(Pool { db: wrap(pool), iam: Some(Arc::new(iam)), relay, logins })
        }
    }
}

/// A PostgreSQL URL gets the same pool as proxy mode (and the relay, when it may use TLS); any other URL
/// (SQLite in tests) goes through SeaORM's own connect.
async fn connect_url(url: &SecretUrl, pool: &PoolSettings) -> Result<Pool, DbSetupError> {
    let url = url.expose_secret();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(url).map_err(DbSetupError::Url)?;
        let (relay, options) = relay_if_wanted(options.disable_statement_logging(), pool.connect_timeout)?;
        let logins = Arc::new(Logins::default());
        let db = wrap(pg_pool(pool, relay.clone(), &logins).connect_lazy_with(options));
        return Ok(Pool { db, iam: None, relay, logins });
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
    Ok(Pool { db: Database::connect(options).await?, iam: None, relay: None, logins: Arc::default() })
}

fn relay_if_wanted(
    options: PgConnectOptions,
    connect_timeout: Duration,
) -> Result<(Option<Arc<NoDelayRelay>>, PgConnectOptions), DbSetupError> {
    if !relay::wanted(&options) {
        return Ok((None, options));
    }
    let (relay, options) = NoDelayRelay::start(options, connect_timeout).map_err(DbSetupError::Relay)?;
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
/// outlive every connection the pool will open. `logins` counts the logins it completes.
fn pg_pool(pool: &PoolSettings, relay: Option<Arc<NoDelayRelay>>, logins: &Arc<Logins>) -> PgPoolOptions {
    let logins = logins.clone();
    PgPoolOptions::new()
        .max_connections(pool.max_connections)
        .min_connections(0)
        .acquire_timeout(pool.acquire_timeout)
        .idle_timeout(pool.idle_timeout)
        .max_lifetime(pool.max_lifetime)
        .test_before_acquire(false)
        .after_connect(move |_conn, _meta| {
            logins.completed();
            Box::pin(async { Ok(()) })
        })
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

#[cfg(test)]
mod tests;
