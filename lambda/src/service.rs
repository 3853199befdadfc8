//! The function's long-lived state: the app over the current database pool, and the credential
//! rotation that replaces both when PostgreSQL starts refusing the cached password.
//!
//! Secrets Manager rotation changes the role's password; connections already open keep working, new ones
//! fail with SQLSTATE 28P01. When a request answers 503 and a fresh connection is refused for its
//! credentials, the secret is read again, the pool and app are rebuilt, and the request is retried once,
//! so a rotation costs one extra round trip instead of failed requests.

use std::sync::{Arc, RwLock};

use aws_sdk_secretsmanager::Client as SecretsClient;
use lambda_http::{Body, Request, Response};
use openapi::{AppState, app};
use poem::EndpointExt;
use poem::endpoint::BoxEndpoint;
use sea_orm::{DatabaseConnection, DbErr, RuntimeErr};

use crate::adapter;
use crate::config::{DbSource, LambdaConfig};
use crate::database::{self, DbSetupError};

/// The app over one pool.
struct Current {
    db: DatabaseConnection,
    app: BoxEndpoint<'static, poem::Response>,
}

/// Serves events; owns the pool and replaces it after a credential rotation.
pub struct Service {
    config: LambdaConfig,
    secrets: Option<SecretsClient>,
    current: RwLock<Arc<Current>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Service {
    /// Builds the pool (lazily connected) and the app.
    ///
    /// # Errors
    /// When the database secret cannot be read or the pool cannot be configured.
    pub async fn new(config: LambdaConfig) -> Result<Self, DbSetupError> {
        let secrets = match config.database {
            DbSource::Proxy { .. } => Some(SecretsClient::new(&aws_config::load_from_env().await)),
            DbSource::Url(_) => None,
        };
        Self::with_secrets(config, secrets).await
    }

    /// [`Service::new`] with a given Secrets Manager client (tests point one at a local emulator).
    ///
    /// # Errors
    /// When the database secret cannot be read or the pool cannot be configured.
    pub async fn with_secrets(
        config: LambdaConfig,
        secrets: Option<SecretsClient>,
    ) -> Result<Self, DbSetupError> {
        let current = build(&config, secrets.as_ref()).await?;
        Ok(Self { config, secrets, current: RwLock::new(Arc::new(current)) })
    }

    /// The pool requests use now.
    #[must_use]
    pub fn db(&self) -> DatabaseConnection {
        self.current().db.clone()
    }

    fn current(&self) -> Arc<Current> {
        self.current.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |c| c.clone())
    }

    /// Serves one event, retrying it once on fresh credentials if the database refused the old ones.
    ///
    /// # Errors
    /// Only if the app's response cannot be read.
    pub async fn handle(&self, event: Request) -> Result<Response<Body>, lambda_http::Error> {
        let rotating = matches!(self.config.database, DbSource::Proxy { .. });
        let retry = rotating.then(|| copy(&event));
        let current = self.current();
        let response = adapter::handle(&current.app, event).await?;
        let Some(retry) = retry else { return Ok(response) };
        if response.status() != 503 || !credentials_refused(&current.db).await {
            return Ok(response);
        }
        tracing::warn!("the database refused the cached credentials; reading the secret again");
        match build(&self.config, self.secrets.as_ref()).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                if let Ok(mut slot) = self.current.write() {
                    *slot = fresh.clone();
                }
                drop(current.db.clone().close().await);
                adapter::handle(&fresh.app, retry).await
            }
            Err(error) => {
                tracing::error!(%error, "could not rebuild the pool after a credential rotation");
                Ok(response)
            }
        }
    }
}

async fn build(config: &LambdaConfig, secrets: Option<&SecretsClient>) -> Result<Current, DbSetupError> {
    let db = database::connect_with(&config.database, &config.pool, secrets).await?;
    let state = AppState {
        db: db.clone(),
        policy: config.policy,
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
        cors_origins: config.cors_origins.clone(),
    };
    Ok(Current { db, app: app(state).boxed() })
}

/// Whether a fresh connection is refused for its credentials (SQLSTATE 28P01 or 28000).
async fn credentials_refused(db: &DatabaseConnection) -> bool {
    match db.ping().await {
        Ok(()) => false,
        Err(error) => is_auth_failure(&error),
    }
}

/// Classifies by SQLSTATE, never by message text.
#[must_use]
pub fn is_auth_failure(error: &DbErr) -> bool {
    let runtime = match error {
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx_error) = runtime else { return false };
    sqlx_error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "28P01" || code == "28000")
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
