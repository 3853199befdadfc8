//! A statement past the database's time limit is a 503 with `Retry-After`, and the connection it ran on
//! serves the next request: the Lambda's pool has only that one.

use migration::testkit::{Backend, TestDb};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};
use serde_json::json;

use crate::client::Api;

#[tokio::test]
async fn a_statement_past_the_time_limit_is_503_and_the_one_connection_serves_the_next_request() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
    // The limit a deployment's role gets from the migrations, shortened; sessions opened from now on have it.
    let limit = format!("ALTER DATABASE {} SET statement_timeout = '300ms'", db.name());
    db.conn.execute_unprepared(&limit).await.unwrap();
    let mut options = ConnectOptions::new(db.url.clone());
    options.max_connections(1).sqlx_logging(false);
    let one_connection = Database::connect(options).await.unwrap();
    let api = Api::configured(db, |state| state.db = one_connection);
    let dune = api.book("Dune", &[]).await;

    // Another session holds the books table, so the list waits on its lock until the limit cancels it.
    let holder = api.db.conn.begin().await.unwrap();
    holder.execute_unprepared("LOCK TABLE books IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let cancelled = api.get("/books").await;
    assert_eq!(cancelled.problem(503)["type"], json!("/problems/unavailable"));
    assert_eq!(cancelled.header("retry-after"), Some("2"));
    holder.rollback().await.unwrap();

    let next = api.get("/books").await;
    assert_eq!(next.ok(200)["items"][0]["id"], json!(dune), "the same single connection answers");
}
