//! The autocommit path (MariaDB/MySQL): claim the key, run the operation, keep its answer, each its own
//! commit. A running request is a key row without an answer; a request that dies gives its key back
//! (or its lease runs out). See `service::idempotency` for why MariaDB keeps this path.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};
use sea_orm::DatabaseConnection;
use service::idempotency::{self as store, Claim, Scope, Terms};

use super::{Keyed, answer_of, in_flight, kept, kept_answer, replay, reused};
use crate::problem::ApiError;

impl Keyed {
    /// Answers the request, and says whether it ran (claimed its key).
    pub(super) async fn autocommit<E: Endpoint>(
        &self,
        next: Arc<E>,
        req: Request,
        fingerprint: &[u8],
        terms: Terms,
    ) -> poem::Result<(Response, bool)> {
        let db = &self.state.db;
        match store::claim(db, self.scope(), fingerprint, terms).await {
            Err(error) => return Ok((ApiError::from(error).into_response(), false)),
            Ok(Claim::Replay(answer)) => return Ok((replay(answer), false)),
            Ok(Claim::InFlight) => return Ok((in_flight(), false)),
            Ok(Claim::Mismatch) => return Ok((reused(), false)),
            Ok(Claim::Claimed) => {}
        }
        // Gives the key back if the request is dropped (timed out, client gone) before it finishes.
        let mut guard = Release {
            db: db.clone(),
            scope: Some((self.caller.clone(), self.key.clone())),
            operation: self.operation,
        };
        let response = answer_of(&*next, req).await;
        if !kept(response.status()) {
            guard.scope = None;
            if let Err(error) = store::release(db, self.scope()).await {
                tracing::warn!(%error, "releasing an idempotency key failed; it frees itself after its lease");
            }
            return Ok((response, true));
        }
        let (answer, response) = kept_answer(response).await?;
        guard.scope = None;
        if let Err(error) = store::complete(db, self.scope(), answer).await {
            // The operation happened: answer it. A retry will find the key running until its lease ends.
            tracing::error!(error = %crate::CauseChain(&error), "keeping an idempotent answer failed");
        }
        Ok((response, true))
    }
}

/// Releases a claimed key when the request is dropped before it finished (the time limit, a client that
/// went away), so a retry does not wait for the lease.
struct Release {
    db: DatabaseConnection,
    scope: Option<(String, String)>,
    operation: &'static str,
}

impl Drop for Release {
    fn drop(&mut self) {
        let Some((caller, key)) = self.scope.take() else { return };
        let (db, operation) = (self.db.clone(), self.operation);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let scope = Scope { caller: &caller, operation, key: &key };
                if let Err(error) = store::release(&db, scope).await {
                    tracing::warn!(%error, "releasing an abandoned idempotency key failed");
                }
            });
        }
    }
}
