//! The application role: the PostgreSQL user the API logs in as, with the data rights the service needs
//! and nothing more. The migrator (the role that runs the migrations and owns the schema) creates it and
//! keeps it in step on every run, so a grant a new migration needs reaches it the same day.
//!
//! What the role may do: connect, use the schema, `SELECT`/`INSERT`/`UPDATE`/`DELETE` on the tables the
//! migrations create (now and later, through default privileges) and use their sequences. What it may
//! not: create, alter, drop or truncate anything, own anything, read `pg_authid`, touch the migrations'
//! own bookkeeping table. Its statement, lock and idle-in-transaction limits are settings of the role,
//! applied by the server at login, because a `SET` per connection would pin an RDS Proxy session. They
//! are defaults against runaway queries, not a barrier: PostgreSQL lets any role change its own session
//! settings, and the app simply never does.
//!
//! PostgreSQL only: the local SQLite database has no roles, and MariaDB is a test backend here.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, DbErr};

/// The time limits set on the role (PostgreSQL interval syntax).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleLimits {
    /// Cancels a statement that runs longer: below the API's request timeout, so the database frees the
    /// connection before the caller gives up on it.
    pub statement_timeout: &'static str,
    /// Gives up waiting for a lock: a request never queues behind a migration's lock for long.
    pub lock_timeout: &'static str,
    /// Ends a session left idle inside a transaction (a crashed or frozen function), releasing its locks.
    pub idle_in_transaction_session_timeout: &'static str,
}

impl Default for RoleLimits {
    fn default() -> Self {
        Self { statement_timeout: "5s", lock_timeout: "2s", idle_in_transaction_session_timeout: "10s" }
    }
}

/// Why the role could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// Role names are written into SQL, so only plain lower-case identifiers are accepted.
    #[error("{0:?} is not a role name this accepts (a-z, 0-9 and _, starting with a letter, at most 63)")]
    Name(String),
    #[error("roles exist on PostgreSQL only, not {0:?}")]
    Backend(DbBackend),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 63
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A string literal for SQL (standard-conforming strings: only `'` needs doubling).
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Creates the application role `name` if it does not exist, and (again on every call) sets its password,
/// its rights in the current database and schema, and its limits. Run it as the migrator, after the
/// migrations, so the grants cover every table.
///
/// The statement that sets the password carries it; PostgreSQL logs it only when `log_statement` is `ddl`
/// or `all`, which the stack does not set.
///
/// # Errors
/// A name that is not a plain identifier, a backend other than PostgreSQL, or a statement PostgreSQL
/// refuses (the migrator needs CREATEROLE, which Aurora's master user has).
pub async fn ensure_app_role<C: ConnectionTrait>(
    db: &C,
    name: &str,
    password: &str,
    limits: RoleLimits,
) -> Result<(), RoleError> {
    if !valid_name(name) {
        return Err(RoleError::Name(name.to_owned()));
    }
    if db.get_database_backend() != DbBackend::Postgres {
        return Err(RoleError::Backend(db.get_database_backend()));
    }
    let role = format!("\"{name}\"");
    let statements = [
        format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) THEN CREATE ROLE {role}; \
             END IF; END $$",
            literal(name)
        ),
        format!(
            "ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT PASSWORD {}",
            literal(password)
        ),
        format!(
            "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), {0}); \
             EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), {0}); \
             EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', \
             current_schema(), {0}); \
             EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), {0}); \
             EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON \
             TABLES TO %I', current_schema(), {0}); \
             EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I', \
             current_schema(), {0}); \
             IF to_regclass('seaql_migrations') IS NOT NULL THEN \
             EXECUTE format('REVOKE ALL ON seaql_migrations FROM %I', {0}); END IF; END $$",
            literal(name)
        ),
        format!("ALTER ROLE {role} SET statement_timeout = {}", literal(limits.statement_timeout)),
        format!("ALTER ROLE {role} SET lock_timeout = {}", literal(limits.lock_timeout)),
        format!(
            "ALTER ROLE {role} SET idle_in_transaction_session_timeout = {}",
            literal(limits.idle_in_transaction_session_timeout)
        ),
    ];
    for statement in statements {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_identifiers_are_role_names() {
        for good in ["libris_app", "a", "app2"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Libris", "2app", "app-role", "app\"; DROP TABLE books; --", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
    }
}
