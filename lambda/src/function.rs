//! The API function's long-lived state: the app over the current database pool, and the credential
//! rotation that replaces both when PostgreSQL starts refusing the cached password.
//!
//! Secrets Manager rotation changes the role's password; connections already open keep working, new ones
//! fail with SQLSTATE 28P01. When a request answers 503 and a fresh connection is refused for its
//! credentials, the secret is read again, the pool and app are rebuilt, and the request is retried once,
//! so a rotation costs one extra round trip instead of failed requests.
//!
//! In IAM mode there is no secret to rotate: the token new connections log in with is renewed before each
//! event (`database::Pool::renew_login`), and the same rebuild-and-retry, which signs a fresh token, is the
//! backstop should the proxy refuse one anyway.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use lambda_http::{Body, Request, Response};
use openapi::auth::{Auth, DevKeyError};
use openapi::problem::ApiError;
use openapi::{AppState, CauseChain, app};
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoResponse};
use sea_orm::DatabaseConnection;

use crate::adapter;
use crate::config::{DbSource, LambdaConfig};
use crate::database::{self, Admission, Aws, DbSetupError, Pool};
use crate::metrics::{self, Record, Statements, Unit};

/// Why the API function cannot start. Each kind is its own `/init/error` type, so a broken token setup is
/// never reported as a database outage.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A configuration read for the migration function (no `LIBRIS_AUTH` settings) given to the API.
    #[error("the API needs LIBRIS_AUTH settings")]
    NoAuth,
    #[error("cannot set up token checking")]
    Auth(#[source] DevKeyError),
    #[error("cannot set up the database")]
    Database(#[from] DbSetupError),
}

impl InitError {
    /// The `errorType` reported to the Runtime API's `/init/error`.
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::NoAuth => "Runtime.ConfigError",
            Self::Auth(_) => "Runtime.AuthSetupError",
            Self::Database(_) => "Runtime.DatabaseSetupError",
        }
    }
}

/// The app over one pool.
struct Current {
    pool: Pool,
    app: BoxEndpoint<'static, poem::Response>,
    /// The same app over a closed pool, for requests served while the instance backs off after a refused
    /// login (see [`respond_unless_refused`]); `None` when the database is not PostgreSQL.
    backing_off: Option<BoxEndpoint<'static, poem::Response>>,
}

/// The API function: serves events, owns the pool and replaces it after a credential rotation.
pub struct ApiFunction {
    config: LambdaConfig,
    aws: Aws,
    /// Kept across pool rebuilds, so the issuer's keys are fetched once per instance, not per rotation.
    auth: Auth,
    current: RwLock<Arc<Current>>,
    /// The statements of the event being served, for its metrics line.
    statements: Statements,
}

impl std::fmt::Debug for ApiFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiFunction").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ApiFunction {
    /// Builds the pool (lazily connected) and the app.
    ///
    /// # Errors
    /// No auth settings or an auth set-up that fails; a database secret that cannot be read, no token
    /// that can be signed, or a pool that cannot be configured.
    pub async fn new(config: LambdaConfig) -> Result<Self, InitError> {
        let aws = Aws::from_env(&config.database).await;
        Self::with_aws(config, aws).await
    }

    /// [`ApiFunction::new`] with given AWS clients and credentials (tests point them at an emulator or
    /// fixed keys).
    ///
    /// # Errors
    /// As [`ApiFunction::new`].
    pub async fn with_aws(config: LambdaConfig, aws: Aws) -> Result<Self, InitError> {
        let settings = config.auth.as_ref().ok_or(InitError::NoAuth)?;
        let auth = Auth::from_settings(settings).map_err(InitError::Auth)?;
        let statements = Statements::default();
        let current = build(&config, &aws, &auth, &statements).await?;
        Ok(Self { config, aws, auth, current: RwLock::new(Arc::new(current)), statements })
    }

    /// The pool requests use now.
    #[must_use]
    pub fn db(&self) -> DatabaseConnection {
        self.current().pool.db().clone()
    }

    fn current(&self) -> Arc<Current> {
        self.current.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |c| c.clone())
    }

    /// Serves one event, retrying it once on fresh credentials if the database refused the old ones, and
    /// prints its metrics line (route, status class, time, statements).
    ///
    /// # Errors
    /// Only if the app's response cannot be read.
    pub async fn handle(&self, event: Request) -> Result<Response<Body>, lambda_http::Error> {
        let started = Instant::now();
        let (method, path) = (event.method().to_string(), event.uri().path().to_owned());
        let result = self.serve(event).await;
        if let Ok(response) = &result {
            let status = response.status().as_u16();
            let route = metrics::route(&method, &path, status);
            for record in metrics::response(route, status, started.elapsed(), &self.statements) {
                record.emit();
            }
        }
        result
    }

    async fn serve(&self, event: Request) -> Result<Response<Body>, lambda_http::Error> {
        let rotating = matches!(self.config.database, DbSource::Proxy { .. });
        let retry = rotating.then(|| copy(&event));
        let current = self.current();
        if let Err(error) = current.pool.renew_login().await {
            let error = CauseChain(&error);
            tracing::error!(%error, "could not renew the RDS auth token; new connections may be refused");
        }
        let response = respond_unless_refused(&current, event).await?;
        let Some(retry) = retry else { return Ok(response) };
        if response.status() != 503 || !current.pool.login_refused().await {
            return Ok(response);
        }
        tracing::warn!("the database refused the cached credentials; logging in afresh");
        Record::for_function().metric("RotationRetries", Unit::Count, 1.0).emit();
        match build(&self.config, &self.aws, &self.auth, &self.statements).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                if let Ok(mut slot) = self.current.write() {
                    *slot = fresh.clone();
                }
                drop(current.pool.db().clone().close().await);
                adapter::handle(&fresh.app, retry).await
            }
            Err(error) => {
                let error = CauseChain(&error);
                tracing::error!(%error, "could not rebuild the pool after a credential rotation");
                Ok(response)
            }
        }
    }
}

/// Serves `event`, answering 503 at once, before it reaches the database, when the login it needs is
/// refused or must not be tried now:
/// - while the instance backs off after a refusal (see [`database::Admission`]), over the closed pool: a
///   request that needs the database gets its 503 without a login, one that needs none still answers;
/// - when the login it tries is refused for lack of connections (see [`Pool::refused_login`]), as soon as
///   that is known; the refusal (or a login that failed or timed out) then opens the back-off window.
async fn respond_unless_refused(
    current: &Current,
    event: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let attempt = match (current.pool.admit(), &current.backing_off) {
        (None, _) | (_, None) => return adapter::handle(&current.app, event).await,
        (Some(Admission::BackOff), Some(closed)) => {
            // Counted apart from `LoginsRefused`: the server was not asked, so this is the load it was spared.
            Record::for_function().metric("LoginsDeferred", Unit::Count, 1.0).emit();
            return adapter::handle(closed, event).await;
        }
        (Some(Admission::Attempt(attempt)), Some(_)) => attempt,
    };
    let logins = current.pool.logins_completed();
    let Some(refused) = current.pool.refused_login() else {
        return adapter::handle(&current.app, event).await;
    };
    tokio::select! {
        biased;
        response = adapter::handle(&current.app, event) => {
            if current.pool.logins_completed() > logins {
                attempt.logged_in();
            } else if response.as_ref().is_ok_and(|r| r.status() == 503) {
                tracing::warn!("no connection to the database could be opened; backing off");
                attempt.refused(Instant::now(), database::jitter());
            }
            response
        }
        () = refused => {
            tracing::warn!("the database refused a new connection (no connection to spare); answering 503");
            Record::for_function().metric("LoginsRefused", Unit::Count, 1.0).emit();
            attempt.refused(Instant::now(), database::jitter());
            adapter::respond(ApiError::unavailable_because(REFUSED).into_response()).await
        }
    }
}

/// What a client is told when the database has no connection to spare.
const REFUSED: &str = "the database has no connection to spare; retry shortly";

/// The pool and the app over it. The app's connection reports each statement's time to `statements`;
/// the set-up time (reading the secret or signing a token, building the pool) is a metric of its own.
async fn build(
    config: &LambdaConfig,
    aws: &Aws,
    auth: &Auth,
    statements: &Statements,
) -> Result<Current, DbSetupError> {
    let started = Instant::now();
    let pool = database::connect_with(&config.database, &config.pool, aws).await?;
    Record::for_function()
        .metric("DbSetupTime", Unit::Milliseconds, metrics::millis(started.elapsed()))
        .emit();
    let mut db = pool.db().clone();
    let statements = statements.clone();
    db.set_metric_callback(move |info| statements.record(info.elapsed, info.failed));
    // The adapter replaces any `X-Forwarded-Prefix` a client sent with the stage it stripped.
    let state = |db| {
        let mut state = AppState::from_settings(db, auth.clone(), &config.app);
        state.trust_forwarded_prefix = true;
        state
    };
    let backing_off = pool.closed_twin().map(|closed| app(state(closed)).boxed());
    Ok(Current { pool, app: app(state(db)).boxed(), backing_off })
}

/// A second copy of an event, for the one retry (lambda_http's request and body are not `Clone`).
fn copy(event: &Request) -> Request {
    let body = match event.body() {
        Body::Text(text) => Body::Text(text.clone()),
        Body::Binary(bytes) => Body::Binary(bytes.clone()),
        _ => Body::Empty,
    };
    let mut copy = Request::new(body);
    *copy.method_mut() = event.method().clone();
    *copy.uri_mut() = event.uri().clone();
    *copy.version_mut() = event.version();
    *copy.headers_mut() = event.headers().clone();
    *copy.extensions_mut() = event.extensions().clone();
    copy
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[tokio::test]
    async fn an_api_without_auth_settings_is_a_configuration_error() {
        let lookup = |name: &str| match name {
            "DATABASE_URL" => Some("postgres://127.0.0.1:9/unused?sslmode=verify-full".to_owned()),
            "LIBRIS_LAMBDA_MODE" => Some("migrate".to_owned()),
            _ => None,
        };
        let config = LambdaConfig::from_lookup(lookup).unwrap();
        let error = ApiFunction::with_aws(config, Aws::default()).await.unwrap_err();
        assert!(matches!(error, InitError::NoAuth), "{error:?}");
        assert_eq!(error.error_type(), "Runtime.ConfigError");
    }

    #[test]
    fn a_database_failure_is_a_database_setup_error_with_its_causes() {
        let error = InitError::from(DbSetupError::Relay(std::io::Error::other("no temporary directory")));
        assert_eq!(error.error_type(), "Runtime.DatabaseSetupError");
        assert_eq!(
            CauseChain(&error).to_string(),
            "cannot set up the database: cannot start the database relay: no temporary directory"
        );
    }
}
