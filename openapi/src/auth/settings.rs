//! How tokens are checked, from the environment: `LIBRIS_AUTH` and its companions.

use ::settings::{ConfigError, Env};

/// The default names that grant the two roles. Scopes follow Cognito's resource-server form
/// (`<identifier>/<scope>`); groups are Cognito user-pool groups (the `cognito:groups` claim).
pub const LIBRARIAN_SCOPE: &str = "libris/librarian";
pub const BORROWER_SCOPE: &str = "libris/borrower";
pub const LIBRARIAN_GROUP: &str = "librarians";
pub const BORROWER_GROUP: &str = "borrowers";

/// Where tokens come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Tokens of an OpenID Connect issuer (an Amazon Cognito user pool, say), checked against its JWKS.
    Jwt { issuer: String, audience: String, jwks_url: String },
    /// Local development only: the server signs its own tokens with a key made at start-up and hands them
    /// out at `/auth/dev-token`. Anyone who can reach the server can be a librarian, so it is never implied.
    Dev,
}

/// The scope or group names that make a token a librarian's or a borrower's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleNames {
    pub librarian_scope: String,
    pub borrower_scope: String,
    pub librarian_group: String,
    pub borrower_group: String,
}

impl Default for RoleNames {
    fn default() -> Self {
        Self {
            librarian_scope: LIBRARIAN_SCOPE.to_owned(),
            borrower_scope: BORROWER_SCOPE.to_owned(),
            librarian_group: LIBRARIAN_GROUP.to_owned(),
            borrower_group: BORROWER_GROUP.to_owned(),
        }
    }
}

/// Which tokens may say what. Cognito grants scopes per app client, not per user: any user signing in
/// through a client that may ask for a scope gets it. So a user's roles come from their groups only, and
/// scopes count only in machine (client-credentials) tokens of clients listed here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenRules {
    /// `LIBRIS_AUTH_MACHINE_CLIENTS`: the app client ids whose client-credentials tokens may carry the
    /// role scopes. Their tokens are also accepted as meant for this API.
    pub machine_clients: Vec<String>,
    /// `LIBRIS_AUTH_ALLOW_ID_TOKENS`: accept ID tokens (`token_use: id`) besides access tokens.
    pub allow_id_tokens: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub roles: RoleNames,
    pub tokens: TokenRules,
}

impl AuthSettings {
    /// Reads `LIBRIS_AUTH` (`jwt` or `dev`, required), and for `jwt` `LIBRIS_AUTH_ISSUER`,
    /// `LIBRIS_AUTH_AUDIENCE` (the app client id for Cognito) and optionally `LIBRIS_AUTH_JWKS_URL` (default:
    /// the issuer's `/.well-known/jwks.json`); the role names from `LIBRIS_AUTH_LIBRARIAN_SCOPE`,
    /// `LIBRIS_AUTH_BORROWER_SCOPE`, `LIBRIS_AUTH_LIBRARIAN_GROUP`, `LIBRIS_AUTH_BORROWER_GROUP`; which tokens
    /// count from `LIBRIS_AUTH_MACHINE_CLIENTS` (comma-separated client ids) and
    /// `LIBRIS_AUTH_ALLOW_ID_TOKENS` (`false`).
    ///
    /// # Errors
    /// A missing or invalid setting, named.
    pub fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| env.required(name, "must be set when LIBRIS_AUTH=jwt");
        let mode = match env.var("LIBRIS_AUTH").as_deref() {
            Some("jwt") => {
                let issuer = required("LIBRIS_AUTH_ISSUER")?.trim_end_matches('/').to_owned();
                let audience = required("LIBRIS_AUTH_AUDIENCE")?;
                let jwks_url = env
                    .var("LIBRIS_AUTH_JWKS_URL")
                    .unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
                check_jwks_url(&jwks_url).map_err(|why| ConfigError::new("LIBRIS_AUTH_JWKS_URL", why))?;
                AuthMode::Jwt { issuer, audience, jwks_url }
            }
            Some("dev") => AuthMode::Dev,
            Some(_) => return Err(ConfigError::new("LIBRIS_AUTH", "must be `jwt` or `dev`")),
            None => {
                return Err(ConfigError::new(
                    "LIBRIS_AUTH",
                    "not set: use `jwt` (with LIBRIS_AUTH_ISSUER and LIBRIS_AUTH_AUDIENCE) in production, \
                     or `dev` on your own machine (tokens from /auth/dev-token)",
                ));
            }
        };
        let defaults = RoleNames::default();
        let roles = RoleNames {
            librarian_scope: env.var("LIBRIS_AUTH_LIBRARIAN_SCOPE").unwrap_or(defaults.librarian_scope),
            borrower_scope: env.var("LIBRIS_AUTH_BORROWER_SCOPE").unwrap_or(defaults.borrower_scope),
            librarian_group: env.var("LIBRIS_AUTH_LIBRARIAN_GROUP").unwrap_or(defaults.librarian_group),
            borrower_group: env.var("LIBRIS_AUTH_BORROWER_GROUP").unwrap_or(defaults.borrower_group),
        };
        let tokens = TokenRules {
            machine_clients: env
                .var("LIBRIS_AUTH_MACHINE_CLIENTS")
                .map(|list| {
                    list.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect()
                })
                .unwrap_or_default(),
            allow_id_tokens: env.parsed("LIBRIS_AUTH_ALLOW_ID_TOKENS", false)?,
        };
        Ok(Self { mode, roles, tokens })
    }
}

/// Keys fetched over plain HTTP could be swapped by anyone on the path; only loopback (tests, local
/// emulators) is exempt. Decided on the host as a URL parser sees it, the one the client will connect
/// to: `http://localhost:@evil.example/` starts like a loopback URL but names `evil.example`. User info
/// has no place in a key URL and is refused outright.
fn check_jwks_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|error| format!("{raw:?} is not a URL: {error}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err("must name a host".to_owned()),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("must be an https:// URL (http:// only for a loopback address)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<AuthSettings, ConfigError> {
        let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        let lookup = |name: &str| map.get(name).map(|v| (*v).to_owned());
        AuthSettings::read(&Env::new(&lookup))
    }

    #[test]
    fn auth_must_be_chosen_explicitly() {
        assert_eq!(settings(&[]).unwrap_err().name, "LIBRIS_AUTH");
        assert_eq!(settings(&[("LIBRIS_AUTH", "off")]).unwrap_err().name, "LIBRIS_AUTH");
        assert_eq!(settings(&[("LIBRIS_AUTH", "dev")]).unwrap().mode, AuthMode::Dev);
    }

    #[test]
    fn jwt_mode_names_what_is_missing_and_derives_the_jwks_url() {
        assert_eq!(settings(&[("LIBRIS_AUTH", "jwt")]).unwrap_err().name, "LIBRIS_AUTH_ISSUER");
        let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/";
        let missing_audience = settings(&[("LIBRIS_AUTH", "jwt"), ("LIBRIS_AUTH_ISSUER", issuer)]);
        assert_eq!(missing_audience.unwrap_err().name, "LIBRIS_AUTH_AUDIENCE");
        let ok = settings(&[
            ("LIBRIS_AUTH", "jwt"),
            ("LIBRIS_AUTH_ISSUER", issuer),
            ("LIBRIS_AUTH_AUDIENCE", "client"),
        ]);
        assert_eq!(
            ok.unwrap().mode,
            AuthMode::Jwt {
                issuer: issuer.trim_end_matches('/').to_owned(),
                audience: "client".to_owned(),
                jwks_url: format!("{}.well-known/jwks.json", issuer),
            }
        );
    }

    #[test]
    fn keys_are_never_fetched_over_plain_http_from_another_host() {
        let with_url = |url: &str| {
            settings(&[
                ("LIBRIS_AUTH", "jwt"),
                ("LIBRIS_AUTH_ISSUER", "https://issuer.example"),
                ("LIBRIS_AUTH_AUDIENCE", "client"),
                ("LIBRIS_AUTH_JWKS_URL", url),
            ])
        };
        assert_eq!(with_url("http://issuer.example/jwks.json").unwrap_err().name, "LIBRIS_AUTH_JWKS_URL");
        assert_eq!(with_url("http://127.0.0.1.evil.example/jwks").unwrap_err().name, "LIBRIS_AUTH_JWKS_URL");
        assert!(with_url("http://127.0.0.1:9000/pool/.well-known/jwks.json").is_ok());
    }

    #[test]
    fn the_loopback_exception_is_decided_on_the_parsed_host() {
        let with_url = |url: &str| {
            settings(&[
                ("LIBRIS_AUTH", "jwt"),
                ("LIBRIS_AUTH_ISSUER", "https://issuer.example"),
                ("LIBRIS_AUTH_AUDIENCE", "client"),
                ("LIBRIS_AUTH_JWKS_URL", url),
            ])
            .map(|_| ())
            .map_err(|error| error.name)
        };
        for refused in [
            "http://localhost:@evil.example/jwks.json",
            "http://127.0.0.1:80@evil.example/jwks.json",
            "http://[::1]@evil.example/jwks.json",
            "http://localhost.evil.example/jwks.json",
            "https://user:pass@issuer.example/jwks.json",
            "ftp://127.0.0.1/jwks.json",
            "file:///etc/jwks.json",
            "127.0.0.1:9000/jwks.json",
        ] {
            assert_eq!(with_url(refused), Err("LIBRIS_AUTH_JWKS_URL"), "{refused}");
        }
        for accepted in [
            "http://localhost/jwks.json",
            "http://LOCALHOST:9000/jwks.json",
            "http://127.0.0.2:9000/jwks.json",
            "http://[::1]:9000/jwks.json",
            "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json",
        ] {
            assert_eq!(with_url(accepted), Ok(()), "{accepted}");
        }
    }

    #[test]
    fn scopes_count_only_for_listed_machine_clients_and_id_tokens_only_when_allowed() {
        let dev = settings(&[("LIBRIS_AUTH", "dev")]).unwrap();
        assert_eq!(dev.tokens, TokenRules::default());
        let listed = settings(&[
            ("LIBRIS_AUTH", "dev"),
            ("LIBRIS_AUTH_MACHINE_CLIENTS", " batch-importer , ,overdue-notifier"),
            ("LIBRIS_AUTH_ALLOW_ID_TOKENS", "true"),
        ])
        .unwrap();
        assert_eq!(listed.tokens.machine_clients, ["batch-importer", "overdue-notifier"]);
        assert!(listed.tokens.allow_id_tokens);
        let bad = settings(&[("LIBRIS_AUTH", "dev"), ("LIBRIS_AUTH_ALLOW_ID_TOKENS", "sometimes")]);
        assert_eq!(bad.unwrap_err().name, "LIBRIS_AUTH_ALLOW_ID_TOKENS");
    }

    #[test]
    fn role_names_default_to_the_cognito_shapes_and_can_be_renamed() {
        assert_eq!(settings(&[("LIBRIS_AUTH", "dev")]).unwrap().roles, RoleNames::default());
        let renamed = settings(&[("LIBRIS_AUTH", "dev"), ("LIBRIS_AUTH_LIBRARIAN_GROUP", "staff")]).unwrap();
        assert_eq!(renamed.roles.librarian_group, "staff");
    }
}
