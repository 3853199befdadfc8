//! A hostile-input corpus: each request gets the right 4xx problem, text is stored literally, and the
//! data is intact afterwards.

use poem::http::Method;
use serde_json::json;

use crate::client::Api;

crate::api_tests!(
    hostile_bodies_are_refused_with_the_right_problem,
    hostile_numbers_and_ids_are_refused,
    hostile_strings_are_stored_and_returned_literally,
    hostile_query_strings_and_cursors_are_refused,
    the_first_and_last_rfc_3339_dates_are_stored_and_filtered,
);

async fn hostile_bodies_are_refused_with_the_right_problem(api: Api) {
    let nested = format!("{{\"name\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    api.raw(Method::POST, "/authors", "application/json", nested.into_bytes()).await.problem(400);
    api.raw(Method::POST, "/authors", "application/json", vec![0xc3, 0x28, 0xa0, 0xa1]).await.problem(400);
    api.raw(Method::POST, "/authors", "application/json", b"{\"name\": \"A\"} trailing".to_vec())
        .await
        .problem(400);
    api.raw(Method::POST, "/authors", "application/json", Vec::new()).await.problem(400);
    api.raw(Method::POST, "/authors", "application/xml", b"<name>A</name>".to_vec()).await.problem(415);
    api.post("/authors", json!({ "name": "A\u{0000}B" })).await.invalid("name");
    api.post("/authors", json!({ "name": "x".repeat(1024 * 1024) })).await.problem(413);
    api.post("/authors", json!({ "name": "x".repeat(201) })).await.invalid("name");
    api.post("/authors", json!({ "name": "A", "name2": "B" })).await.problem(400);
    for not_a_string in [json!(false), json!(0.0), json!(7), json!(null)] {
        api.post("/authors", json!({ "name": not_a_string })).await.problem(400);
    }
    let huge_header = "h".repeat(32 * 1024);
    let reply = api.send(Method::GET, "/health", None, &[("x-filler", huge_header.as_str())]).await;
    assert!(reply.status < 500, "{reply:?}");
    assert_eq!(api.get("/authors").await.ok(200)["items"], json!([]), "nothing was stored");
}

async fn hostile_numbers_and_ids_are_refused(api: Api) {
    let (book, reader) = (api.book("Dune", &[]).await, api.borrower(1).await);
    for id in ["9223372036854775808", "-9223372036854775809", "1e3", "0x10", "1.0", "%00"] {
        api.get(&format!("/books/{id}")).await.problem(400);
    }
    api.get("/books/-1").await.problem(404);
    api.get("/books/0").await.problem(404);
    let beyond_i64 = format!("{{\"book_id\": 99999999999999999999, \"borrower_id\": {reader}}}");
    api.raw(Method::POST, "/loans", "application/json", beyond_i64.into_bytes()).await.problem(400);
    api.post("/loans", json!({ "book_id": book, "borrower_id": reader, "period_days": -14 }))
        .await
        .invalid("period_days");
    api.post("/loans", json!({ "book_id": book, "borrower_id": reader, "period_days": i64::MAX }))
        .await
        .invalid("period_days");
    api.post("/loans", json!({ "book_id": -book, "borrower_id": reader })).await.problem(404);
    api.check_out(book, reader).await.ok(201);
    for rating in [json!(-1), json!(0), json!(6), json!(i64::MIN)] {
        api.post(&format!("/books/{book}/reviews"), json!({ "borrower_id": reader, "rating": rating }))
            .await
            .invalid("rating");
    }
    api.post(&format!("/books/{book}/reviews"), json!({ "borrower_id": reader, "rating": 4.5 }))
        .await
        .problem(400);
    api.get("/books?limit=-1").await.invalid("limit");
    api.get("/books?limit=99999999999999999999").await.problem(400);
}

async fn hostile_strings_are_stored_and_returned_literally(api: Api) {
    let strings = [
        "Robert'); DROP TABLE authors;--",
        "\" OR \"1\"=\"1",
        "{\"$ne\": null}",
        "<script>alert(1)</script>",
        "100% _real_ \\ name",
        "名前 ✓ émoji 🦀",
    ];
    for name in strings {
        let id = api.author(name).await;
        assert_eq!(api.get(&format!("/authors/{id}")).await.ok(200)["name"], json!(name));
    }
    let listed = api.get("/authors?limit=100").await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), strings.len(), "no row lost or added");
    let injected = api.get("/authors?name=%25'%20OR%201%3D1%20--").await;
    assert_eq!(injected.ok(200)["items"], json!([]));
    let wildcard = api.get("/authors?name=100%25%20_").await;
    assert_eq!(wildcard.ok(200)["items"].as_array().unwrap().len(), 1, "% and _ match themselves only");
}

async fn hostile_query_strings_and_cursors_are_refused(api: Api) {
    for n in 0..3 {
        api.book(&format!("Book {n}"), &[]).await;
        api.borrower(n).await;
    }
    let long_title = "t".repeat(5_000);
    api.get(&format!("/books?title={long_title}")).await.invalid("title");
    let duplicated = api.get("/books?limit=1&limit=500").await;
    assert!(duplicated.status == 200 || duplicated.status == 422, "{duplicated:?}");
    let books = api.get("/books?limit=1").await.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    let borrowers = api.get("/borrowers?limit=1").await.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    api.get(&format!("/books?cursor={borrowers}")).await.invalid("cursor");
    api.get(&format!("/books/available?cursor={books}")).await.invalid("cursor");
    api.get(&format!("/books?cursor={}", &books[..books.len() - 1])).await.invalid("cursor");
    api.get(&format!("/books?cursor={books}%00")).await.invalid("cursor");
    api.get("/books?cursor=%FF%FE").await.invalid("cursor");
    api.get("/books?title=%00").await.invalid("title");
    api.get("/borrowers?email=a%00b").await.invalid("email");
    for date in ["-4713-11-24", "%2B10000-01-01", "0000-01-01"] {
        api.get(&format!("/books?published_from={date}")).await.invalid("published_from");
    }
    api.post("/books", json!({ "title": "Old", "published_date": "-4713-11-24" }))
        .await
        .invalid("published_date");
    let book = api.book("Kept", &[]).await;
    api.patch(&format!("/books/{book}"), json!({ "title": null })).await.problem(400);
    api.patch(&format!("/books/{book}"), json!({ "published_date": "+10000-01-01" }))
        .await
        .invalid("published_date");
    assert_eq!(api.get(&format!("/books/{book}")).await.ok(200)["title"], json!("Kept"));
    assert_eq!(
        api.get("/books?limit=100").await.ok(200)["items"].as_array().unwrap().len(),
        4,
        "data intact: the three books and \"Kept\""
    );
}

/// The first and last dates the server takes are stored, returned and filtered on, on every backend, with
/// and without a search (which writes its dates into the statement).
async fn the_first_and_last_rfc_3339_dates_are_stored_and_filtered(api: Api) {
    for date in ["0001-01-01", "9999-12-31"] {
        let book = api.create("/books", json!({ "title": date, "published_date": date })).await;
        assert_eq!(api.get(&format!("/books/{book}")).await.ok(200)["published_date"], json!(date));
        let page = api.get(&format!("/books?published_from={date}&published_to={date}")).await;
        assert_eq!(page.ok(200)["items"][0]["id"], json!(book), "{date}");
        let searched = api.get(&format!("/books?q={date}&published_from={date}&published_to={date}")).await;
        assert_eq!(searched.ok(200)["items"][0]["id"], json!(book), "{date}, searched");
    }
}
