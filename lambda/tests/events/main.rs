//! Realistic Lambda events (kept as fixtures) through the handler: API Gateway REST (v1, named stage),
//! HTTP API (v2, `$default` and named stage, base64 body, cookies), ALB and Function URL.
#![expect(clippy::unwrap_used, reason = "tests")]

use lambda::adapter::handle;
use lambda_http::{Body, Response};
use migration::testkit::TestDb;
use std::time::Duration;

use openapi::auth::{Auth, DevRole, RoleNames};
use openapi::{AppState, app};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/events/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Invokes the handler with `event`, sent by a librarian (the bearer token is added to the event's
/// headers, as API Gateway passes it on).
async fn invoke(db: &TestDb, event: &Value) -> Response<Body> {
    let auth = Auth::dev(RoleNames::default()).unwrap();
    let token =
        auth.dev_issuer().unwrap().issue(DevRole::Librarian, "librarian", Duration::from_secs(60)).unwrap();
    let mut event = event.clone();
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    if event.get("multiValueHeaders").is_some() {
        event["multiValueHeaders"]["authorization"] = json!([format!("Bearer {token}")]);
    }
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let mut state = AppState::new(db.conn.clone(), auth);
    state.trust_forwarded_prefix = true;
    handle(&app(state), request).await.unwrap()
}

fn text(response: &Response<Body>) -> String {
    match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8(bytes.clone()).unwrap(),
        _ => String::new(),
    }
}

fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_str(&text(response)).unwrap()
}

fn content_type(response: &Response<Body>) -> &str {
    response.headers().get("content-type").unwrap().to_str().unwrap()
}

async fn seed(db: &TestDb) {
    seed::demo::load(&db.conn, seed::demo::DemoLogins::DevSubjects).await.unwrap();
}

migration::backend_tests!(
    rest_api_events_with_a_stage_route_without_it,
    rest_api_errors_are_problems_behind_the_stage,
    swagger_ui_and_spec_carry_the_stage,
    http_api_default_stage_keeps_query_strings_and_cookies,
    http_api_named_stage_with_a_base64_body_creates,
    alb_and_function_url_events_are_served,
    a_client_sent_forwarded_prefix_never_reaches_links_or_docs,
);

async fn rest_api_events_with_a_stage_route_without_it(db: TestDb) {
    seed(&db).await;
    let response = invoke(&db, &fixture("rest_v1_prod")).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    assert!(matches!(response.body(), Body::Text(_)), "JSON goes back as text, not base64");
    assert_eq!(json_body(&response)["title"], json!("Dune"));
    assert!(response.headers().contains_key("x-request-id"));
}

async fn rest_api_errors_are_problems_behind_the_stage(db: TestDb) {
    let mut missing_route = fixture("rest_v1_prod");
    missing_route["path"] = json!("/nowhere");
    let response = invoke(&db, &missing_route).await;
    assert_eq!((response.status().as_u16(), content_type(&response)), (404, "application/problem+json"));

    let mut bad_json = fixture("rest_v1_prod");
    bad_json["httpMethod"] = json!("POST");
    bad_json["path"] = json!("/authors");
    bad_json["headers"]["Content-Type"] = json!("application/json");
    bad_json["multiValueHeaders"]["Content-Type"] = json!(["application/json"]);
    bad_json["body"] = json!("{\"name\": ");
    let response = invoke(&db, &bad_json).await;
    assert_eq!((response.status().as_u16(), content_type(&response)), (400, "application/problem+json"));

    let mut too_large = bad_json.clone();
    too_large["body"] = json!(format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024)));
    let response = invoke(&db, &too_large).await;
    assert_eq!((response.status().as_u16(), content_type(&response)), (413, "application/problem+json"));
}

async fn swagger_ui_and_spec_carry_the_stage(db: TestDb) {
    let mut docs = fixture("rest_v1_prod");
    docs["path"] = json!("/docs");
    let response = invoke(&db, &docs).await;
    assert_eq!(response.status(), 200);
    assert!(text(&response).contains(r#""url": "/prod""#));
    let mut spec = fixture("rest_v1_prod");
    spec["path"] = json!("/openapi.json");
    assert_eq!(json_body(&invoke(&db, &spec).await)["servers"], json!([{ "url": "/prod" }]));
}

async fn http_api_default_stage_keeps_query_strings_and_cookies(db: TestDb) {
    seed(&db).await;
    let response = invoke(&db, &fixture("http_v2_default")).await;
    assert_eq!(response.status(), 200);
    let body = json_body(&response);
    let titles: Vec<_> = body["items"].as_array().unwrap().iter().map(|b| b["title"].clone()).collect();
    assert_eq!(titles, [json!("The Left Hand of Darkness")], "percent-encoded filter decoded: {body}");
    let mut docs = fixture("http_v2_default");
    docs["rawPath"] = json!("/openapi.json");
    docs["rawQueryString"] = json!("");
    assert_eq!(json_body(&invoke(&db, &docs).await)["servers"], json!([{ "url": "/" }]));
}

async fn http_api_named_stage_with_a_base64_body_creates(db: TestDb) {
    let response = invoke(&db, &fixture("http_v2_prod_post_base64")).await;
    assert_eq!(response.status(), 201, "{}", text(&response));
    assert_eq!(json_body(&response)["name"], json!("Octavia E. Butler"));
    let location = response.headers().get("location").unwrap().to_str().unwrap();
    assert!(location.starts_with("/prod/authors/"), "{location}");
}

async fn alb_and_function_url_events_are_served(db: TestDb) {
    seed(&db).await;
    let response = invoke(&db, &fixture("alb")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["id"], json!(1));
    let response = invoke(&db, &fixture("function_url")).await;
    assert_eq!((response.status().as_u16(), json_body(&response)["status"].clone()), (200, json!("ok")));
}

/// API Gateway passes client headers through; the prefix the app builds links with must be ours.
async fn a_client_sent_forwarded_prefix_never_reaches_links_or_docs(db: TestDb) {
    let spoofed = |mut event: Value| {
        event["headers"]["X-Forwarded-Prefix"] = json!("/evil");
        if event.get("multiValueHeaders").is_some() {
            event["multiValueHeaders"]["X-Forwarded-Prefix"] = json!(["/evil"]);
        }
        event
    };
    // `$default` stage: no prefix at all.
    let mut create = spoofed(fixture("http_v2_prod_post_base64"));
    create["requestContext"]["stage"] = json!("$default");
    create["rawPath"] = json!("/authors");
    create["requestContext"]["http"]["path"] = json!("/authors");
    let response = invoke(&db, &create).await;
    assert_eq!(response.status(), 201, "{}", text(&response));
    let location = response.headers().get("location").unwrap().to_str().unwrap();
    assert!(location.starts_with("/authors/"), "{location}");
    let mut spec = spoofed(fixture("http_v2_default"));
    spec["rawPath"] = json!("/openapi.json");
    spec["rawQueryString"] = json!("");
    assert_eq!(json_body(&invoke(&db, &spec).await)["servers"], json!([{ "url": "/" }]));
    let mut docs = spec.clone();
    docs["rawPath"] = json!("/docs");
    assert!(!text(&invoke(&db, &docs).await).contains("/evil"));
    // A named stage: the stage, not the client's value.
    let mut staged = spoofed(fixture("rest_v1_prod"));
    staged["path"] = json!("/openapi.json");
    assert_eq!(json_body(&invoke(&db, &staged).await)["servers"], json!([{ "url": "/prod" }]));
}
