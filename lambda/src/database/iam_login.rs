//! IAM mode's login (`DB_IAM_AUTH=true`): the pool's password is an RDS auth token (signed in
//! [`crate::iam`]), renewed before it is a minute old so every new connection presents a valid one.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool};
use settings::ExposeSecret;

use crate::iam::{TokenError, TokenSource};

/// A token older than this is replaced before an invocation's work. With [`crate::iam::TOKEN_LIFETIME`] at
/// 15 minutes, any connection an invocation opens in its first 14 minutes logs in with a valid token;
/// Lambda stops every invocation at 15. Renewing costs one HMAC chain and an options swap, so once a
/// minute at most is nothing.
pub const RENEW_AFTER: Duration = Duration::from_secs(60);

/// Keeps an IAM-mode pool's password a valid token.
///
/// Why this way: sqlx 0.9 opens every pool connection from one stored `PgConnectOptions` (sqlx-core 0.9.0
/// `pool/inner.rs`, `PoolInner::connect`, which clones them per attempt) and has no hook that runs
/// *before* a connection is opened: `after_connect` runs after the login and `before_acquire` only on idle
/// connections. A short `max_lifetime` does not help, since a new connection needs a new password, not an
/// old one sooner. What sqlx has is `Pool::set_connect_options`, which replaces the options for every later
/// connection and leaves open ones alone; so the token is renewed on the invocation path, before any
/// connection can be opened. Rebuilding the pool instead (as the rotation path does after SQLSTATE 28P01)
/// would drop the warm connection and pay a new TLS handshake every 15 minutes, and a background timer
/// would not run while Lambda freezes the process, which is exactly when tokens go stale. The rotation
/// path stays as the backstop: if the proxy still refuses a login, the pool is rebuilt with a new token.
pub(super) struct IamLogin {
    pool: PgPool,
    /// The connect options without a password.
    options: PgConnectOptions,
    tokens: TokenSource,
    issued: Mutex<SystemTime>,
}

impl std::fmt::Debug for IamLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the options: they hold the token.
        f.debug_struct("IamLogin").field("tokens", &self.tokens).finish_non_exhaustive()
    }
}

impl IamLogin {
    /// `pool` was opened with `options` and a token signed at `issued`.
    pub(super) fn new(
        pool: PgPool,
        options: PgConnectOptions,
        tokens: TokenSource,
        issued: SystemTime,
    ) -> Self {
        Self { pool, options, tokens, issued: Mutex::new(issued) }
    }

    pub(super) async fn renew_if_old(&self) -> Result<(), TokenError> {
        let issued = *self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        // A clock that went backwards makes the age unknown: renew.
        let age = self.tokens.now().duration_since(issued).unwrap_or(Duration::MAX);
        if age < RENEW_AFTER {
            return Ok(());
        }
        let (token, at) = self.tokens.token().await?;
        self.pool.set_connect_options(self.options.clone().password(token.expose_secret()));
        *self.issued.lock().unwrap_or_else(PoisonError::into_inner) = at;
        tracing::debug!("renewed the RDS auth token");
        Ok(())
    }
}
