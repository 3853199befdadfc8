//! Credential rotation against real stand-ins: moto's Secrets Manager server and PostgreSQL roles that
//! log in with a password (scram-sha-256 from 127.0.0.1). The secret and the role's password are rotated
//! while requests run: none may fail.
//!
//! Needs `MOTO_SERVER` (the `moto_server` executable; `scripts/test` installs it) and a `pg_hba.conf` line
//! `host all +libris_rotation_roles 127.0.0.1/32 scram-sha-256` ahead of the trust lines (`scripts/test`
//! adds it). Without them the tests are skipped, except in CI, where they fail. Each run makes its own
//! roles, members of that group and dropped afterwards, so two runs on one machine do not collide.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_secretsmanager::Client as Secrets;
use lambda::config::{DbAuth, DbSource, LambdaConfig, Mode, PoolSettings, TlsMode};
use lambda::database::Aws;
use lambda::function::ApiFunction;
use migration::testkit::{Backend, TestDb};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

mod app_role;

fn skip_or_fail(message: &str) {
    assert!(!std::env::var("CI").is_ok_and(|ci| ci == "true"), "{message} (CI=true: this test must run)");
    eprintln!("skipped: {message}");
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_moto() -> Option<(Moto, String)> {
    let Ok(binary) = std::env::var("MOTO_SERVER") else {
        skip_or_fail("MOTO_SERVER is not set to a moto_server executable");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some((moto, format!("http://127.0.0.1:{port}")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not listen on {port}");
}

/// A Secrets Manager client for the moto server at `endpoint`.
fn moto_client(endpoint: &str) -> Secrets {
    let sdk_config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    Secrets::from_conf(sdk_config)
}

fn role_url(db: &TestDb, role: &str, password: &str) -> String {
    format!("postgres://{role}:{password}@127.0.0.1:5432/{}", db.name())
}

fn secret(role: &str, password: &str) -> String {
    json!({ "username": role, "password": password, "engine": "postgres" }).to_string()
}

/// The group whose members the pg_hba line makes log in with a password.
const ROLE_GROUP: &str = "libris_rotation_roles";

/// Drops this run's role once the test database (dropped first: it holds the role's privileges) is gone.
struct DropRole {
    server_url: Option<String>,
    role: String,
}

impl Drop for DropRole {
    fn drop(&mut self) {
        let (Some(server_url), role) = (self.server_url.take(), std::mem::take(&mut self.role)) else {
            return;
        };
        // Like TestDb's own drop: a short-lived thread with its own runtime, as this may run while unwinding.
        let handle = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let Ok(admin) = Database::connect(server_url).await else { return };
                if let Err(error) = admin.execute_unprepared(&format!("DROP ROLE IF EXISTS {role}")).await {
                    eprintln!("could not drop the test role {role}: {error}");
                }
                drop(admin.close().await);
            });
        });
        drop(handle.join());
    }
}

/// A migrated database, a role of this run that logs in with a password, moto holding that password as a
/// secret, and the function reading it (two pool connections at most).
struct Rig {
    db: TestDb,
    role: String,
    _moto: Moto,
    secrets: Secrets,
    arn: String,
    function: Arc<ApiFunction>,
    // Last: fields drop in order, so the database and the function's pool are gone before the role.
    _drop_role: DropRole,
}

impl Rig {
    async fn start(kind: &str) -> Option<Self> {
        let db = TestDb::migrated(Backend::Postgres).await?;
        let (moto, endpoint) = start_moto().await?;
        let first = "rotation-0";
        // Unique per run: the test database's random suffix.
        let role = format!("libris_{kind}_{}", db.name().trim_start_matches("libris_test_"));
        db.conn
            .execute_unprepared(&format!(
                "DO $$ BEGIN CREATE ROLE {ROLE_GROUP} NOLOGIN; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
                 CREATE ROLE {role} LOGIN IN ROLE {ROLE_GROUP} PASSWORD '{first}'; \
                 GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; \
                 GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};"
            ))
            .await
            .unwrap();
        let drop_role = DropRole { server_url: Backend::Postgres.server_url(), role: role.clone() };
        if Database::connect(role_url(&db, &role, "not-the-password")).await.is_ok() {
            skip_or_fail(&format!(
                "PostgreSQL accepts a wrong password for {role}: add the scram-sha-256 pg_hba line for +{ROLE_GROUP}"
            ));
            return None;
        }
        Database::connect(role_url(&db, &role, first)).await.expect("the role logs in with its password");

        let secrets = moto_client(&endpoint);
        let created =
            secrets.create_secret().name(&role).secret_string(secret(&role, first)).send().await.unwrap();
        let arn = created.arn().unwrap().to_owned();

        let config = LambdaConfig {
            mode: Mode::Api,
            database: DbSource::Proxy {
                host: "127.0.0.1".to_owned(),
                port: 5432,
                name: Some(db.name().to_owned()),
                auth: DbAuth::Secret { arn: arn.clone() },
                tls: TlsMode::Disable,
                extra_ca: None,
            },
            pool: PoolSettings { max_connections: 2, ..PoolSettings::default() },
            ..LambdaConfig::from_lookup(|name| {
                let value = match name {
                    "DATABASE_URL" => "postgres://unused/libris?sslmode=verify-full",
                    "LIBRIS_AUTH" => "jwt",
                    "LIBRIS_AUTH_ISSUER" => "https://issuer.example",
                    "LIBRIS_AUTH_AUDIENCE" => "libris",
                    _ => return None,
                };
                Some(value.to_owned())
            })
            .unwrap()
        };
        let aws = Aws { secrets: Some(secrets.clone()), credentials: None };
        let function = Arc::new(ApiFunction::with_aws(config, aws).await.unwrap());
        Some(Self { db, role, _moto: moto, secrets, arn, function, _drop_role: drop_role })
    }

    /// As Secrets Manager's single-user rotation does: a new secret version, then the role's password.
    /// Connections opened with the old password stay valid in PostgreSQL; those are then ended, so the
    /// next request needs a new login, as a recycled or failed-over connection would. Only those: one
    /// opened after the change has the new password, and ending it would be a failover, not a rotation.
    /// Three statements, not one: the new password counts only once `ALTER ROLE` has committed.
    async fn rotate(&self, password: &str) {
        let (role, admin) = (self.role.as_str(), &self.db.conn);
        let new_secret = secret(role, password);
        self.secrets.put_secret_value().secret_id(&self.arn).secret_string(new_secret).send().await.unwrap();
        let changed: String = self.scalar("SELECT clock_timestamp()::text").await;
        admin.execute_unprepared(&format!("ALTER ROLE {role} PASSWORD '{password}'")).await.unwrap();
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE usename = '{role}' AND backend_start < '{changed}'::timestamptz"
            ))
            .await
            .unwrap();
    }

    async fn scalar<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql);
        let row = self.db.conn.query_one_raw(statement).await.unwrap().unwrap();
        row.try_get_by_index(0).unwrap()
    }

    /// Waits until PostgreSQL has no backend left for the role, so every pooled connection is dead.
    async fn wait_for_no_backends(&self) {
        let count = format!("SELECT count(*) FROM pg_stat_activity WHERE usename = '{}'", self.role);
        for _ in 0..200 {
            if self.scalar::<i64>(&count).await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the role's backends did not end");
    }
}

fn event() -> lambda_http::Request {
    let path = format!("{}/tests/events/fixtures/http_v2_default.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["rawQueryString"] = json!("limit=5");
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_secret_and_password_under_load_fails_no_request() {
    let Some(rig) = Rig::start("rotation").await else { return };
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (function, served, failed) = (rig.function.clone(), served.clone(), failed.clone());
        tokio::spawn(async move {
            for _ in 0..400 {
                let response = function.handle(event()).await.unwrap();
                if response.status() == 200 {
                    served.fetch_add(1, Ordering::SeqCst);
                } else {
                    failed.fetch_add(1, Ordering::SeqCst);
                    eprintln!("failed: {} {:?}", response.status(), response.body());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    for round in 1..=3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        rig.rotate(&format!("rotation-{round}")).await;
    }
    load.await.unwrap();
    assert_eq!(failed.load(Ordering::SeqCst), 0, "requests failed during rotation");
    assert_eq!(served.load(Ordering::SeqCst), 400);
    assert!(
        Database::connect(role_url(&rig.db, &rig.role, "rotation-3")).await.is_ok(),
        "the role ended on the last password"
    );
}

/// The case the load test hits only now and then: every pooled connection is dead when the request
/// comes, so the connection the function might check the password with is dead too.
#[tokio::test]
async fn a_rotation_that_ended_every_pooled_connection_costs_no_request() {
    let Some(rig) = Rig::start("rotation_cut").await else { return };
    let pool = rig.function.db().get_postgres_connection_pool().clone();
    let (first, second) = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
    drop((first, second));
    for _ in 0..100 {
        if pool.num_idle() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pool.num_idle(), 2, "both connections are back in the pool");

    rig.rotate("rotation-1").await;
    rig.wait_for_no_backends().await;

    let response = rig.function.handle(event()).await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.body());
}
