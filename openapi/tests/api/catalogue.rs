//! Books, authors and borrowers through HTTP.

use serde_json::json;

use crate::client::Api;

crate::api_tests!(
    books_are_created_read_updated_and_deleted,
    a_books_authors_are_replaced_added_and_removed,
    books_are_listed_with_filters_and_cursor,
    search_refuses_the_retired_title_filter_and_names_each_limit,
    every_route_answers_with_a_trailing_slash_as_without,
    authors_are_managed_and_list_their_books,
    borrowers_are_managed_and_filtered,
);

async fn books_are_created_read_updated_and_deleted(api: Api) {
    let herbert = api.author("Frank Herbert").await;
    let created = api
        .post("/books", json!({ "title": "Dune", "isbn": "0-441-17271-7", "published_date": "1965-08-01", "author_ids": [herbert] }))
        .await;
    let book = created.ok(201).clone();
    assert_eq!(created.header("location"), Some(format!("/books/{}", book["id"]).as_str()));
    assert_eq!(book["isbn"], json!("9780441172719"));
    assert_eq!(book["authors"][0]["name"], json!("Frank Herbert"));
    assert_eq!((book["available"].clone(), book["due_at"].clone()), (json!(true), json!(null)));
    assert_eq!((book["review_count"].clone(), book["average_rating"].clone()), (json!(0), json!(null)));

    let id = book["id"].as_i64().unwrap();
    assert_eq!(api.get(&format!("/books/{id}")).await.ok(200), &book);
    let patched = api.patch(&format!("/books/{id}"), json!({ "title": "Dune (50th)", "isbn": null })).await;
    let patched = patched.ok(200);
    assert_eq!((patched["title"].clone(), patched["isbn"].clone()), (json!("Dune (50th)"), json!(null)));
    assert_eq!(patched["published_date"], json!("1965-08-01"), "absent fields stay");

    api.delete(&format!("/books/{id}")).await.ok(204);
    api.get(&format!("/books/{id}")).await.problem(404);
}

async fn a_books_authors_are_replaced_added_and_removed(api: Api) {
    let (a, b) = (api.author("A").await, api.author("B").await);
    let id = api.book("Good Omens", &[a]).await;
    let names = |reply: &crate::client::Reply| {
        reply.ok(200).as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(names(&api.put(&format!("/books/{id}/authors"), json!({ "author_ids": [b] })).await), [b]);
    assert_eq!(names(&api.post(&format!("/books/{id}/authors"), json!({ "author_id": a })).await), [a, b]);
    assert_eq!(names(&api.delete(&format!("/books/{id}/authors/{b}")).await), [a]);
    api.delete(&format!("/books/{id}/authors/{b}")).await.problem(404);
    api.post(&format!("/books/{id}/authors"), json!({ "author_id": 999 })).await.problem(404);
}

async fn books_are_listed_with_filters_and_cursor(api: Api) {
    let gaiman = api.author("Neil Gaiman").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(api.book(&format!("Volume {n}"), &[]).await);
    }
    let gods = api.book("American Gods", &[gaiman]).await;
    let reader = api.borrower(1).await;
    api.check_out(ids[0], reader).await.ok(201);

    let first = api.get("/books?limit=4").await;
    let first = first.ok(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = api.get(&format!("/books?limit=4&cursor={cursor}")).await;
    let rest = rest.ok(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_cursor"], json!(null));

    let by_words = api.get("/books?q=GODS").await;
    assert_eq!(by_words.ok(200)["items"][0]["id"], json!(gods));
    let by_author = api.get("/books/available?q=gaiman%20amer").await;
    assert_eq!(by_author.ok(200)["items"][0]["id"], json!(gods));
    let by_author = api.get(&format!("/books?author_id={gaiman}")).await;
    assert_eq!(by_author.ok(200)["items"].as_array().unwrap().len(), 1);
    let on_loan = api.get("/books?available=false").await;
    assert_eq!(on_loan.ok(200)["items"][0]["id"], json!(ids[0]));
    let available = api.get("/books/available?limit=100").await;
    let available: Vec<_> =
        available.ok(200)["items"].as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();
    assert_eq!(available, [ids[1], ids[2], ids[3], ids[4], gods]);
    // A range that ends before it starts is a filter no book passes, not an invalid request.
    let dated = api.get("/books?published_from=2000-01-01&published_to=1990-01-01").await;
    assert_eq!(dated.ok(200)["items"], json!([]));
}

async fn authors_are_managed_and_list_their_books(api: Api) {
    let id = api.author("Ursula Le Guin").await;
    let renamed = api.patch(&format!("/authors/{id}"), json!({ "name": "Ursula K. Le Guin" })).await;
    assert_eq!(renamed.ok(200)["name"], json!("Ursula K. Le Guin"));
    assert_eq!(api.get(&format!("/authors/{id}")).await.ok(200)["name"], json!("Ursula K. Le Guin"));
    let book = api.book("Earthsea", &[id]).await;
    let theirs = api.get(&format!("/authors/{id}/books")).await;
    assert_eq!(theirs.ok(200)["items"][0]["id"], json!(book));
    let listed = api.get("/authors?name=guin").await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1);
    api.delete(&format!("/authors/{id}")).await.ok(204);
    assert_eq!(api.get(&format!("/books/{book}")).await.ok(200)["authors"], json!([]));
    api.get(&format!("/authors/{id}")).await.problem(404);
    api.get(&format!("/authors/{id}/books")).await.problem(404);
}

async fn borrowers_are_managed_and_filtered(api: Api) {
    let ada = api.create("/borrowers", json!({ "name": "Ada", "email": "Ada@Example.org" })).await;
    assert_eq!(api.get(&format!("/borrowers/{ada}")).await.ok(200)["email"], json!("ada@example.org"));
    api.post("/borrowers", json!({ "name": "Other", "email": "ADA@example.org" }))
        .await
        .conflict("email_taken");
    api.post("/borrowers", json!({ "name": "Bad", "email": "nope" })).await.invalid("email");
    let patched = api.patch(&format!("/borrowers/{ada}"), json!({ "name": "Ada Lovelace" })).await;
    assert_eq!(patched.ok(200)["name"], json!("Ada Lovelace"));
    let found = api.get("/borrowers?name=lovelace&email=example").await;
    assert_eq!(found.ok(200)["items"][0]["id"], json!(ada));
    api.delete(&format!("/borrowers/{ada}")).await.ok(204);
    api.delete(&format!("/borrowers/{ada}")).await.problem(404);
}

async fn search_refuses_the_retired_title_filter_and_names_each_limit(api: Api) {
    let retired = api.get("/books?title=dune").await;
    retired.invalid("title");
    assert!(retired.body["errors"][0]["message"].as_str().unwrap().contains("use q"), "{retired:#?}");
    api.get("/books/available?title=dune").await.invalid("title");
    for (q, limit) in [
        ("a".repeat(201), "200 characters"),
        ("a%20b%20c%20d%20e%20f%20g%20h%20i".to_owned(), "8 words"),
        ("x".repeat(65), "64 characters"),
        ("%21%21%21".to_owned(), "letter or a digit"),
    ] {
        let refused = api.get(&format!("/books?q={q}")).await;
        refused.invalid("q");
        assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains(limit), "{refused:#?}");
    }
    let dune = api.book("Dune", &[]).await;
    let found = api.get("/books?q=%20%20D%C3%9CN%20").await;
    assert_eq!(found.ok(200)["items"][0]["id"], json!(dune));
    // Full-text query syntax of any backend is only punctuation between words here.
    for syntax in ["%22dune%22%20OR%20%2A", "dune%27%20%26%20%21x%3A%2A", "%2Bdune%20-x%20%40%3E%3C"] {
        let page = api.get(&format!("/books?q={syntax}")).await;
        assert_eq!(page.ok(200)["items"], json!([]), "{syntax}");
    }
}

async fn every_route_answers_with_a_trailing_slash_as_without(api: Api) {
    let herbert = api.author("Frank Herbert").await;
    let dune = api.book("Dune", &[herbert]).await;
    api.book("Dune Messiah", &[herbert]).await;
    for path in
        ["/books/available", "/books", &format!("/books/{dune}"), &format!("/authors/{herbert}/books")]
    {
        let plain = api.get(&format!("{path}?q=dune&limit=1")).await;
        let slashed = api.get(&format!("{path}/?q=dune&limit=1")).await;
        assert_eq!(slashed.ok(200), plain.ok(200), "{path}/ keeps its query string");
    }
    let created = api.post("/authors/", json!({ "name": "Brian Herbert" })).await;
    assert_eq!(created.ok(201)["name"], json!("Brian Herbert"));
    api.patch(&format!("/books/{dune}/"), json!({ "title": "Dune (1965)" })).await.ok(200);
    api.get("/nowhere/").await.problem(404);
    let spec = api.get("/openapi.json").await;
    let paths = spec.ok(200)["paths"].as_object().unwrap();
    assert!(paths.keys().all(|path| !path.ends_with('/')), "no second entry per route: {:?}", paths.keys());
}
