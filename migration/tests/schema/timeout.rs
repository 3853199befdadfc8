//! The statement time limit lands on the application's role in its database, and only there.

use migration::testkit::{Backend, TestDb};
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, Statement};

async fn settings(db: &impl ConnectionTrait) -> Vec<String> {
    let sql = "SELECT coalesce(array_to_string(s.setconfig, ','), '') FROM pg_db_role_setting s \
               JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d ON d.oid = s.setdatabase \
               WHERE r.rolname = current_user AND d.datname = current_database()";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect()
}

/// Runs the migrations as a fresh non-superuser role that owns a fresh database, as a deployment does.
#[tokio::test]
async fn the_application_role_gets_a_statement_timeout_in_its_database_and_loses_it_on_down() {
    let Some(admin_db) = TestDb::migrated(Backend::Postgres).await else { return };
    let role = format!("libris_se_{}", admin_db.name().trim_start_matches("libris_test_"));
    let database = format!("{role}_db");
    let admin = &admin_db.conn;
    admin.execute_unprepared(&format!("CREATE ROLE {role} LOGIN")).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE {database} OWNER {role}")).await.unwrap();
    let url = admin_db.url.replace("postgres@", &format!("{role}@")).replace(admin_db.name(), &database);
    let app = Database::connect(url.as_str()).await.unwrap();

    Migrator::up(&app, None).await.unwrap();
    let after_up = settings(&app).await;
    Migrator::down(&app, Some(1)).await.unwrap();
    let after_down = settings(&app).await;
    let superuser = settings(admin).await;
    drop(app.close().await);
    admin.execute_unprepared(&format!("DROP DATABASE {database} WITH (FORCE)")).await.unwrap();
    admin.execute_unprepared(&format!("DROP ROLE {role}")).await.unwrap();

    assert_eq!(after_up, ["statement_timeout=5s"], "set on the role, in this database");
    assert!(after_down.iter().all(|s| s.is_empty()), "down resets it: {after_down:?}");
    assert!(superuser.is_empty(), "never on a superuser: {superuser:?}");
}
