//! The one-transaction path (PostgreSQL, SQLite): the key is taken, the operation runs and its answer is
//! stored in one transaction, so a keyed request commits once, as a plain one does, and its answer is kept
//! exactly when its effect is. A concurrent request with the same key finds the key's slot locked and is
//! answered 409 at once (`service::idempotency::take`).

use std::sync::Arc;

use chrono::Utc;
use poem::{Endpoint, IntoResponse, Request, Response};
use sea_orm::{DbErr, TransactionTrait};
use service::ServiceError;
use service::idempotency::{self as store, Taken, Terms};

use super::{Keyed, answer_of, in_flight, kept, kept_answer, replay, reused};
use crate::api::OperationTxn;
use crate::problem::ApiError;

impl Keyed {
    /// Answers the request, and says whether it ran (took its key).
    pub(super) async fn in_transaction<E: Endpoint>(
        &self,
        next: Arc<E>,
        req: Request,
        fingerprint: &[u8],
        terms: Terms,
    ) -> (Response, bool) {
        match self.run_in_transaction(next, req, fingerprint, terms).await {
            Ok(answered) => answered,
            // Nothing was committed: the operation did not happen, and a retry runs afresh.
            Err(error) => (error.into_response(), false),
        }
    }

    async fn run_in_transaction<E: Endpoint>(
        &self,
        next: Arc<E>,
        mut req: Request,
        fingerprint: &[u8],
        terms: Terms,
    ) -> Result<(Response, bool), ApiError> {
        let now = Utc::now();
        let txn = self.state.db.begin().await.map_err(db_error)?;
        let held = match store::take(&txn, self.scope(), fingerprint, now, terms.lease).await? {
            Taken::Ours(held) => held,
            Taken::Replay(answer) => return Ok((replay(answer), false)),
            Taken::InFlight => return Ok((in_flight(), false)),
            Taken::Mismatch => return Ok((reused(), false)),
        };
        // The operation gets a savepoint of its own: a refusal (404, 409) is kept without anything its
        // statements left, and on PostgreSQL a statement that failed (a unique key the operation turned
        // into a 409) would otherwise leave the whole transaction unable to store the answer.
        let operation = Arc::new(txn.begin().await.map_err(db_error)?);
        req.set_data(OperationTxn(Arc::clone(&operation)));
        let response = answer_of(&*next, req).await;
        let Ok(operation) = Arc::try_unwrap(operation) else {
            tracing::error!("an operation kept its transaction after it answered");
            return Err(ApiError::internal());
        };
        let status = response.status();
        if !kept(status) {
            // Refused before it could act, or failed on our side: nothing is kept, the key is free again.
            for rollback in [operation.rollback().await, txn.rollback().await] {
                if let Err(error) = rollback {
                    tracing::warn!(%error, "rolling back a keyed request failed; the connection drops it");
                }
            }
            return Ok((response, true));
        }
        if status.is_success() { operation.commit().await } else { operation.rollback().await }
            .map_err(db_error)?;
        let (answer, response) = kept_answer(response).await.map_err(|error| {
            tracing::error!(%error, "reading an answer to keep failed");
            ApiError::internal()
        })?;
        store::keep(&txn, held, self.scope(), fingerprint, answer, now, terms.ttl).await?;
        txn.commit().await.map_err(db_error)?;
        Ok((response, true))
    }
}

fn db_error(error: DbErr) -> ApiError {
    ServiceError::from(error).into()
}
