//! Per-request plumbing: a request id (taken from `X-Request-Id` or made up), the path prefix the app is
//! served under, and one log line per request with method, path, status, latency and request id.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

use crate::api::BasePath;

pub const REQUEST_ID: &str = "x-request-id";
pub const FORWARDED_PREFIX: &str = "x-forwarded-prefix";

/// `trust_prefix`: whether `X-Forwarded-Prefix` was set by the host's proxy (`AppState`); a client's is
/// ignored.
pub(crate) async fn observe<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    trust_prefix: bool,
) -> poem::Result<Response> {
    let request_id =
        req.header(REQUEST_ID).filter(|id| valid_request_id(id)).map_or_else(new_request_id, str::to_owned);
    let forwarded = req.header(FORWARDED_PREFIX).filter(|_| trust_prefix);
    let base = forwarded.and_then(valid_prefix).unwrap_or_default();
    req.extensions_mut().insert(BasePath(base));
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let span = tracing::info_span!("request", request_id = %request_id);
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let mut response = match result {
        Ok(response) => response.into_response(),
        Err(error) => crate::problem::catch_all(error).instrument(span.clone()).await,
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(%method, %path, status = response.status().as_u16(), latency_ms, "request");
    });
    Ok(response)
}

fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn new_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{started:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A prefix such as `/prod` or `/v1/api`: plain path segments only, so it is safe to echo in documents.
pub(crate) fn valid_prefix(raw: &str) -> Option<String> {
    let prefix = raw.trim_end_matches('/');
    let ok = prefix.starts_with('/')
        && prefix.len() <= 128
        && prefix.split('/').skip(1).all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.$".contains(&b))
        });
    ok.then(|| prefix.to_owned())
}

/// Refuses bodies over `limit` bytes with 413: at once when `Content-Length` says so, otherwise while
/// reading (a chunked body is buffered up to the limit, never beyond).
pub(crate) async fn limit_body<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    limit: usize,
) -> poem::Result<Response> {
    let too_large = || poem::Error::from_status(poem::http::StatusCode::PAYLOAD_TOO_LARGE);
    let declared = req.header(poem::http::header::CONTENT_LENGTH).map(str::parse::<u64>);
    match declared {
        Some(Ok(length)) if length > limit as u64 => return Err(too_large()),
        Some(Ok(_)) => {}
        Some(Err(_)) => return Err(poem::Error::from_status(poem::http::StatusCode::BAD_REQUEST)),
        None => {
            let body = req.take_body().into_bytes_limit(limit).await.map_err(|_| too_large())?;
            req.set_body(body);
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Answers 503 when a request outlives `limit`, instead of leaving the client to the gateway's timeout.
pub(crate) async fn time_limit<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    limit: Duration,
) -> poem::Result<Response> {
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result.map(IntoResponse::into_response),
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            let problem = crate::problem::Problem::new(
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
                "/problems/timeout",
                "the request took too long; retry shortly",
            );
            Ok(crate::problem::problem_response(&problem))
        }
    }
}

/// Headers every response carries, and a strict policy for the Swagger UI page, which is the only HTML.
pub(crate) async fn security_headers<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    let is_docs = req.uri().path() == "/docs";
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if is_docs {
        // Swagger UI is one page with inline script and styles, talking only to this origin.
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        );
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_plain_path_segments() {
        assert_eq!(valid_prefix("/prod").as_deref(), Some("/prod"));
        assert_eq!(valid_prefix("/prod/").as_deref(), Some("/prod"));
        assert_eq!(valid_prefix("/$default").as_deref(), Some("/$default"));
        for bad in ["prod", "/", "/a//b", "/../x", "/x\"y", "/<script>", ""] {
            assert_eq!(valid_prefix(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_request_over_the_time_limit_is_a_503_problem() {
        let slow = Arc::new(poem::endpoint::make(|_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }));
        let started = Instant::now();
        let response =
            time_limit(slow, Request::default(), Duration::from_millis(50)).await.unwrap_or_default();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
        let fast = Arc::new(poem::endpoint::make(|_| async { "quick" }));
        let response =
            time_limit(fast, Request::default(), Duration::from_millis(50)).await.unwrap_or_default();
        assert_eq!(response.status(), 200);
    }

    #[test]
    fn request_ids_are_short_and_plain() {
        assert!(valid_request_id("abc-123"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"x".repeat(129)));
        assert_ne!(new_request_id(), new_request_id());
    }
}
