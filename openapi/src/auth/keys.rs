//! The issuer's signing keys, by key id: fetched from its JWKS on first use, refetched when a token
//! names a key we do not know (the issuer rotated), and refreshed in the background once they are old.
//!
//! The issuer is someone else's server, so asking it is rationed ([`KeyPolicy`]):
//! - every attempt counts, failed ones too: tokens with made-up key ids, or an issuer outage, cannot turn
//!   us into a load generator against the issuer nor make every request wait on a failing fetch;
//! - after a failure the next attempt waits, twice as long after each further failure;
//! - one fetch at a time: concurrent requests with a new key id wait for that fetch, not a fetch each;
//! - a known key is served from the cache even when the cache is old: the refresh runs in the
//!   background, and if it fails the cached keys stay in use (an outage must not lock their holders out).
//!
//! The JWKS URL was checked when it was read (`https`, or `http` to loopback only); the client follows no
//! redirect (that would leave the checked host) and reads at most [`MAX_JWKS_BYTES`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::AuthError;

/// A JWKS larger than this is refused. Cognito's holds two keys in about 1 KB; 64 KiB is room for ~80
/// RSA-4096 keys, and small enough that a hostile or broken endpoint cannot make us buffer much.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// How often the issuer may be asked for its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// The least time between two fetches that a token with an unknown key id may cause.
    pub min_refresh: Duration,
    /// Keys older than this are refreshed (in the background: requests keep using them meanwhile), so
    /// keys the issuer withdrew stop working within this time even if no new key id shows up.
    pub max_age: Duration,
    /// The wait after a failed fetch; it doubles with each further failure, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            min_refresh: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
            first_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl KeyPolicy {
    /// How long to wait after the last attempt, given how many attempts in a row have failed.
    fn wait_after(&self, failures: u32) -> Duration {
        if failures == 0 {
            return self.min_refresh;
        }
        let doubled = self.first_backoff.saturating_mul(2_u32.saturating_pow(failures - 1));
        doubled.min(self.max_backoff).max(self.min_refresh)
    }
}

/// A verification key and the one algorithm it may be used with.
#[derive(Clone)]
pub(crate) struct Key {
    pub decoding: DecodingKey,
    pub algorithm: Algorithm,
}

type KeyMap = Arc<HashMap<String, Key>>;

pub(crate) enum KeySource {
    /// Keys known up front (dev mode's own key).
    Fixed(KeyMap),
    Jwks(Arc<Jwks>),
}

impl KeySource {
    pub(crate) async fn key(&self, kid: &str) -> Result<Key, AuthError> {
        match self {
            Self::Fixed(keys) => keys.get(kid).cloned().ok_or(AuthError::UnknownKey),
            Self::Jwks(jwks) => jwks.key(kid).await,
        }
    }
}

pub(crate) struct Jwks {
    url: String,
    policy: KeyPolicy,
    /// Made on first fetch, so a cold start that serves only public routes never builds a TLS client.
    client: tokio::sync::OnceCell<reqwest::Client>,
    state: Mutex<State>,
    /// Held for the whole of a fetch: at most one runs at a time.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct State {
    keys: KeyMap,
    /// When the keys in hand were fetched.
    fetched_at: Option<Instant>,
    /// When the last fetch started, whatever came of it (set before it starts, so a fetch whose request
    /// was cancelled still counts).
    attempted_at: Option<Instant>,
    /// Failed fetches since the last good one.
    failures: u32,
}

impl State {
    fn may_attempt(&self, policy: &KeyPolicy) -> bool {
        self.attempted_at.is_none_or(|at| at.elapsed() >= policy.wait_after(self.failures))
    }

    /// Why a token whose key is not in hand is refused while no fetch may be made.
    fn refusal(&self, policy: &KeyPolicy) -> AuthError {
        if self.failures == 0 {
            return AuthError::UnknownKey;
        }
        let wait = policy.wait_after(self.failures);
        let retry_in = self.attempted_at.map_or(wait, |at| wait.saturating_sub(at.elapsed()));
        let reason = format!("the last {} fetch(es) failed", self.failures);
        AuthError::KeysUnavailable { reason, retry_in }
    }
}

impl Jwks {
    pub(crate) fn new(url: String, policy: KeyPolicy) -> Self {
        Self {
            url,
            policy,
            client: tokio::sync::OnceCell::new(),
            state: Mutex::default(),
            fetching: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a few plain fields, each written whole: a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn key(self: &Arc<Self>, kid: &str) -> Result<Key, AuthError> {
        {
            let state = self.state();
            if let Some(key) = state.keys.get(kid).cloned() {
                let stale = state.fetched_at.is_none_or(|at| at.elapsed() >= self.policy.max_age);
                if stale && state.may_attempt(&self.policy) {
                    drop(state);
                    self.refresh_in_background();
                }
                return Ok(key);
            }
            if !state.may_attempt(&self.policy) {
                return Err(state.refusal(&self.policy));
            }
        }
        // Wait for a fetch under way rather than start another; then decide afresh.
        let _one_fetch = self.fetching.lock().await;
        {
            let state = self.state();
            if let Some(key) = state.keys.get(kid).cloned() {
                return Ok(key);
            }
            if !state.may_attempt(&self.policy) {
                return Err(state.refusal(&self.policy));
            }
        }
        self.fetch_and_keep().await?;
        self.state().keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
    }

    /// Refreshes old keys without holding up the request that noticed: skipped when a fetch is already
    /// under way.
    fn refresh_in_background(self: &Arc<Self>) {
        let Ok(guard) = self.fetching.clone().try_lock_owned() else { return };
        let jwks = Arc::clone(self);
        tokio::spawn(async move {
            let _one_fetch = guard;
            if jwks.state().may_attempt(&jwks.policy) {
                // A failure is logged and counted; the cached keys stay in use.
                let _ = jwks.fetch_and_keep().await;
            }
        });
    }

    /// One recorded attempt: the keys replace the cached ones on success; a failure counts towards the
    /// back-off and leaves the cached keys in place. Call with `fetching` held.
    async fn fetch_and_keep(&self) -> Result<(), AuthError> {
        self.state().attempted_at = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched the issuer's signing keys");
                let mut state = self.state();
                state.keys = Arc::new(keys);
                state.fetched_at = Some(Instant::now());
                state.failures = 0;
                Ok(())
            }
            Err(reason) => {
                let mut state = self.state();
                state.failures = state.failures.saturating_add(1);
                let retry_in = self.policy.wait_after(state.failures);
                tracing::warn!(
                    error = %reason, url = %self.url, failures = state.failures, retry_in_secs = retry_in.as_secs(),
                    cached_keys = state.keys.len(), "cannot fetch the issuer's signing keys"
                );
                Err(AuthError::KeysUnavailable { reason, retry_in })
            }
        }
    }

    /// The issuer's keys, or why they could not be fetched.
    async fn fetch(&self) -> Result<HashMap<String, Key>, String> {
        let unavailable = |error: reqwest::Error| error.to_string();
        let client = self
            .client
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(Duration::from_secs(3))
                    // A redirect would fetch keys from a host the URL check never saw.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
            })
            .await
            .map_err(unavailable)?;
        let mut response = client.get(&self.url).send().await.map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(format!("the JWKS URL answered {}", response.status()));
        }
        let too_large = || format!("the JWKS is larger than {MAX_JWKS_BYTES} bytes");
        if response.content_length().is_some_and(|length| length > MAX_JWKS_BYTES as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let document: serde_json::Value =
            serde_json::from_slice(&body).map_err(|error| format!("the JWKS is not JSON: {error}"))?;
        Ok(parse_jwks(&document))
    }
}

/// The usable signing keys of a JWKS document. Keys of other types or uses, or without a key id, are
/// skipped one by one rather than failing the whole set (issuers add key types over time).
pub(crate) fn parse_jwks(document: &serde_json::Value) -> HashMap<String, Key> {
    let entries = document.get("keys").and_then(serde_json::Value::as_array).map_or(&[][..], Vec::as_slice);
    entries
        .iter()
        .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            if matches!(jwk.common.public_key_use, Some(ref usage) if *usage != PublicKeyUse::Signature) {
                return None;
            }
            let algorithm = key_algorithm(&jwk)?;
            let decoding = DecodingKey::from_jwk(&jwk).ok()?;
            Some((kid, Key { decoding, algorithm }))
        })
        .collect()
}

/// RS256 for RSA keys and ES256 for P-256 keys: the two algorithms Libris accepts. A key that names
/// another algorithm is not ours to use.
fn key_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(by_type),
        Some(KeyAlgorithm::RS256) if by_type == Algorithm::RS256 => Some(by_type),
        Some(KeyAlgorithm::ES256) if by_type == Algorithm::ES256 => Some(by_type),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fetches_back_off_doubling_up_to_the_cap() {
        let policy = KeyPolicy {
            min_refresh: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
            first_backoff: Duration::from_secs(15),
            max_backoff: Duration::from_secs(100),
        };
        let waits: Vec<u64> = (0..6).map(|failures| policy.wait_after(failures).as_secs()).collect();
        assert_eq!(waits, [10, 15, 30, 60, 100, 100]);
        assert_eq!(policy.wait_after(u32::MAX).as_secs(), 100, "no overflow");
        let eager = KeyPolicy { min_refresh: Duration::from_secs(20), ..policy };
        assert_eq!(eager.wait_after(1).as_secs(), 20, "never sooner than the refresh interval");
    }
}
