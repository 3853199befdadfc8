//! Credential rotation against real stand-ins: moto's Secrets Manager server and a PostgreSQL role that
//! logs in with a password (scram-sha-256 from 127.0.0.1). The secret and the role's password are rotated
//! three times while requests run: none may fail.
//!
//! Needs `MOTO_SERVER` (the `moto_server` executable; `scripts/test` installs it) and a `pg_hba.conf` line
//! `host all libris_rotation 127.0.0.1/32 scram-sha-256` ahead of the trust lines (`scripts/test` adds it).
//! Without them the test is skipped, except in CI, where it fails.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_secretsmanager::Client as Secrets;
use lambda::config::{DbAuth, DbSource, LambdaConfig, Mode, PoolSettings, TlsMode};
use lambda::database::Aws;
use lambda::service::Service;
use migration::testkit::{Backend, TestDb};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

const ROLE: &str = "libris_rotation";

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

fn role_url(db: &TestDb, password: &str) -> String {
    let name = db.url.rsplit('/').next().unwrap();
    format!("postgres://{ROLE}:{password}@127.0.0.1:5432/{name}")
}

fn event() -> lambda_http::Request {
    let path = format!("{}/tests/events/fixtures/http_v2_default.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["rawQueryString"] = json!("limit=5");
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_secret_and_password_under_load_fails_no_request() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let Some((_moto, endpoint)) = start_moto().await else { return };
    let admin = &db.conn;
    let (first, mut password) = ("rotation-0".to_owned(), String::new());
    admin
        .execute_unprepared(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN \
             CREATE ROLE {ROLE} LOGIN; END IF; END $$; ALTER ROLE {ROLE} PASSWORD '{first}'; \
             GRANT ALL ON ALL TABLES IN SCHEMA public TO {ROLE}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {ROLE};"
        ))
        .await
        .unwrap();
    if Database::connect(role_url(&db, "not-the-password")).await.is_ok() {
        skip_or_fail(
            "PostgreSQL accepts a wrong password for libris_rotation: add its scram-sha-256 pg_hba line",
        );
        return;
    }
    Database::connect(role_url(&db, &first)).await.expect("the role logs in with its password");
    password.clone_from(&first);

    let sdk_config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version_latest()
        .endpoint_url(&endpoint)
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    let secrets = Secrets::from_conf(sdk_config);
    let secret =
        |password: &str| json!({ "username": ROLE, "password": password, "engine": "postgres" }).to_string();
    let created =
        secrets.create_secret().name("libris-db").secret_string(secret(&first)).send().await.unwrap();
    let arn = created.arn().unwrap().to_owned();

    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let config = LambdaConfig {
        mode: Mode::Api,
        database: DbSource::Proxy {
            host: "127.0.0.1".to_owned(),
            port: 5432,
            name: Some(name),
            auth: DbAuth::Secret { arn: arn.clone() },
            tls: TlsMode::Disable,
            extra_ca: None,
        },
        pool: PoolSettings { max_connections: 2, ..PoolSettings::default() },
        ..LambdaConfig::from_lookup(|name| {
            let value = match name {
                "DATABASE_URL" => "unused",
                "LIBRIS_AUTH" => "jwt",
                "LIBRIS_AUTH_ISSUER" => "https://issuer.example",
                "LIBRIS_AUTH_AUDIENCE" => "libris",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .unwrap()
    };
    let service = Arc::new(
        Service::with_aws(config, Aws { secrets: Some(secrets.clone()), credentials: None }).await.unwrap(),
    );

    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (service, served, failed) = (service.clone(), served.clone(), failed.clone());
        tokio::spawn(async move {
            for _ in 0..400 {
                let response = service.handle(event()).await.unwrap();
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
        password = format!("rotation-{round}");
        // As Secrets Manager's single-user rotation does: new secret version, then the role's password.
        secrets.put_secret_value().secret_id(&arn).secret_string(secret(&password)).send().await.unwrap();
        admin.execute_unprepared(&format!("ALTER ROLE {ROLE} PASSWORD '{password}'")).await.unwrap();
        // Connections opened with the old password stay valid in PostgreSQL; end them so the next request
        // needs a new login, as a recycled or failed-over connection would.
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'"
            ))
            .await
            .unwrap();
    }
    load.await.unwrap();
    assert_eq!(failed.load(Ordering::SeqCst), 0, "requests failed during rotation");
    assert_eq!(served.load(Ordering::SeqCst), 400);
    assert!(Database::connect(role_url(&db, &password)).await.is_ok(), "the role ended on the last password");
}
