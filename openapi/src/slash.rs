//! Trailing slashes: `/books/available/` is `/books/available`.
//!
//! The Python original (FastAPI) serves some routes with a trailing slash, and clients ported from it call
//! them that way; poem's router matches paths exactly, so they would get 404s here. Rather than a second
//! route per operation (and a second entry per path in the spec), the path is trimmed before routing: the
//! answer is the same response as without the slash, with the query string untouched. A redirect would cost
//! such a client a round trip on every call, and some HTTP clients do not follow a 308 for a POST.

use std::sync::Arc;

use poem::http::Uri;
use poem::http::uri::PathAndQuery;
use poem::{Endpoint, IntoResponse, Request, Response};

pub(crate) async fn trim<E: Endpoint>(next: Arc<E>, mut req: Request) -> poem::Result<Response> {
    if let Some(uri) = trimmed(req.uri()) {
        *req.uri_mut() = uri;
    }
    Ok(next.call(req).await?.into_response())
}

/// The URI without the trailing slashes of its path, or `None` when there are none to remove (the root
/// `/` keeps its one).
fn trimmed(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if path.len() < 2 || !path.ends_with('/') {
        return None;
    }
    let path = match path.trim_end_matches('/') {
        "" => "/",
        path => path,
    };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn trim(uri: &str) -> Option<String> {
        trimmed(&uri.parse().unwrap()).map(|uri| uri.to_string())
    }

    #[test]
    fn trailing_slashes_go_and_the_query_stays() {
        assert_eq!(trim("/books/available/").as_deref(), Some("/books/available"));
        assert_eq!(
            trim("/books/available/?q=dune&limit=5").as_deref(),
            Some("/books/available?q=dune&limit=5")
        );
        assert_eq!(trim("/books//").as_deref(), Some("/books"));
        assert_eq!(
            trim("https://api.example.com/books/7/").as_deref(),
            Some("https://api.example.com/books/7")
        );
    }

    #[test]
    fn paths_without_one_and_the_root_are_left_alone() {
        assert_eq!(trim("/books/available?q=a/"), None);
        assert_eq!(trim("/"), None);
        assert_eq!(trim("/books"), None);
        assert_eq!(trim("//").as_deref(), Some("/"));
    }
}
