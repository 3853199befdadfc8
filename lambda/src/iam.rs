//! IAM authentication to RDS Proxy (`DB_IAM_AUTH=true`): the password is a short-lived auth token, a
//! SigV4-presigned `connect` request for the database user, signed with the function's own credentials.
//! No password exists to leak or rotate; the role's `rds-db:connect` grant is the whole permission.
//!
//! Signed with the AWS SDK's `aws-sigv4`, never by hand, and checked byte for byte against botocore's
//! `generate_db_auth_token` (the tests below).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;

use settings::SecretString;

/// How long RDS accepts a token: 15 minutes, the most it allows. Only the login needs a valid token; a
/// connection opened with it outlives it.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The service name IAM database authentication signs for.
const SIGNING_NAME: &str = "rds-db";

/// Why no token can be signed, with the SDK's error as the source.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no AWS credentials provider is configured (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …)")]
    NoCredentialsProvider,
    #[error("cannot get AWS credentials to sign the RDS auth token")]
    Credentials(#[source] CredentialsError),
    /// `aws-sigv4` refused the inputs: its parameter builder and its signer have an error type each.
    #[error("cannot sign the RDS auth token")]
    Signing(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where a token logs in, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub region: String,
}

/// The token for `target`, signed at `time` and valid for [`TOKEN_LIFETIME`] from then.
///
/// The shape is botocore's: `host:port/?Action=connect&DBUser=…&X-Amz-…&X-Amz-Signature=…`, the signature
/// last (`aws-sigv4` returns it before the session token; RDS reads the parameters in any order, but the
/// same order lets the tests compare whole strings).
///
/// # Errors
/// When `aws-sigv4` refuses the inputs (an invalid host, for instance).
pub fn auth_token(
    target: &TokenTarget,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<SecretString, TokenError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| TokenError::Signing(e);
    let resource = format!("{}:{}/?Action=connect&DBUser={}", target.host, target.port, encode(&target.user));
    let url = format!("https://{resource}");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&target.region)
        .name(SIGNING_NAME)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| failed(e.into()))?
        .into();
    // The canonical request hashes an empty body, not `UNSIGNED-PAYLOAD`: botocore does so for RDS tokens.
    let request = SignableRequest::new("GET", url.as_str(), std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| failed(e.into()))?;
    let (instructions, _signature) = sign(request, &params).map_err(|e| failed(e.into()))?.into_parts();
    let (_headers, query) = instructions.into_parts();
    let (signature, rest): (Vec<_>, Vec<_>) =
        query.into_iter().partition(|(name, _)| *name == "X-Amz-Signature");
    let mut token = resource;
    for (name, value) in rest.into_iter().chain(signature) {
        token.push('&');
        token.push_str(name);
        token.push('=');
        token.push_str(&encode(&value));
    }
    Ok(SecretString::from(token))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as SigV4 and botocore do.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The time a token is signed at; the tests move it.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Signs tokens for one target with the credentials of a provider (the default chain in Lambda: the
/// role's keys in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`).
#[derive(Clone)]
pub struct TokenSource {
    target: TokenTarget,
    credentials: SharedCredentialsProvider,
    clock: Clock,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource").field("target", &self.target).finish_non_exhaustive()
    }
}

impl TokenSource {
    #[must_use]
    pub fn new(target: TokenTarget, credentials: SharedCredentialsProvider, clock: Clock) -> Self {
        Self { target, credentials, clock }
    }

    /// Now, by this source's clock.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// A new token and the time it was signed at. Local work only (an HMAC chain), unless the credentials
    /// provider has to fetch credentials; in Lambda they are in the environment.
    ///
    /// # Errors
    /// When no credentials can be had, or signing fails.
    pub async fn token(&self) -> Result<(SecretString, SystemTime), TokenError> {
        let credentials = self.credentials.provide_credentials().await.map_err(TokenError::Credentials)?;
        let now = self.now();
        Ok((auth_token(&self.target, &credentials, now)?, now))
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use settings::ExposeSecret;

    use super::*;

    const HOST: &str = "libris.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com";
    const ACCESS_KEY: &str = "AKIDEXAMPLE";
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/session+token==";

    /// 2024-05-06T07:08:09Z
    fn signed_at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_979_289)
    }

    fn target(user: &str) -> TokenTarget {
        TokenTarget {
            host: HOST.to_owned(),
            port: 5432,
            user: user.to_owned(),
            region: "eu-west-1".to_owned(),
        }
    }

    // The expected tokens are botocore 1.44.8's (from `moto[server]==5.2.5` in
    // tools/requirements/lambda.txt), made with the same inputs and botocore's clock frozen at
    // 2024-05-06T07:08:09Z:
    //
    //   import datetime, botocore.auth, botocore.session
    //   botocore.auth.get_current_datetime = lambda *a, **k: datetime.datetime(2024, 5, 6, 7, 8, 9)
    //   s = botocore.session.get_session()
    //   s.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session_token)
    //   s.create_client("rds", region_name="eu-west-1").generate_db_auth_token(HOST, 5432, user)
    //
    // with (user, session_token) = ("libris_app", SESSION_TOKEN) and ("app user@x", None).

    #[test]
    fn a_token_with_a_session_token_is_botocores() {
        let credentials =
            Credentials::new(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.to_owned()), None, "test");
        let token = auth_token(&target("libris_app"), &credentials, signed_at()).unwrap();
        assert_eq!(
            token.expose_secret(),
            "libris.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=libris_app\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20240506%2Feu-west-1%2Frds-db%2Faws4_request\
             &X-Amz-Date=20240506T070809Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
             &X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2Fsession%2Btoken%3D%3D\
             &X-Amz-Signature=966d98513aebd934c6663c188994ccf64ff39f833037f9343da348984532e205"
        );
    }

    #[test]
    fn a_token_for_a_user_that_needs_encoding_is_botocores() {
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
        let token = auth_token(&target("app user@x"), &credentials, signed_at()).unwrap();
        assert_eq!(
            token.expose_secret(),
            "libris.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=app%20user%40x\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20240506%2Feu-west-1%2Frds-db%2Faws4_request\
             &X-Amz-Date=20240506T070809Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=25e9bfeca18bf976fc50c8105420afad5dc45d32ea089e7d4282f2cfaea3e0f3"
        );
    }

    #[tokio::test]
    async fn a_source_signs_with_its_providers_credentials_at_its_clocks_time() {
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
        let source = TokenSource::new(
            target("app user@x"),
            SharedCredentialsProvider::new(credentials.clone()),
            Arc::new(signed_at),
        );
        let (token, at) = source.token().await.unwrap();
        assert_eq!(at, signed_at());
        let expected = auth_token(&target("app user@x"), &credentials, signed_at()).unwrap();
        assert_eq!(token.expose_secret(), expected.expose_secret());
        assert!(!format!("{source:?}").contains(SECRET_KEY));
    }
}
