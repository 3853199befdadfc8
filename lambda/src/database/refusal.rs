//! Telling a refused login apart from a slow one, so that a database with no connection to spare costs a
//! request about a tenth of a second instead of the pool's whole acquire timeout.
//!
//! Why this is needed: sqlx's pool retries a login that PostgreSQL refuses with SQLSTATE 53300 (too many
//! connections) or 57P03 (cannot connect now) until the acquire timeout runs out, because it takes both
//! for passing states (sqlx-core 0.9.0, `src/pool/inner.rs`, `PoolInner::connect`; sqlx-postgres 0.9.0,
//! `is_transient_in_connect_phase`), and it offers no hook to see them. Under a Lambda storm against a
//! capped database that means every refused instance holds its invocation (and its client) for 3 s before
//! answering 503: the very burst that exhausted the budget keeps it exhausted.
//!
//! How: the pool counts the logins it completes ([`Logins`]). A request that starts with no connection
//! open must log in; while that login has not completed, a login of our own asks the server every
//! [`PROBE_AFTER`] (from the first [`PROBE_AFTER`] on), and a refusal for lack of connections ends the
//! request with a 503 at once. A login that merely takes long (a busy proxy, a slow network) is left alone:
//! the probes are only questions, and an instance with a connection open never probes at all.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::postgres::PgPool;

/// How long a login may take before the probe asks whether it is being refused. A login on loopback takes
/// ~3 ms, through RDS Proxy over TLS tens of milliseconds; sqlx's own retries after a refusal come at
/// 10, 30, 70 and 150 ms.
pub const PROBE_AFTER: Duration = Duration::from_millis(100);

/// The number of logins the pool has completed, counted by its `after_connect` callback.
#[derive(Debug, Default)]
pub struct Logins(AtomicU64);

impl Logins {
    pub(super) fn completed(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The SQLSTATEs with which PostgreSQL refuses a login it may accept later, and which sqlx therefore
/// retries: too_many_connections (also a role's or database's `CONNECTION LIMIT`) and cannot_connect_now.
pub fn refused_for_capacity(error: &sea_orm::sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == "53300" || code == "57P03")
}

/// A future that resolves only if the login a request is waiting for is being refused for capacity, or
/// `None` when the pool already holds a connection (nothing to watch).
pub(super) fn watch(pool: &PgPool, logins: &Arc<Logins>) -> Option<impl Future<Output = ()> + use<>> {
    if pool.size() > 0 {
        return None;
    }
    let (pool, logins, before) = (pool.clone(), logins.clone(), logins.count());
    Some(async move {
        tokio::time::sleep(PROBE_AFTER).await;
        // Until the pool's own login completes: a probe that got in proves only that a slot was free at
        // that moment, which others may take before sqlx's next retry (measured in a storm: most refused
        // requests still waited the whole timeout after one successful probe), so ask again.
        while logins.count() == before {
            if try_login(&pool, PROBE_TIMEOUT).await.is_some_and(|e| refused_for_capacity(&e)) {
                return;
            }
            tokio::time::sleep(PROBE_AFTER).await;
        }
        std::future::pending::<()>().await;
    })
}

/// How long one probe may take: a login slower than this says nothing either way, and the next probe
/// should not wait for it. (A login takes milliseconds; a server too busy to answer one in a second is not
/// refusing it.)
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One login of our own with the pool's options, bounded by its acquire timeout (and by `limit`) and
/// closed at once: the error the server answered, or `None` when it let us in (or did not answer in time,
/// which says nothing).
pub(super) async fn try_login(pool: &PgPool, limit: Duration) -> Option<sea_orm::sqlx::Error> {
    let options = pool.connect_options();
    match tokio::time::timeout(pool.options().get_acquire_timeout().min(limit), options.connect()).await {
        Ok(Ok(connection)) => {
            drop(connection.close().await);
            None
        }
        Ok(Err(error)) => Some(error),
        Err(_elapsed) => None,
    }
}
