//! The issuer's signing keys, by key id: fetched from its JWKS on first use, refetched when a token
//! names a key we do not know (the issuer rotated), and at most once per `min_refresh` so that tokens with
//! made-up key ids cannot turn us into a load generator against the issuer.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::AuthError;

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
    Jwks(Jwks),
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
    /// Made on first fetch, so a cold start that serves only public routes never builds a TLS client.
    client: tokio::sync::OnceCell<reqwest::Client>,
    cache: RwLock<Cached>,
    /// Held while fetching, so that concurrent requests with a new key id wait for one fetch.
    refresh: tokio::sync::Mutex<()>,
    min_refresh: Duration,
    max_age: Duration,
}

#[derive(Default)]
struct Cached {
    keys: KeyMap,
    fetched_at: Option<Instant>,
}

impl Jwks {
    pub(crate) fn new(url: String, min_refresh: Duration) -> Self {
        Self {
            url,
            client: tokio::sync::OnceCell::new(),
            cache: RwLock::default(),
            refresh: tokio::sync::Mutex::new(()),
            min_refresh,
            // Keys the issuer withdrew stop working within the hour even if no new key id shows up.
            max_age: Duration::from_secs(3600),
        }
    }

    /// The cached key, whether the cache is younger than `max_age`, and when it was fetched.
    fn lookup(&self, kid: &str) -> (Option<Key>, bool, Option<Instant>) {
        let Ok(cache) = self.cache.read() else { return (None, false, None) };
        let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < self.max_age);
        (cache.keys.get(kid).cloned(), fresh, cache.fetched_at)
    }

    async fn key(&self, kid: &str) -> Result<Key, AuthError> {
        if let (Some(key), true, _) = self.lookup(kid) {
            return Ok(key);
        }
        let _one_fetch_at_a_time = self.refresh.lock().await;
        let (cached, fresh, fetched_at) = self.lookup(kid);
        match cached {
            Some(key) if fresh => return Ok(key),
            _ if fetched_at.is_some_and(|at| at.elapsed() < self.min_refresh) => {
                return Err(AuthError::UnknownKey);
            }
            _ => {}
        }
        match self.fetch().await {
            Ok(keys) => {
                if let Ok(mut cache) = self.cache.write() {
                    *cache = Cached { keys: Arc::new(keys), fetched_at: Some(Instant::now()) };
                }
            }
            // With the key in hand, an issuer outage must not lock its holders out: keep using it.
            Err(error) if cached.is_some() => {
                tracing::warn!(%error, url = %self.url, "cannot refresh the issuer's keys; using the cached ones");
                return cached.ok_or(AuthError::UnknownKey);
            }
            Err(error) => return Err(error),
        }
        self.lookup(kid).0.ok_or(AuthError::UnknownKey)
    }

    async fn fetch(&self) -> Result<HashMap<String, Key>, AuthError> {
        let unavailable = |error: reqwest::Error| AuthError::KeysUnavailable(error.to_string());
        let client = self
            .client
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(Duration::from_secs(3))
                    .build()
            })
            .await
            .map_err(unavailable)?;
        let body: serde_json::Value = client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        let keys = parse_jwks(&body);
        tracing::info!(url = %self.url, keys = keys.len(), "fetched the issuer's signing keys");
        Ok(keys)
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
