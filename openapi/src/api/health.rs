//! `/health` (liveness: the process answers) and `/health/ready` (the database answers too).

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{State, Tag};
use crate::problem::ApiError;

#[derive(Debug, Default)]
pub struct HealthApi;

/// A probe's answer.
#[derive(Clone, Debug, PartialEq, Eq, Object)]
pub struct Health {
    /// `ok` when healthy.
    pub status: String,
    /// Whether the database answered (only on the readiness probe).
    #[oai(skip_serializing_if_is_none)]
    pub database: Option<bool>,
}

#[derive(Debug, ApiResponse)]
enum Live {
    /// The process is up.
    #[oai(status = 200)]
    Ok(Json<Health>),
}

#[derive(Debug, ApiResponse)]
enum Ready {
    /// The process and its database are up.
    #[oai(status = 200)]
    Ok(Json<Health>),
}

#[OpenApi(tag = "Tag::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// Answers without touching the database, so a cold start with the database down still reports alive.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn live(&self) -> Live {
        Live::Ok(Json(Health { status: "ok".to_owned(), database: None }))
    }

    /// Readiness
    ///
    /// 200 when the database answers a ping, 503 (problem+json, `Retry-After`) when it does not.
    #[oai(path = "/health/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: State<'_>) -> Result<Ready, ApiError> {
        match state.db.ping().await {
            Ok(()) => Ok(Ready::Ok(Json(Health { status: "ok".to_owned(), database: Some(true) }))),
            Err(error) => {
                tracing::warn!(%error, "readiness check failed");
                Err(ApiError::unavailable())
            }
        }
    }
}
