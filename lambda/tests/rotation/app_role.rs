//! The migrate mode sets up the application role from its secret: an empty secret gets a generated
//! password (and the role is created with it), a filled one is kept and the role follows it.

use lambda::app_role::{self, AppRoleSettings};
use migration::testkit::{Backend, TestDb};
use rand::Rng;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;

use crate::{moto_client, start_moto};

async fn role_exists(db: &TestDb, role: &str) -> bool {
    let sql = format!("SELECT 1 FROM pg_roles WHERE rolname = '{role}' AND rolcanlogin AND NOT rolsuper");
    db.conn.query_one_raw(Statement::from_string(db.db_backend(), sql)).await.unwrap().is_some()
}

#[tokio::test]
async fn an_empty_secret_gets_a_password_and_the_role_follows_the_secret() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    let Some((_moto, endpoint)) = start_moto().await else { return };
    let secrets = moto_client(&endpoint);
    let role = format!("libris_app_m{:012x}", rand::rng().random::<u64>() >> 16);
    // As the stack creates it: a secret with no value.
    let created = secrets.create_secret().name(&role).send().await.unwrap();
    let settings = AppRoleSettings { user: role.clone(), secret_arn: created.arn().unwrap().to_owned() };

    let first = app_role::ensure(&db.conn, &secrets, &settings).await;
    let stored = secrets.get_secret_value().secret_id(&settings.secret_arn).send().await.unwrap();
    let login: Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    let second = app_role::ensure(&db.conn, &secrets, &settings).await;
    let kept = secrets.get_secret_value().secret_id(&settings.secret_arn).send().await.unwrap();
    let exists = role_exists(&db, &role).await;
    drop(db);
    let admin = Database::connect(Backend::Postgres.server_url().unwrap()).await.unwrap();
    drop(admin.execute_unprepared(&format!("DROP ROLE IF EXISTS {role}")).await);

    assert!(first.unwrap(), "the first run generates the password");
    assert_eq!(login["username"], role.as_str());
    assert_eq!(login["password"].as_str().unwrap().len(), 40);
    assert!(!second.unwrap(), "a later run keeps the secret's password");
    assert_eq!(kept.secret_string(), stored.secret_string());
    assert!(exists, "the role exists, may log in and is not a superuser");
}
