//! A small JSON client over `TestClient`, so tests read as requests and answers.

use migration::testkit::TestDb;
use std::sync::Mutex;

use openapi::auth::{Auth, DevRole, RoleNames};
use openapi::{AppState, app};
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method};
use poem::test::TestClient;
use poem::{EndpointExt, Response};
use serde_json::{Value, json};

pub struct Api {
    client: TestClient<BoxEndpoint<'static, Response>>,
    pub db: TestDb,
    pub auth: Auth,
    /// The bearer token sent with every request: a librarian's unless a test acts as someone else.
    token: Mutex<Option<String>>,
}

/// Who the requests of a test come from.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    Anonymous,
    Librarian,
    /// A borrower token with this subject (linked to a borrower record or not).
    Borrower(&'a str),
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as it came, byte for byte.
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a success status and returns the body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {self:#?}");
        &self.body
    }

    /// Asserts an RFC 9457 problem with this status, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {self:#?}");
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{self:#?}");
        for field in ["type", "title", "detail"] {
            assert!(self.body[field].is_string(), "problem without {field}: {self:#?}");
        }
        assert_eq!(self.body["status"], json!(status));
        &self.body
    }

    /// Asserts a 409 with this conflict code.
    #[track_caller]
    pub fn conflict(&self, code: &str) {
        assert_eq!(self.problem(409)["code"], json!(code), "{self:#?}");
    }

    /// Asserts a 422 naming this field.
    #[track_caller]
    pub fn invalid(&self, field: &str) {
        assert_eq!(self.problem(422)["errors"][0]["field"], json!(field), "{self:#?}");
    }
}

impl Api {
    pub fn new(db: TestDb) -> Self {
        Self::configured(db, |_| {})
    }

    /// An app whose state the test adjusts first (limits, CORS origins).
    pub fn configured(db: TestDb, configure: impl FnOnce(&mut AppState)) -> Self {
        let auth = Auth::dev(RoleNames::default()).unwrap();
        let mut state = AppState::new(db.conn.clone(), auth.clone());
        configure(&mut state);
        let api = Self { client: TestClient::new(app(state).boxed()), db, auth, token: Mutex::new(None) };
        api.act_as(Who::Librarian);
        api
    }

    /// A dev token for `who`, or none.
    pub fn token_for(&self, who: Who<'_>) -> Option<String> {
        let issuer = self.auth.dev_issuer().unwrap();
        let lifetime = std::time::Duration::from_secs(600);
        match who {
            Who::Anonymous => None,
            Who::Librarian => Some(issuer.issue(DevRole::Librarian, "test-librarian", lifetime).unwrap()),
            Who::Borrower(subject) => Some(issuer.issue(DevRole::Borrower, subject, lifetime).unwrap()),
        }
    }

    /// Sends the following requests as `who`.
    pub fn act_as(&self, who: Who<'_>) {
        *self.token.lock().unwrap() = self.token_for(who);
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, path);
        let sets_authorization = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if let (false, Some(token)) = (sets_authorization, self.token.lock().unwrap().as_deref()) {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body_json(&body);
        }
        Self::reply(request.send().await.0).await
    }

    /// A request with one header given as raw bytes (obs-text and the like, which `send` cannot spell).
    pub async fn send_header_bytes(&self, method: Method, path: &str, name: &str, value: &[u8]) -> Reply {
        let mut request = self
            .client
            .request(method, path)
            .header(name, poem::http::HeaderValue::from_bytes(value).unwrap());
        if let Some(token) = self.token.lock().unwrap().as_deref() {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        Self::reply(request.send().await.0).await
    }

    pub async fn reply(response: Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().into_vec().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body, raw: bytes }
    }

    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let mut request = self.client.request(method, path).content_type(content_type).body(body);
        if let Some(token) = self.token.lock().unwrap().as_deref() {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        Self::reply(request.send().await.0).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(Method::POST, path, None, &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates a resource and returns its id, checking the 201 and its `Location`.
    pub async fn create(&self, path: &str, body: Value) -> i64 {
        let reply = self.post(path, body).await;
        let id = reply.ok(201)["id"].as_i64().unwrap();
        let location = reply.header("location").unwrap();
        assert!(location.ends_with(&format!("/{id}")), "{location}");
        id
    }

    pub async fn author(&self, name: &str) -> i64 {
        self.create("/authors", json!({ "name": name })).await
    }

    pub async fn book(&self, title: &str, author_ids: &[i64]) -> i64 {
        self.create("/books", json!({ "title": title, "author_ids": author_ids })).await
    }

    pub async fn borrower(&self, n: usize) -> i64 {
        self.create(
            "/borrowers",
            json!({ "name": format!("Reader {n}"), "email": format!("r{n}@example.org") }),
        )
        .await
    }

    pub async fn check_out(&self, book_id: i64, borrower_id: i64) -> Reply {
        self.post("/loans", json!({ "book_id": book_id, "borrower_id": borrower_id })).await
    }

    /// A review of the book by the borrower, who borrows and returns it first (only a book's borrowers may
    /// review it); returns the review's id.
    pub async fn review_after_borrowing(&self, book_id: i64, borrower_id: i64, rating: u8) -> i64 {
        let loan = self.check_out(book_id, borrower_id).await.ok(201)["id"].as_i64().unwrap();
        self.post_empty(&format!("/loans/{loan}/return")).await.ok(200);
        let review = json!({ "borrower_id": borrower_id, "rating": rating });
        self.create(&format!("/books/{book_id}/reviews"), review).await
    }
}

/// Runs each test body on SQLite, PostgreSQL and MariaDB through the HTTP API.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod via {
            $(
                async fn $name(db: migration::testkit::TestDb) {
                    super::$name($crate::client::Api::new(db)).await;
                }
            )*
            migration::backend_tests!($($name),*);
        }
    };
}
