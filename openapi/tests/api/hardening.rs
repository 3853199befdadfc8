//! Protective defaults: CORS off unless origins are listed, and security headers.

use migration::testkit::TestDb;
use poem::http::Method;

use crate::client::Api;

migration::backend_tests!(
    cors_is_off_by_default,
    cors_allows_only_listed_origins,
    swagger_ui_is_served_with_a_strict_policy,
);

const PREFLIGHT: [(&str, &str); 2] =
    [("origin", "https://app.example.org"), ("access-control-request-method", "POST")];

async fn cors_is_off_by_default(db: TestDb) {
    let api = Api::new(db);
    let reply = api.send(Method::GET, "/books", None, &[("origin", "https://evil.example")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let preflight = api.send(Method::OPTIONS, "/books", None, &PREFLIGHT).await;
    assert_eq!(preflight.header("access-control-allow-origin"), None);
}

async fn cors_allows_only_listed_origins(db: TestDb) {
    let api = Api::configured(db, |state| state.cors_origins = vec!["https://app.example.org".to_owned()]);
    let preflight = api.send(Method::OPTIONS, "/books", None, &PREFLIGHT).await;
    assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example.org"));
    let listed = api.send(Method::GET, "/books", None, &[("origin", "https://app.example.org")]).await;
    assert_eq!(listed.header("access-control-allow-origin"), Some("https://app.example.org"));
    let other = api.send(Method::GET, "/books", None, &[("origin", "https://evil.example")]).await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

async fn swagger_ui_is_served_with_a_strict_policy(db: TestDb) {
    let api = Api::new(db);
    let ui = api.get("/docs").await;
    let policy = ui.header("content-security-policy").unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(ui.header("x-frame-options"), Some("DENY"));
    assert_eq!(ui.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(api.get("/books").await.header("x-content-type-options"), Some("nosniff"));
}
