#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

use super::*;

const SECOND: Duration = Duration::from_secs(1);

fn options(url: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url).unwrap()
}

/// A TCP server that answers every connection by echoing what it reads.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    port
}

async fn dial(relay: &NoDelayRelay, port: u16) -> UnixStream {
    UnixStream::connect(relay.socket_dir().join(format!(".s.PGSQL.{port}"))).await.unwrap()
}

#[test]
fn only_tcp_connections_that_may_use_tls_are_relayed() {
    for (url, relayed) in [
        ("postgres://h/db", true), // sqlx's default is `prefer`
        ("postgres://h/db?sslmode=prefer", true),
        ("postgres://h/db?sslmode=require", true),
        ("postgres://h/db?sslmode=verify-full", true),
        ("postgres://h/db?sslmode=disable", false),
        ("postgres://h/db?sslmode=allow", false),
        ("postgres:///db?host=/var/run/postgresql&sslmode=require", false),
    ] {
        assert_eq!(wanted(&options(url)), relayed, "{url}");
    }
    let socket = options("postgres://h/db?sslmode=require").socket("/run/postgresql");
    assert!(!wanted(&socket), "an explicit socket");
}

#[tokio::test]
async fn the_routed_options_keep_host_port_and_tls_and_name_the_relay_socket() {
    let original = options("postgres://u:p@db.example:6543/libris?sslmode=verify-full");
    let (relay, routed) = NoDelayRelay::start(original, SECOND).unwrap();
    assert_eq!(routed.get_host(), "db.example", "TLS verifies the real name");
    assert_eq!(routed.get_port(), 6543);
    assert!(matches!(routed.get_ssl_mode(), PgSslMode::VerifyFull));
    assert_eq!(routed.get_socket().map(PathBuf::as_path), Some(relay.socket_dir()));
    assert!(relay.socket_dir().join(".s.PGSQL.6543").exists());
}

#[tokio::test]
async fn bytes_cross_the_relay_both_ways_and_the_socket_is_private() {
    let port = echo_server().await;
    let (relay, _) =
        NoDelayRelay::start(options(&format!("postgres://127.0.0.1:{port}/db")), SECOND).unwrap();
    let mode = std::fs::metadata(relay.socket_dir()).unwrap().mode();
    assert_eq!(mode & 0o777, 0o700, "only this user may reach the database through it");

    let mut client = dial(&relay, port).await;
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (mut read, mut write) = client.split();
    let sent = async {
        write.write_all(&message).await.unwrap();
        write.shutdown().await.unwrap();
    };
    let mut echoed = Vec::new();
    let (_, received) = tokio::join!(sent, read.read_to_end(&mut echoed));
    assert_eq!(received.unwrap(), message.len());
    assert_eq!(echoed, message, "every byte, in order; the server's close ends the client's stream");
}

#[tokio::test]
async fn the_tcp_side_sends_each_write_at_once() {
    let port = echo_server().await;
    let stream = connect_nodelay("127.0.0.1", port).await.unwrap();
    assert!(stream.nodelay().unwrap());
}

#[tokio::test]
async fn an_unreachable_database_resets_the_client_connection() {
    // A port nothing listens on: bind one, note it, close it.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let (relay, _) =
        NoDelayRelay::start(options(&format!("postgres://127.0.0.1:{port}/db")), SECOND).unwrap();
    let mut client = dial(&relay, port).await;
    let mut reply = [0u8; 1];
    let outcome = async {
        client.write_all(&[0, 0, 0, 8, 4, 210, 22, 47]).await?; // SSLRequest, as sqlx sends first
        client.read(&mut reply).await
    };
    // Reset if the relay gave up after the request arrived, a broken pipe if before: never an orderly end
    // of stream, which sqlx would misread as the server's answer.
    let error = outcome.await.expect_err("an I/O error, as sqlx's own connect gives");
    assert!(matches!(error.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe), "{error:?}");
}

#[tokio::test]
async fn dropping_the_relay_removes_its_socket() {
    let (relay, _) = NoDelayRelay::start(options("postgres://127.0.0.1:5999/db"), SECOND).unwrap();
    let dir = relay.socket_dir().to_owned();
    drop(relay);
    assert!(!dir.exists());
}

/// A loopback listener whose accept queue is full: the kernel drops further SYNs, so a connect to it
/// hangs as one to a dead host does, without any traffic leaving the machine. Keep the returned
/// connections and listener alive for as long as it must stay full.
fn black_hole() -> (u16, TcpListener, Vec<std::net::TcpStream>) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let address = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(stream) => held.push(stream),
            Err(_) => return (address.port(), listener, held),
        }
    }
    panic!("the accept queue never filled");
}

#[tokio::test]
async fn a_connect_that_gets_no_answer_is_given_up_after_the_connect_timeout() {
    let (port, _listener, _held) = tokio::task::spawn_blocking(black_hole).await.unwrap();
    let timeout = Duration::from_millis(300);
    let (relay, _) =
        NoDelayRelay::start(options(&format!("postgres://127.0.0.1:{port}/db")), timeout).unwrap();
    let mut client = dial(&relay, port).await;
    let started = Instant::now();
    let mut reply = [0u8; 1];
    let outcome = async {
        client.write_all(&[0, 0, 0, 8, 4, 210, 22, 47]).await?; // SSLRequest
        client.read(&mut reply).await
    };
    let answered = tokio::time::timeout(Duration::from_secs(5), outcome).await;
    let error =
        answered.expect("the relay gives up, not the kernel two minutes later").expect_err("an I/O error");
    assert!(matches!(error.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe), "{error:?}");
    let waited = started.elapsed();
    assert!(waited >= timeout && waited < Duration::from_secs(2), "gave up after {waited:?}");
}

#[test]
fn failing_accepts_are_logged_once_per_interval_with_a_count_of_the_others() {
    let mut throttle = LogThrottle::new(Duration::from_secs(10));
    let start = Instant::now();
    let logged: Vec<(u64, u64)> = (0..2_500_u64)
        .filter_map(|i| throttle.admit(start + Duration::from_millis(i * 10)).map(|held| (i * 10, held)))
        .collect();
    assert_eq!(logged, [(0, 0), (10_000, 999), (20_000, 999)], "three lines for 2,500 failures in 25 s");
}
