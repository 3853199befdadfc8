//! Every operation's access rule, for an anonymous caller, a borrower and a librarian.
//!
//! Operations that change things are sent with ids that do not exist: a librarian then gets 404 (the rule
//! let them through to the lookup), while the others are stopped by 401/403 before it, and nothing changes.

use serde_json::{Value, json};

use crate::client::{Api, Reply, Who};

crate::api_tests!(every_operation_enforces_its_access_rule, borrowers_act_only_on_their_own_records);

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Public,
    Librarian,
    /// The borrower the path names (here: Ada), or a librarian.
    AdaOrLibrarian,
}

const NONE: i64 = 999_999;

struct Fixture {
    ada: i64,
    book: i64,
    author: i64,
    review: i64,
}

/// Ada (linked to `sub-ada`) has borrowed and reviewed a book; Bob (`sub-bob`) holds a loan.
async fn fixture(api: &Api) -> Fixture {
    let author = api.author("Frank Herbert").await;
    let book = api.book("Dune", &[author]).await;
    let other = api.book("Neuromancer", &[]).await;
    let linked = |name: &str, subject: &str| json!({ "name": name, "email": format!("{subject}@example.org"), "subject": subject });
    let ada = api.create("/borrowers", linked("Ada", "sub-ada")).await;
    let bob = api.create("/borrowers", linked("Bob", "sub-bob")).await;
    let review = api.review_after_borrowing(book, ada, 5).await;
    api.check_out(other, bob).await.ok(201);
    Fixture { ada, book, author, review }
}

/// (rule, method, path, body, what a librarian gets)
fn operations(f: &Fixture) -> Vec<(Rule, &'static str, String, Option<Value>, u16)> {
    let (ada, book, author, review) = (f.ada, f.book, f.author, f.review);
    vec![
        (Rule::Public, "GET", "/books".into(), None, 200),
        (Rule::Public, "GET", "/books/available".into(), None, 200),
        (Rule::Public, "GET", format!("/books/{book}"), None, 200),
        (Rule::Public, "GET", format!("/books/{book}/reviews"), None, 200),
        (Rule::Public, "GET", "/authors".into(), None, 200),
        (Rule::Public, "GET", format!("/authors/{author}"), None, 200),
        (Rule::Public, "GET", format!("/authors/{author}/books"), None, 200),
        (Rule::Public, "GET", format!("/reviews/{review}"), None, 200),
        (Rule::Public, "GET", "/health".into(), None, 200),
        (Rule::Public, "GET", "/health/ready".into(), None, 200),
        (Rule::Librarian, "POST", "/authors".into(), Some(json!({ "name": "Ursula K. Le Guin" })), 201),
        (Rule::Librarian, "PATCH", format!("/authors/{NONE}"), Some(json!({ "name": "X" })), 404),
        (Rule::Librarian, "DELETE", format!("/authors/{NONE}"), None, 404),
        (Rule::Librarian, "POST", "/books".into(), Some(json!({ "title": "Earthsea" })), 201),
        (Rule::Librarian, "PATCH", format!("/books/{NONE}"), Some(json!({ "title": "X" })), 404),
        (Rule::Librarian, "DELETE", format!("/books/{NONE}"), None, 404),
        (Rule::Librarian, "PUT", format!("/books/{NONE}/authors"), Some(json!({ "author_ids": [] })), 404),
        (
            Rule::Librarian,
            "POST",
            format!("/books/{NONE}/authors"),
            Some(json!({ "author_id": author })),
            404,
        ),
        (Rule::Librarian, "DELETE", format!("/books/{NONE}/authors/{author}"), None, 404),
        (Rule::Librarian, "GET", "/borrowers".into(), None, 200),
        (
            Rule::Librarian,
            "POST",
            "/borrowers".into(),
            Some(json!({ "name": "Grace", "email": "grace@example.org" })),
            201,
        ),
        (Rule::Librarian, "PATCH", format!("/borrowers/{NONE}"), Some(json!({ "name": "X" })), 404),
        (Rule::Librarian, "DELETE", format!("/borrowers/{NONE}"), None, 404),
        (Rule::Librarian, "POST", "/loans".into(), Some(json!({ "book_id": NONE, "borrower_id": ada })), 404),
        (Rule::Librarian, "POST", format!("/loans/{NONE}/return"), None, 404),
        (Rule::Librarian, "POST", format!("/loans/{NONE}/renew"), None, 404),
        (Rule::AdaOrLibrarian, "GET", format!("/borrowers/{ada}"), None, 200),
        (Rule::AdaOrLibrarian, "GET", format!("/borrowers/{ada}/loans"), None, 200),
        (Rule::AdaOrLibrarian, "GET", format!("/loans?borrower_id={ada}"), None, 200),
        (
            Rule::AdaOrLibrarian,
            "POST",
            format!("/books/{NONE}/reviews"),
            Some(json!({ "borrower_id": ada, "rating": 4 })),
            404,
        ),
        (Rule::AdaOrLibrarian, "PATCH", format!("/reviews/{review}"), Some(json!({ "rating": 4 })), 200),
        // The librarian (asked first) deletes it: Ada then finds it gone, but is let through to look.
        (Rule::AdaOrLibrarian, "DELETE", format!("/reviews/{review}"), None, 204),
    ]
}

async fn call(api: &Api, method: &str, path: &str, body: Option<Value>) -> Reply {
    api.send(method.parse().unwrap(), path, body, &[]).await
}

#[track_caller]
fn assert_unauthorized(reply: &Reply, what: &str) {
    assert_eq!(reply.problem(401)["type"], json!("/problems/unauthorized"), "{what}");
    assert!(reply.header("www-authenticate").unwrap().starts_with("Bearer realm=\"libris\""), "{what}");
}

#[track_caller]
fn assert_forbidden(reply: &Reply, what: &str) {
    assert_eq!(reply.problem(403)["type"], json!("/problems/forbidden"), "{what}");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\", scope=\"libris/librarian\""),
        "{what}: {challenge}"
    );
}

async fn every_operation_enforces_its_access_rule(api: Api) {
    let f = fixture(&api).await;
    let operations = operations(&f);

    // The table covers every operation of the spec, so a new route cannot go unchecked.
    let spec: Value = serde_json::from_str(&openapi::spec_json()).unwrap();
    let in_spec =
        spec["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum::<usize>();
    assert_eq!(operations.len(), in_spec, "one row per operation of the spec");

    for (rule, method, path, body, librarian_gets) in &operations {
        let what = format!("{method} {path}");
        api.act_as(Who::Anonymous);
        let anonymous = call(&api, method, path, body.clone()).await;
        api.act_as(Who::Borrower("sub-bob"));
        let bob = call(&api, method, path, body.clone()).await;
        match rule {
            Rule::Public => {
                assert_eq!(anonymous.status, *librarian_gets, "{what}: {anonymous:#?}");
                assert_eq!(bob.status, *librarian_gets, "{what}: {bob:#?}");
            }
            Rule::Librarian | Rule::AdaOrLibrarian => {
                assert_unauthorized(&anonymous, &what);
                assert_forbidden(&bob, &what);
            }
        }
        if *rule == Rule::Librarian {
            api.act_as(Who::Borrower("sub-ada"));
            assert_forbidden(&call(&api, method, path, body.clone()).await, &what);
        }
        api.act_as(Who::Librarian);
        assert_eq!(call(&api, method, path, body.clone()).await.status, *librarian_gets, "{what}");
        if *rule == Rule::AdaOrLibrarian {
            api.act_as(Who::Borrower("sub-ada"));
            let ada = call(&api, method, path, body.clone()).await;
            let expected = if *method == "DELETE" { 404 } else { *librarian_gets };
            assert_eq!(ada.status, expected, "{what} as Ada: {ada:#?}");
        }
    }
}

async fn borrowers_act_only_on_their_own_records(api: Api) {
    let f = fixture(&api).await;
    api.act_as(Who::Borrower("sub-ada"));
    // Her loans list shows only hers, whatever she asks for.
    let loans = api.get("/loans").await;
    let borrowers: Vec<&Value> =
        loans.ok(200)["items"].as_array().unwrap().iter().map(|l| &l["borrower_id"]).collect();
    assert!(borrowers.iter().all(|b| **b == json!(f.ada)), "{borrowers:?}");
    let returned = api.get(&format!("/borrowers/{}/loans?status=returned", f.ada)).await;
    assert_eq!(returned.ok(200)["items"].as_array().unwrap().len(), 1);
    // She edits and deletes her own review.
    api.patch(&format!("/reviews/{}", f.review), json!({ "comment": "Spice!" })).await.ok(200);
    api.delete(&format!("/reviews/{}", f.review)).await.ok(204);
    // She writes a review as herself, never as someone else.
    let bob = api.get("/borrowers?email=sub-bob").await;
    assert_forbidden(&bob, "Ada listing borrowers");
    let as_other = json!({ "borrower_id": f.ada + 1, "rating": 1 });
    assert_forbidden(&api.post(&format!("/books/{}/reviews", f.book), as_other).await, "review as Bob");
    let as_herself = json!({ "borrower_id": f.ada, "rating": 4 });
    api.post(&format!("/books/{}/reviews", f.book), as_herself).await.ok(201);

    // Bob may not touch Ada's new review; a token whose subject is linked to no borrower may do nothing.
    let review =
        api.get(&format!("/books/{}/reviews", f.book)).await.ok(200)["items"][0]["id"].as_i64().unwrap();
    api.act_as(Who::Borrower("sub-bob"));
    assert_forbidden(&api.patch(&format!("/reviews/{review}"), json!({ "rating": 1 })).await, "Bob edits");
    assert_forbidden(&api.delete(&format!("/reviews/{review}")).await, "Bob deletes");
    assert_forbidden(&api.get(&format!("/loans?borrower_id={}", f.ada)).await, "Bob lists Ada's loans");
    api.act_as(Who::Borrower("nobody"));
    let unlinked = api.get("/loans").await;
    assert_forbidden(&unlinked, "unlinked subject");
    assert!(unlinked.body["detail"].as_str().unwrap().contains("linked"), "{unlinked:#?}");
}
