//! Token checking against a JWKS served on loopback, with tokens minted here: what is accepted, what is
//! refused and why, Cognito's token shapes, key rotation, and an issuer that cannot be reached.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, get_current_timestamp};
use migration::testkit::{Backend, TestDb};
use openapi::auth::{Auth, RoleNames};
use openapi::{AppState, app};
use poem::http::Method;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::test::TestClient;
use poem::web::Json;
use poem::{EndpointExt, Route, Server, handler};
use serde_json::{Value, json};

use crate::client::{Api, Reply};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Libris";
const CLIENT: &str = "libris-app-client";

/// A signing key with its public JWK.
struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    jwk: Jwk,
}

impl SigningKey {
    fn rsa(kid: &str) -> Self {
        let pkcs8 = KeyPair::generate(KeySize::Rsa2048).unwrap().as_der().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        Self::new(kid, Algorithm::RS256, EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap())
    }

    fn ec(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        Self::new(kid, Algorithm::ES256, EncodingKey::from_ec_der(pkcs8.as_ref()))
    }

    fn new(kid: &str, algorithm: Algorithm, key: EncodingKey) -> Self {
        let mut jwk = Jwk::from_encoding_key(&key, algorithm).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        Self { kid: kid.to_owned(), algorithm, key, jwk }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// The issuer's JWKS endpoint on loopback; its key set can be changed and its fetches are counted.
struct Issuer {
    address: SocketAddr,
    keys: Arc<Mutex<Vec<Jwk>>>,
    fetches: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

#[handler]
fn jwks(
    keys: poem::web::Data<&Arc<Mutex<Vec<Jwk>>>>,
    fetches: poem::web::Data<&Arc<AtomicUsize>>,
) -> Json<JwkSet> {
    fetches.fetch_add(1, Ordering::SeqCst);
    Json(JwkSet { keys: keys.lock().unwrap().clone() })
}

impl Issuer {
    async fn start(keys: &[&SigningKey]) -> Self {
        let keys = Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let address = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let routes = Route::new().at("/.well-known/jwks.json", jwks).data(keys.clone()).data(fetches.clone());
        let server = tokio::spawn(async move {
            Server::new_with_acceptor(acceptor).run(routes).await.ok();
        });
        Self { address, keys, fetches, server }
    }

    fn jwks_url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.address)
    }

    fn publish(&self, keys: &[&SigningKey]) {
        *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// A Cognito access token's claims: the client in `client_id`, no `aud`, space-separated scopes.
fn access_claims(scope: &str) -> Value {
    let now = get_current_timestamp();
    json!({
        "sub": "7d8e9f00-1111-4222-8333-444455556666",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": scope,
        "iat": now,
        "exp": now + 600,
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

struct Setup {
    client: TestClient<poem::endpoint::BoxEndpoint<'static, poem::Response>>,
    _db: TestDb,
}

async fn app_checking(issuer: &Issuer, min_refresh: Duration) -> Setup {
    app_with_keys_at(&issuer.jwks_url(), min_refresh).await
}

async fn app_with_keys_at(jwks_url: &str, min_refresh: Duration) -> Setup {
    let db = TestDb::migrated(Backend::Sqlite).await.unwrap();
    let auth = Auth::jwt(ISSUER, CLIENT, jwks_url, RoleNames::default(), min_refresh);
    let client = TestClient::new(app(AppState::new(db.conn.clone(), auth)).boxed());
    Setup { client, _db: db }
}

/// `GET /borrowers` (librarians only) with `authorization`.
async fn borrowers(setup: &Setup, authorization: Option<String>) -> Reply {
    let mut request = setup.client.request(Method::GET, "/borrowers");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    Api::reply(request.send().await.0).await
}

async fn with_token(setup: &Setup, token: &str) -> Reply {
    borrowers(setup, Some(format!("Bearer {token}"))).await
}

#[track_caller]
fn assert_refused(reply: &Reply, detail: &str) {
    assert_eq!(reply.status, 401, "{reply:#?}");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(reply.body["detail"].as_str().unwrap().contains(detail), "wanted {detail:?}: {reply:#?}");
}

#[tokio::test]
async fn valid_rs256_and_es256_tokens_are_accepted_and_bad_ones_refused_with_the_reason() {
    let (rsa, ec, stranger) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"), SigningKey::rsa("rsa-1"));
    let issuer = Issuer::start(&[&rsa, &ec]).await;
    let setup = app_checking(&issuer, Duration::ZERO).await;
    let librarian = access_claims("libris/librarian");
    let now = get_current_timestamp();

    assert_eq!(with_token(&setup, &rsa.sign(&librarian)).await.status, 200, "RS256");
    assert_eq!(with_token(&setup, &ec.sign(&librarian)).await.status, 200, "ES256");

    let expired = with(librarian.clone(), json!({ "iat": now - 7200, "exp": now - 3600 }));
    assert_refused(&with_token(&setup, &rsa.sign(&expired)).await, "expired");
    let early = with(librarian.clone(), json!({ "nbf": now + 3600 }));
    assert_refused(&with_token(&setup, &rsa.sign(&early)).await, "not valid yet");
    let other_issuer = with(librarian.clone(), json!({ "iss": "https://evil.example" }));
    assert_refused(&with_token(&setup, &rsa.sign(&other_issuer)).await, "another issuer");
    let other_client = with(librarian.clone(), json!({ "client_id": "someone-else" }));
    assert_refused(&with_token(&setup, &rsa.sign(&other_client)).await, "not meant for this API");
    let other_audience = with(librarian.clone(), json!({ "client_id": null, "aud": "someone-else" }));
    assert_refused(&with_token(&setup, &rsa.sign(&other_audience)).await, "not meant for this API");
    let no_expiry = with(librarian.clone(), json!({ "exp": null }));
    assert_refused(&with_token(&setup, &rsa.sign(&no_expiry)).await, "missing a required claim");

    // Signed by a key the issuer never published, under a key id it did publish.
    assert_refused(&with_token(&setup, &stranger.sign(&librarian)).await, "not signed by the issuer");
    // Under a key id it never published.
    let unknown = SigningKey::ec("ec-unknown");
    assert_refused(
        &with_token(&setup, &unknown.sign(&librarian)).await,
        "signing key is not one of the issuer's",
    );

    // A borrower's token with its scope raised to librarian, signature kept.
    let genuine = rsa.sign(&access_claims("libris/borrower"));
    let parts: Vec<&str> = genuine.split('.').collect();
    let raised = URL_SAFE_NO_PAD.encode(access_claims("libris/librarian").to_string());
    assert_refused(
        &with_token(&setup, &format!("{}.{raised}.{}", parts[0], parts[2])).await,
        "not signed by the issuer",
    );

    // `alg: none`, and HS256 keyed with the public key (the classic algorithm confusion).
    let body = URL_SAFE_NO_PAD.encode(librarian.to_string());
    let none = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#));
    assert_refused(&with_token(&setup, &none).await, "malformed");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".to_owned());
    let confused =
        jsonwebtoken::encode(&header, &librarian, &EncodingKey::from_secret(b"public key bytes")).unwrap();
    assert_refused(&with_token(&setup, &confused).await, "only RS256 and ES256");

    assert_refused(&with_token(&setup, "not.a.token").await, "malformed");
    let missing = borrowers(&setup, None).await;
    assert_eq!((missing.status, missing.header("www-authenticate")), (401, Some("Bearer realm=\"libris\"")));
    assert_eq!(borrowers(&setup, Some("Basic YWRhOmx1Y3k=".to_owned())).await.status, 401);
    issuer.server.abort();
}

#[tokio::test]
async fn cognito_groups_id_tokens_and_scopes_decide_the_role() {
    let key = SigningKey::rsa("cognito-1");
    let issuer = Issuer::start(&[&key]).await;
    let setup = app_checking(&issuer, Duration::ZERO).await;
    let status = |claims: Value| {
        let token = key.sign(&claims);
        let setup = &setup;
        async move { with_token(setup, &token).await.status }
    };
    // A user in the `librarians` group, with an access token and with an ID token (client in `aud`).
    let in_group = with(access_claims("openid"), json!({ "cognito:groups": ["librarians"] }));
    assert_eq!(status(in_group.clone()).await, 200);
    let id_token = with(in_group, json!({ "client_id": null, "token_use": "id", "aud": CLIENT }));
    assert_eq!(status(id_token).await, 200);
    // `scp` as an array (other issuers) works like `scope`.
    assert_eq!(status(with(access_claims(""), json!({ "scp": ["libris/librarian"] }))).await, 200);
    // Valid tokens without the librarian role are forbidden, not unauthenticated.
    let borrower = key.sign(&access_claims("libris/borrower"));
    let reply = with_token(&setup, &borrower).await;
    assert_eq!(reply.problem(403)["type"], json!("/problems/forbidden"));
    assert_eq!(status(access_claims("openid profile")).await, 403);
    issuer.server.abort();
}

#[tokio::test]
async fn a_new_key_id_refetches_the_keys_at_most_once_per_interval() {
    let (old, new) = (SigningKey::rsa("2026-01"), SigningKey::ec("2026-02"));
    let issuer = Issuer::start(&[&old]).await;
    let setup = app_checking(&issuer, Duration::from_secs(300)).await;
    let librarian = access_claims("libris/librarian");

    assert_eq!(with_token(&setup, &old.sign(&librarian)).await.status, 200);
    assert_eq!(with_token(&setup, &old.sign(&librarian)).await.status, 200);
    assert_eq!(issuer.fetches(), 1, "the keys are cached");
    // The issuer rotates, but our last fetch is too recent to ask again: the unknown key is refused, and a
    // flood of made-up key ids does not reach the issuer.
    issuer.publish(&[&old, &new]);
    for _ in 0..5 {
        assert_eq!(with_token(&setup, &new.sign(&librarian)).await.status, 401);
    }
    assert_eq!(issuer.fetches(), 1);

    // With refetching allowed, the first token under the new key fetches the new set once.
    let setup = app_checking(&issuer, Duration::ZERO).await;
    let before = issuer.fetches();
    assert_eq!(with_token(&setup, &new.sign(&librarian)).await.status, 200);
    assert_eq!(with_token(&setup, &old.sign(&librarian)).await.status, 200);
    assert_eq!(issuer.fetches(), before + 1);
    issuer.server.abort();
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_503_not_a_401() {
    let key = SigningKey::ec("k");
    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let setup = app_with_keys_at(&format!("http://{closed}/.well-known/jwks.json"), Duration::ZERO).await;
    let reply = with_token(&setup, &key.sign(&access_claims("libris/librarian"))).await;
    assert_eq!(reply.problem(503)["type"], json!("/problems/unavailable"));
    assert_eq!(reply.header("retry-after"), Some("2"));
    // Public routes do not need the issuer at all.
    let public = Api::reply(setup.client.get("/books").send().await.0).await;
    assert_eq!(public.status, 200);
}

#[tokio::test]
async fn dev_mode_hands_out_working_tokens_and_jwt_mode_has_no_such_route() {
    let db = TestDb::migrated(Backend::Sqlite).await.unwrap();
    seed::demo::load(&db.conn).await.unwrap();
    let dev = TestClient::new(app(AppState::new(db.conn.clone(), Auth::dev(RoleNames::default()).unwrap())));
    let token_of = |reply: Reply| reply.ok(200)["access_token"].as_str().unwrap().to_owned();
    let librarian = token_of(Api::reply(dev.get("/auth/dev-token?role=librarian").send().await.0).await);
    let listed = dev.get("/borrowers").header("authorization", format!("Bearer {librarian}")).send().await;
    assert_eq!(listed.0.status(), 200);
    // The demo borrower Ada sees her own record through a borrower dev token.
    let ada =
        token_of(Api::reply(dev.get("/auth/dev-token?role=borrower&subject=demo-ada").send().await.0).await);
    let loans =
        Api::reply(dev.get("/loans").header("authorization", format!("Bearer {ada}")).send().await.0).await;
    assert!(loans.ok(200)["items"].is_array());
    let bad_role = Api::reply(dev.get("/auth/dev-token?role=admin").send().await.0).await;
    bad_role.invalid("role");

    let issuer = Issuer::start(&[]).await;
    let jwt = app_checking(&issuer, Duration::ZERO).await;
    let reply = Api::reply(jwt.client.get("/auth/dev-token?role=librarian").send().await.0).await;
    reply.problem(404);
    issuer.server.abort();
}
