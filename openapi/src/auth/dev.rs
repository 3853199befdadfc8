//! Dev mode's token issuer: a P-256 key made at start-up signs ES256 tokens for whoever asks at
//! `/auth/dev-token`, so Swagger UI can be used end to end on a laptop. The key lives only in memory:
//! restarting the server invalidates every dev token, and nothing secret is ever written to disk.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;

use super::keys::{Key, KeySource};
use super::settings::RoleNames;

/// Dev tokens' issuer and audience, which no real identity provider uses.
pub const DEV_ISSUER: &str = "libris-dev";
pub const DEV_AUDIENCE: &str = "libris-dev";
/// Long enough for a working day in Swagger UI.
pub const DEV_TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Which role a dev token carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevRole {
    Librarian,
    Borrower,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot make the dev signing key: {0}")]
pub struct DevKeyError(String);

pub struct DevIssuer {
    key: EncodingKey,
    kid: String,
    roles: RoleNames,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A person's access token, shaped like Cognito's: the role is a group, since scopes in a person's token
/// grant nothing (see `crate::auth`).
#[derive(Serialize)]
struct DevClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    username: &'a str,
    #[serde(rename = "cognito:groups")]
    groups: [&'a str; 1],
    token_use: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
}

impl DevIssuer {
    /// A fresh key, and the key source that verifies its tokens.
    pub(crate) fn generate(roles: RoleNames) -> Result<(Self, KeySource), DevKeyError> {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|e| DevKeyError(e.to_string()))?;
        let key = EncodingKey::from_ec_der(pkcs8.as_ref());
        let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).map_err(|e| DevKeyError(e.to_string()))?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| DevKeyError(e.to_string()))?;
        let kid = format!(
            "libris-dev-{}",
            &jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .map_err(|e| DevKeyError(e.to_string()))?[..12]
        );
        let keys = HashMap::from([(kid.clone(), Key { decoding, algorithm: Algorithm::ES256 })]);
        Ok((Self { key, kid, roles }, KeySource::Fixed(Arc::new(keys))))
    }

    /// A signed token for `subject`, in the role's group, valid for `lifetime`.
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn issue(
        &self,
        role: DevRole,
        subject: &str,
        lifetime: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let group = match role {
            DevRole::Librarian => &self.roles.librarian_group,
            DevRole::Borrower => &self.roles.borrower_group,
        };
        let claims = DevClaims {
            iss: DEV_ISSUER,
            aud: DEV_AUDIENCE,
            sub: subject,
            username: subject,
            groups: [group],
            token_use: "access",
            iat: now,
            nbf: now,
            exp: now + lifetime.as_secs(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}
