//! `405 Method Not Allowed` names the methods the resource does accept, in an `Allow` header, as RFC 9110
//! (section 15.5.6) requires: a client (or schemathesis) learns from the answer what it may send instead.
//!
//! poem's router answers the 405 but knows no `Allow`; the methods come from the spec's paths, which are
//! the routes, so the two cannot disagree.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Each path template of the spec (e.g. `/books/{id}`) as segments, with its methods, comma-separated.
type Routes = Vec<(Vec<String>, String)>;

fn routes() -> &'static Routes {
    static ROUTES: OnceLock<Routes> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::openapi_service().spec()).unwrap_or_default();
        let paths = spec.get("paths").and_then(serde_json::Value::as_object);
        paths
            .into_iter()
            .flatten()
            .filter_map(|(template, operations)| {
                let mut methods: BTreeMap<usize, &str> = BTreeMap::new();
                for method in operations.as_object()?.keys() {
                    let rank = ORDER.iter().position(|m| m.eq_ignore_ascii_case(method))?;
                    methods.insert(rank, ORDER[rank]);
                }
                // poem answers HEAD wherever it answers GET.
                if methods.contains_key(&0) {
                    methods.insert(1, "HEAD");
                }
                let methods: Vec<&str> = methods.into_values().collect();
                Some((segments(template), methods.join(", ")))
            })
            .collect()
    })
}

/// The order `Allow` lists methods in.
const ORDER: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The methods of the route `path` ends with: the longest template that matches its last segments (a
/// deployment may serve the API under a prefix such as `/prod`), literal segments before parameters
/// (`/books/available` is not `/books/{id}`).
fn allowed(path: &str) -> Option<&'static str> {
    let path = segments(path);
    routes()
        .iter()
        .filter(|(template, _)| template.len() <= path.len())
        .filter(|(template, _)| {
            let tail = &path[path.len() - template.len()..];
            template.iter().zip(tail).all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
        })
        .max_by_key(|(template, _)| (template.len(), template.iter().filter(|t| !t.starts_with('{')).count()))
        .map(|(_, methods)| methods.as_str())
}

/// Adds `Allow` to a 405.
pub(crate) async fn header<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = next.call(req).await?.into_response();
    let methods = (response.status() == StatusCode::METHOD_NOT_ALLOWED)
        .then(|| allowed(&path).and_then(|m| HeaderValue::from_str(m).ok()))
        .flatten();
    if let Some(methods) = methods {
        response.headers_mut().insert(header::ALLOW, methods);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn allow_lists_the_methods_of_the_matching_route() {
        assert_eq!(allowed("/health"), Some("GET, HEAD"));
        assert_eq!(allowed("/books/7"), Some("GET, HEAD, PATCH, DELETE"));
        assert_eq!(allowed("/prod/books/7"), Some("GET, HEAD, PATCH, DELETE"));
        assert_eq!(allowed("/books/available"), Some("GET, HEAD"));
        assert_eq!(allowed("/nowhere/at/all/x"), None);
    }
}
