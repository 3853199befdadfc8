//! Who is calling: bearer JWTs (RS256/ES256) checked against the issuer's published keys, with issuer,
//! audience, expiry and not-before enforced, and the caller's roles read from its groups (people) or
//! scopes (listed machine clients).
//!
//! Works with Amazon Cognito user-pool tokens: access tokens carry the app client in `client_id` (they have
//! no `aud`), scopes in `scope`, groups in `cognito:groups` and `token_use: access`; ID tokens carry the
//! client in `aud` and `token_use: id`, and are refused unless allowed ([`TokenRules`]).
//!
//! Roles. Cognito grants scopes to an app client, and every user who signs in through that client may ask
//! for them: a scope in a user's token says what the client may ask for, not who the user is. So a person's
//! roles come from their groups only. A scope counts only in a client-credentials token (a machine's:
//! `sub` is the client id and there is no `username`) of a client on the allow-list. What each role may do
//! is decided by the operations (`crate::api::access`), not here.

pub(crate) mod caching;
mod dev;
pub(crate) mod endpoint;
mod keys;
mod settings;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;

pub use self::settings::{AuthMode, AuthSettings, RoleNames, TokenRules};
pub use dev::{DEV_AUDIENCE, DEV_ISSUER, DEV_TOKEN_LIFETIME, DevIssuer, DevKeyError, DevRole};
use keys::{Jwks, KeySource};
pub use keys::{KeyPolicy, MAX_JWKS_BYTES};

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// Why a request is not authenticated or not allowed. The texts are for the client: they say what is wrong
/// with the token without echoing it.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is signed with {0:?}; only RS256 and ES256 are accepted")]
    Algorithm(Algorithm),
    #[error("the token's signing key is not one of the issuer's")]
    UnknownKey,
    #[error("the token is {0}")]
    Rejected(&'static str),
    #[error("the token is not meant for this API")]
    Audience,
    /// The issuer's keys cannot be fetched: the token may be fine, so this is a 503, not a 401, and no
    /// fetch is made again before `retry_in` (the back-off), which the answer's `Retry-After` says.
    #[error("the token issuer's keys cannot be fetched: {reason}; next attempt in {} s", retry_after_secs(*retry_in))]
    KeysUnavailable { reason: String, retry_in: Duration },
}

/// A wait as `Retry-After` gives it: whole seconds, rounded up, and at least one (a client told to retry
/// after 0 s would ask again at once).
pub(crate) fn retry_after_secs(wait: Duration) -> u32 {
    let secs = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0));
    u32::try_from(secs).unwrap_or(u32::MAX).max(1)
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`: a borrower record may be linked to it.
    pub subject: String,
    pub librarian: bool,
    pub borrower: bool,
    /// The scope a librarian-only operation asks for, for the 403's `WWW-Authenticate`.
    pub librarian_scope: String,
}

/// Checks tokens. Cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    issuer: String,
    audience: String,
    keys: KeySource,
    roles: RoleNames,
    tokens: TokenRules,
    dev: Option<DevIssuer>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("issuer", &self.0.issuer)
            .field("audience", &self.0.audience)
            .field("dev", &self.0.dev.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    aud: Value,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Value,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
    #[serde(default)]
    token_use: Option<String>,
    /// Present in every token of a person (Cognito access tokens); absent in client-credentials ones.
    #[serde(default)]
    username: Option<String>,
}

/// A claim that may be one string or an array of strings.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl Auth {
    /// From the settings; dev mode makes its key here.
    ///
    /// # Errors
    /// Only if dev mode cannot make its key.
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, DevKeyError> {
        match &settings.mode {
            AuthMode::Jwt { issuer, audience, jwks_url } => Ok(Self::jwt(
                issuer,
                audience,
                jwks_url,
                settings.roles.clone(),
                settings.tokens.clone(),
                KeyPolicy::default(),
            )),
            AuthMode::Dev => Self::dev(settings.roles.clone()),
        }
    }

    /// Tokens of `issuer` for `audience`, verified with the keys at `jwks_url` (fetched as `keys` allows).
    #[must_use]
    pub fn jwt(
        issuer: &str,
        audience: &str,
        jwks_url: &str,
        roles: RoleNames,
        tokens: TokenRules,
        keys: KeyPolicy,
    ) -> Self {
        Self(Arc::new(Inner {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            keys: KeySource::Jwks(Arc::new(Jwks::new(jwks_url.to_owned(), keys))),
            roles,
            tokens,
            dev: None,
        }))
    }

    /// Dev mode: a fresh signing key, and tokens from [`Auth::dev_issuer`].
    ///
    /// # Errors
    /// If the key cannot be made.
    pub fn dev(roles: RoleNames) -> Result<Self, DevKeyError> {
        let (issuer, keys) = DevIssuer::generate(roles.clone())?;
        Ok(Self(Arc::new(Inner {
            issuer: DEV_ISSUER.to_owned(),
            audience: DEV_AUDIENCE.to_owned(),
            keys,
            roles,
            tokens: TokenRules::default(),
            dev: Some(issuer),
        })))
    }

    /// The dev token issuer, in dev mode only.
    #[must_use]
    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.0.dev.as_ref()
    }

    /// Verifies a bearer token and says who it belongs to.
    ///
    /// # Errors
    /// Every way a token can be wrong; `KeysUnavailable` when the issuer cannot be asked.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(AuthError::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let key = self.0.keys.key(&kid).await?;
        if key.algorithm != header.alg {
            return Err(AuthError::Rejected("signed with an algorithm its key is not for"));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.0.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.validate_aud = false; // checked below: Cognito access tokens name the client in `client_id`
        validation.leeway = LEEWAY_SECONDS;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|error| AuthError::Rejected(rejection(error.kind())))?
            .claims;
        let rules = &self.0.tokens;
        match claims.token_use.as_deref() {
            Some("access") => {}
            Some("id") if rules.allow_id_tokens => {}
            Some("id") => return Err(AuthError::Rejected("an ID token; send the access token")),
            _ => return Err(AuthError::Rejected("not an access token (token_use)")),
        }
        let audiences = strings(&claims.aud);
        let machine_client =
            claims.client_id.as_deref().filter(|id| rules.machine_clients.iter().any(|c| c == id));
        let for_us = if audiences.is_empty() {
            claims.client_id.as_deref() == Some(self.0.audience.as_str()) || machine_client.is_some()
        } else {
            audiences.contains(&self.0.audience.as_str())
        };
        if !for_us {
            return Err(AuthError::Audience);
        }
        // A client-credentials token: the client is its own subject, and no person signed in.
        let machine = claims.token_use.as_deref() == Some("access")
            && claims.username.is_none()
            && machine_client.is_some_and(|client| client == claims.sub);
        let mut granted = BTreeSet::new();
        if machine {
            granted.extend(claims.scope.as_deref().unwrap_or("").split_whitespace());
            granted.extend(strings(&claims.scp));
        }
        let groups: BTreeSet<&str> = claims.groups.iter().map(String::as_str).collect();
        let roles = &self.0.roles;
        Ok(Principal {
            librarian: granted.contains(roles.librarian_scope.as_str())
                || groups.contains(roles.librarian_group.as_str()),
            borrower: granted.contains(roles.borrower_scope.as_str())
                || groups.contains(roles.borrower_group.as_str()),
            librarian_scope: roles.librarian_scope.clone(),
            subject: claims.sub,
        })
    }
}

/// What is wrong with a well-formed token, in words a client can act on.
fn rejection(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet",
        ErrorKind::InvalidIssuer => "from another issuer",
        ErrorKind::InvalidSignature => "not signed by the issuer",
        ErrorKind::MissingRequiredClaim(_) => "missing a required claim (exp, iss or sub)",
        _ => "invalid",
    }
}

#[cfg(test)]
mod retry_after_tests {
    use super::*;

    #[test]
    fn a_wait_is_given_in_whole_seconds_rounded_up_and_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_secs(10)), 10);
        assert_eq!(retry_after_secs(Duration::from_millis(9_001)), 10);
        assert_eq!(retry_after_secs(Duration::from_millis(300)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::MAX), u32::MAX);
    }
}
