//! Swagger UI and the spec, at the root and under a path prefix such as an API Gateway stage.

use poem::http::Method;
use serde_json::json;

use crate::client::Api;

crate::api_tests!(a_client_cannot_choose_the_path_prefix);
migration::backend_tests!(docs_and_spec_follow_the_path_prefix);

/// Behind a proxy that sets `X-Forwarded-Prefix` (the Lambda adapter, told by `trust_forwarded_prefix`).
async fn docs_and_spec_follow_the_path_prefix(db: migration::testkit::TestDb) {
    let api = Api::configured(db, |state| state.trust_forwarded_prefix = true);
    let ui = api.get("/docs").await;
    assert_eq!(ui.status, 200);
    assert!(ui.header("content-type").unwrap().starts_with("text/html"));
    let html = ui.body.as_str().unwrap();
    assert!(html.contains("SwaggerUIBundle") && html.contains(r#""url": "/""#));

    let spec = api.get("/openapi.json").await;
    assert_eq!(spec.ok(200)["servers"], json!([{ "url": "/" }]));
    let yaml = api.get("/openapi.yaml").await;
    assert!(yaml.header("content-type").unwrap().starts_with("application/yaml"));
    assert!(yaml.body.as_str().unwrap().contains("openapi: 3.0"));

    let staged = [("x-forwarded-prefix", "/prod")];
    let ui = api.send(Method::GET, "/docs", None, &staged).await;
    assert!(ui.body.as_str().unwrap().contains(r#""url": "/prod""#));
    let spec = api.send(Method::GET, "/openapi.json", None, &staged).await;
    assert_eq!(spec.ok(200)["servers"], json!([{ "url": "/prod" }]));
    let created = api.send(Method::POST, "/authors", Some(json!({ "name": "A" })), &staged).await;
    let id = created.ok(201)["id"].clone();
    assert_eq!(created.header("location"), Some(format!("/prod/authors/{id}").as_str()));

    let hostile = [("x-forwarded-prefix", "/\"><script>alert(1)</script>")];
    let ui = api.send(Method::GET, "/docs", None, &hostile).await;
    assert!(!ui.body.as_str().unwrap().contains("alert(1)"));
}

/// Served directly, the header is the client's: the docs, the spec and `Location` stay at the root, so no
/// client can make a cached copy of the spec point elsewhere.
async fn a_client_cannot_choose_the_path_prefix(api: Api) {
    let chosen = [("x-forwarded-prefix", "/elsewhere")];
    let ui = api.send(Method::GET, "/docs", None, &chosen).await;
    assert!(ui.body.as_str().unwrap().contains(r#""url": "/""#));
    let spec = api.send(Method::GET, "/openapi.json", None, &chosen).await;
    assert_eq!(spec.ok(200)["servers"], json!([{ "url": "/" }]));
    let created = api.send(Method::POST, "/authors", Some(json!({ "name": "A" })), &chosen).await;
    let id = created.ok(201)["id"].clone();
    assert_eq!(created.header("location"), Some(format!("/authors/{id}").as_str()));
}
