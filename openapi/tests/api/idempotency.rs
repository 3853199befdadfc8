//! `Idempotency-Key`: a retried POST runs once, on every backend, even when 50 copies race; the first
//! answer comes back byte for byte; a reused key, a failed request and an expired key behave as the
//! draft says.

use std::time::Duration;

use entity::idempotency_key;
use futures::future::join_all;
use openapi::auth::DevRole;
use poem::http::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use service::idempotency;

use crate::client::{Api, Reply};

crate::api_tests!(
    fifty_racing_check_outs_with_one_key_make_one_loan,
    a_retry_after_completion_replays_the_first_answer_byte_for_byte,
    a_key_reused_for_another_request_is_refused_with_422,
    a_request_that_fails_validation_keeps_nothing,
    keys_belong_to_one_caller_and_one_operation,
    a_running_request_holds_its_key_until_its_lease_ends,
    malformed_keys_are_refused_and_keys_elsewhere_are_ignored,
);

async fn keyed(api: &Api, path: &str, key: &str, body: Value) -> Reply {
    api.send(Method::POST, path, Some(body), &[("idempotency-key", key)]).await
}

fn replayed(reply: &Reply) -> bool {
    reply.header("idempotent-replayed") == Some("true")
}

async fn stored_keys(api: &Api) -> u64 {
    idempotency::count(&api.db.conn).await.unwrap()
}

async fn fifty_racing_check_outs_with_one_key_make_one_loan(api: Api) {
    let (book, reader) = (api.book("Dune", &[]).await, api.borrower(1).await);
    let request = json!({ "book_id": book, "borrower_id": reader });
    let replies = join_all((0..50).map(|_| keyed(&api, "/loans", "check-out-1", request.clone()))).await;
    let loans: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert!(!loans.is_empty(), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(loans.iter().filter(|r| !replayed(r)).count(), 1, "exactly one request ran");
    for reply in &replies {
        if reply.status == 201 {
            assert_eq!(reply.raw, loans[0].raw, "every success is that one loan");
        } else {
            assert_eq!(reply.problem(409)["type"], json!("/problems/idempotency-key-in-use"), "{reply:#?}");
            assert_eq!(reply.header("retry-after"), Some("1"));
        }
    }
    let active = api.get("/loans").await;
    assert_eq!(active.ok(200)["items"].as_array().unwrap().len(), 1, "one loan, however many retries");
    let after = keyed(&api, "/loans", "check-out-1", request).await;
    assert!(replayed(&after) && after.status == 201 && after.raw == loans[0].raw);
}

async fn a_retry_after_completion_replays_the_first_answer_byte_for_byte(api: Api) {
    let book = json!({ "title": "Dune", "isbn": "978-0-441-17271-9" });
    let first = keyed(&api, "/books", "new-book-1", book.clone()).await;
    first.ok(201);
    assert!(!replayed(&first));
    // Re-serialised with its keys in another order: still the same request.
    let reordered = json!({ "isbn": "978-0-441-17271-9", "title": "Dune" });
    for retry in [book, reordered] {
        let again = keyed(&api, "/books", "new-book-1", retry).await;
        assert_eq!(again.status, 201);
        assert!(replayed(&again), "{again:#?}");
        assert_eq!(again.raw, first.raw, "byte for byte");
        for header in ["location", "content-type"] {
            assert_eq!(again.header(header), first.header(header), "{header}");
        }
    }
    let listed = api.get("/books").await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1, "no second book");

    // A rule conflict is the operation's verdict too: it is kept and replayed.
    let dune = first.body["id"].as_i64().unwrap();
    let reader = api.borrower(1).await;
    api.check_out(dune, reader).await.ok(201);
    let request = json!({ "book_id": dune, "borrower_id": reader });
    keyed(&api, "/loans", "late-retry", request.clone()).await.conflict("book_on_loan");
    let again = keyed(&api, "/loans", "late-retry", request).await;
    again.conflict("book_on_loan");
    assert!(replayed(&again));
}

async fn a_key_reused_for_another_request_is_refused_with_422(api: Api) {
    keyed(&api, "/authors", "k-1", json!({ "name": "Frank Herbert" })).await.ok(201);
    let reused = keyed(&api, "/authors", "k-1", json!({ "name": "Ursula K. Le Guin" })).await;
    assert_eq!(reused.problem(422)["type"], json!("/problems/idempotency-key-reused"));
    reused.invalid("Idempotency-Key");
    assert_eq!(api.get("/authors").await.ok(200)["items"].as_array().unwrap().len(), 1);
}

async fn a_request_that_fails_validation_keeps_nothing(api: Api) {
    let (book, reader) = (api.book("Dune", &[]).await, api.borrower(1).await);
    let too_long = json!({ "book_id": book, "borrower_id": reader, "period_days": 365 });
    keyed(&api, "/loans", "fix-me", too_long).await.invalid("period_days");
    keyed(&api, "/loans", "fix-me", json!({ "book_id": "one" })).await.problem(400);
    let no_token = api.send(
        Method::POST,
        "/loans",
        Some(json!({})),
        &[("idempotency-key", "fix-me"), ("authorization", "Bearer x")],
    );
    no_token.await.problem(401);
    assert_eq!(stored_keys(&api).await, 0, "nothing is kept for a refused request");
    let fixed = keyed(&api, "/loans", "fix-me", json!({ "book_id": book, "borrower_id": reader })).await;
    fixed.ok(201);
    assert!(!replayed(&fixed), "the corrected request runs: the key was not used up");
    assert_eq!(stored_keys(&api).await, 1);
}

async fn keys_belong_to_one_caller_and_one_operation(api: Api) {
    let issuer = api.auth.dev_issuer().unwrap();
    let other = issuer.issue(DevRole::Librarian, "another-librarian", Duration::from_secs(600)).unwrap();
    let bearer = format!("Bearer {other}");
    let mine = keyed(&api, "/authors", "shared-key", json!({ "name": "Frank Herbert" })).await;
    let theirs = api
        .send(
            Method::POST,
            "/authors",
            Some(json!({ "name": "Frank Herbert" })),
            &[("idempotency-key", "shared-key"), ("authorization", &bearer)],
        )
        .await;
    theirs.ok(201);
    assert!(
        !replayed(&theirs) && theirs.body["id"] != mine.body["id"],
        "another caller's key is another key"
    );
    let book = keyed(&api, "/books", "shared-key", json!({ "title": "Dune" })).await;
    book.ok(201);
    assert!(!replayed(&book), "another operation's key is another key");
}

async fn a_running_request_holds_its_key_until_its_lease_ends(api: Api) {
    let first = keyed(&api, "/books", "slow", json!({ "title": "Dune" })).await;
    first.ok(201);
    // As if the first request were still running: its answer not yet kept.
    let running =
        idempotency_key::ActiveModel { status: sea_orm::ActiveValue::Set(None), ..Default::default() };
    idempotency_key::Entity::update_many()
        .set(running)
        .filter(idempotency_key::Column::Key.eq("slow"))
        .exec(&api.db.conn)
        .await
        .unwrap();
    let waiting = keyed(&api, "/books", "slow", json!({ "title": "Dune" })).await;
    assert_eq!(waiting.problem(409)["type"], json!("/problems/idempotency-key-in-use"));
    assert_eq!(waiting.header("retry-after"), Some("1"));
    // Its instance died a while ago: the lease has run out, and a retry takes the key over and runs.
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::TimeDelta::minutes(5)),
        )
        .filter(idempotency_key::Column::Key.eq("slow"))
        .exec(&api.db.conn)
        .await
        .unwrap();
    let retaken = keyed(&api, "/books", "slow", json!({ "title": "Dune" })).await;
    retaken.ok(201);
    assert!(!replayed(&retaken));
    let again = keyed(&api, "/books", "slow", json!({ "title": "Dune" })).await;
    assert!(replayed(&again) && again.raw == retaken.raw);
}

async fn malformed_keys_are_refused_and_keys_elsewhere_are_ignored(api: Api) {
    let long = "k".repeat(256);
    for bad in ["", "\"\"", long.as_str()] {
        keyed(&api, "/authors", bad, json!({ "name": "Frank Herbert" })).await.problem(400);
    }
    assert_eq!(stored_keys(&api).await, 0);
    let author = keyed(&api, "/authors", "\"quoted\"", json!({ "name": "Frank Herbert" })).await;
    author.ok(201);
    let id = author.body["id"].as_i64().unwrap();
    let same = keyed(&api, "/authors", "quoted", json!({ "name": "Frank Herbert" })).await;
    assert!(replayed(&same), "a quoted key is the same key bare");
    let renamed = api
        .send(
            Method::PATCH,
            &format!("/authors/{id}"),
            Some(json!({ "name": "F. H." })),
            &[("idempotency-key", "x")],
        )
        .await;
    renamed.ok(200);
    assert_eq!(stored_keys(&api).await, 1, "PATCH is idempotent by nature: its key is ignored");
}

migration::backend_tests!(expired_keys_are_swept_by_later_requests);

async fn expired_keys_are_swept_by_later_requests(db: migration::testkit::TestDb) {
    // A day to live, and the first twenty keys' expiry moved into the past: a slow machine cannot expire the
    // live keys while the test runs (with a one-second TTL and a sleep, a loaded CI run saw four go).
    let api = Api::configured(db, |state| state.idempotency_ttl = Duration::from_secs(86_400));
    for n in 0..20 {
        keyed(&api, "/authors", &format!("old-{n}"), json!({ "name": format!("Author {n}") })).await.ok(201);
    }
    assert_eq!(stored_keys(&api).await, 20);
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::TimeDelta::seconds(1)),
        )
        .exec(&api.db.conn)
        .await
        .unwrap();
    let expired = keyed(&api, "/authors", "old-0", json!({ "name": "Someone else" })).await;
    expired.ok(201);
    assert!(!replayed(&expired), "an expired key is a new key");
    for n in 0..16 {
        keyed(&api, "/authors", &format!("new-{n}"), json!({ "name": format!("New {n}") })).await.ok(201);
    }
    assert_eq!(stored_keys(&api).await, 17, "the 19 other expired keys are gone, the 17 live ones kept");
}
