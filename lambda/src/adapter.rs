//! Between lambda_http's `http` types and poem: the only Lambda-specific part of serving a request.
//!
//! API Gateway puts a named stage in the path (`/prod/books/1`); the adapter strips it and tells the app
//! through `X-Forwarded-Prefix`, so routing sees `/books/1` and the docs point their requests at `/prod`.
//! That header is the adapter's word alone: one sent by the client is removed first, or it would reach the
//! `Location` of every created resource and the docs' server URL (a `$default` stage sets none of its own).

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use poem::Endpoint;
use poem::http::{HeaderValue, Uri};

/// Serves one Lambda HTTP event with the app.
///
/// # Errors
/// Only when the app's response body cannot be read, which a buffered poem body never does.
pub async fn handle<E>(app: &E, event: Request) -> Result<Response<Body>, lambda_http::Error>
where
    E: Endpoint<Output = poem::Response>,
{
    let stage = stage_prefix(&event);
    let (mut parts, body) = event.into_parts();
    parts.headers.remove("x-forwarded-prefix");
    if let Some(stage) = &stage {
        parts.uri = strip_prefix(&parts.uri, stage);
        if let Ok(value) = HeaderValue::from_str(stage) {
            parts.headers.insert("x-forwarded-prefix", value);
        }
    }
    let body = match body {
        Body::Text(text) => poem::Body::from_string(text),
        Body::Binary(bytes) => poem::Body::from_vec(bytes),
        _ => poem::Body::empty(),
    };
    let mut request =
        poem::Request::builder().method(parts.method).uri(parts.uri).version(parts.version).body(body);
    *request.headers_mut() = parts.headers;
    respond(app.get_response(request).await).await
}

/// A poem response as lambda_http's.
///
/// # Errors
/// Only when the body cannot be read, which a buffered poem body never does.
pub async fn respond(response: poem::Response) -> Result<Response<Body>, lambda_http::Error> {
    let (parts, body) = response.into_parts();
    let bytes = body.into_vec().await?;
    let body = if bytes.is_empty() {
        Body::Empty
    } else if is_text(parts.headers.get(poem::http::header::CONTENT_TYPE)) {
        match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(not_utf8) => Body::Binary(not_utf8.into_bytes()),
        }
    } else {
        // lambda_http base64-encodes binary bodies, so any byte survives API Gateway.
        Body::Binary(bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = parts.status;
    *response.headers_mut() = parts.headers;
    Ok(response)
}

/// The stage the path starts with, as `/stage`, for API Gateway events with a named stage.
fn stage_prefix(event: &Request) -> Option<String> {
    let stage = match event.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.stage.clone(),
        RequestContext::ApiGatewayV2(context) => context.stage.clone(),
        _ => None,
    }?;
    if stage.is_empty() || stage == "$default" {
        return None;
    }
    let prefix = format!("/{stage}");
    let path = event.uri().path();
    (path == prefix || path.starts_with(&format!("{prefix}/"))).then_some(prefix)
}

fn strip_prefix(uri: &Uri, prefix: &str) -> Uri {
    let path = uri.path().strip_prefix(prefix).unwrap_or(uri.path());
    let path = if path.is_empty() { "/" } else { path };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut builder = Uri::builder();
    if let Some(scheme) = uri.scheme() {
        builder = builder.scheme(scheme.clone());
    }
    if let Some(authority) = uri.authority() {
        builder = builder.authority(authority.clone());
    }
    builder.path_and_query(path_and_query).build().unwrap_or_else(|_| uri.clone())
}

fn is_text(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json" | "application/yaml" | "application/xml" | "application/javascript"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_stay_text() {
        for text in
            ["application/json; charset=utf-8", "application/problem+json", "text/html", "application/yaml"]
        {
            assert!(is_text(Some(&HeaderValue::from_static(text))), "{text}");
        }
        assert!(!is_text(Some(&HeaderValue::from_static("image/png"))));
        assert!(!is_text(None));
    }

    #[test]
    fn the_stage_is_cut_from_the_path_and_the_query_kept() {
        let uri: Uri = "https://api.example.com/prod/books?title=a%20b&x=1&x=2".parse().unwrap_or_default();
        assert_eq!(
            strip_prefix(&uri, "/prod").to_string(),
            "https://api.example.com/books?title=a%20b&x=1&x=2"
        );
        let root: Uri = "/prod".parse().unwrap_or_default();
        assert_eq!(strip_prefix(&root, "/prod").to_string(), "/");
    }
}
