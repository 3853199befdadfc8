//! Every error class is a problem+json body with the right status, including poem's own errors.

use poem::http::Method;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::client::Api;

crate::api_tests!(
    malformed_requests_are_400,
    unknown_routes_and_methods_are_404_and_405,
    oversized_bodies_are_413,
    non_json_bodies_are_415,
    invalid_values_are_422_with_their_fields,
    an_unknown_author_in_a_body_is_404,
    an_unreachable_database_is_503_with_retry_after,
    internal_failures_are_500_without_internal_text,
    request_ids_are_echoed_or_made_up,
);

async fn malformed_requests_are_400(api: Api) {
    let bad_json = api.raw(Method::POST, "/authors", "application/json", b"{\"name\": ".to_vec()).await;
    bad_json.problem(400);
    api.post("/authors", json!({ "name": ["Ada"] })).await.problem(400);
    api.post("/loans", json!({ "book_id": "one", "borrower_id": 1 })).await.problem(400);
    api.post("/loans", json!({ "book_id": 1.5, "borrower_id": 1 })).await.problem(400);
    api.post("/authors", json!({})).await.problem(400);
    api.post("/authors", json!({ "name": "A", "role": "admin" })).await.problem(400);
    api.get("/books?limit=ten").await.problem(400);
    api.get("/books?available=perhaps").await.problem(400);
    api.get("/books/not-a-number").await.problem(400);
    api.get("/books/99999999999999999999999").await.problem(400);
    api.get("/books?published_from=yesterday").await.problem(400);
    let invalid_utf8 =
        api.raw(Method::POST, "/authors", "application/json", vec![b'"', 0xff, 0xfe, b'"']).await;
    invalid_utf8.problem(400);
}

async fn unknown_routes_and_methods_are_404_and_405(api: Api) {
    api.get("/nowhere").await.problem(404);
    api.get("/books/1/nothing").await.problem(404);
    let put_health = api.send(Method::PUT, "/health", None, &[]).await;
    put_health.problem(405);
    assert_eq!(put_health.header("allow"), Some("GET, HEAD"), "RFC 9110: a 405 says what is allowed");
    let delete_books = api.send(Method::DELETE, "/books", None, &[]).await;
    delete_books.problem(405);
    assert_eq!(delete_books.header("allow"), Some("GET, HEAD, POST"));
    let put_book = api.send(Method::PUT, "/books/1/", None, &[]).await;
    put_book.problem(405);
    assert_eq!(
        put_book.header("allow"),
        Some("GET, HEAD, PATCH, DELETE"),
        "a trailing slash is the same route"
    );
    let head_health = api.send(Method::HEAD, "/health", None, &[]).await;
    assert_eq!(head_health.status, 200, "HEAD is listed in Allow because it is answered");
}

async fn oversized_bodies_are_413(api: Api) {
    let name = "x".repeat(70 * 1024);
    api.post("/authors", json!({ "name": name })).await.problem(413);
    assert_eq!(api.get("/authors").await.ok(200)["items"], json!([]), "nothing was stored");
}

async fn non_json_bodies_are_415(api: Api) {
    api.raw(Method::POST, "/authors", "text/plain", b"name=Ada".to_vec()).await.problem(415);
    api.raw(Method::POST, "/authors", "application/x-www-form-urlencoded", b"name=Ada".to_vec())
        .await
        .problem(415);
}

async fn invalid_values_are_422_with_their_fields(api: Api) {
    api.post("/authors", json!({ "name": "   " })).await.invalid("name");
    api.post("/books", json!({ "title": "X", "isbn": "978-0-00-000000-1" })).await.invalid("isbn");
    api.post("/books", json!({ "title": "" })).await.invalid("title");
    api.get("/books?limit=0").await.invalid("limit");
    api.get("/books?cursor=bm90LWEtY3Vyc29y").await.invalid("cursor");
}

/// An id in a body that names nothing is a 404, as a missing book or borrower is for a check-out: the
/// request is well formed (the spec cannot know which ids exist), its target is what is missing.
async fn an_unknown_author_in_a_body_is_404(api: Api) {
    let problem = api.post("/books", json!({ "title": "T", "author_ids": [12345] })).await;
    assert_eq!(problem.problem(404)["detail"], json!("author 12345 does not exist"));
}

async fn an_unreachable_database_is_503_with_retry_after(api: Api) {
    // Closing the pool makes every later query fail to acquire a connection, as an outage would.
    api.db.conn.clone().close().await.unwrap();
    let reply = api.get("/books").await;
    reply.problem(503);
    assert_eq!(reply.header("retry-after"), Some("2"));
    api.get("/health").await.ok(200);
    api.get("/health/ready").await.problem(503);
}

async fn internal_failures_are_500_without_internal_text(api: Api) {
    let book = api.book("Dune", &[]).await;
    api.db.admin().await.execute_unprepared("DROP TABLE reviews").await.unwrap();
    let reply = api.get(&format!("/books/{book}")).await;
    let text = reply.problem(500).to_string().to_lowercase();
    for leak in ["reviews", "select", "sqlx", "table", "relation"] {
        assert!(!text.contains(leak), "the body leaks {leak:?}: {text}");
    }
}

async fn request_ids_are_echoed_or_made_up(api: Api) {
    let echoed = api.send(Method::GET, "/health", None, &[("x-request-id", "trace-42")]).await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
    let made_up = api.get("/health").await;
    let other = api.get("/health").await;
    assert!(made_up.header("x-request-id").is_some());
    assert_ne!(made_up.header("x-request-id"), other.header("x-request-id"));
    let hostile = api.send(Method::GET, "/health", None, &[("x-request-id", "a b<script>")]).await;
    assert_ne!(hostile.header("x-request-id"), Some("a b<script>"));
}
