//! The Libris Lambda shell: the shared `openapi::app()` served by `lambda_http`, plus the migration
//! function. Thin by design: configuration, one database pool made before the first event, and an
//! adapter between lambda_http's types and poem. No business rule lives here.

pub mod adapter;
pub mod app_role;
pub mod config;
pub mod database;
pub mod function;
pub mod iam;
pub mod init_error;
pub mod metrics;
pub mod relay;
pub mod tls;

pub use config::{DbAuth, DbSource, LambdaConfig, Mode, PoolSettings, TlsMode};
