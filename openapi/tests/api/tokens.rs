//! Token checking against a JWKS served on loopback, with tokens minted here: what is accepted, what is
//! refused and why, Cognito's token shapes, key rotation, and an issuer that cannot be reached.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
use openapi::auth::{Auth, KeyPolicy, RoleNames, TokenRules};
use openapi::{AppState, app};
use poem::http::{Method, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::test::TestClient;
use poem::web::Json;
use poem::{EndpointExt, IntoResponse, Route, Server, handler};
use serde_json::{Value, json};

use crate::client::{Api, Reply};

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Libris";
pub const CLIENT: &str = "libris-app-client";
/// A machine client on the allow-list of [`app_with`]'s default rules.
pub const MACHINE: &str = "libris-batch-importer";

/// A signing key with its public JWK.
pub struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    jwk: Jwk,
}

impl SigningKey {
    pub fn rsa(kid: &str) -> Self {
        let pkcs8 = KeyPair::generate(KeySize::Rsa2048).unwrap().as_der().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        Self::new(kid, Algorithm::RS256, EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap())
    }

    pub fn ec(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        Self::new(kid, Algorithm::ES256, EncodingKey::from_ec_der(pkcs8.as_ref()))
    }

    fn new(kid: &str, algorithm: Algorithm, key: EncodingKey) -> Self {
        let mut jwk = Jwk::from_encoding_key(&key, algorithm).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        Self { kid: kid.to_owned(), algorithm, key, jwk }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// The issuer's JWKS endpoint on loopback: its key set can be changed, its fetches are counted, and it
/// can be made to fail (500) or to answer slowly. `/redirect` redirects to the JWKS; `/huge` serves it
/// padded past the size cap.
pub struct Issuer {
    address: SocketAddr,
    behaviour: Arc<Behaviour>,
    pub server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Behaviour {
    keys: Mutex<Vec<Jwk>>,
    fetches: AtomicUsize,
    failing: AtomicBool,
    delay_ms: AtomicU64,
}

#[handler]
async fn jwks(behaviour: poem::web::Data<&Arc<Behaviour>>) -> poem::Response {
    behaviour.fetches.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(behaviour.delay_ms.load(Ordering::SeqCst))).await;
    if behaviour.failing.load(Ordering::SeqCst) {
        return poem::Response::builder().status(StatusCode::INTERNAL_SERVER_ERROR).finish();
    }
    Json(JwkSet { keys: behaviour.keys.lock().unwrap().clone() }).into_response()
}

#[handler]
fn redirect() -> poem::Response {
    poem::Response::builder().status(StatusCode::FOUND).header("location", "/.well-known/jwks.json").finish()
}

#[handler]
fn huge(behaviour: poem::web::Data<&Arc<Behaviour>>) -> Json<Value> {
    let keys = behaviour.keys.lock().unwrap().clone();
    Json(json!({ "keys": keys, "padding": "x".repeat(openapi::auth::MAX_JWKS_BYTES) }))
}

impl Issuer {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let behaviour = Arc::new(Behaviour::default());
        *behaviour.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let address = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let routes = Route::new()
            .at("/.well-known/jwks.json", jwks)
            .at("/redirect", redirect)
            .at("/huge", huge)
            .data(behaviour.clone());
        let server = tokio::spawn(async move {
            Server::new_with_acceptor(acceptor).run(routes).await.ok();
        });
        Self { address, behaviour, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn jwks_url(&self) -> String {
        self.url("/.well-known/jwks.json")
    }

    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.behaviour.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    /// Every request for the key set, answered or not.
    pub fn fetches(&self) -> usize {
        self.behaviour.fetches.load(Ordering::SeqCst)
    }

    /// While set, every fetch is answered 500.
    pub fn fail(&self, failing: bool) {
        self.behaviour.failing.store(failing, Ordering::SeqCst);
    }

    /// Every answer waits this long first.
    pub fn delay(&self, delay: Duration) {
        self.behaviour.delay_ms.store(u64::try_from(delay.as_millis()).unwrap(), Ordering::SeqCst);
    }
}

/// A person's Cognito access token: `username`, groups in `cognito:groups`, the app client in
/// `client_id`, no `aud`.
pub fn user_claims(groups: &[&str]) -> Value {
    let now = get_current_timestamp();
    json!({
        "sub": "7d8e9f00-1111-4222-8333-444455556666",
        "username": "ada",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "openid profile",
        "cognito:groups": groups,
        "iat": now,
        "exp": now + 600,
    })
}

/// A Cognito client-credentials token of `client`: the client is its own subject, no `username`, scopes.
pub fn machine_claims(client: &str, scope: &str) -> Value {
    let now = get_current_timestamp();
    json!({
        "sub": client,
        "iss": ISSUER,
        "client_id": client,
        "token_use": "access",
        "scope": scope,
        "iat": now,
        "exp": now + 600,
    })
}

/// A librarian's access token.
pub fn librarian() -> Value {
    user_claims(&["librarians"])
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

pub struct Setup {
    client: TestClient<poem::endpoint::BoxEndpoint<'static, poem::Response>>,
    _db: TestDb,
}

/// Keys refetched for a new key id as soon as asked (the back-off after failures stays on).
pub fn eager() -> KeyPolicy {
    KeyPolicy { min_refresh: Duration::ZERO, ..KeyPolicy::default() }
}

/// [`MACHINE`] may use scopes; ID tokens are refused.
pub fn rules() -> TokenRules {
    TokenRules { machine_clients: vec![MACHINE.to_owned()], allow_id_tokens: false }
}

async fn app_checking(issuer: &Issuer, min_refresh: Duration) -> Setup {
    let policy = KeyPolicy { min_refresh, ..KeyPolicy::default() };
    app_with(&issuer.jwks_url(), rules(), policy).await
}

pub async fn app_with(jwks_url: &str, rules: TokenRules, policy: KeyPolicy) -> Setup {
    let db = TestDb::migrated(Backend::Sqlite).await.unwrap();
    let auth = Auth::jwt(ISSUER, CLIENT, jwks_url, RoleNames::default(), rules, policy);
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

pub async fn with_token(setup: &Setup, token: &str) -> Reply {
    borrowers(setup, Some(format!("Bearer {token}"))).await
}

#[track_caller]
pub fn assert_refused(reply: &Reply, detail: &str) {
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
    let librarian = librarian();
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

    // A borrower's token with its group raised to librarian, signature kept.
    let genuine = rsa.sign(&user_claims(&["borrowers"]));
    let parts: Vec<&str> = genuine.split('.').collect();
    let raised = URL_SAFE_NO_PAD.encode(user_claims(&["librarians"]).to_string());
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
async fn people_get_roles_from_groups_and_only_listed_machine_clients_from_scopes() {
    let key = SigningKey::rsa("cognito-1");
    let issuer = Issuer::start(&[&key]).await;
    let setup = app_checking(&issuer, Duration::ZERO).await;
    let status = |claims: Value| {
        let token = key.sign(&claims);
        let setup = &setup;
        async move { with_token(setup, &token).await.status }
    };
    // A user in the `librarians` group.
    assert_eq!(status(librarian()).await, 200);
    // A user whose app client may ask for the librarian scope is not a librarian for that: Cognito grants
    // scopes per client, so every user of a hosted-UI flow with that scope would be one.
    let user_with_scope = with(user_claims(&[]), json!({ "scope": "openid libris/librarian" }));
    assert_eq!(status(user_with_scope.clone()).await, 403);
    assert_eq!(status(with(user_with_scope, json!({ "scp": ["libris/librarian"] }))).await, 403);
    assert_eq!(status(with(user_claims(&["borrowers"]), json!({ "scope": "libris/librarian" }))).await, 403);
    // A listed machine client's client-credentials token: its scopes count (`scope` or `scp`).
    assert_eq!(status(machine_claims(MACHINE, "libris/librarian")).await, 200);
    assert_eq!(status(with(machine_claims(MACHINE, ""), json!({ "scp": ["libris/librarian"] }))).await, 200);
    assert_eq!(status(machine_claims(MACHINE, "libris/borrower")).await, 403);
    // Not a machine token after all: a person signed in (username), or the subject is not the client.
    assert_eq!(
        status(with(machine_claims(MACHINE, "libris/librarian"), json!({ "username": "x" }))).await,
        403
    );
    assert_eq!(
        status(with(machine_claims(MACHINE, "libris/librarian"), json!({ "sub": "someone" }))).await,
        403
    );
    // The app client itself is not on the list, and an unlisted client is not for this API at all.
    assert_eq!(status(machine_claims(CLIENT, "libris/librarian")).await, 403);
    assert_refused(
        &with_token(&setup, &key.sign(&machine_claims("stranger", "libris/librarian"))).await,
        "not meant for this API",
    );
    // Valid tokens without the librarian role are forbidden, not unauthenticated.
    let reply = with_token(&setup, &key.sign(&user_claims(&["borrowers"]))).await;
    assert_eq!(reply.problem(403)["type"], json!("/problems/forbidden"));
    issuer.server.abort();
}

#[tokio::test]
async fn only_access_tokens_are_accepted_unless_id_tokens_are_allowed() {
    let key = SigningKey::rsa("cognito-1");
    let issuer = Issuer::start(&[&key]).await;
    let strict = app_with(&issuer.jwks_url(), rules(), eager()).await;
    let id_token = with(librarian(), json!({ "client_id": null, "token_use": "id", "aud": CLIENT }));
    assert_refused(&with_token(&strict, &key.sign(&id_token)).await, "an ID token");
    for token_use in [json!(null), json!("refresh")] {
        let odd = with(librarian(), json!({ "token_use": token_use }));
        assert_refused(&with_token(&strict, &key.sign(&odd)).await, "not an access token");
    }
    let lenient =
        app_with(&issuer.jwks_url(), TokenRules { allow_id_tokens: true, ..rules() }, eager()).await;
    assert_eq!(with_token(&lenient, &key.sign(&id_token)).await.status, 200);
    let for_another_client = with(id_token, json!({ "aud": "someone-else" }));
    assert_refused(&with_token(&lenient, &key.sign(&for_another_client)).await, "not meant for this API");
    issuer.server.abort();
}

#[tokio::test]
async fn a_new_key_id_refetches_the_keys_at_most_once_per_interval() {
    let (old, new) = (SigningKey::rsa("2026-01"), SigningKey::ec("2026-02"));
    let issuer = Issuer::start(&[&old]).await;
    let setup = app_checking(&issuer, Duration::from_secs(300)).await;
    let librarian = librarian();

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
    let backing_off = KeyPolicy { first_backoff: Duration::from_secs(7), ..eager() };
    let setup = app_with(&format!("http://{closed}/.well-known/jwks.json"), rules(), backing_off).await;
    let reply = with_token(&setup, &key.sign(&librarian())).await;
    assert_eq!(reply.problem(503)["type"], json!("/problems/unavailable"));
    assert_eq!(reply.header("retry-after"), Some("7"), "the back-off after the failed fetch");
    // Asked again at once, the back-off refuses without a fetch, and says what is left of it.
    let again = with_token(&setup, &key.sign(&librarian())).await;
    assert_eq!(again.problem(503)["type"], json!("/problems/unavailable"));
    let left: u32 = again.header("retry-after").unwrap().parse().unwrap();
    assert!((6..=7).contains(&left), "Retry-After {left} s, of a 7 s back-off just begun");
    // Public routes do not need the issuer at all.
    let public = Api::reply(setup.client.get("/books").send().await.0).await;
    assert_eq!(public.status, 200);
}

#[tokio::test]
async fn dev_mode_hands_out_working_tokens_and_jwt_mode_has_no_such_route() {
    let db = TestDb::migrated(Backend::Sqlite).await.unwrap();
    seed::demo::load(&db.conn, seed::demo::DemoLogins::DevSubjects).await.unwrap();
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
