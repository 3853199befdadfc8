//! `GET /auth/dev-token`: hands out dev tokens. Mounted only in dev mode, and kept out of the spec, which
//! describes the production API.

use poem::web::{Data, Json, Query};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use serde_json::json;

use super::{DEV_TOKEN_LIFETIME, DevRole};
use crate::AppState;
use crate::problem::ApiError;

/// The subject a borrower dev token gets unless one is asked for: a borrower of the demo library.
pub const DEMO_BORROWER_SUBJECT: &str = "demo-ada";

#[derive(Debug, Deserialize)]
pub(crate) struct DevTokenQuery {
    role: Option<String>,
    subject: Option<String>,
}

#[handler]
pub(crate) async fn dev_token(state: Data<&AppState>, Query(query): Query<DevTokenQuery>) -> Response {
    let Some(issuer) = state.auth.dev_issuer() else {
        return ApiError::not_found("dev tokens exist only in dev mode").into_response();
    };
    let (role, default_subject) = match query.role.as_deref().unwrap_or("librarian") {
        "librarian" => (DevRole::Librarian, "dev-librarian"),
        "borrower" => (DevRole::Borrower, DEMO_BORROWER_SUBJECT),
        _ => return ApiError::invalid("role", "must be `librarian` or `borrower`").into_response(),
    };
    let subject =
        query.subject.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or(default_subject);
    match issuer.issue(role, subject, DEV_TOKEN_LIFETIME) {
        Ok(token) => Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": DEV_TOKEN_LIFETIME.as_secs(),
            "subject": subject,
        }))
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot sign a dev token");
            ApiError::internal().into_response()
        }
    }
}
