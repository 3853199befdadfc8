//! The database pool, made once per cold start and kept across invocations.
//!
//! Lazy: no connection is opened until a request needs one, so a cold start with the database down still
//! serves `/health`, and the first real query pays for the connection.

use aws_sdk_secretsmanager::Client as SecretsClient;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlxPostgresConnector};
use serde::Deserialize;

use crate::config::{DbSource, PoolSettings, Secret, TlsMode};

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot read the database secret {arn}: {message}")]
    Secret { arn: String, message: String },
    #[error("cannot configure the database pool: {0}")]
    Pool(#[from] DbErr),
}

/// What RDS and RDS Proxy keep in a database secret. Only `username` and `password` are required.
#[derive(Clone, Deserialize)]
pub struct DbSecret {
    pub username: String,
    pub password: Secret,
    pub dbname: Option<String>,
}

impl std::fmt::Debug for DbSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSecret")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// Opens (lazily) the pool described by the configuration. In proxy mode the Secrets Manager client is
/// configured from the environment here, so a function that uses `DATABASE_URL` never pays for it.
///
/// # Errors
/// A secret that cannot be read or parsed, or pool options SeaORM rejects.
pub async fn connect(source: &DbSource, pool: &PoolSettings) -> Result<DatabaseConnection, DbSetupError> {
    let secrets = match source {
        DbSource::Proxy { .. } => Some(SecretsClient::new(&aws_config::load_from_env().await)),
        DbSource::Url(_) => None,
    };
    connect_with(source, pool, secrets.as_ref()).await
}

/// [`connect`] with a given Secrets Manager client (tests point one at a local emulator).
///
/// # Errors
/// A secret that cannot be read or parsed, a proxy source without a client, or pool options SeaORM rejects.
pub async fn connect_with(
    source: &DbSource,
    pool: &PoolSettings,
    secrets: Option<&SecretsClient>,
) -> Result<DatabaseConnection, DbSetupError> {
    match source {
        DbSource::Url(url) => {
            let mut options = ConnectOptions::new(url.expose().to_owned());
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
            Ok(Database::connect(options).await?)
        }
        DbSource::Proxy { host, port, name, secret_arn, tls } => {
            let Some(secrets) = secrets else {
                return Err(DbSetupError::Secret {
                    arn: secret_arn.clone(),
                    message: "no Secrets Manager client".to_owned(),
                });
            };
            let secret = fetch_secret(secrets, secret_arn).await?;
            let options = PgConnectOptions::new()
                .host(host)
                .port(*port)
                .username(&secret.username)
                .password(secret.password.expose())
                .database(name.as_deref().or(secret.dbname.as_deref()).unwrap_or("postgres"))
                .ssl_mode(match tls {
                    TlsMode::Disable => PgSslMode::Disable,
                    TlsMode::Require => PgSslMode::Require,
                    TlsMode::VerifyFull => PgSslMode::VerifyFull,
                });
            Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pg_pool(pool).connect_lazy_with(options)))
        }
    }
}

/// A pooled connection is pinged before use only after sitting idle this long (a frozen Lambda's
/// connection may have been cut); a ping on every acquire would double each query's round trips.
const IDLE_PING_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

fn pg_pool(pool: &PoolSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(pool.max_connections)
        .min_connections(0)
        .acquire_timeout(pool.acquire_timeout)
        .idle_timeout(pool.idle_timeout)
        .max_lifetime(pool.max_lifetime)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_PING_AFTER {
                    sea_orm::sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
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
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn the_rds_secret_shape_parses_and_never_prints_its_password() {
        let secret: DbSecret = serde_json::from_str(
            r#"{"username":"libris","password":"p@ss:w/rd","engine":"postgres","host":"h","port":5432,"dbname":"libris"}"#,
        )
        .unwrap();
        assert_eq!((secret.username.as_str(), secret.password.expose()), ("libris", "p@ss:w/rd"));
        assert!(!format!("{secret:?}").contains("p@ss"));
    }
}
