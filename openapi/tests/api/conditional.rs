//! Conditional requests: strong ETags on every single-resource GET, 304 for a current copy, and writes
//! that refuse to overwrite a change the client has not seen (412), atomically, even when 50 race.

use futures::future::join_all;
use poem::http::Method;
use serde_json::{Value, json};

use crate::client::{Api, Reply};

crate::api_tests!(
    every_single_resource_get_sends_a_strong_etag_and_304s_a_current_copy,
    a_books_etag_changes_with_everything_its_page_shows,
    writes_with_a_stale_if_match_are_refused_with_412,
    empty_tag_lists_are_lists_and_unreadable_ones_are_refused,
    fifty_racing_patches_with_one_if_match_change_the_book_once,
);

fn etag(reply: &Reply) -> String {
    let tag = reply.header("etag").unwrap_or_else(|| panic!("no ETag: {reply:#?}")).to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2, "not a strong tag: {tag}");
    tag
}

async fn get_if_none_match(api: &Api, path: &str, tag: &str) -> Reply {
    api.send(Method::GET, path, None, &[("if-none-match", tag)]).await
}

async fn with_if_match(api: &Api, method: Method, path: &str, body: Option<Value>, tag: &str) -> Reply {
    api.send(method, path, body, &[("if-match", tag)]).await
}

async fn every_single_resource_get_sends_a_strong_etag_and_304s_a_current_copy(api: Api) {
    let (author, reader) = (api.author("Frank Herbert").await, api.borrower(1).await);
    let book = api.book("Dune", &[author]).await;
    api.check_out(book, reader).await.ok(201);
    let review =
        api.create(&format!("/books/{book}/reviews"), json!({ "borrower_id": reader, "rating": 5 })).await;
    for path in [
        format!("/books/{book}"),
        format!("/authors/{author}"),
        format!("/borrowers/{reader}"),
        format!("/reviews/{review}"),
    ] {
        let first = api.get(&path).await;
        first.ok(200);
        let tag = etag(&first);
        assert_eq!(etag(&api.get(&path).await), tag, "{path}: the same state, the same tag");
        let unchanged = get_if_none_match(&api, &path, &tag).await;
        assert_eq!((unchanged.status, &unchanged.body), (304, &Value::Null), "{path}: {unchanged:#?}");
        assert_eq!(etag(&unchanged), tag);
        let weak = get_if_none_match(&api, &path, &format!("W/{tag}, \"other\"")).await;
        assert_eq!(weak.status, 304, "{path}: If-None-Match compares weakly");
        get_if_none_match(&api, &path, "\"other\"").await.ok(200);
        get_if_none_match(&api, &path, "*").await.ok(304);
        get_if_none_match(&api, &path, "no quotes").await.problem(400);
    }
}

async fn a_books_etag_changes_with_everything_its_page_shows(api: Api) {
    let (author, reader) = (api.author("Frank Herbert").await, api.borrower(1).await);
    let book = api.book("Dune", &[author]).await;
    let path = format!("/books/{book}");
    let mut seen = vec![etag(&api.get(&path).await)];
    let mut changed = |reply: Reply, what: &str| {
        let tag = etag(&reply);
        assert!(!seen.contains(&tag), "{what} left the book's tag at {tag}");
        seen.push(tag);
    };
    let loan = api.check_out(book, reader).await.ok(201)["id"].as_i64().unwrap();
    changed(api.get(&path).await, "a check-out");
    api.post_empty(&format!("/loans/{loan}/renew")).await.ok(200);
    changed(api.get(&path).await, "a renewal");
    api.create(&format!("/books/{book}/reviews"), json!({ "borrower_id": reader, "rating": 4 })).await;
    changed(api.get(&path).await, "a review");
    api.patch(&format!("/authors/{author}"), json!({ "name": "F. Herbert" })).await.ok(200);
    changed(api.get(&path).await, "renaming its author");
    api.post_empty(&format!("/loans/{loan}/return")).await.ok(200);
    changed(api.get(&path).await, "a return");
    let patched = api.patch(&path, json!({ "title": "Dune Messiah" })).await;
    patched.ok(200);
    let tag = etag(&patched);
    assert_eq!(etag(&api.get(&path).await), tag, "a PATCH answers with the tag a GET then sends");
    changed(patched, "a PATCH");
}

async fn writes_with_a_stale_if_match_are_refused_with_412(api: Api) {
    let author = api.author("Frank Herbert").await;
    let book = api.book("Dune", &[]).await;
    let reader = api.borrower(1).await;
    for (path, patch) in [
        (format!("/books/{book}"), json!({ "title": "Dune Messiah" })),
        (format!("/authors/{author}"), json!({ "name": "F. Herbert" })),
        (format!("/borrowers/{reader}"), json!({ "name": "Ada L." })),
    ] {
        let read = etag(&api.get(&path).await);
        let saved = with_if_match(&api, Method::PATCH, &path, Some(patch.clone()), &read).await;
        saved.ok(200);
        let current = etag(&saved);
        assert_ne!(current, read);
        with_if_match(&api, Method::PATCH, &path, Some(patch.clone()), &read).await.problem(412);
        with_if_match(&api, Method::PATCH, &path, Some(patch.clone()), &format!("W/{current}"))
            .await
            .problem(412);
        with_if_match(&api, Method::PATCH, &path, Some(patch), "not a tag").await.problem(400);
        with_if_match(&api, Method::DELETE, &path, None, &read).await.problem(412);
        api.get(&path).await.ok(200);
        with_if_match(&api, Method::DELETE, &path, None, &format!("\"x\", {current}")).await.ok(204);
        with_if_match(&api, Method::DELETE, &path, None, &current).await.problem(404);
    }
    let (book, other) = (api.book("Children of Dune", &[]).await, api.author("Brian Herbert").await);
    let book_tag = etag(&api.get(&format!("/books/{book}")).await);
    let authors = format!("/books/{book}/authors");
    let put =
        with_if_match(&api, Method::PUT, &authors, Some(json!({ "author_ids": [other] })), &book_tag).await;
    put.ok(200);
    with_if_match(&api, Method::PUT, &authors, Some(json!({ "author_ids": [] })), &book_tag)
        .await
        .problem(412);
    with_if_match(&api, Method::DELETE, &format!("{authors}/{other}"), None, &book_tag).await.problem(412);
    assert_eq!(api.get(&format!("/books/{book}")).await.ok(200)["authors"][0]["id"], json!(other));
}

/// RFC 9110 §5.6.1.2: empty list elements are no elements, so an empty `If-Match` matches nothing and an
/// empty `If-None-Match` leaves a `GET` unconditional; a value with bytes no entity tag has is a 400, never
/// read as no precondition at all.
async fn empty_tag_lists_are_lists_and_unreadable_ones_are_refused(api: Api) {
    let path = format!("/authors/{}", api.author("Frank Herbert").await);
    let tag = etag(&api.get(&path).await);
    api.send_header_bytes(Method::GET, &path, "if-none-match", b"\x84").await.problem(400);
    api.send_header_bytes(Method::DELETE, &path, "if-match", b"\"\x84\"").await.problem(400);
    get_if_none_match(&api, &path, "").await.ok(200);
    assert_eq!(get_if_none_match(&api, &path, &format!(", {tag} ,")).await.status, 304);
    with_if_match(&api, Method::DELETE, &path, None, "").await.problem(412);
    with_if_match(&api, Method::DELETE, &path, None, " , ,").await.problem(412);
    with_if_match(&api, Method::DELETE, &path, None, &format!(",{tag},")).await.ok(204);
}

migration::backend_tests!(a_server_that_requires_if_match_refuses_blind_writes_with_428);

async fn a_server_that_requires_if_match_refuses_blind_writes_with_428(db: migration::testkit::TestDb) {
    let strict = Api::configured(db, |state| state.require_if_match = true);
    let reader = strict.borrower(2).await;
    let path = format!("/borrowers/{reader}");
    strict.patch(&path, json!({ "name": "Grace H." })).await.problem(428);
    strict.delete(&path).await.problem(428);
    let tag = etag(&strict.get(&path).await);
    with_if_match(&strict, Method::PATCH, &path, Some(json!({ "name": "Grace H." })), &tag).await.ok(200);
    with_if_match(&strict, Method::DELETE, &path, None, "*").await.ok(204);
}

async fn fifty_racing_patches_with_one_if_match_change_the_book_once(api: Api) {
    let book = api.book("Dune", &[]).await;
    let path = format!("/books/{book}");
    let tag = etag(&api.get(&path).await);
    let attempts = (0..50).map(|n| {
        with_if_match(&api, Method::PATCH, &path, Some(json!({ "title": format!("Edit {n}") })), &tag)
    });
    let replies = join_all(attempts).await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one edit wins: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.problem(412);
    }
    let now = api.get(&path).await;
    assert_eq!(now.ok(200)["title"], won[0].body["title"], "the winner's edit is the one kept");
    assert_eq!(etag(&now), etag(won[0]));
}
