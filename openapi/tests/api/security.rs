//! What the security audit (issue 21) asked of the API: hidden formatting and control characters are
//! refused by field, reviews do not say who borrowed what, authenticated answers are never cached (and the
//! public answers a token would change say so), and no operation parses XML.

use poem::http::Method;
use serde_json::{Value, json};

use crate::client::{Api, Who};

crate::api_tests!(
    bidi_overrides_zero_width_and_control_characters_are_refused_naming_the_field,
    reviews_name_their_author_only_to_librarians_and_the_author,
    authenticated_answers_are_never_stored_by_caches,
    public_reviews_that_a_token_would_change_vary_by_it,
    no_operation_takes_an_xml_body,
);

async fn bidi_overrides_zero_width_and_control_characters_are_refused_naming_the_field(api: Api) {
    for hidden in ["\u{202E}", "\u{2066}", "\u{200B}", "\u{200D}", "\u{2060}", "\u{FEFF}"] {
        api.post("/authors", json!({ "name": format!("Frank{hidden} Herbert") })).await.invalid("name");
        api.post("/books", json!({ "title": format!("Du{hidden}ne") })).await.invalid("title");
        let borrower =
            json!({ "name": "Ada", "email": "ada@example.org", "subject": format!("ada{hidden}") });
        api.post("/borrowers", borrower).await.invalid("subject");
    }
    let book = api.book("Dune", &[]).await;
    let reader = api.borrower(1).await;
    api.patch(&format!("/books/{book}"), json!({ "title": "Dune\u{202E}kcaB" })).await.invalid("title");
    api.patch(&format!("/borrowers/{reader}"), json!({ "name": "Rea\u{200B}der" })).await.invalid("name");
    api.check_out(book, reader).await.ok(201);
    let reviews = format!("/books/{book}/reviews");
    for control in ["\u{1b}[2J", "\u{7}", "\u{8}", "\u{7f}", "\u{9b}31m"] {
        let review = json!({ "borrower_id": reader, "rating": 4, "comment": format!("fine{control}") });
        api.post(&reviews, review).await.invalid("comment");
    }
    let multiline = "Slow start.\n\n\tThen it flies.";
    let created =
        api.post(&reviews, json!({ "borrower_id": reader, "rating": 4, "comment": multiline })).await;
    let id = created.ok(201)["id"].as_i64().unwrap();
    assert_eq!(created.body["comment"], json!(multiline), "line breaks and tabs stay");
    api.patch(&format!("/reviews/{id}"), json!({ "comment": "\u{1b}]0;owned\u{7}" }))
        .await
        .invalid("comment");
    // Right-to-left text is text.
    api.author("نجيب محفوظ").await;
}

async fn reviews_name_their_author_only_to_librarians_and_the_author(api: Api) {
    let book = api.book("Dune", &[]).await;
    let linked = |name: &str, subject: &str| json!({ "name": name, "email": format!("{subject}@example.org"), "subject": subject });
    let ada = api.create("/borrowers", linked("Ada", "sub-ada")).await;
    api.create("/borrowers", linked("Bob", "sub-bob")).await;
    let review = api.review_after_borrowing(book, ada, 5).await;

    let author_of = |reply: &Value| reply.get("borrower_id").cloned();
    let seen_by = |who: Who<'static>| {
        let api = &api;
        async move {
            api.act_as(who);
            let listed = api.get(&format!("/books/{book}/reviews")).await;
            let one = api.get(&format!("/reviews/{review}")).await;
            (author_of(&listed.ok(200)["items"][0]), author_of(one.ok(200)))
        }
    };
    assert_eq!(seen_by(Who::Anonymous).await, (None, None), "the public sees no borrower");
    assert_eq!(seen_by(Who::Borrower("sub-bob")).await, (None, None), "nor does another borrower");
    assert_eq!(seen_by(Who::Borrower("sub-nobody")).await, (None, None), "nor an unlinked login");
    assert_eq!(seen_by(Who::Borrower("sub-ada")).await, (Some(json!(ada)), Some(json!(ada))));
    assert_eq!(seen_by(Who::Librarian).await, (Some(json!(ada)), Some(json!(ada))));
    // A token that does not check out is read as no token: the public view, not an error.
    let listed = api
        .send(Method::GET, &format!("/books/{book}/reviews"), None, &[("authorization", "Bearer x.y.z")])
        .await;
    assert_eq!(author_of(&listed.ok(200)["items"][0]), None);
}

async fn authenticated_answers_are_never_stored_by_caches(api: Api) {
    let book = api.book("Dune", &[]).await;
    for path in
        ["/borrowers".to_owned(), "/books".to_owned(), format!("/books/{book}/reviews"), "/loans".to_owned()]
    {
        assert_eq!(api.get(&path).await.header("cache-control"), Some("no-store"), "{path}");
    }
    let refused = api.send(Method::GET, "/borrowers", None, &[("authorization", "Bearer x.y.z")]).await;
    assert_eq!((refused.status, refused.header("cache-control")), (401, Some("no-store")));
    api.act_as(Who::Anonymous);
    let public = api.get("/books").await;
    assert_ne!(public.header("cache-control"), Some("no-store"), "the public catalogue may be cached");
    assert_eq!(public.header("vary"), None, "and a token does not change it");
}

async fn public_reviews_that_a_token_would_change_vary_by_it(api: Api) {
    let book = api.book("Dune", &[]).await;
    let reader = api.borrower(1).await;
    let review = api.review_after_borrowing(book, reader, 5).await;
    api.act_as(Who::Anonymous);
    let one = api.get(&format!("/reviews/{review}")).await;
    let tag = one.header("etag").unwrap().to_owned();
    let unchanged =
        api.send(Method::GET, &format!("/reviews/{review}"), None, &[("if-none-match", tag.as_str())]).await;
    assert_eq!(unchanged.status, 304);
    let listed = api.get(&format!("/books/{book}/reviews")).await;
    for (what, reply) in [("a review", &one), ("its 304", &unchanged), ("the list", &listed)] {
        let vary: Vec<&str> = reply.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(vary.iter().any(|v| v.eq_ignore_ascii_case("authorization")), "{what}: {vary:?}");
    }
}

/// quick-xml is in the tree (poem-openapi's XML payload) with advisories RUSTSEC-2026-0194/0195; this
/// shows no request path reaches it: every operation that takes a body refuses XML before parsing.
async fn no_operation_takes_an_xml_body(api: Api) {
    let spec: Value = serde_json::from_str(&openapi::spec_json()).unwrap();
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(content) = operation.get("requestBody").map(|body| &body["content"]) else { continue };
            assert!(content.as_object().unwrap().keys().all(|t| t.contains("json")), "{method} {path}");
            let concrete = path.replace("{id}", "1").replace("{author_id}", "1");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for content_type in ["application/xml", "text/xml"] {
                let xml = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>".to_vec();
                let reply = api.raw(method.clone(), &concrete, content_type, xml).await;
                assert_eq!(reply.status, 415, "{method} {path} with {content_type}: {reply:#?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "every body-taking operation was tried ({checked})");
}
