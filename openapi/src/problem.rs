//! RFC 9457 problem details: the one error body of the API, for our errors and poem's own.
//!
//! What the client sees is separate from what the log sees: a 5xx body is generic, while the full cause
//! chain is logged (inside the request's span, so with its request id).

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use service::ServiceError;

use crate::auth::{AuthError, retry_after_secs};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The protection space named in `WWW-Authenticate` challenges.
const REALM: &str = "libris";

/// Seconds a client should wait before retrying when the database is unavailable.
const RETRY_AFTER_SECONDS: u32 = 2;

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Object)]
pub struct FieldError {
    /// The request field, as named in the request (e.g. `rating`, `isbn`, `cursor`).
    pub field: String,
    pub message: String,
}

/// For conflicts (409): the library rule that was violated. Stable: clients branch on these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum ConflictCode {
    BookOnLoan,
    LoanLimitReached,
    BorrowerHasOverdueLoans,
    RenewalLimitReached,
    LoanOverdue,
    LoanAlreadyReturned,
    NotBorrowed,
    AlreadyReviewed,
    EmailTaken,
    IsbnTaken,
    BorrowerHasLoans,
    SubjectTaken,
}

impl From<service::ConflictCode> for ConflictCode {
    fn from(code: service::ConflictCode) -> Self {
        use service::ConflictCode as C;
        match code {
            C::BookOnLoan => Self::BookOnLoan,
            C::LoanLimitReached => Self::LoanLimitReached,
            C::BorrowerHasOverdueLoans => Self::BorrowerHasOverdueLoans,
            C::RenewalLimitReached => Self::RenewalLimitReached,
            C::LoanOverdue => Self::LoanOverdue,
            C::LoanAlreadyReturned => Self::LoanAlreadyReturned,
            C::NotBorrowed => Self::NotBorrowed,
            C::AlreadyReviewed => Self::AlreadyReviewed,
            C::EmailTaken => Self::EmailTaken,
            C::IsbnTaken => Self::IsbnTaken,
            C::BorrowerHasLoans => Self::BorrowerHasLoans,
            C::SubjectTaken => Self::SubjectTaken,
        }
    }
}

/// An error, as `application/problem+json` (RFC 9457).
#[derive(Clone, Debug, PartialEq, Eq, Object)]
pub struct Problem {
    /// A URI reference naming the problem type; `about:blank` for plain HTTP errors.
    #[oai(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    // No doc comment on purpose: poem-openapi would wrap the `$ref` as `allOf: [{$ref}, {description}]`,
    // and openapi-python-client refuses an `allOf` of a non-object, dropping `Problem` and with it every
    // typed error response. The enum's own description says what the field means.
    #[oai(skip_serializing_if_is_none)]
    pub code: Option<ConflictCode>,
    /// For validation failures: every invalid field.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldError>>,
}

impl Problem {
    pub(crate) fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: None,
            errors: None,
        }
    }
}

/// Every error an operation can answer with. Each operation's spec lists these responses.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed: bad JSON, a wrong type, a missing parameter.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    /// No valid bearer token: none was sent, or it is expired, forged or for another audience.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Box<Problem>>, #[oai(header = "WWW-Authenticate")] String),
    /// The token is valid but does not allow this: a librarian's scope is needed, or the record is
    /// another borrower's.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Box<Problem>>, #[oai(header = "WWW-Authenticate")] String),
    /// The resource does not exist.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    /// A library rule forbids the operation (`code` says which), or a request with the same
    /// `Idempotency-Key` is still running (retry after `Retry-After` seconds).
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(
        Json<Box<Problem>>,
        /// Only while a request with the same `Idempotency-Key` is running: seconds to wait.
        #[oai(header = "Retry-After")]
        Option<u32>,
    ),
    /// `If-Match` names a revision that is no longer current: someone changed the resource since it was
    /// read. Get it again (for its new `ETag`) and retry.
    #[oai(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Json<Box<Problem>>),
    /// The request body is larger than the server accepts.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Box<Problem>>),
    /// The request body is not JSON.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Box<Problem>>),
    /// The request is well-formed but a value is invalid (`errors` lists the fields), or its
    /// `Idempotency-Key` was already used for a different request.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    /// This server requires `If-Match` on writes to existing resources (`LIBRIS_REQUIRE_IF_MATCH`).
    #[oai(status = 428, content_type = "application/problem+json")]
    PreconditionRequired(Json<Box<Problem>>),
    /// Something failed on our side; the details are in the server log under the request id.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<Problem>>),
    /// The database is unavailable; retry after the given number of seconds.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Box<Problem>>, #[oai(header = "Retry-After")] u32),
}

impl ApiError {
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(Json(Box::new(Problem::new(StatusCode::NOT_FOUND, "/problems/not-found", detail))))
    }

    /// A request that does not match the spec, such as `null` for a field that is not nullable.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::BadRequest(Json(Box::new(Problem::new(StatusCode::BAD_REQUEST, "/problems/malformed", detail))))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/validation",
            format!("{field}: {message}"),
        );
        problem.errors = Some(vec![FieldError { field: field.to_owned(), message }]);
        Self::Unprocessable(Json(Box::new(problem)))
    }

    /// 412: the resource is not at the revision `If-Match` named.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        let problem = Problem::new(StatusCode::PRECONDITION_FAILED, "/problems/precondition-failed", detail);
        Self::PreconditionFailed(Json(Box::new(problem)))
    }

    /// 428: this server wants `If-Match` on every write to an existing resource.
    pub fn precondition_required() -> Self {
        let problem = Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "/problems/precondition-required",
            "send If-Match with the ETag of the revision you read",
        );
        Self::PreconditionRequired(Json(Box::new(problem)))
    }

    pub fn unavailable() -> Self {
        Self::unavailable_because("the database is unavailable; retry shortly")
    }

    pub fn unavailable_because(detail: &str) -> Self {
        Self::unavailable_for(detail, RETRY_AFTER_SECONDS)
    }

    /// 503 with `Retry-After: retry_after` (seconds), for a wait the server knows.
    pub fn unavailable_for(detail: &str, retry_after: u32) -> Self {
        let problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "/problems/unavailable", detail);
        Self::Unavailable(Json(Box::new(problem)), retry_after)
    }

    /// 401 with the RFC 6750 challenge: bare when no token came, `invalid_token` when one was refused.
    pub fn unauthorized(error: &AuthError) -> Self {
        let problem = Problem::new(StatusCode::UNAUTHORIZED, "/problems/unauthorized", error.to_string());
        let challenge = match error {
            AuthError::Missing => format!("Bearer realm=\"{REALM}\""),
            _ => format!("Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{error}\""),
        };
        Self::Unauthorized(Json(Box::new(problem)), challenge)
    }

    /// 403 with the RFC 6750 `insufficient_scope` challenge naming the scope that would do.
    pub fn forbidden(detail: impl Into<String>, scope: &str) -> Self {
        let problem = Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", detail);
        let challenge = format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\"");
        Self::Forbidden(Json(Box::new(problem)), challenge)
    }

    pub fn internal() -> Self {
        Self::Internal(Json(Box::new(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "/problems/internal",
            "an internal error occurred; it has been logged with this request's id",
        ))))
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::KeysUnavailable { retry_in, .. } => {
                log_chain(&error);
                Self::unavailable_for(
                    "the token issuer cannot be reached to check the token; retry after Retry-After seconds",
                    retry_after_secs(retry_in),
                )
            }
            _ => Self::unauthorized(&error),
        }
    }
}

/// An error and its sources on one line, outermost first: `cannot read the database secret …: Secrets
/// Manager cannot be reached …: dispatch failure: …`. The one way Libris prints a cause chain: request
/// failures in the log here, the Lambda's init errors and logs there. Errors keep their causes as
/// `#[source]`, never in their own message, so each cause shows once.
#[derive(Clone, Copy, Debug)]
pub struct CauseChain<'a>(pub &'a (dyn std::error::Error + 'a));

impl std::fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Writes an error and its sources to the log, one line, so 5xx causes are never lost.
fn log_chain(error: &dyn std::error::Error) {
    tracing::error!(error = %CauseChain(error), "request failed");
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound { .. } => Self::not_found(error.to_string()),
            ServiceError::Conflict { code, message } => {
                let mut problem = Problem::new(StatusCode::CONFLICT, "/problems/conflict", message);
                problem.code = Some(code.into());
                Self::Conflict(Json(Box::new(problem)), None)
            }
            ServiceError::Stale { .. } => Self::precondition_failed(error.to_string()),
            ServiceError::Validation { field, message } => Self::invalid(field, message),
            ServiceError::Unavailable(_) => {
                log_chain(&error);
                Self::unavailable()
            }
            ServiceError::Db(_) => {
                log_chain(&error);
                Self::internal()
            }
        }
    }
}

/// Turns any error that escaped an operation (poem's parse errors, unknown routes, wrong methods, body
/// limits) into a problem+json response. Our own problems pass through unchanged.
pub async fn catch_all(error: poem::Error) -> Response {
    let status = error.status();
    let detail = error.to_string();
    let response = error.into_response();
    let is_problem = response
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    if status == StatusCode::UNAUTHORIZED {
        return ApiError::unauthorized(&AuthError::Missing).into_response();
    }
    let problem = if status.is_server_error() {
        tracing::error!(%status, error = %detail, "unhandled error");
        Problem::new(
            status,
            "about:blank",
            "an internal error occurred; it has been logged with this request's id",
        )
    } else {
        Problem::new(status, "about:blank", client_detail(status, &detail))
    };
    problem_response(&problem)
}

/// Client-error text from poem is about the request itself, so it is safe and useful to show.
fn client_detail(status: StatusCode, detail: &str) -> String {
    match status {
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "this route does not accept that method".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large".to_owned(),
        _ if detail.is_empty() => status.canonical_reason().unwrap_or("error").to_owned(),
        _ => detail.to_owned(),
    }
}

pub fn problem_response(problem: &Problem) -> Response {
    let body = serde_json::to_vec(&poem_openapi::types::ToJSON::to_json(problem)).unwrap_or_default();
    let mut response = Response::builder()
        .status(StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type(PROBLEM_JSON)
        .body(body);
    if problem.status == 503 {
        response.headers_mut().insert("retry-after", poem::http::HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::{CauseChain, ConflictCode};

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn a_cause_chain_prints_every_source_once_outermost_first() {
        let error = Outer(Middle(std::io::Error::other("root cause")));
        assert_eq!(CauseChain(&error).to_string(), "outer: middle: root cause");
        assert_eq!(CauseChain(&std::io::Error::other("alone")).to_string(), "alone");
    }

    #[test]
    fn conflict_codes_in_the_spec_match_the_service_codes() {
        for code in service::ConflictCode::ALL {
            assert_eq!(ConflictCode::from(code).to_json(), Some(serde_json::Value::from(code.as_str())));
        }
    }
}
