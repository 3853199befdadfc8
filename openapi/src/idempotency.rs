//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) for every `POST` whose operation declares
//! the header in the spec: the first request with a key runs and its answer is kept; a retry of the same
//! request gets that answer again, byte for byte, marked `Idempotent-Replayed: true`; a retry while the
//! first still runs is a 409 with `Retry-After`; the same key with a different request is a 422.
//!
//! One middleware for all of them, so no operation repeats it. Which operations take a key is read from
//! the API's own description (an operation with an `Idempotency-Key` header parameter), so the spec and
//! the behaviour cannot disagree. Keys belong to the caller (the token's subject, or `anonymous`) and the
//! operation. The keys and answers live in the database (`service::idempotency`), never in memory.
//!
//! Only answers that are the operation's verdict are kept: successes, 404 and 409. Requests refused before
//! the operation could act (400, 401, 403, 413, 415, 422) and failures on our side (5xx) give the key
//! back, so a corrected or later retry runs afresh.
//!
//! On PostgreSQL and SQLite the key, the operation and the kept answer are one transaction
//! (`in_transaction`): a keyed request commits once, as a plain one does, and its answer is kept exactly
//! when its effect is; the operation reaches that transaction through the `Db` it takes. MariaDB keeps the
//! autocommit path (`autocommit`; why in `service::idempotency`). The token that names the caller is
//! checked once here and handed to the operation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use aws_lc_rs::digest::{SHA256, digest};
use poem::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use poem_openapi::OpenApi;
use poem_openapi::registry::MetaParamIn;
use sea_orm::DbBackend;
use serde_json::Value;
use service::idempotency::{self as store, Answer, Scope, Terms};

use crate::AppState;
use crate::api::access::VerifiedToken;
use crate::problem::{ApiError, Problem, problem_response};

mod autocommit;
mod in_transaction;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// A request still running after this long is taken to have died with its instance: its key may be
/// claimed again. Well above the request time limit, so a live request never loses its key.
const LEASE_SECONDS: i64 = 60;
/// What a client is told to wait while the first request with its key runs.
const IN_FLIGHT_RETRY_AFTER: u32 = 1;
/// One request in this many sweeps expired keys, at most `SWEEP_BATCH` of them.
const SWEEP_EVERY: u64 = 16;
const SWEEP_BATCH: u64 = 100;
/// The headers of an answer that a replay must repeat.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// Per-app idempotency state: only the sweep's turn counter (everything else is in the database).
#[derive(Clone, Debug, Default)]
pub struct Sweeper(Arc<AtomicU64>);

impl Sweeper {
    fn turn(&self) -> bool {
        self.0.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
    }
}

/// The middleware: runs a keyed `POST` at most once per key.
pub(crate) async fn idempotent<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    let operation = match req.headers().get(IDEMPOTENCY_KEY) {
        Some(_) if req.method() == Method::POST => keyed_operation(req.uri().path()),
        _ => None,
    };
    let Some(operation) = operation else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let key = match req.headers().get(IDEMPOTENCY_KEY).map(parse_key) {
        Some(Ok(key)) => key,
        _ => {
            let detail = "Idempotency-Key must be 1 to 255 printable ASCII characters";
            return Ok(ApiError::malformed(detail).into_response());
        }
    };
    let Some(state) = req.data::<AppState>().cloned() else {
        return Ok(ApiError::internal().into_response());
    };
    let mut req = req;
    let Some(caller) = caller(&state, &mut req).await else {
        // A token we refuse: the operation answers 401 (or 503) itself, and nothing is claimed.
        return next.call(req).await.map(IntoResponse::into_response);
    };
    Keyed { state, caller, operation, key }.run(next, req).await
}

struct Keyed {
    state: AppState,
    caller: String,
    operation: &'static str,
    key: String,
}

impl Keyed {
    fn scope(&self) -> Scope<'_> {
        Scope { caller: &self.caller, operation: self.operation, key: &self.key }
    }

    async fn run<E: Endpoint>(self, next: Arc<E>, mut req: Request) -> poem::Result<Response> {
        // The body is already capped by the body limit, outside this middleware.
        let body = req.take_body().into_bytes().await?;
        let fingerprint = fingerprint(req.method(), req.uri(), &body);
        req.set_body(body);
        let terms = Terms {
            ttl: chrono::TimeDelta::from_std(self.state.idempotency_ttl)
                .unwrap_or(chrono::TimeDelta::days(1)),
            lease: chrono::TimeDelta::seconds(LEASE_SECONDS),
        };
        let (response, claimed) = if self.state.db.get_database_backend() == DbBackend::MySql {
            self.autocommit(next, req, &fingerprint, terms).await?
        } else {
            self.in_transaction(next, req, &fingerprint, terms).await
        };
        // Only requests that ran take turns, so retries and refusals cost no extra statement.
        if claimed
            && self.state.idempotency_sweeper.turn()
            && let Err(error) = store::sweep(&self.state.db, chrono::Utc::now(), SWEEP_BATCH).await
        {
            tracing::warn!(%error, "sweeping expired idempotency keys failed");
        }
        Ok(response)
    }
}

/// Runs the operation and answers however it ended: its problem+json when it failed.
async fn answer_of<E: Endpoint>(next: &E, req: Request) -> Response {
    match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(error) => crate::problem::catch_all(error).await,
    }
}

/// Splits a response to keep its answer: the answer, and the response rebuilt to send.
async fn kept_answer(response: Response) -> poem::Result<(Answer, Response)> {
    let (parts, body) = response.into_parts();
    let bytes =
        body.into_bytes().await.map_err(|e| poem::Error::new(e, StatusCode::INTERNAL_SERVER_ERROR))?;
    let answer = Answer {
        status: parts.status.as_u16(),
        headers: encode_headers(&parts.headers),
        body: bytes.to_vec(),
    };
    Ok((answer, Response::from_parts(parts, Body::from(bytes))))
}

/// Whether an answer is the operation's verdict, to be replayed to retries.
fn kept(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::NOT_FOUND || status == StatusCode::CONFLICT
}

/// The caller a key belongs to: the token's subject, `anonymous` without a token, `None` for a token that
/// does not check out.
///
/// A token that checks out is handed on in the request, so the operation does not check it again.
async fn caller(state: &AppState, req: &mut Request) -> Option<String> {
    let Some(authorization) = req.header(header::AUTHORIZATION) else { return Some("anonymous".to_owned()) };
    let token = authorization.strip_prefix("Bearer ").or_else(|| authorization.strip_prefix("bearer "))?;
    let token = token.trim().to_owned();
    let principal = state.auth.authenticate(&token).await.ok()?;
    let subject = principal.subject.clone();
    req.set_data(VerifiedToken { token, principal });
    Some(subject)
}

/// A key: 1 to 255 printable ASCII characters, bare or as the draft's quoted string (`"abc"`).
fn parse_key(raw: &HeaderValue) -> Result<String, ()> {
    let raw = raw.to_str().map_err(|_| ())?;
    let key = raw.strip_prefix('"').and_then(|k| k.strip_suffix('"')).unwrap_or(raw);
    let printable = key.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if (1..=255).contains(&key.len()) && printable { Ok(key.to_owned()) } else { Err(()) }
}

/// SHA-256 of the method, the path with its query, and the body; a JSON body in canonical form (keys
/// sorted, no insignificant space), so a client that re-serialises its retry still matches.
fn fingerprint(method: &Method, uri: &poem::http::Uri, body: &[u8]) -> Vec<u8> {
    let canonical = serde_json::from_slice::<Value>(body).ok().map(|value| canonical_json(&value));
    let mut input = Vec::with_capacity(body.len() + 64);
    input.extend_from_slice(method.as_str().as_bytes());
    input.push(b'\n');
    input.extend_from_slice(uri.path_and_query().map_or(uri.path(), |pq| pq.as_str()).as_bytes());
    input.push(b'\n');
    input.extend_from_slice(canonical.as_deref().unwrap_or(body));
    digest(&SHA256, &input).as_ref().to_vec()
}

fn canonical_json(value: &Value) -> Vec<u8> {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(value)).unwrap_or_default()
}

fn encode_headers(headers: &poem::http::HeaderMap) -> String {
    let kept: serde_json::Map<String, Value> = KEPT_HEADERS
        .iter()
        .filter_map(|name| Some((name.as_str().to_owned(), Value::from(headers.get(name)?.to_str().ok()?))))
        .collect();
    Value::Object(kept).to_string()
}

fn replay(answer: Answer) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK))
        .header(REPLAYED, "true")
        .body(answer.body);
    if let Ok(Value::Object(headers)) = serde_json::from_str::<Value>(&answer.headers) {
        for (name, value) in headers {
            let value = value.as_str().and_then(|v| HeaderValue::from_str(v).ok());
            if let (Ok(name), Some(value)) = (HeaderName::from_bytes(name.as_bytes()), value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

fn in_flight() -> Response {
    let problem = Problem::new(
        StatusCode::CONFLICT,
        "/problems/idempotency-key-in-use",
        "a request with this Idempotency-Key is still being processed; retry after Retry-After seconds",
    );
    let mut response = problem_response(&problem);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(IN_FLIGHT_RETRY_AFTER));
    response
}

fn reused() -> Response {
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "/problems/idempotency-key-reused",
        "this Idempotency-Key was already used for a different request; use a new key for a new request",
    );
    problem.errors = Some(vec![crate::problem::FieldError {
        field: "Idempotency-Key".to_owned(),
        message: "already used for a different request".to_owned(),
    }]);
    problem_response(&problem)
}

/// The operationId of the `POST` at `path` if it takes an `Idempotency-Key`, as the spec declares.
fn keyed_operation(path: &str) -> Option<&'static str> {
    keyed_operations().iter().find(|(template, _)| matches(template, path)).map(|(_, id)| *id)
}

/// A path template's segments, `None` for a `{parameter}`.
type Template = Vec<Option<String>>;

/// Every `POST` with an `Idempotency-Key` header parameter: its path template and its operationId. Read
/// from the API description once.
fn keyed_operations() -> &'static [(Template, &'static str)] {
    static OPERATIONS: OnceLock<Vec<(Template, &'static str)>> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let mut found = Vec::new();
        for api in crate::api::Api::meta() {
            for path in api.paths {
                for operation in path.operations {
                    let keyed = operation.params.iter().any(|p| {
                        p.in_type == MetaParamIn::Header && p.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY)
                    });
                    if keyed
                        && operation.method == Method::POST
                        && let Some(id) = operation.operation_id
                    {
                        found.push((template(&path.path), id));
                    }
                }
            }
        }
        found
    })
}

fn template(path: &str) -> Template {
    path.split('/').map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned())).collect()
}

fn matches(template: &[Option<String>], path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    segments.len() == template.len()
        && template.iter().zip(&segments).all(|(part, segment)| match part {
            Some(fixed) => fixed == segment,
            None => !segment.is_empty(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_changing_post_takes_a_key() {
        let mut ids: Vec<&str> = keyed_operations().iter().map(|(_, id)| *id).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            [
                "addBookAuthor",
                "checkOutBook",
                "createAuthor",
                "createBook",
                "createBorrower",
                "createReview",
                "renewLoan",
                "returnLoan"
            ]
        );
        assert_eq!(keyed_operation("/books/7/reviews"), Some("createReview"));
        assert_eq!(keyed_operation("/loans"), Some("checkOutBook"));
        assert_eq!(keyed_operation("/loans/3/renew"), Some("renewLoan"));
        assert_eq!(keyed_operation("/loans//renew"), None);
        assert_eq!(keyed_operation("/books/7"), None);
    }

    #[test]
    fn keys_are_printable_ascii_bare_or_quoted() {
        let key = |raw: &'static str| parse_key(&HeaderValue::from_static(raw));
        assert_eq!(key("8e03978e-40d5-43e8"), Ok("8e03978e-40d5-43e8".to_owned()));
        assert_eq!(key("\"quoted key\""), Ok("quoted key".to_owned()));
        assert!(key("").is_err() && key("\"\"").is_err());
        assert!(
            parse_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap_or(HeaderValue::from_static("")))
                .is_err()
        );
        assert!(
            parse_key(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap_or(HeaderValue::from_static("")))
                .is_err()
        );
    }

    #[test]
    fn the_fingerprint_ignores_json_key_order_and_spacing_but_not_values_or_paths() {
        let uri = |s: &'static str| poem::http::Uri::from_static(s);
        let a = fingerprint(&Method::POST, &uri("/loans"), br#"{"book_id":1,"borrower_id":2}"#);
        let b = fingerprint(&Method::POST, &uri("/loans"), b"{ \"borrower_id\": 2, \"book_id\": 1 }");
        assert_eq!(a, b);
        assert_ne!(a, fingerprint(&Method::POST, &uri("/loans"), br#"{"book_id":1,"borrower_id":3}"#));
        assert_ne!(a, fingerprint(&Method::POST, &uri("/books"), br#"{"book_id":1,"borrower_id":2}"#));
        assert_eq!(a.len(), 32);
    }
}
