//! The Libris HTTP API: poem-openapi operations over the `service` crate, problem+json errors, the spec,
//! Swagger UI, and the [`app`] builder shared by the local server, the Lambda shell and the tests.
//!
//! This crate knows nothing of Lambda: a host that serves the app under a path prefix (an API Gateway
//! stage) strips the prefix and says so in the `X-Forwarded-Prefix` header, and the docs follow it.

mod allow;
pub mod api;
pub mod auth;
pub mod config;
mod docs;
pub mod dto;
mod idempotency;
mod observe;
pub mod problem;
pub mod rules;
mod slash;
pub mod text;

use std::time::Duration;

use poem::middleware::Cors;
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::OpenApiService;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use service::LoanPolicy;
use service::books::CommonWords;

use crate::auth::Auth;

pub use config::{AppSettings, Config};
pub use problem::CauseChain;

/// Everything an operation needs, shared by all requests.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// How bearer tokens are checked; in dev mode, also where dev tokens come from.
    pub auth: Auth,
    pub policy: LoanPolicy,
    /// Requests with a larger body are refused with 413.
    pub max_body_bytes: usize,
    /// A request still running after this long is answered with 503 and dropped.
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser; empty (the default) turns CORS off.
    pub cors_origins: Vec<String>,
    /// Refuse `PATCH`, `PUT` and `DELETE` without `If-Match` (428), so no client can overwrite blindly.
    pub require_if_match: bool,
    /// How long the answer to a request with an `Idempotency-Key` is kept for retries.
    pub idempotency_ttl: Duration,
    /// Serve the docs and `Location`s under the path prefix in `X-Forwarded-Prefix`. Only for a host whose
    /// proxy sets that header and drops the client's (the Lambda adapter): from a client it would let anyone
    /// choose the URLs that the docs and the spec, which caches keep, point to.
    pub trust_forwarded_prefix: bool,
    /// Whose turn it is to sweep expired idempotency keys.
    idempotency_sweeper: idempotency::Sweeper,
    /// The catalogue's common words, from PostgreSQL's statistics, shared by this process's searches.
    common_words: CommonWords,
}

impl AppState {
    /// 64 KiB: far above any valid request of this API, far below what could hurt a small Lambda.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
    /// Below API Gateway's 29 s integration timeout and a typical Lambda timeout, so the client gets our
    /// problem+json answer rather than the gateway's.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// A day, as the IETF draft and Stripe suggest: longer than any client's retry schedule.
    pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

    /// The defaults for everything but the database and how callers are authenticated, which every host
    /// must choose.
    #[must_use]
    pub fn new(db: DatabaseConnection, auth: Auth) -> Self {
        Self {
            db,
            auth,
            policy: LoanPolicy::default(),
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            cors_origins: Vec::new(),
            require_if_match: false,
            idempotency_ttl: Self::DEFAULT_IDEMPOTENCY_TTL,
            trust_forwarded_prefix: false,
            idempotency_sweeper: idempotency::Sweeper::default(),
            common_words: CommonWords::default(),
        }
    }
}

impl AppState {
    /// The state a host builds from its settings.
    #[must_use]
    pub fn from_settings(db: DatabaseConnection, auth: Auth, settings: &AppSettings) -> Self {
        Self {
            policy: settings.policy,
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout,
            cors_origins: settings.cors_origins.clone(),
            require_if_match: settings.require_if_match,
            idempotency_ttl: settings.idempotency_ttl,
            trust_forwarded_prefix: settings.trust_forwarded_prefix,
            ..Self::new(db, auth)
        }
    }
}

/// The OpenAPI service: every operation, described. Needs no database.
#[must_use]
pub fn openapi_service() -> OpenApiService<api::Api, ()> {
    OpenApiService::new(api::api(), "Libris", env!("CARGO_PKG_VERSION"))
        .description(
            "A library: borrowers loan books and review them, librarians keep the catalogue. \
             Lists are keyset-paginated (`cursor`, `limit`); errors are RFC 9457 problem+json.",
        )
        .server(docs::BASE_PATH_MARKER)
}

/// The spec as served at the root (no path prefix), as checked in at `openapi/openapi.json`.
#[must_use]
pub fn spec_json() -> String {
    docs::default_json_for("")
}

/// The whole application: API, docs, limits, problem+json for every error, request ids and logging.
pub fn app(state: AppState) -> impl Endpoint<Output = poem::Response> {
    let service = openapi_service();
    let (limit, timeout) = (state.max_body_bytes, state.request_timeout);
    let trust_prefix = state.trust_forwarded_prefix;
    let cors =
        (!state.cors_origins.is_empty()).then(|| Cors::new().allow_origins(state.cors_origins.clone()));
    let dev_mode = state.auth.dev_issuer().is_some();
    let mut routes = Route::new()
        .nest("/", service)
        .at("/docs", poem::get(docs::ui))
        .at("/openapi.json", poem::get(docs::json))
        .at("/openapi.yaml", poem::get(docs::yaml))
        .at("/favicon.ico", poem::get(docs::favicon));
    if dev_mode {
        routes = routes.at("/auth/dev-token", poem::get(auth::endpoint::dev_token));
    }
    routes
        // Idempotency sees the path as routed, after a trailing slash is trimmed.
        .around(idempotency::idempotent)
        .around(api::conditional::readable_preconditions)
        .around(slash::trim)
        .around(move |next, req| observe::limit_body(next, req, limit))
        .around(move |next, req| observe::time_limit(next, req, timeout))
        .data(state)
        // One box mid-chain keeps the endpoint's type shallow enough for hosts that nest it further
        // (the Lambda adapter's futures overflowed the compiler's query depth without it).
        .boxed()
        .catch_all_error(problem::catch_all)
        .around(allow::header)
        .with_if(cors.is_some(), cors.unwrap_or_default())
        .around(observe::security_headers)
        .around(auth::caching::no_store_when_authenticated)
        .around(move |next, req| observe::observe(next, req, trust_prefix))
}

/// Opens the database pool the way the local server and tests want it.
///
/// # Errors
/// When the database cannot be reached.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Ping a pooled connection only when it sat idle: a ping on every acquire doubles the round trips of
    // a request that runs several queries.
    options.sqlx_logging(false).test_before_acquire_if_idle_for(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // One writer at a time is what SQLite does anyway; one connection avoids SQLITE_BUSY upgrades.
        options.max_connections(1);
    }
    Database::connect(options).await
}
