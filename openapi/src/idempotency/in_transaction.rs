//! The one-transaction path (PostgreSQL, SQLite): the key is taken, the operation runs and its answer is
//! stored in one transaction, so a keyed request commits once, as a plain one does, and its answer is kept
//! exactly when its effect is. A concurrent request with the same key finds the key's slot locked and is
//! answered 409 at once (`service::idempotency::take`).

use std::sync::Arc;

use chrono::Utc;
use poem::{Endpoint, IntoResponse, Request, Response};
use sea_orm::{DatabaseTransaction, DbErr, TransactionTrait};
use service::ServiceError;
use service::idempotency::{self as store, Answer, Taken, Terms};

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
        // Every way out rolls back explicitly: a transaction merely dropped leaves its ROLLBACK queued on
        // the pooled connection, and with it the slot's lock, until that connection is next used.
        let held = match store::take(&txn, self.scope(), fingerprint, now, terms.lease).await {
            Ok(Taken::Ours(held)) => held,
            Ok(other) => {
                rollback(txn).await;
                return Ok((not_ours(other), false));
            }
            Err(error) => {
                rollback(txn).await;
                return Err(error.into());
            }
        };
        let txn = Arc::new(txn);
        req.set_data(OperationTxn(Arc::clone(&txn)));
        let response = answer_of(&*next, req).await;
        let Ok(txn) = Arc::try_unwrap(txn) else {
            tracing::error!("an operation kept its transaction after it answered");
            return Err(ApiError::internal());
        };
        let status = response.status();
        if !kept(status) {
            // Refused before it could act, or failed on our side: nothing is kept, the key is free again.
            rollback(txn).await;
            return Ok((response, true));
        }
        let (answer, response) = kept_answer(response).await.map_err(|error| {
            tracing::error!(%error, "reading an answer to keep failed");
            ApiError::internal()
        })?;
        if !status.is_success() {
            // A refusal (404, 409) changed nothing, but the statement that found the conflict may have
            // failed, and on PostgreSQL that spoils the rest of the transaction: start afresh to keep it.
            // (A savepoint around every operation would spare this, at two more round trips each.)
            rollback(txn).await;
            return self.keep_refusal(answer, response, fingerprint, terms).await;
        }
        match store::keep(&txn, held, self.scope(), fingerprint, answer, now, terms.ttl).await {
            Ok(true) => {}
            Ok(false) => {
                // Another request with this key committed as our slot lock was taken: ours must not happen.
                rollback(txn).await;
                return self.kept_elsewhere(fingerprint, terms).await;
            }
            Err(error) => {
                rollback(txn).await;
                return Err(error.into());
            }
        }
        txn.commit().await.map_err(db_error)?;
        Ok((response, true))
    }

    /// Keeps a refusal in a transaction of its own, unless another request with the key got there
    /// meanwhile: then its answer stands.
    async fn keep_refusal(
        &self,
        answer: Answer,
        response: Response,
        fingerprint: &[u8],
        terms: Terms,
    ) -> Result<(Response, bool), ApiError> {
        let now = Utc::now();
        let txn = self.state.db.begin().await.map_err(db_error)?;
        let kept = match store::take(&txn, self.scope(), fingerprint, now, terms.lease).await {
            Ok(Taken::Ours(held)) => {
                store::keep(&txn, held, self.scope(), fingerprint, answer, now, terms.ttl).await
            }
            Ok(other) => {
                rollback(txn).await;
                return Ok((not_ours(other), true));
            }
            Err(error) => Err(error),
        };
        match kept {
            Ok(true) => txn.commit().await.map_err(db_error)?,
            // Not kept (another answer is there, or the store failed): the refusal is still the answer.
            Ok(false) => rollback(txn).await,
            Err(error) => {
                tracing::warn!(%error, "keeping a refusal failed; a retry runs afresh");
                rollback(txn).await;
            }
        }
        Ok((response, true))
    }

    /// The answer another request with the key kept while this one ran (and was rolled back).
    async fn kept_elsewhere(&self, fingerprint: &[u8], terms: Terms) -> Result<(Response, bool), ApiError> {
        let txn = self.state.db.begin().await.map_err(db_error)?;
        let taken = store::take(&txn, self.scope(), fingerprint, Utc::now(), terms.lease).await;
        rollback(txn).await;
        Ok((not_ours(taken?), true))
    }
}

/// The answer to a request that did not get its key: a replay, a reused key, or one in use. A key that
/// turned out free after all (its row swept meanwhile) is reported in use too, so the client retries.
fn not_ours(taken: Taken) -> Response {
    match taken {
        Taken::Replay(answer) => replay(answer),
        Taken::Mismatch => reused(),
        Taken::InFlight | Taken::Ours(_) => in_flight(),
    }
}

async fn rollback(txn: DatabaseTransaction) {
    if let Err(error) = txn.rollback().await {
        tracing::warn!(%error, "rolling back a keyed request failed; the connection drops it");
    }
}

fn db_error(error: DbErr) -> ApiError {
    ServiceError::from(error).into()
}
