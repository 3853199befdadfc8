//! The local server's configuration and the app settings every host shares, read from the environment
//! through the one reader (`settings::Env`).

use service::{LoanLimits, LoanPolicy, PolicyError};
use settings::{ConfigError, Env, SecretUrl};

use crate::AppState;
use crate::auth::{AuthMode, AuthSettings};

/// The local server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub database_url: SecretUrl,
    /// Load the demo library into an empty database at start-up.
    pub demo_data: bool,
    pub app: AppSettings,
    pub auth: AuthSettings,
}

/// What the app itself is told, wherever it is hosted (the local server and the Lambda read the same).
#[derive(Clone, Debug)]
pub struct AppSettings {
    pub policy: LoanPolicy,
    pub max_body_bytes: usize,
    pub request_timeout: std::time::Duration,
    pub cors_origins: Vec<String>,
    pub require_if_match: bool,
    pub idempotency_ttl: std::time::Duration,
    /// Whether `X-Forwarded-Prefix` comes from a proxy that sets it, rather than from the client.
    pub trust_forwarded_prefix: bool,
}

/// Where the embedded database lives unless `DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://libris.db?mode=rwc";

/// The lending rules' variables.
const MAX_ACTIVE_LOANS: &str = "LIBRIS_MAX_ACTIVE_LOANS";
const LOAN_PERIOD_DAYS: &str = "LIBRIS_LOAN_PERIOD_DAYS";
const MAX_LOAN_PERIOD_DAYS: &str = "LIBRIS_MAX_LOAN_PERIOD_DAYS";
const MAX_RENEWALS: &str = "LIBRIS_MAX_RENEWALS";

impl Config {
    /// Reads `HOST`, `PORT`, `DATABASE_URL`, `LIBRIS_DEMO_DATA`, the app settings ([`AppSettings::read`])
    /// and the `LIBRIS_AUTH*` settings ([`AuthSettings::read`]).
    ///
    /// # Errors
    /// A variable that is missing or invalid, named.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&Env::process())
    }

    /// The same, from any lookup (tests use a map).
    ///
    /// # Errors
    /// A variable that is missing or invalid, named.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Env::new(&lookup))
    }

    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let config = Self {
            host: env.var("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port: env.parsed("PORT", 3000)?,
            database_url: SecretUrl::new(
                env.var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            ),
            demo_data: env.parsed("LIBRIS_DEMO_DATA", true)?,
            app: AppSettings::read(env)?,
            auth: AuthSettings::read(env)?,
        };
        let remote_dev_allowed = env.parsed(DEV_ALLOW_REMOTE, false)?;
        if config.auth.mode == AuthMode::Dev && !remote_dev_allowed && !is_loopback(&config.host) {
            return Err(ConfigError::new(
                "HOST",
                format!(
                    "{:?} is reachable from other machines, and LIBRIS_AUTH=dev hands a librarian token to \
                     anyone who asks: listen on 127.0.0.1 or ::1, or set {DEV_ALLOW_REMOTE}=true if that \
                     network is yours alone",
                    config.host
                ),
            ));
        }
        Ok(config)
    }
}

/// Lets dev mode listen on a non-loopback address (a container's published port, say).
const DEV_ALLOW_REMOTE: &str = "LIBRIS_DEV_ALLOW_REMOTE";

/// Whether `host` names only this machine: `localhost` or a loopback address (`127.0.0.0/8`, `::1`).
/// `0.0.0.0`, `::` and any other address or name may be reachable from a network.
fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl AppSettings {
    /// Reads `LIBRIS_MAX_ACTIVE_LOANS`, `LIBRIS_LOAN_PERIOD_DAYS`, `LIBRIS_MAX_LOAN_PERIOD_DAYS`,
    /// `LIBRIS_MAX_RENEWALS` (the loan policy, refused unless it is a usable one), `LIBRIS_MAX_BODY_BYTES`,
    /// `LIBRIS_REQUEST_TIMEOUT_MS`, `LIBRIS_CORS_ORIGINS`, `LIBRIS_REQUIRE_IF_MATCH`,
    /// `LIBRIS_IDEMPOTENCY_TTL_SECS` (at least 1), `LIBRIS_TRUST_FORWARDED_PREFIX` (only behind a proxy that
    /// replaces the client's header).
    ///
    /// # Errors
    /// A variable that is set but invalid, named.
    pub fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let defaults = LoanLimits::default();
        let limits = LoanLimits {
            max_active_loans: env.parsed(MAX_ACTIVE_LOANS, defaults.max_active_loans)?,
            default_period_days: env.parsed(LOAN_PERIOD_DAYS, defaults.default_period_days)?,
            max_period_days: env.parsed(MAX_LOAN_PERIOD_DAYS, defaults.max_period_days)?,
            max_renewals: env.parsed(MAX_RENEWALS, defaults.max_renewals)?,
        };
        Ok(Self {
            policy: LoanPolicy::new(limits).map_err(policy_error)?,
            max_body_bytes: env.parsed("LIBRIS_MAX_BODY_BYTES", AppState::DEFAULT_MAX_BODY_BYTES)?,
            request_timeout: env.millis("LIBRIS_REQUEST_TIMEOUT_MS", AppState::DEFAULT_REQUEST_TIMEOUT)?,
            cors_origins: cors_origins(env.var("LIBRIS_CORS_ORIGINS"))?,
            require_if_match: env.parsed("LIBRIS_REQUIRE_IF_MATCH", false)?,
            idempotency_ttl: idempotency_ttl(env)?,
            trust_forwarded_prefix: env.parsed("LIBRIS_TRUST_FORWARDED_PREFIX", false)?,
        })
    }
}

/// The variable behind each way the limits can be unusable.
fn policy_error(error: PolicyError) -> ConfigError {
    match error {
        PolicyError::NoActiveLoans => ConfigError::new(MAX_ACTIVE_LOANS, error.to_string()),
        PolicyError::MaxPeriod => ConfigError::new(MAX_LOAN_PERIOD_DAYS, error.to_string()),
        PolicyError::DefaultPeriod { max_period_days } => ConfigError::new(
            LOAN_PERIOD_DAYS,
            format!("must be from 1 to {MAX_LOAN_PERIOD_DAYS} ({max_period_days})"),
        ),
    }
}

/// `LIBRIS_IDEMPOTENCY_TTL_SECS`: whole seconds, at least one (a key kept for no time protects nothing).
fn idempotency_ttl(env: &Env<'_>) -> Result<std::time::Duration, ConfigError> {
    const NAME: &str = "LIBRIS_IDEMPOTENCY_TTL_SECS";
    match env.parsed(NAME, AppState::DEFAULT_IDEMPOTENCY_TTL.as_secs())? {
        0 => Err(ConfigError::new(NAME, "must be at least 1 second")),
        secs => Ok(std::time::Duration::from_secs(secs)),
    }
}

/// `LIBRIS_CORS_ORIGINS`: a comma-separated list of exact origins such as `https://app.example.org`.
fn cors_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let origins: Vec<String> =
        raw.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
    match origins
        .iter()
        .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/'))
    {
        Some(bad) => Err(ConfigError::new(
            "LIBRIS_CORS_ORIGINS",
            format!("{bad:?} is not an origin like https://app.example.org"),
        )),
        None => Ok(origins),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        map.entry("LIBRIS_AUTH".to_owned()).or_insert_with(|| "dev".to_owned());
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_the_embedded_database_on_localhost() {
        let config = config(&[]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 3000));
        assert_eq!(settings::ExposeSecret::expose_secret(&config.database_url), DEFAULT_DATABASE_URL);
        assert!(config.demo_data);
        assert_eq!(config.app.policy, LoanPolicy::default());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let error = config(&[("PORT", "eighty")]).unwrap_err();
        assert_eq!(error.name, "PORT");
        assert_eq!(config(&[("LIBRIS_LOAN_PERIOD_DAYS", "90")]).unwrap_err().name, "LIBRIS_LOAN_PERIOD_DAYS");
        assert_eq!(config(&[("LIBRIS_CORS_ORIGINS", "*")]).unwrap_err().name, "LIBRIS_CORS_ORIGINS");
    }

    #[test]
    fn a_loan_policy_that_refuses_every_check_out_is_a_configuration_error() {
        let error = config(&[("LIBRIS_MAX_ACTIVE_LOANS", "0")]).unwrap_err();
        assert_eq!(error.name, "LIBRIS_MAX_ACTIVE_LOANS", "{error}");
        assert_eq!(
            config(&[("LIBRIS_MAX_LOAN_PERIOD_DAYS", "0")]).unwrap_err().name,
            "LIBRIS_MAX_LOAN_PERIOD_DAYS"
        );
        assert_eq!(config(&[("LIBRIS_LOAN_PERIOD_DAYS", "0")]).unwrap_err().name, "LIBRIS_LOAN_PERIOD_DAYS");
        assert_eq!(config(&[("LIBRIS_MAX_RENEWALS", "-1")]).unwrap_err().name, "LIBRIS_MAX_RENEWALS");
        let tight = config(&[("LIBRIS_MAX_ACTIVE_LOANS", " 1 "), ("LIBRIS_MAX_RENEWALS", "0")]).unwrap();
        assert_eq!((tight.app.policy.max_active_loans(), tight.app.policy.max_renewals()), (1, 0));
    }

    #[test]
    fn retries_and_preconditions_have_safe_defaults_and_named_errors() {
        let defaults = config(&[]).unwrap().app;
        assert!(!defaults.require_if_match);
        assert_eq!(defaults.idempotency_ttl, std::time::Duration::from_secs(86_400));
        let set =
            config(&[("LIBRIS_REQUIRE_IF_MATCH", "true"), ("LIBRIS_IDEMPOTENCY_TTL_SECS", "60")]).unwrap();
        assert!(set.app.require_if_match);
        assert_eq!(set.app.idempotency_ttl, std::time::Duration::from_secs(60));
        assert_eq!(
            config(&[("LIBRIS_IDEMPOTENCY_TTL_SECS", "0")]).unwrap_err().name,
            "LIBRIS_IDEMPOTENCY_TTL_SECS"
        );
        assert_eq!(
            config(&[("LIBRIS_REQUIRE_IF_MATCH", "maybe")]).unwrap_err().name,
            "LIBRIS_REQUIRE_IF_MATCH"
        );
    }

    #[test]
    fn a_forwarded_prefix_is_trusted_only_when_told() {
        assert!(!config(&[]).unwrap().app.trust_forwarded_prefix);
        assert!(config(&[("LIBRIS_TRUST_FORWARDED_PREFIX", "true")]).unwrap().app.trust_forwarded_prefix);
        assert_eq!(
            config(&[("LIBRIS_TRUST_FORWARDED_PREFIX", "yes")]).unwrap_err().name,
            "LIBRIS_TRUST_FORWARDED_PREFIX"
        );
    }

    #[test]
    fn cors_is_off_unless_origins_are_listed() {
        assert!(config(&[]).unwrap().app.cors_origins.is_empty());
        let listed = config(&[("LIBRIS_CORS_ORIGINS", "https://a.example, http://localhost:5173")]).unwrap();
        assert_eq!(listed.app.cors_origins, ["https://a.example", "http://localhost:5173"]);
    }

    #[test]
    fn dev_mode_listens_on_loopback_unless_told_otherwise() {
        for loopback in ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"] {
            assert!(config(&[("HOST", loopback)]).is_ok(), "{loopback}");
        }
        for reachable in ["0.0.0.0", "::", "192.168.1.20", "example.org", "localhost.example.org"] {
            assert_eq!(config(&[("HOST", reachable)]).unwrap_err().name, "HOST", "{reachable}");
        }
        let allowed = config(&[("HOST", "0.0.0.0"), ("LIBRIS_DEV_ALLOW_REMOTE", "true")]).unwrap();
        assert_eq!(allowed.host, "0.0.0.0");
        assert_eq!(
            config(&[("LIBRIS_DEV_ALLOW_REMOTE", "yes")]).unwrap_err().name,
            "LIBRIS_DEV_ALLOW_REMOTE"
        );
        let jwt = config(&[
            ("HOST", "0.0.0.0"),
            ("LIBRIS_AUTH", "jwt"),
            ("LIBRIS_AUTH_ISSUER", "https://issuer.example"),
            ("LIBRIS_AUTH_AUDIENCE", "client"),
        ]);
        assert_eq!(jwt.unwrap().host, "0.0.0.0", "with real tokens any address is fine");
    }

    #[test]
    fn database_passwords_never_reach_debug_output() {
        let config = config(&[("DATABASE_URL", "postgres://libris:hunter2@db:5432/libris")]).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("@db:5432/libris"));
    }
}
