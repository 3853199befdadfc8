//! Loans and reviews through HTTP, with the conflict codes clients act on.

use serde_json::json;

use crate::client::Api;

crate::api_tests!(
    a_book_is_checked_out_renewed_and_returned,
    lending_rules_answer_with_their_conflict_codes,
    a_borrowers_loans_are_listed_current_and_returned,
    reviews_are_written_listed_edited_and_deleted,
);

async fn a_book_is_checked_out_renewed_and_returned(api: Api) {
    let (book, reader) = (api.book("Dune", &[]).await, api.borrower(1).await);
    let created =
        api.post("/loans", json!({ "book_id": book, "borrower_id": reader, "period_days": 7 })).await;
    let loan = created.ok(201).clone();
    let id = loan["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("/loans/{id}").as_str()));
    assert_eq!(
        (loan["overdue"].clone(), loan["returned_at"].clone(), loan["renewals"].clone()),
        (json!(false), json!(null), json!(0))
    );
    let detail = api.get(&format!("/books/{book}")).await;
    assert_eq!(
        (detail.ok(200)["available"].clone(), detail.body["due_at"].clone()),
        (json!(false), loan["due_at"].clone())
    );

    let renewed = api.post_empty(&format!("/loans/{id}/renew")).await;
    assert_eq!(renewed.ok(200)["renewals"], json!(1));
    api.post_empty(&format!("/loans/{id}/renew")).await.conflict("renewal_limit_reached");
    let returned = api.post_empty(&format!("/loans/{id}/return")).await;
    let returned = returned.ok(200);
    assert_eq!((returned["id"].clone(), returned["returned_late"].clone()), (json!(id), json!(false)));
    assert!(returned["returned_at"].is_string());
    api.post_empty(&format!("/loans/{id}/return")).await.conflict("loan_already_returned");
    api.post_empty("/loans/999999/return").await.problem(404);
}

async fn lending_rules_answer_with_their_conflict_codes(api: Api) {
    let (dune, ada, alan) = (api.book("Dune", &[]).await, api.borrower(1).await, api.borrower(2).await);
    api.check_out(dune, ada).await.ok(201);
    api.check_out(dune, alan).await.conflict("book_on_loan");
    api.check_out(dune + 1000, alan).await.problem(404);
    api.check_out(dune, alan + 1000).await.problem(404);
    api.post("/loans", json!({ "book_id": dune, "borrower_id": alan, "period_days": 365 }))
        .await
        .invalid("period_days");
    for n in 0..4 {
        let book = api.book(&format!("Book {n}"), &[]).await;
        api.check_out(book, ada).await.ok(201);
    }
    let sixth = api.book("Sixth", &[]).await;
    api.check_out(sixth, ada).await.conflict("loan_limit_reached");
    api.delete(&format!("/books/{dune}")).await.conflict("book_on_loan");
    api.delete(&format!("/borrowers/{ada}")).await.conflict("borrower_has_loans");
    let overdue = api.get("/loans?overdue=true").await;
    assert_eq!(overdue.ok(200)["items"], json!([]));
    let ada_loans = api.get(&format!("/loans?borrower_id={ada}&limit=100")).await;
    assert_eq!(ada_loans.ok(200)["items"].as_array().unwrap().len(), 5);
}

async fn a_borrowers_loans_are_listed_current_and_returned(api: Api) {
    let reader = api.borrower(1).await;
    let (a, b) = (api.book("A", &[]).await, api.book("B", &[]).await);
    let first = api.check_out(a, reader).await.ok(201)["id"].as_i64().unwrap();
    api.check_out(b, reader).await.ok(201);
    api.post_empty(&format!("/loans/{first}/return")).await.ok(200);
    let current = api.get(&format!("/borrowers/{reader}/loans")).await;
    assert_eq!(current.ok(200)["items"][0]["book_id"], json!(b));
    let returned = api.get(&format!("/borrowers/{reader}/loans?status=returned")).await;
    let returned = returned.ok(200);
    assert_eq!(
        (returned["items"][0]["id"].clone(), returned["items"][0]["returned_late"].clone()),
        (json!(first), json!(false))
    );
    api.get(&format!("/borrowers/{reader}/loans?status=lost")).await.problem(400);
    api.get("/borrowers/424242/loans").await.problem(404);
}

async fn reviews_are_written_listed_edited_and_deleted(api: Api) {
    let (dune, ada) = (api.book("Dune", &[]).await, api.borrower(1).await);
    let review = json!({ "borrower_id": ada, "rating": 5, "comment": "Spice!" });
    api.post(&format!("/books/{dune}/reviews"), review.clone()).await.conflict("not_borrowed");
    api.check_out(dune, ada).await.ok(201);
    let id = api.create(&format!("/books/{dune}/reviews"), review.clone()).await;
    api.post(&format!("/books/{dune}/reviews"), review).await.conflict("already_reviewed");
    api.post(&format!("/books/{dune}/reviews"), json!({ "borrower_id": ada, "rating": 6 }))
        .await
        .invalid("rating");
    let listed = api.get(&format!("/books/{dune}/reviews")).await;
    assert_eq!(listed.ok(200)["items"][0]["id"], json!(id));
    let book = api.get(&format!("/books/{dune}")).await;
    assert_eq!(
        (book.ok(200)["review_count"].clone(), book.body["average_rating"].clone()),
        (json!(1), json!(5.0))
    );
    let edited = api.patch(&format!("/reviews/{id}"), json!({ "rating": 3, "comment": null })).await;
    assert_eq!((edited.ok(200)["rating"].clone(), edited.body["comment"].clone()), (json!(3), json!(null)));
    assert_eq!(api.get(&format!("/reviews/{id}")).await.ok(200)["rating"], json!(3));
    api.delete(&format!("/reviews/{id}")).await.ok(204);
    api.get(&format!("/reviews/{id}")).await.problem(404);
}
