//! Faults: with the database unreachable, requests fail fast with 503 and `Retry-After` instead of
//! hanging until the Lambda timeout; when it comes back the same process recovers, with no restart.
//! A cold start with the database down still answers liveness and reports readiness false.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lambda::config::{DbSource, LambdaConfig, PoolSettings, SecretUrl};
use lambda::database::{self, Aws};
use lambda::function::ApiFunction;
use migration::testkit::{Backend, TestDb};
use openapi::auth::{Auth, RoleNames};
use openapi::{AppState, app};
use poem::test::TestClient;
use poem::{Endpoint, Response};
use sea_orm::ConnectionTrait;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// A TCP forwarder to PostgreSQL that can be switched off (refusing and cutting connections) and on.
struct Switch {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Connections attempted through the switch, up or down.
    attempts: Arc<AtomicUsize>,
}

impl Switch {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (accept_up, accept_links, accept_attempts) = (up.clone(), links.clone(), attempts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                accept_attempts.fetch_add(1, Ordering::SeqCst);
                if !accept_up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                accept_links.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Self { port, up, links, attempts }
    }

    async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn through(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let credentials = authority.rsplit_once('@').map(|(c, _)| format!("{c}@")).unwrap_or_default();
    format!("{scheme}://{credentials}127.0.0.1:{port}/{path}")
}

async fn status<E: Endpoint<Output = Response>>(
    client: &TestClient<E>,
    path: &str,
) -> (u16, Option<String>, Duration) {
    let started = Instant::now();
    let response = client.get(path).send().await;
    let retry_after = response.0.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (response.0.status().as_u16(), retry_after, started.elapsed())
}

fn pool() -> PoolSettings {
    PoolSettings {
        connect_timeout: Duration::from_secs(1),
        acquire_timeout: Duration::from_secs(1),
        ..PoolSettings::default()
    }
}

#[tokio::test]
async fn an_outage_gives_fast_503s_and_the_process_recovers() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let switch = Switch::start("127.0.0.1:5432".to_owned()).await;
    let source = DbSource::Url(SecretUrl::new(through(&db.url, switch.port)));
    let conn = database::connect(&source, &pool()).await.unwrap().db().clone();
    let client = TestClient::new(app(AppState::new(conn, Auth::dev(RoleNames::default()).unwrap())));
    assert_eq!(status(&client, "/books").await.0, 200);

    switch.down().await;
    for _ in 0..3 {
        let (code, retry_after, took) = status(&client, "/books").await;
        assert_eq!((code, retry_after.as_deref()), (503, Some("2")));
        assert!(took < Duration::from_secs(3), "failed fast: {took:?}");
    }
    assert_eq!(status(&client, "/health").await.0, 200, "liveness does not need the database");
    assert_eq!(status(&client, "/health/ready").await.0, 503);

    switch.up();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut recovered = false;
    while Instant::now() < deadline && !recovered {
        recovered = status(&client, "/books").await.0 == 200;
        if !recovered {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(recovered, "the same process serves again once the database is back");
    assert_eq!(status(&client, "/health/ready").await.0, 200);
}

#[tokio::test]
async fn a_cold_start_without_a_database_is_alive_but_not_ready() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let switch = Switch::start("127.0.0.1:5432".to_owned()).await;
    switch.down().await;
    let source = DbSource::Url(SecretUrl::new(through(&db.url, switch.port)));
    let conn = database::connect(&source, &pool())
        .await
        .expect("a lazy pool starts without its database")
        .db()
        .clone();
    let client = TestClient::new(app(AppState::new(conn, Auth::dev(RoleNames::default()).unwrap())));
    assert_eq!(status(&client, "/health").await.0, 200);
    let (code, _, took) = status(&client, "/health/ready").await;
    assert_eq!(code, 503);
    assert!(took < Duration::from_secs(3), "{took:?}");
    switch.up();
    assert_eq!(status(&client, "/books").await.0, 200);
}

/// A Lambda HTTP API event for `GET path` (the `$default` stage fixture, path swapped).
fn get_event(path: &str) -> lambda_http::Request {
    let file = format!("{}/tests/events/fixtures/http_v2_default.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["rawQueryString"] = "".into();
    event["queryStringParameters"] = serde_json::json!({});
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The API function as `bootstrap` builds it, logging in as `role` (trusted on loopback) with the default
/// pool settings: one connection, a 3 s acquire timeout.
async fn function_as(db: &TestDb, role: &str) -> ApiFunction {
    function_at(&format!("postgres://{role}@127.0.0.1:5432/{}?sslmode=disable", db.name())).await
}

/// The API function as `bootstrap` builds it over `url`, with the default pool settings.
async fn function_at(url: &str) -> ApiFunction {
    let config = LambdaConfig::from_lookup(|name| {
        let value = match name {
            "DATABASE_URL" => url,
            "DB_TLS_ALLOW_INSECURE" => "true",
            "LIBRIS_AUTH" => "jwt",
            "LIBRIS_AUTH_ISSUER" => "https://issuer.example",
            "LIBRIS_AUTH_AUDIENCE" => "libris",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap();
    assert_eq!(config.pool.acquire_timeout, Duration::from_secs(3), "the default this test is about");
    ApiFunction::with_aws(config, Aws::default()).await.unwrap()
}

/// PostgreSQL refuses a login at once when the budget is spent (SQLSTATE 53300, here a role's
/// `CONNECTION LIMIT 0`); sqlx would retry it for the whole acquire timeout. The function answers 503 with
/// `Retry-After` in a fraction of that, never a 500. It then backs off: for about a second the requests
/// that need a new connection get their 503 at once, without asking the server for a login (which cost
/// it a backend each, and in a storm kept it too busy to refuse quickly), while liveness still answers.
/// Once connections free up the same instance serves again by itself.
#[tokio::test]
async fn a_login_refused_for_lack_of_connections_is_a_fast_503_then_a_back_off_and_the_instance_recovers() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let role = format!("libris_capped_{}", db.name().trim_start_matches("libris_test_"));
    db.conn.execute_unprepared(&format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")).await.unwrap();
    let function = function_as(&db, &role).await;

    let (took, retry_after) = get(&function, "/books", 503).await;
    assert_eq!(retry_after.as_deref(), Some("2"));
    assert!(took < Duration::from_secs(1), "a refused login answered after {took:?}");
    // Without the back-off each of these would log in again, and a refusal is only known after a probe
    // that starts `PROBE_AFTER` in.
    for path in ["/books", "/books/1", "/health/ready", "/books"] {
        let (took, retry_after) = get(&function, path, 503).await;
        assert_eq!(retry_after.as_deref(), Some("2"), "{path}");
        assert!(took < database::PROBE_AFTER / 2, "{path}: backing off, yet answered after {took:?}");
    }
    assert_eq!(get(&function, "/health", 200).await.1, None, "liveness needs no login");

    db.conn.execute_unprepared(&format!("ALTER ROLE {role} CONNECTION LIMIT -1")).await.unwrap();
    let started = Instant::now();
    while function.handle(get_event("/health/ready")).await.unwrap().status() != 200 {
        assert!(started.elapsed() < database::FIRST_BACKOFF * 3, "the instance did not recover by itself");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    function.db().close().await.unwrap();
    db.conn.execute_unprepared(&format!("DROP ROLE {role}")).await.unwrap();
}

/// A database that cannot be reached at all (the connection cut at once) backs the instance off too: after
/// the first 503 the next ones come without a connection attempt, and the instance serves again by itself
/// once the database is back.
#[tokio::test]
async fn an_unreachable_database_backs_the_instance_off_until_it_is_back() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let switch = Switch::start("127.0.0.1:5432".to_owned()).await;
    switch.down().await;
    let url = format!("{}?sslmode=disable", through(&db.url, switch.port));
    let function = function_at(&url).await;

    get(&function, "/health/ready", 503).await;
    let attempts = switch.attempts.load(Ordering::SeqCst);
    assert!(attempts > 0);
    for _ in 0..3 {
        let (took, retry_after) = get(&function, "/health/ready", 503).await;
        assert_eq!(retry_after.as_deref(), Some("2"));
        assert!(took < database::PROBE_AFTER / 2, "backing off, yet answered after {took:?}");
    }
    assert_eq!(switch.attempts.load(Ordering::SeqCst), attempts, "no connection attempted while backing off");

    switch.up();
    let started = Instant::now();
    while function.handle(get_event("/health/ready")).await.unwrap().status() != 200 {
        assert!(started.elapsed() < database::MAX_BACKOFF + Duration::from_secs(4), "no recovery by itself");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    function.db().close().await.unwrap();
}

/// Serves `GET path` through the function, checks its status and returns how long it took and its
/// `Retry-After`.
async fn get(function: &ApiFunction, path: &str, expected: u16) -> (Duration, Option<String>) {
    let started = Instant::now();
    let response = function.handle(get_event(path)).await.unwrap();
    let took = started.elapsed();
    assert_eq!(response.status().as_u16(), expected, "{path}");
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (took, retry_after)
}
