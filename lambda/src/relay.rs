//! `TCP_NODELAY` for the pool's PostgreSQL connections, by way of a relay inside the process.
//!
//! Why: sqlx 0.9.0 opens TCP connections with a bare `tokio::net::TcpStream::connect` (sqlx-core 0.9.0,
//! `src/net/socket/mod.rs`, `connect_tcp`) and never sets `TCP_NODELAY`, nor offers a hook to. While a new
//! connection negotiates TLS and logs in, the client writes twice in a row without reading in between;
//! Nagle's algorithm then holds the second write back until the server acknowledges the first, and the
//! server delays that acknowledgement by up to 40 ms. Measured here: two such stalls per new connection,
//! a Lambda cold start of 99.6 ms with TLS against 12.2 ms without (`BENCHMARKS.md`).
//!
//! What sqlx does offer: given `PgConnectOptions::socket`, it connects over a Unix socket and still sends
//! the SSLRequest and runs the TLS handshake on it, naming and verifying the server by `host`
//! (sqlx-postgres 0.9.0, `src/connection/stream.rs` and `src/connection/tls.rs`). So the pool is pointed
//! at a Unix socket in a private directory, and each connection accepted there is carried to the real
//! host over a TCP connection opened here, with `TCP_NODELAY`. TLS, certificate checks and the login stay
//! in sqlx, end to end: the relay only ever sees ciphertext. The price is one in-process copy of each
//! message in each direction (measured in `BENCHMARKS.md`).
//!
//! Remove this module once a sqlx release sets `TCP_NODELAY` itself.

use std::fs::Permissions;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
use tempfile::TempDir;
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::task::JoinHandle;

/// A Unix socket whose connections are carried to one PostgreSQL host over `TCP_NODELAY` connections.
///
/// Dropping it stops accepting and removes its directory; connections it already carries run on until
/// either side closes them.
#[derive(Debug)]
pub struct NoDelayRelay {
    dir: TempDir,
    accept: JoinHandle<()>,
}

impl Drop for NoDelayRelay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Whether connections made with `options` benefit from the relay: TCP ones that may negotiate TLS.
/// Without TLS the login has no back-to-back writes to stall (12 ms cold starts), so they connect
/// directly and skip the copy.
#[must_use]
pub fn wanted(options: &PgConnectOptions) -> bool {
    let over_tcp = options.get_socket().is_none() && !options.get_host().starts_with('/');
    over_tcp && !matches!(options.get_ssl_mode(), PgSslMode::Disable | PgSslMode::Allow)
}

impl NoDelayRelay {
    /// Starts relaying to `options`' host and port, and returns the options that connect through the
    /// relay: the same in every other respect, `host` included, so TLS still verifies the real name.
    ///
    /// Each TCP connect gives up after `connect_timeout` (the pool's): sqlx's own connect would have no
    /// limit either, and while the database is down every attempt would hold a socket until the kernel
    /// gave up on the handshake, two minutes later.
    ///
    /// Must be called inside the Tokio runtime the pool runs on.
    ///
    /// # Errors
    /// When the directory or the socket cannot be made (no writable temporary directory).
    pub fn start(
        options: PgConnectOptions,
        connect_timeout: Duration,
    ) -> io::Result<(Arc<Self>, PgConnectOptions)> {
        // Only this process's user may connect: the relay hands out connections to the database.
        let dir = tempfile::Builder::new()
            .prefix("libris-pg-")
            .permissions(Permissions::from_mode(0o700))
            .tempdir()?;
        let port = options.get_port();
        // sqlx looks for `<socket dir>/.s.PGSQL.<port>`, as libpq does.
        let listener = UnixListener::bind(dir.path().join(format!(".s.PGSQL.{port}")))?;
        let host: Arc<str> = options.get_host().into();
        let accept = tokio::spawn(accept_loop(listener, Upstream { host, port, connect_timeout }));
        let routed = options.socket(dir.path());
        Ok((Arc::new(Self { dir, accept }), routed))
    }

    /// The directory holding the socket, as the routed options name it.
    #[must_use]
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Where the relay's connections go.
#[derive(Clone, Debug)]
struct Upstream {
    host: Arc<str>,
    port: u16,
    connect_timeout: Duration,
}

/// How often a run of failing accepts is logged: one line per interval, with the count of the others.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// The pause after a failed accept, doubling while accepts keep failing.
const ACCEPT_RETRY_FIRST: Duration = Duration::from_millis(10);
const ACCEPT_RETRY_MAX: Duration = Duration::from_secs(1);

async fn accept_loop(listener: UnixListener, upstream: Upstream) {
    let mut log = LogThrottle::new(ACCEPT_LOG_INTERVAL);
    let mut retry = ACCEPT_RETRY_FIRST;
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                retry = ACCEPT_RETRY_FIRST;
                tokio::spawn(carry(client, upstream.clone()));
            }
            Err(error) => {
                // Out of file descriptors, most likely: the pending connection waits in the backlog. That
                // lasts, so one line per interval says it without flooding the log.
                if let Some(suppressed) = log.admit(Instant::now()) {
                    tracing::warn!(%error, suppressed, "database relay: cannot accept a connection");
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(ACCEPT_RETRY_MAX);
            }
        }
    }
}

/// Lets one event through per interval and counts the ones it holds back.
#[derive(Debug)]
struct LogThrottle {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogThrottle {
    fn new(interval: Duration) -> Self {
        Self { interval, last: None, suppressed: 0 }
    }

    /// `Some(n)` when this event is to be logged, `n` being how many were held back since the last one.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        if self.last.is_some_and(|last| now.saturating_duration_since(last) < self.interval) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

async fn carry(mut client: UnixStream, upstream: Upstream) {
    let Upstream { host, port, connect_timeout } = upstream;
    let connected = tokio::time::timeout(connect_timeout, connect_nodelay(&host, port)).await;
    let mut server = match connected {
        Ok(Ok(server)) => server,
        failed => {
            // Dropping the client with its first message unread makes sqlx's next read fail with
            // ECONNRESET: an I/O error, as a failed direct connection gives, so the service still answers
            // 503. The cause is only here, so it is logged.
            let error = match failed {
                Ok(Err(error)) => error.to_string(),
                _ => format!("no answer within {} ms", connect_timeout.as_millis()),
            };
            tracing::warn!(%error, %host, port, "cannot connect to the database");
            return;
        }
    };
    // Either side closing ends the copy; an error means one side is gone, and sqlx sees it on its end.
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// A TCP connection to `host:port` that sends each write at once.
async fn connect_nodelay(host: &str, port: u16) -> io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests;
