//! Swagger UI and the spec, served so that they work under any path prefix (e.g. `/prod`): the spec's
//! server URL is the prefix the request came through, so "Try it out" calls the right URLs.

use std::sync::OnceLock;

use poem::handler;
use poem::web::{Data, Html};
use poem::{IntoResponse, Response};

use crate::api::BasePath;

/// Stands in for the server URL in the generated documents until a request says what it is.
pub(crate) const BASE_PATH_MARKER: &str = "https://libris.invalid/__base_path__";

/// The documents with the marker in place of the server URL.
struct Docs {
    json: String,
    yaml: String,
    html: String,
}

/// Rendered on the first request for any of them, once per process, and never copied per request.
///
/// Not at start-up: rendering the spec as JSON and YAML was most of a Lambda cold start's own work (strace
/// showed ~28 ms in it before the first event was asked for; cold start fell from 41 to 12 ms without it),
/// and an instance that only answers API calls never needs it. Not as request data either: poem's
/// `.data()` clones its value into every request, and cloning these ~300 KB was 90 % of the instructions
/// of a `GET /books/{id}` (BENCHMARKS.md, the profile).
fn docs() -> &'static Docs {
    static DOCS: OnceLock<Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let service = crate::openapi_service();
        Docs {
            json: tidy(&service.spec()),
            yaml: tidy(&service.spec_yaml()),
            html: tidy(&service.swagger_ui_html()),
        }
    })
}

/// The spec as JSON, with `base` as its server URL.
pub(crate) fn json_for(base: &str) -> String {
    with_base(&docs().json, base)
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
pub(crate) fn ui(Data(base): Data<&BasePath>) -> Html<String> {
    Html(with_base(&docs().html, &base.0))
}

#[handler]
pub(crate) fn json(Data(base): Data<&BasePath>) -> Response {
    json_for(&base.0).with_content_type("application/json").into_response()
}

#[handler]
pub(crate) fn yaml(Data(base): Data<&BasePath>) -> Response {
    with_base(&docs().yaml, &base.0).with_content_type("application/yaml").into_response()
}

/// Browsers ask for it on every page; an empty answer keeps their console free of 404s.
#[handler]
pub(crate) fn favicon() -> poem::http::StatusCode {
    poem::http::StatusCode::NO_CONTENT
}
