//! RDS Proxy settings against the local PostgreSQL, which has TLS on with Debian's self-signed "snakeoil"
//! certificate (`CN=localhost`, `DNS:localhost`): `DB_TLS=verify-full` refuses it, since it is in neither
//! the public roots nor the RDS bundle; it connects once `DB_TLS_EXTRA_CA` names that certificate, and
//! then still refuses a host name the certificate does not carry. The login is IAM mode's
//! (`DB_IAM_AUTH=true`, the token signed with fixed keys); the local server trusts loopback logins, so
//! this shows the whole cold-start path, not the token (the crate's unit tests check the token against
//! botocore's and that each new connection presents a fresh one). A last test signs awkward inputs with
//! botocore and with this crate, and compares.
//!
//! Needs PostgreSQL on 127.0.0.1 with `ssl = on`, and `MOTO_SERVER` in the venv that has botocore, as
//! `scripts/test` has them. Otherwise the tests are skipped, except in CI, where they fail.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use lambda::config::LambdaConfig;
use lambda::database::{self, Aws};
use lambda::function::ApiFunction;
use migration::testkit::{Backend, TestDb};
use rustls::{CertificateError, Error as TlsError};
use sea_orm::{ConnectionTrait, DbErr, RuntimeErr, Statement};
use serde_json::{Value, json};

fn skip_or_fail(message: &str) {
    assert!(!std::env::var("CI").is_ok_and(|ci| ci == "true"), "{message} (CI=true: this test must run)");
    eprintln!("skipped: {message}");
}

/// A fresh database on a local server that speaks TLS, and the server's certificate file.
async fn tls_server() -> Option<(TestDb, String)> {
    let db = TestDb::migrated(Backend::Postgres).await?;
    if !db.url.starts_with("postgres://postgres@127.0.0.1:5432/") {
        skip_or_fail("needs the local PostgreSQL (postgres@127.0.0.1:5432, trusted on loopback)");
        return None;
    }
    let show = |setting: &str| {
        let statement = Statement::from_string(db.conn.get_database_backend(), format!("SHOW {setting}"));
        let conn = &db.conn;
        async move {
            let row = conn.query_one_raw(statement).await.unwrap().unwrap();
            row.try_get_by_index::<String>(0).unwrap()
        }
    };
    let cert_file = show("ssl_cert_file").await;
    if show("ssl").await != "on" || std::fs::metadata(&cert_file).is_err() {
        skip_or_fail("PostgreSQL has no TLS, or its certificate file cannot be read here");
        return None;
    }
    Some((db, cert_file))
}

/// IAM mode through "RDS Proxy" at `host`, verify-full, with `extra` settings.
fn config(db: &TestDb, host: &str, extra: &[(&str, &str)]) -> LambdaConfig {
    let mut vars = vec![
        ("DB_HOST", host.to_owned()),
        ("DB_NAME", db.name().to_owned()),
        ("DB_IAM_AUTH", "true".to_owned()),
        ("DB_USER", "postgres".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("DB_TLS", "verify-full".to_owned()),
        ("LIBRIS_AUTH", "jwt".to_owned()),
        ("LIBRIS_AUTH_ISSUER", "https://issuer.example".to_owned()),
        ("LIBRIS_AUTH_AUDIENCE", "libris".to_owned()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    LambdaConfig::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).unwrap()
}

fn aws() -> Aws {
    let keys =
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "test");
    Aws { secrets: None, credentials: Some(SharedCredentialsProvider::new(keys)) }
}

/// The rustls error under a failed connection, if TLS is what failed.
fn tls_error(error: &DbErr) -> Option<&TlsError> {
    let (DbErr::Conn(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_error))) = error
    else {
        return None;
    };
    match sqlx_error.as_ref() {
        sea_orm::sqlx::Error::Tls(source) => source.downcast_ref::<TlsError>(),
        // A refused handshake surfaces from rustls's I/O as an `InvalidData` error around the rustls one.
        sea_orm::sqlx::Error::Io(io) => io.get_ref().and_then(|e| e.downcast_ref::<TlsError>()),
        _ => None,
    }
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_outside_the_public_roots_and_the_rds_bundle() {
    let Some((db, _)) = tls_server().await else { return };
    let config = config(&db, "localhost", &[]);
    let pool = database::connect_with(&config.database, &config.pool, &aws()).await.unwrap();
    assert!(pool.relayed(), "TLS connections go through the TCP_NODELAY relay; sqlx still verifies");
    let error = pool.db().ping().await.expect_err("snakeoil is not an RDS certificate");
    eprintln!("refused as expected: {error}");
    assert!(
        matches!(tls_error(&error), Some(TlsError::InvalidCertificate(CertificateError::UnknownIssuer))),
        "{error:?}"
    );
    assert!(error.to_string().contains("invalid peer certificate: UnknownIssuer"), "{error}");
}

#[tokio::test]
async fn verify_full_trusts_an_extra_ca_and_still_checks_the_host_name() {
    let Some((db, cert_file)) = tls_server().await else { return };
    let config = config(&db, "localhost", &[("DB_TLS_EXTRA_CA", &cert_file)]);
    let function = ApiFunction::with_aws(config, aws()).await.unwrap();
    let path = format!("{}/tests/events/fixtures/http_v2_default.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["rawQueryString"] = json!("limit=5");
    let response =
        function.handle(lambda_http::request::from_str(&event.to_string()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let ssl: bool = function
        .db()
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert!(ssl, "the connection is encrypted");

    // The certificate names localhost, not 127.0.0.1.
    let config = self::config(&db, "127.0.0.1", &[("DB_TLS_EXTRA_CA", &cert_file)]);
    let pool = database::connect_with(&config.database, &config.pool, &aws()).await.unwrap();
    let error = pool.db().ping().await.expect_err("the host name is checked");
    assert!(
        matches!(
            tls_error(&error),
            Some(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{error:?}"
    );
}

/// A live cross-check beside the unit tests' fixed vectors: botocore (the venv `scripts/test` makes for
/// moto, found next to `MOTO_SERVER`) and this crate sign the same awkward inputs, and the tokens must be
/// the same strings.
#[test]
fn tokens_match_botocore_for_awkward_inputs() {
    let Some(python) = std::env::var("MOTO_SERVER")
        .ok()
        .map(|moto| std::path::Path::new(&moto).with_file_name("python"))
        .filter(|python| python.exists())
    else {
        skip_or_fail("MOTO_SERVER is not set to the venv's moto_server, whose python has botocore");
        return;
    };
    let cases = json!([
        ["libris_app", 5432, "eu-west-1", 1_714_979_289, null],
        ["app user@x", 6432, "us-east-2", 1_700_000_000, "IQoJb3JpZ2luX2Vj/Ab+Cd==x"],
        ["ünïcødé+~.-_/=&?%", 5432, "ap-southeast-2", 2_000_000_000, "tok~en"],
    ]);
    let script = r#"
import datetime, json, sys, botocore.auth, botocore.session
for user, port, region, at, token in json.load(sys.stdin):
    when = datetime.datetime.fromtimestamp(at, datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *a, **k: when
    s = botocore.session.get_session()
    s.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    print(s.create_client("rds", region_name=region).generate_db_auth_token("db.example.com", port, user))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), cases.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let expected: Vec<String> =
        String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
    let ours: Vec<String> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let target = lambda::iam::TokenTarget {
                host: "db.example.com".to_owned(),
                port: u16::try_from(case[1].as_u64().unwrap()).unwrap(),
                user: case[0].as_str().unwrap().to_owned(),
                region: case[2].as_str().unwrap().to_owned(),
            };
            let keys = Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                case[4].as_str().map(str::to_owned),
                None,
                "test",
            );
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(case[3].as_u64().unwrap());
            settings::ExposeSecret::expose_secret(&lambda::iam::auth_token(&target, &keys, at).unwrap())
                .to_owned()
        })
        .collect();
    assert_eq!(ours, expected);
}
