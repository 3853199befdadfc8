//! Secret mode's login: user and password from the RDS secret in Secrets Manager, read once per cold
//! start and again after a rotation.

use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use serde::Deserialize;
use settings::SecretString;

/// What RDS and RDS Proxy keep in a database secret. Only `username` and `password` are required; the
/// password never prints (`SecretString`).
#[derive(Clone, Debug, Deserialize)]
pub struct DbSecret {
    pub username: String,
    pub password: SecretString,
    pub dbname: Option<String>,
}

/// Why the secret cannot be had, with the SDK's or the parser's error as the source.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no Secrets Manager client is configured")]
    NoClient,
    /// Boxed: the SDK's error is a few hundred bytes, and this error travels up every `Result` of the
    /// cold start.
    #[error("Secrets Manager cannot be reached or refused the request")]
    Fetch(#[source] Box<SdkError<GetSecretValueError>>),
    #[error("the secret has no string value")]
    NotAString,
    #[error("the secret is not an RDS database secret (JSON with username and password)")]
    NotRds(#[source] serde_json::Error),
}

/// Reads the database secret `arn`.
///
/// # Errors
/// When Secrets Manager cannot be reached, refuses, or the secret is not the RDS JSON shape.
pub async fn fetch_secret(client: &SecretsClient, arn: &str) -> Result<DbSecret, SecretError> {
    let output =
        client.get_secret_value().secret_id(arn).send().await.map_err(|e| SecretError::Fetch(Box::new(e)))?;
    let text = output.secret_string().ok_or(SecretError::NotAString)?;
    serde_json::from_str(text).map_err(SecretError::NotRds)
}
