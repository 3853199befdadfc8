//! The application role on PostgreSQL: it reads and writes data, and the database refuses it everything
//! else (DDL, TRUNCATE, the password catalogue, the migrations' table); its limits are set on the role.

use migration::roles::{RoleError, RoleLimits, ensure_app_role};
use migration::testkit::{Backend, TestDb};
use rand::Rng;
use sea_orm_migration::sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbErr, ExecResult, SqlxPostgresConnector, Statement,
};

/// Logs in to the test database as `role` (the local server trusts loopback logins, so this tests rights,
/// not the password).
async fn login_as(db: &TestDb, role: &str) -> DatabaseConnection {
    let server = Backend::Postgres.server_url().unwrap();
    let options: PgConnectOptions = server.parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.username(role).password("unused").database(db.name()))
        .await
        .unwrap();
    SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
}

async fn show(conn: &DatabaseConnection, setting: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), format!("SHOW {setting}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

async fn run(conn: &DatabaseConnection, sql: &str) -> Result<ExecResult, DbErr> {
    conn.execute_unprepared(sql).await
}

/// SQLSTATE 42501: insufficient privilege (or "must be owner").
fn refused(result: Result<impl std::fmt::Debug, DbErr>, what: &str) {
    let error = result.expect_err(what);
    assert!(
        error.to_string().contains("permission denied") || error.to_string().contains("must be owner"),
        "{what}: {error}"
    );
}

/// Drops the test's role once its database is gone (a role with rights in a database cannot be dropped).
struct RoleDropper(String);

impl Drop for RoleDropper {
    fn drop(&mut self) {
        let role = self.0.clone();
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let admin = Database::connect(Backend::Postgres.server_url().unwrap()).await.unwrap();
                drop(admin.execute_unprepared(&format!("DROP ROLE IF EXISTS {role}")).await);
            });
        });
        drop(handle.join());
    }
}

#[tokio::test]
async fn the_application_role_may_use_the_data_and_nothing_else() {
    let role = format!("libris_app_t{:012x}", rand::rng().random::<u64>() >> 16);
    let _drop_role = RoleDropper(role.clone());
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    ensure_app_role(&db.conn, &role, "first-password", RoleLimits::default()).await.unwrap();
    // Idempotent: the migrate mode runs it on every invocation.
    ensure_app_role(&db.conn, &role, "second-password", RoleLimits::default()).await.unwrap();

    let app = login_as(&db, &role).await;
    run(&app, "INSERT INTO authors (name, created_at, updated_at) VALUES ('Le Guin', now(), now())")
        .await
        .unwrap();
    run(&app, "UPDATE authors SET name = 'Ursula K. Le Guin'").await.unwrap();
    run(&app, "SELECT * FROM authors").await.unwrap();
    run(&app, "DELETE FROM authors").await.unwrap();

    refused(run(&app, "CREATE TABLE intruder (id bigint)").await, "CREATE");
    refused(run(&app, "ALTER TABLE books ADD COLUMN intruder text").await, "ALTER");
    refused(run(&app, "DROP TABLE reviews").await, "DROP");
    refused(run(&app, "TRUNCATE loans").await, "TRUNCATE");
    refused(run(&app, "SELECT rolpassword FROM pg_authid").await, "reading pg_authid");
    refused(run(&app, "DELETE FROM seaql_migrations").await, "the migrations' bookkeeping");

    assert_eq!(show(&app, "statement_timeout").await, "5s");
    assert_eq!(show(&app, "lock_timeout").await, "2s");
    assert_eq!(show(&app, "idle_in_transaction_session_timeout").await, "10s");
    let row = app
        .query_one_raw(Statement::from_string(
            app.get_database_backend(),
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
                .to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let flags: (bool, bool, bool) = (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
        row.try_get_by_index(2).unwrap(),
    );
    assert_eq!(flags, (false, false, false), "not a superuser, no CREATEDB, no CREATEROLE");
    drop(app.close().await);
}

#[tokio::test]
async fn a_name_that_is_not_a_plain_identifier_is_refused_before_any_sql() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let error = ensure_app_role(&db.conn, "app\"; DROP TABLE books; --", "x", RoleLimits::default()).await;
    assert!(matches!(error, Err(RoleError::Name(_))), "{error:?}");
    let sqlite = TestDb::migrated(Backend::Sqlite).await.unwrap();
    let error = ensure_app_role(&sqlite.conn, "libris_app", "x", RoleLimits::default()).await;
    assert!(matches!(error, Err(RoleError::Backend(_))), "{error:?}");
}
