//! Test databases: each test gets its own fresh database and never shares one with another test.
//!
//! SQLite tests use an in-memory database. PostgreSQL and MariaDB/MySQL tests create a randomly named
//! database on the server found at `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` (default: the local servers),
//! and drop it when the [`TestDb`] is dropped, even when the test panics.
//!
//! An unreachable server skips the test with a `skipped: …` line, except in CI (`CI=true`), where it fails
//! the run: a green CI must mean the test ran on every backend.
//!
//! With `TEST_AS_APP_ROLE=true`, a migrated PostgreSQL test database is handed out logged in as the
//! application role `libris_test_app` ([`crate::roles`]: data rights in that database only, the role's
//! time limits), so a run of a test suite proves the code needs no more than that role may do. One role
//! for every test, set up under a transaction-scoped advisory lock (roles are server-wide, and setting up
//! the same role concurrently collides), because a pooler in front of the server (PgBouncer) lets in only
//! the users it lists; its rights go with each test database.
#![expect(clippy::expect_used, reason = "test support: a broken harness should abort the test loudly")]

use std::fmt;

use rand::Rng;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, TransactionTrait,
};
use settings::{Env, redact_url};

use crate::Migrator;

/// The application role tests log in as with `TEST_AS_APP_ROLE=true`.
pub const APP_ROLE: &str = "libris_test_app";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// The database servers the test suite runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        })
    }
}

impl Backend {
    /// The admin URL of the server, from the environment or the local default.
    #[must_use]
    pub fn server_url(self) -> Option<String> {
        let (var, default) = match self {
            Self::Sqlite => return None,
            Self::Postgres => ("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
            Self::MySql => ("TEST_MYSQL_URL", DEFAULT_MYSQL_URL),
        };
        Some(Env::process().var(var).unwrap_or_else(|| default.to_owned()))
    }
}

/// A fresh database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    pub conn: DatabaseConnection,
    pub backend: Backend,
    /// The URL of this test's own database (for tests that need a second pool, e.g. a server).
    pub url: String,
    dropper: Option<Dropper>,
}

#[derive(Debug)]
struct Dropper {
    server_url: String,
    name: String,
    backend: Backend,
    /// The application role the test logged in as (not dropped: every test shares it).
    role: Option<String>,
}

impl TestDb {
    /// This test's database name: the last segment of [`TestDb::url`].
    #[must_use]
    pub fn name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }

    /// A fresh database with every migration applied, or `None` when the test is skipped.
    pub async fn migrated(backend: Backend) -> Option<Self> {
        let mut db = Self::empty(backend).await?;
        Migrator::up(&db.conn, None).await.expect("migrations apply to a fresh database");
        if backend == Backend::Postgres && Env::process().var("TEST_AS_APP_ROLE").as_deref() == Some("true") {
            db.log_in_as_app_role().await;
        }
        Some(db)
    }

    /// A connection to this database with the server's administrative user: the test's own connection,
    /// unless the test logs in as the application role, which may not, say, drop a table to stage a
    /// failure.
    pub async fn admin(&self) -> DatabaseConnection {
        match &self.dropper {
            Some(dropper) if dropper.role.is_some() => {
                let url = with_database(&dropper.server_url, &dropper.name);
                Database::connect(quiet(&url)).await.expect("the administrative user logs in")
            }
            _ => self.conn.clone(),
        }
    }

    /// Sets up the application role in this database and reconnects as it (see the module docs).
    async fn log_in_as_app_role(&mut self) {
        let role = APP_ROLE.to_owned();
        // `ALTER ROLE` and the grants update shared catalogue rows; PostgreSQL answers a concurrent update of
        // one with "tuple concurrently updated" instead of waiting. Tests of one binary take turns here (an
        // advisory lock would not do: each test has its own database, and those locks are per database), and
        // a clash with another test process is retried.
        static SETUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _turn = SETUP.lock().await;
        let mut attempt = 0;
        loop {
            let txn = self.conn.begin().await.expect("a transaction opens");
            let set_up =
                crate::roles::ensure_app_role(&txn, &role, "unused", crate::roles::RoleLimits::default())
                    .await;
            match set_up {
                Ok(()) => {
                    txn.commit().await.expect("the role set-up commits");
                    break;
                }
                Err(error) if attempt < 5 && error.to_string().contains("tuple concurrently updated") => {
                    drop(txn.rollback().await);
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                Err(error) => {
                    panic!("the test server lets the migrator create the application role: {error:?}")
                }
            }
        }
        if let Some(dropper) = &mut self.dropper {
            dropper.role = Some(role.clone());
        }
        self.url = with_user(&self.url, &role);
        let app = Database::connect(quiet(&self.url)).await.expect("the application role logs in");
        drop(std::mem::replace(&mut self.conn, app).close().await);
    }

    /// A fresh database with no tables, or `None` when the test is skipped.
    pub async fn empty(backend: Backend) -> Option<Self> {
        let Some(server_url) = backend.server_url() else {
            let url = "sqlite::memory:".to_owned();
            let conn = Database::connect(&url).await.expect("in-memory SQLite opens");
            return Some(Self { conn, backend, url, dropper: None });
        };
        let admin = match Database::connect(quiet(&server_url)).await {
            Ok(admin) => admin,
            Err(error) => {
                unreachable_server(backend, &server_url, &error);
                return None;
            }
        };
        let name = format!("libris_test_{:016x}", rand::rng().random::<u64>());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("the test server lets us create a database");
        drop(admin.close().await);
        let url = with_database(&server_url, &name);
        let dropper = Dropper { server_url, name, backend, role: None };
        let conn = Database::connect(quiet(&url)).await.expect("the new test database accepts connections");
        Some(Self { conn, backend, url, dropper: Some(dropper) })
    }

    #[must_use]
    pub fn db_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(dropper) = self.dropper.take() else { return };
        // Drop runs inside the test's runtime (or while unwinding), where we cannot block on it: a
        // short-lived thread with its own runtime removes the database.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                let Ok(admin) = Database::connect(quiet(&dropper.server_url)).await else { return };
                let sql = match dropper.backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", dropper.name),
                    _ => format!("DROP DATABASE IF EXISTS {}", dropper.name),
                };
                if let Err(error) = admin.execute_unprepared(&sql).await {
                    eprintln!("could not drop test database {}: {error}", dropper.name);
                }
                drop(admin.close().await);
            });
        });
        drop(handle.join());
    }
}

fn quiet(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(8);
    options
}

/// Replaces the user (and any password) of a URL.
fn with_user(url: &str, user: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

/// Replaces the database name (the URL path) of a server URL, keeping any query string.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn unreachable_server(backend: Backend, url: &str, error: &DbErr) {
    let message = format!("{backend} test server at {} is unreachable: {error}", redact_url(url));
    if Env::process().var("CI").as_deref() == Some("true") {
        panic!("{message} (CI=true: every backend must run)");
    }
    eprintln!("skipped: {message}");
}

/// Runs each listed `async fn(TestDb)` once per backend, as `sqlite::name`, `postgres::name` and
/// `mysql::name`, so the same test body proves the behaviour on all three.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $crate::backend_tests!(@backend sqlite, Sqlite, $($name),*);
        $crate::backend_tests!(@backend postgres, Postgres, $($name),*);
        $crate::backend_tests!(@backend mysql, MySql, $($name),*);
    };
    (@backend $module:ident, $variant:ident, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = $crate::testkit::Backend::$variant;
                    if let Some(db) = $crate::testkit::TestDb::migrated(backend).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_replaces_the_url_path() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
        assert_eq!(with_database("mysql://root@h:3306", "t1"), "mysql://root@h:3306/t1");
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=require", "t2"),
            "postgres://u:p@h/t2?sslmode=require"
        );
    }

    #[test]
    fn the_user_of_a_url_is_replaced_with_its_password_and_the_rest_kept() {
        assert_eq!(
            with_user("postgres://u:p@h:5432/t1?sslmode=require", "app"),
            "postgres://app@h:5432/t1?sslmode=require"
        );
        assert_eq!(with_user("postgres://h/t1", "app"), "postgres://app@h/t1");
    }
}
