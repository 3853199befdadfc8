//! The database an operation works on: the pool, or, for a request with an `Idempotency-Key`, the
//! transaction that also holds the key and stores the answer (see `crate::idempotency`). Operations take
//! it instead of `AppState::db`, so an idempotent request's effect and its kept answer commit together.

use std::ops::Deref;
use std::sync::Arc;

use poem::{FromRequest, Request, RequestBody};
use sea_orm::{DatabaseExecutor, DatabaseTransaction};

use crate::AppState;
use crate::problem::ApiError;

/// The transaction a keyed request's operation runs in, put into the request by the idempotency
/// middleware and taken back by it when the operation is done.
#[derive(Clone)]
pub(crate) struct OperationTxn(pub(crate) Arc<DatabaseTransaction>);

/// Where an operation reads and writes.
pub struct Db<'a>(DatabaseExecutor<'a>);

impl<'a> Deref for Db<'a> {
    type Target = DatabaseExecutor<'a>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if matches!(self.0, DatabaseExecutor::Connection(_)) { "Db(pool)" } else { "Db(keyed)" })
    }
}

impl<'a> FromRequest<'a> for Db<'a> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        if let Some(OperationTxn(txn)) = req.data::<OperationTxn>() {
            return Ok(Self(DatabaseExecutor::Transaction(txn)));
        }
        match req.data::<AppState>() {
            Some(state) => Ok(Self(DatabaseExecutor::Connection(&state.db))),
            None => Err(super::access::error(ApiError::internal())),
        }
    }
}
