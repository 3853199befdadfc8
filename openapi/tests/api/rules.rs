//! Every rule the spec declares is the rule the server enforces: the spec (as checked in) states the bound,
//! the bound itself is accepted and one past it is refused with a 422 naming the field.

use poem::http::Method;
use regex::Regex;
use serde_json::{Value, json};

use crate::client::Api;

crate::api_tests!(
    page_sizes_are_1_to_100_as_declared,
    ratings_are_1_to_5_as_declared,
    loan_periods_are_bounded_by_the_policy_as_declared,
    text_lengths_are_the_declared_ones,
);

fn spec() -> Value {
    serde_json::from_str(&openapi::spec_json()).unwrap()
}

fn property(schema: &str, name: &str) -> Value {
    spec()["components"]["schemas"][schema]["properties"][name].clone()
}

/// The declared pattern, as a client's validator would use it.
fn pattern(schema: &str, name: &str) -> Regex {
    Regex::new(property(schema, name)["pattern"].as_str().unwrap()).unwrap()
}

#[test]
fn every_list_declares_its_limit_with_bounds_and_default() {
    let spec = spec();
    let mut seen = 0;
    for operations in spec["paths"].as_object().unwrap().values() {
        for operation in operations.as_object().unwrap().values() {
            let parameters = operation["parameters"].as_array().into_iter().flatten();
            for limit in parameters.filter(|p| p["name"] == "limit") {
                assert_eq!(limit["schema"]["minimum"], json!(1));
                assert_eq!(limit["schema"]["maximum"], json!(100));
                assert_eq!(limit["schema"]["default"], json!(20));
                seen += 1;
            }
        }
    }
    assert!(seen >= 7, "every paginated list has a limit: {seen}");
}

#[test]
fn every_request_body_refuses_additional_properties() {
    let spec = spec();
    for operations in spec["paths"].as_object().unwrap().values() {
        for operation in operations.as_object().unwrap().values() {
            let Some(reference) =
                operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            else {
                continue;
            };
            let name = reference.trim_start_matches("#/components/schemas/");
            assert_eq!(
                spec["components"]["schemas"][name]["additionalProperties"],
                json!(false),
                "{name} is deny_unknown_fields"
            );
        }
    }
}

#[test]
fn text_patterns_accept_what_the_domain_accepts_and_refuse_the_rest() {
    let title = pattern("NewBook", "title");
    for accepted in
        ["Dune", "  Dune ", "a", &"x".repeat(500), &format!(" {} ", "x".repeat(500)), "Le Guin\u{a0}Ursula"]
    {
        assert!(title.is_match(accepted), "{accepted:?}");
        service::domain::Title::parse(accepted).unwrap();
    }
    for refused in
        ["", "   ", &"x".repeat(501), "Du\u{0}ne", "Du\u{7}ne", "Du\u{202E}ne", "Du\u{200B}ne", "a\nb"]
    {
        assert!(!title.is_match(refused), "{refused:?}");
        assert!(service::domain::Title::parse(refused).is_err(), "{refused:?}");
    }
    let name = pattern("NewBorrower", "name");
    assert!(name.is_match(&"n".repeat(200)) && !name.is_match(&"n".repeat(201)));
    let subject = pattern("NewBorrower", "subject");
    assert!(subject.is_match(" abc-123 ") && !subject.is_match("abc 123") && !subject.is_match(""));
    let comment = pattern("NewReview", "comment");
    for accepted in ["", "   ", "Good.\nVery good.\tYes.", &"c".repeat(4000)] {
        assert!(comment.is_match(accepted), "{accepted:?}");
        service::domain::Comment::parse(Some(accepted)).unwrap();
    }
    for refused in [&"c".repeat(4001), "bad\u{1b}[31m"] {
        assert!(!comment.is_match(refused), "{refused:?}");
        assert!(service::domain::Comment::parse(Some(refused)).is_err(), "{refused:?}");
    }
}

#[test]
fn email_and_isbn_patterns_accept_what_the_domain_accepts_and_refuse_the_rest() {
    let email = pattern("NewBorrower", "email");
    let max = service::domain::Email::MAX_CHARS;
    assert_eq!(property("NewBorrower", "email")["maxLength"], json!(max));
    let longest = format!("a@{}.org", "d".repeat(max - 6));
    let local = "\u{fc}".repeat(64);
    let long_local = format!("{local}@example.org");
    for accepted in
        ["ada@example.org", " Ada@Example.ORG ", "o'neil+lib@xn--bcher-kva.example", &long_local, &longest]
    {
        assert!(email.is_match(accepted), "{accepted:?}");
        service::domain::Email::parse(accepted).unwrap();
    }
    let too_long_local = format!("\u{fc}{long_local}");
    for refused in [
        "",
        "ada",
        "ada@example",
        "a b@example.org",
        "ada@exa_mple.org",
        "ada@-x.org",
        "ada@b\u{fc}cher.de",
        "a@b@c.org",
        &too_long_local,
    ] {
        assert!(!email.is_match(refused), "{refused:?}");
        assert!(service::domain::Email::parse(refused).is_err(), "{refused:?}");
    }
    let isbn = pattern("NewBook", "isbn");
    for shaped in ["978-0-441-17271-9", " 0-8044-2957-X ", "080442957x", "978 0 441 17271 9"] {
        assert!(isbn.is_match(shaped), "{shaped:?}");
        service::domain::Isbn::parse(shaped).unwrap();
    }
    for refused in ["", "978044117271", "97804411727190", "978044117271X", "978-0441\u{a0}172719", "isbn"] {
        assert!(!isbn.is_match(refused), "{refused:?}");
        assert!(service::domain::Isbn::parse(refused).is_err(), "{refused:?}");
    }
    // The one rule the pattern cannot state: the check digit.
    assert!(isbn.is_match("9780441172710") && service::domain::Isbn::parse("9780441172710").is_err());
}

#[test]
fn a_loan_period_declares_the_policy_default() {
    let limits = service::LoanLimits::default();
    let period = property("NewLoan", "period_days");
    assert_eq!(period["default"], json!(limits.default_period_days));
    assert_eq!(period["maximum"], json!(limits.max_period_days));
}

#[test]
fn cursors_declare_their_alphabet() {
    let spec = spec();
    let parameters = spec["paths"]["/books"]["get"]["parameters"].as_array().unwrap().clone();
    let cursor = parameters.iter().find(|p| p["name"] == "cursor").unwrap();
    let cursor = Regex::new(cursor["schema"]["pattern"].as_str().unwrap()).unwrap();
    assert!(cursor.is_match("") && cursor.is_match("djE6Yjo0Mg") && cursor.is_match("a-_Z09"));
    assert!(!cursor.is_match("djE6Yjo0Mg==") && !cursor.is_match("a b") && !cursor.is_match("a/b"));
    assert!(parameters.iter().all(|p| p["name"] != "title"), "the retired title filter is not in the spec");
}

#[test]
fn search_filters_declare_the_search_term_rules() {
    let spec = spec();
    let parameters = spec["paths"]["/borrowers"]["get"]["parameters"].as_array().unwrap().clone();
    let name = parameters.iter().find(|p| p["name"] == "name").unwrap();
    let name = Regex::new(name["schema"]["pattern"].as_str().unwrap()).unwrap();
    for accepted in ["", "  ", "ada", &"n".repeat(200)] {
        assert!(name.is_match(accepted), "{accepted:?}");
        service::domain::SearchTerm::name(accepted).unwrap();
    }
    for refused in ["a\u{1}b", &"n".repeat(201)] {
        assert!(!name.is_match(refused), "{refused:?}");
        assert!(service::domain::SearchTerm::name(refused).is_err(), "{refused:?}");
    }
}

async fn page_sizes_are_1_to_100_as_declared(api: Api) {
    for path in ["/books", "/books/available", "/authors", "/borrowers", "/loans"] {
        api.get(&format!("{path}?limit=1")).await.ok(200);
        api.get(&format!("{path}?limit=100")).await.ok(200);
        api.get(&format!("{path}?limit=0")).await.invalid("limit");
        api.get(&format!("{path}?limit=101")).await.invalid("limit");
    }
}

async fn ratings_are_1_to_5_as_declared(api: Api) {
    let rating = property("NewReview", "rating");
    assert_eq!((rating["minimum"].clone(), rating["maximum"].clone()), (json!(1), json!(5)));
    assert_eq!(property("ReviewPatch", "rating")["maximum"], json!(5));
    let (book, borrower) = (api.book("Dune", &[]).await, api.borrower(1).await);
    api.check_out(book, borrower).await.ok(201);
    let reviews = format!("/books/{book}/reviews");
    api.post(&reviews, json!({ "borrower_id": borrower, "rating": 0 })).await.invalid("rating");
    api.post(&reviews, json!({ "borrower_id": borrower, "rating": 6 })).await.invalid("rating");
    let id = api.create(&reviews, json!({ "borrower_id": borrower, "rating": 5 })).await;
    api.patch(&format!("/reviews/{id}"), json!({ "rating": 1 })).await.ok(200);
    api.patch(&format!("/reviews/{id}"), json!({ "rating": 0 })).await.invalid("rating");
}

async fn loan_periods_are_bounded_by_the_policy_as_declared(api: Api) {
    let period = property("NewLoan", "period_days");
    let max = period["maximum"].as_i64().unwrap();
    assert_eq!((period["minimum"].clone(), max), (json!(1), 60), "the default policy's longest period");
    let (short, long, borrower) =
        (api.book("Short", &[]).await, api.book("Long", &[]).await, api.borrower(1).await);
    for days in [0, max + 1] {
        let body = json!({ "book_id": short, "borrower_id": borrower, "period_days": days });
        api.post("/loans", body).await.invalid("period_days");
    }
    api.post("/loans", json!({ "book_id": short, "borrower_id": borrower, "period_days": 1 })).await.ok(201);
    api.post("/loans", json!({ "book_id": long, "borrower_id": borrower, "period_days": max })).await.ok(201);
}

async fn text_lengths_are_the_declared_ones(api: Api) {
    let title = pattern("BookPatch", "title");
    let book = api.book("Dune", &[]).await;
    let longest = "t".repeat(500);
    assert!(title.is_match(&longest));
    api.patch(&format!("/books/{book}"), json!({ "title": longest })).await.ok(200);
    api.patch(&format!("/books/{book}"), json!({ "title": "t".repeat(501) })).await.invalid("title");
    api.patch(&format!("/books/{book}"), json!({ "title": " " })).await.invalid("title");
    let name = "n".repeat(200);
    assert!(pattern("NewAuthor", "name").is_match(&name));
    api.post("/authors", json!({ "name": name })).await.ok(201);
    api.post("/authors", json!({ "name": "n".repeat(201) })).await.invalid("name");
    let extra = api.send(Method::POST, "/authors", Some(json!({ "name": "A", "x": 1 })), &[]).await;
    assert!(extra.status == 400 || extra.status == 422, "additionalProperties: false is enforced: {extra:?}");
}
