//! Short transactions that retry when the database asks them to (serialization failure, deadlock, busy).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sea_orm::{DbErr, TransactionSession, TransactionTrait};

use crate::ServiceError;
use crate::error::{DbFailure, classify};

/// Attempts per transaction: enough to ride out a deadlock between a few racing requests, few enough that
/// a request never waits long.
const ATTEMPTS: u32 = 5;

pub(crate) type TxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ServiceError>> + Send + 'a>>;

/// Runs `body` in a transaction, committing on success and retrying the whole body (after a short,
/// growing pause) when the database reports a retryable failure.
pub(crate) async fn transaction<C, T, F>(db: &C, body: F) -> Result<T, ServiceError>
where
    C: TransactionTrait,
    F: for<'t> Fn(&'t C::Transaction) -> TxFuture<'t, T>,
{
    let mut attempt = 1;
    loop {
        let result = async {
            let txn = db.begin().await?;
            let value = body(&txn).await?;
            txn.commit().await?;
            Ok(value)
        }
        .await;
        match result {
            Err(ServiceError::Db(ref error)) if attempt < ATTEMPTS && is_retryable(error) => {
                tracing::debug!(attempt, %error, "retrying transaction");
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn is_retryable(error: &DbErr) -> bool {
    classify(error) == DbFailure::Retryable
}
