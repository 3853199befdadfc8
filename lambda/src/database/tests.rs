#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use aws_credential_types::Credentials;
use sea_orm::RuntimeErr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::iam::auth_token;

#[test]
fn the_rds_secret_shape_parses_and_never_prints_its_password() {
    let secret: DbSecret = serde_json::from_str(
        r#"{"username":"libris","password":"p@ss:w/rd","engine":"postgres","host":"h","port":5432,"dbname":"libris"}"#,
    )
    .unwrap();
    assert_eq!((secret.username.as_str(), secret.password.expose_secret()), ("libris", "p@ss:w/rd"));
    assert!(!format!("{secret:?}").contains("p@ss"));
}

/// A PostgreSQL stand-in that asks each client for a cleartext password (as RDS Proxy does with IAM
/// authentication), records the user and password, and refuses the login with SQLSTATE 28P01 (as it does
/// an expired token).
async fn recording_server() -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let logins = Arc::new(Mutex::new(Vec::new()));
    let record = logins.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let login = refuse_login(&mut client).await.unwrap();
            record.lock().unwrap().push(login);
        }
    });
    (port, logins)
}

async fn refuse_login(client: &mut TcpStream) -> std::io::Result<(String, String)> {
    let length = client.read_u32().await?;
    let mut startup = vec![0; usize::try_from(length).unwrap() - 4];
    client.read_exact(&mut startup).await?;
    // protocol version, then NUL-terminated key/value pairs
    let fields: Vec<String> =
        startup[4..].split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let user = fields.chunks(2).find(|kv| kv[0] == "user").map(|kv| kv[1].clone()).unwrap_or_default();
    client.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).await?; // AuthenticationCleartextPassword
    assert_eq!(client.read_u8().await?, b'p');
    let length = client.read_u32().await?;
    let mut password = vec![0; usize::try_from(length).unwrap() - 4];
    client.read_exact(&mut password).await?;
    password.pop(); // the NUL
    let fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed (recorded)\0\0";
    let mut error = vec![b'E'];
    error.extend_from_slice(&(u32::try_from(fields.len()).unwrap() + 4).to_be_bytes());
    error.extend_from_slice(fields);
    client.write_all(&error).await?;
    Ok((user, String::from_utf8(password).unwrap()))
}

#[tokio::test]
async fn new_connections_log_in_with_the_token_renewed_once_it_is_a_minute_old() {
    let (port, logins) = recording_server().await;
    let start = 1_714_979_289;
    let now = Arc::new(AtomicU64::new(start));
    let clock: Clock = {
        let now = now.clone();
        Arc::new(move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
    };
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("session".to_owned()), None, "test");
    let source = DbSource::Proxy {
        host: "127.0.0.1".to_owned(),
        port,
        name: Some("libris".to_owned()),
        auth: DbAuth::Iam { user: "libris_app".to_owned(), region: "eu-west-1".to_owned() },
        tls: TlsMode::Disable,
        extra_ca: None,
    };
    let aws = Aws { secrets: None, credentials: Some(SharedCredentialsProvider::new(credentials.clone())) };
    let pool = connect_at(&source, &PoolSettings::default(), &aws, clock).await.unwrap();
    assert!(!format!("{pool:?}").contains("X-Amz-Signature"), "the token never prints");

    let mut expected = Vec::new();
    for (advance, renewed_at) in
        [(0, start), (59, start), (1, start + 60), (30, start + 60), (600, start + 690)]
    {
        now.fetch_add(advance, Ordering::SeqCst);
        pool.renew_login().await.unwrap();
        // Each ping needs a new connection: the stand-in refuses every login.
        let refused = pool.db().ping().await.unwrap_err();
        let DbErr::Conn(RuntimeErr::SqlxError(error)) = &refused else { panic!("{refused}") };
        assert!(refused_for_credentials(error), "{refused}");
        let target = TokenTarget {
            host: "127.0.0.1".to_owned(),
            port,
            user: "libris_app".to_owned(),
            region: "eu-west-1".to_owned(),
        };
        let token = auth_token(&target, &credentials, UNIX_EPOCH + Duration::from_secs(renewed_at)).unwrap();
        expected.push(("libris_app".to_owned(), token.expose_secret().to_owned()));
    }
    assert_eq!(*logins.lock().unwrap(), expected);
}

fn url_source(port: u16) -> DbSource {
    DbSource::Url(SecretUrl::new(format!(
        "postgres://libris_app:old@127.0.0.1:{port}/libris?sslmode=disable"
    )))
}

#[tokio::test]
async fn a_login_refused_with_28p01_counts_as_refused_credentials() {
    let (port, logins) = recording_server().await;
    let pool = connect_with(&url_source(port), &PoolSettings::default(), &Aws::default()).await.unwrap();
    assert!(pool.login_refused().await);
    assert_eq!(
        *logins.lock().unwrap(),
        [("libris_app".to_owned(), "old".to_owned())],
        "one login of its own"
    );
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_has_not_refused_the_credentials() {
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port(); // now closed
    let pool = connect_with(&url_source(port), &PoolSettings::default(), &Aws::default()).await.unwrap();
    assert!(!pool.login_refused().await);
}

#[tokio::test]
async fn a_database_that_never_answers_has_not_refused_the_credentials_once_the_acquire_timeout_passes() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap(); // accepts into its backlog, never answers
    let port = silent.local_addr().unwrap().port();
    let settings = PoolSettings { acquire_timeout: Duration::from_millis(200), ..PoolSettings::default() };
    let pool = connect_with(&url_source(port), &settings, &Aws::default()).await.unwrap();
    let checked = tokio::time::timeout(Duration::from_secs(5), pool.login_refused()).await;
    assert_eq!(checked, Ok(false), "gave up after the acquire timeout, not the 5 s guard");
}

#[tokio::test]
async fn iam_mode_without_credentials_fails_at_cold_start() {
    let source = DbSource::Proxy {
        host: "proxy.example".to_owned(),
        port: 5432,
        name: None,
        auth: DbAuth::Iam { user: "libris_app".to_owned(), region: "eu-west-1".to_owned() },
        tls: TlsMode::VerifyFull,
        extra_ca: None,
    };
    let error = connect_with(&source, &PoolSettings::default(), &Aws::default()).await.unwrap_err();
    assert!(matches!(error, DbSetupError::Iam(TokenError::NoCredentialsProvider)), "{error}");
}
