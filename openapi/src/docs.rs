//! Swagger UI and the spec, served so that they work under any path prefix (e.g. `/prod`): the spec's
//! server URL is the prefix the request came through, so "Try it out" calls the right URLs.

use std::sync::Arc;

use poem::handler;
use poem::web::{Data, Html};
use poem::{IntoResponse, Response};

use crate::api::{Api, BasePath};

/// Stands in for the server URL in the generated documents until a request says what it is.
pub(crate) const BASE_PATH_MARKER: &str = "https://libris.invalid/__base_path__";

/// The documents, rendered once at start-up with the marker in place of the server URL.
///
/// Shared, not owned: poem's `.data()` clones its value into every request, and owned strings would copy
/// the spec, its YAML and the UI page (about 300 KB) per request, which was 90 % of the instructions of a
/// `GET /books/{id}` (see BENCHMARKS.md, the profile).
#[derive(Clone, Debug)]
pub(crate) struct Docs {
    json: Arc<str>,
    yaml: Arc<str>,
    html: Arc<str>,
}

impl Docs {
    pub(crate) fn new(service: &poem_openapi::OpenApiService<Api, ()>) -> Self {
        Self {
            json: tidy(&service.spec()).into(),
            yaml: tidy(&service.spec_yaml()).into(),
            html: tidy(&service.swagger_ui_html()).into(),
        }
    }

    pub(crate) fn json_for(&self, base: &str) -> String {
        with_base(&self.json, base)
    }
}

/// Two spellings poem-openapi emits that client generators handle badly, put the standard way:
/// - the media type key `application/json; charset=utf-8` becomes `application/json` (responses still
///   carry the charset parameter, which `application/json` matches; requests may send either);
/// - chrono's `format: naive-date` becomes OpenAPI's `format: date` (the same `YYYY-MM-DD` text).
fn tidy(document: &str) -> String {
    document.replace("application/json; charset=utf-8", "application/json").replace("naive-date", "date")
}

/// The base path is validated where it is read (see `observe`), so it is safe inside JSON and HTML.
fn with_base(document: &str, base: &str) -> String {
    document.replace(BASE_PATH_MARKER, if base.is_empty() { "/" } else { base })
}

#[handler]
pub(crate) fn ui(Data(docs): Data<&Docs>, Data(base): Data<&BasePath>) -> Html<String> {
    Html(with_base(&docs.html, &base.0))
}

#[handler]
pub(crate) fn json(Data(docs): Data<&Docs>, Data(base): Data<&BasePath>) -> Response {
    docs.json_for(&base.0).with_content_type("application/json").into_response()
}

#[handler]
pub(crate) fn yaml(Data(docs): Data<&Docs>, Data(base): Data<&BasePath>) -> Response {
    with_base(&docs.yaml, &base.0).with_content_type("application/yaml").into_response()
}

/// Browsers ask for it on every page; an empty answer keeps their console free of 404s.
#[handler]
pub(crate) fn favicon() -> poem::http::StatusCode {
    poem::http::StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_shares_the_documents_instead_of_copying_them() {
        let docs = Docs::new(&crate::openapi_service());
        let per_request = docs.clone();
        assert!(docs.json.len() > 100_000, "the spec is large enough to matter: {} bytes", docs.json.len());
        assert!(Arc::ptr_eq(&docs.json, &per_request.json));
        assert!(Arc::ptr_eq(&docs.yaml, &per_request.yaml));
        assert!(Arc::ptr_eq(&docs.html, &per_request.html));
    }
}
