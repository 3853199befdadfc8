//! `idempotency_keys`: the answer to a request sent with an `Idempotency-Key`, kept so a retry gets it
//! again. Keyed by caller, operation and key; `status` is null while the first request is still running.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// The token subject of the caller, or `anonymous`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub caller: String,
    /// The operationId the key was used with.
    #[sea_orm(primary_key, auto_increment = false)]
    pub operation: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 of the request: a retry must be the same request.
    pub fingerprint: Vec<u8>,
    /// The answer's status; null while the first request runs.
    pub status: Option<i16>,
    /// The answer's headers that matter, JSON text written and read by the HTTP layer.
    #[sea_orm(column_type = "Text", nullable)]
    pub headers: Option<String>,
    /// The answer's body, byte for byte.
    pub body: Option<Vec<u8>>,
    /// When the running request took the key (a lease: a crashed request's key is taken over later).
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
