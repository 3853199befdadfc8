//! A time limit on every statement of the application's database role, in this database (PostgreSQL):
//! `ALTER ROLE <current user> IN DATABASE <this database> SET statement_timeout = '5s'`.
//!
//! Why here: the limit must hold for every connection the application opens, and must not be set per
//! connection, since a `SET` (or a startup option) pins an RDS Proxy session to its client. A role setting
//! is applied by the server at login, so the proxy never sees it. Why 5 s: below the app's 10 s request
//! limit (and API Gateway's 29 s), so a runaway query is cancelled by the database, freeing the connection
//! (SQLSTATE 57014, answered 503 with `Retry-After`), before the request gives up on it. The catalogue's
//! reads take milliseconds (BENCHMARKS.md); nothing the service sends comes near it.
//!
//! Only when the migrating role is not a superuser: on a local or CI server the migrations run as
//! `postgres`, and a superuser's default would reach every tool and test sharing that server. (Aurora's
//! master user is not a superuser, so a deployment gets the limit either way.) In this database only, so
//! another database the role uses keeps its own settings. The role's later sessions get it, not the one
//! running this; a later migration that needs longer (an index on a large table) can lift it for its own
//! transaction with `SET LOCAL statement_timeout = 0`, which pins nothing once the transaction ends.
//! Other backends: not set (SQLite is local; MariaDB's `max_statement_time` is a server or account
//! setting for the operator).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The limit, as PostgreSQL reads it.
pub const STATEMENT_TIMEOUT: &str = "5s";

/// `ALTER ROLE … IN DATABASE …` with `change` (`SET …` or `RESET …`), unless the current user is a superuser.
fn for_application_role(change: &str) -> String {
    format!(
        "DO $$ BEGIN \
         IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN \
         EXECUTE format('ALTER ROLE %I IN DATABASE %I {change}', current_user, current_database()); \
         END IF; END $$"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let change = format!("SET statement_timeout = ''{STATEMENT_TIMEOUT}''");
            manager.get_connection().execute_unprepared(&for_application_role(&change)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let reset = for_application_role("RESET statement_timeout");
            manager.get_connection().execute_unprepared(&reset).await?;
        }
        Ok(())
    }
}
