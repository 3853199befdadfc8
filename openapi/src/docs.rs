//! Swagger UI and the spec, served so that they work under any path prefix (e.g. `/prod`): the spec's
//! server URL is the prefix the request came through, so "Try it out" calls the right URLs.

use std::sync::OnceLock;

use poem::handler;
use poem::web::{Data, Html};
use poem::{IntoResponse, Response};

use service::LoanLimits;

use crate::api::BasePath;
use crate::{AppState, rules};

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
///
/// One process serves one loan policy, so the first request's `limits` are every request's.
fn docs(limits: LoanLimits) -> &'static Docs {
    static DOCS: OnceLock<Docs> = OnceLock::new();
    DOCS.get_or_init(|| render(limits))
}

/// The documents, with the rules the server enforces under `limits` declared (see `rules`).
fn render(limits: LoanLimits) -> Docs {
    let service = crate::openapi_service();
    let (json_text, yaml_text) = match serde_json::from_str::<serde_json::Value>(&service.spec()) {
        Ok(mut spec) => {
            rules::declare(&mut spec, limits);
            (
                serde_json::to_string_pretty(&spec).unwrap_or_else(|_| service.spec()),
                serde_yaml::to_string(&spec).unwrap_or_else(|_| service.spec_yaml()),
            )
        }
        // poem-openapi renders its own JSON; it parses. Should it ever not, the undeclared spec still serves.
        Err(_) => (service.spec(), service.spec_yaml()),
    };
    Docs { json: tidy(&json_text), yaml: tidy(&yaml_text), html: tidy(&service.swagger_ui_html()) }
}

/// The spec as JSON for a server with the default loan policy, with `base` as its server URL (the
/// checked-in `openapi/openapi.json`; not cached: only tests and tools ask for it).
pub(crate) fn default_json_for(base: &str) -> String {
    with_base(&render(LoanLimits::default()).json, base)
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
pub(crate) fn ui(Data(base): Data<&BasePath>, Data(state): Data<&AppState>) -> Html<String> {
    Html(with_base(&docs(state.policy.limits()).html, &base.0))
}

#[handler]
pub(crate) fn json(Data(base): Data<&BasePath>, Data(state): Data<&AppState>) -> Response {
    with_base(&docs(state.policy.limits()).json, &base.0)
        .with_content_type("application/json")
        .into_response()
}

#[handler]
pub(crate) fn yaml(Data(base): Data<&BasePath>, Data(state): Data<&AppState>) -> Response {
    with_base(&docs(state.policy.limits()).yaml, &base.0)
        .with_content_type("application/yaml")
        .into_response()
}

/// Browsers ask for it on every page; an empty answer keeps their console free of 404s.
#[handler]
pub(crate) fn favicon() -> poem::http::StatusCode {
    poem::http::StatusCode::NO_CONTENT
}
