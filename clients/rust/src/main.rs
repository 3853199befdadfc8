//! A user's scenario against a running Libris server, through the client that progenitor generated
//! from openapi/openapi.json only (`libris_client::Client` and `libris_client::types`).
//!
//!   LIBRIS_URL=http://127.0.0.1:8080 libris-client-scenario
//!
//! Every step asserts on typed results; the first failure stops the run (later steps need what the
//! earlier ones made), and the process exits non-zero unless every step passed. The last line is
//! `rust-client: N passed, N failed[, N skipped]`.

use std::collections::HashSet;
use std::fmt::Debug;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::num::NonZeroU64;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use libris_client::types::{
    Book, BookPatch, BookSummary, ConflictCode, NewAuthor, NewBook, NewBorrower, NewLoan, NewReview, Problem,
};
use libris_client::{ByteStream, Client, Error, ResponseValue, problem};

/// How many steps `scenario` runs; those after a failure are reported as skipped.
const STEPS: u32 = 15;
/// The whole run's limit (each request also has progenitor's own 15 s timeout).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// Page size for the paging steps, and a bound on the pages followed.
const PAGE_LIMIT: NonZeroU64 = NonZeroU64::new(3).expect("a page holds at least one item");
const MAX_PAGES: usize = 10_000;

type Step<T> = Result<T, String>;
type Answer<T> = Result<ResponseValue<T>, Error<ByteStream>>;

// ---- a tiny runner --------------------------------------------------------------------------------

struct Runner {
    passed: u32,
    failed: u32,
}

/// A step failed: the scenario stops.
struct Stopped;

impl Runner {
    async fn step<T>(&mut self, name: &str, run: impl Future<Output = Step<T>>) -> Result<T, Stopped> {
        let started = Instant::now();
        match run.await {
            Ok(value) => {
                self.passed += 1;
                println!("ok   {name} ({} ms)", started.elapsed().as_millis());
                Ok(value)
            }
            Err(message) => {
                self.failed += 1;
                println!("FAIL {name}\n     {message}");
                Err(Stopped)
            }
        }
    }
}

/// A value the generated types constrain (length, pattern, range): they check it before anything is sent.
fn typed<V: Debug + Clone, T: TryFrom<V>>(value: V) -> Step<T>
where
    T::Error: std::fmt::Display,
{
    T::try_from(value.clone()).map_err(|e| format!("{value:?} is refused by the client's own types: {e}"))
}

fn check(condition: bool, message: impl FnOnce() -> String) -> Step<()> {
    if condition { Ok(()) } else { Err(message()) }
}

fn eq<T: PartialEq + Debug>(actual: &T, expected: &T, what: &str) -> Step<()> {
    check(actual == expected, || format!("{what}: expected {expected:?}, got {actual:?}"))
}

/// A response header as text, or "" when it is missing.
fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// Says what went wrong with a call that should have succeeded, with its problem when it has one.
async fn describe(err: Error<ByteStream>) -> String {
    match err {
        Error::ErrorResponse(_) => match problem(err).await {
            Ok(p) => format!(
                "HTTP {} problem: type {:?}, title {:?}, detail {:?}, code {:?}, errors {:?}",
                p.status, p.type_, p.title, p.detail, p.code, p.errors
            ),
            Err(e) => e.to_string(),
        },
        other => other.to_string(),
    }
}

/// The typed body of a call that must answer `status` with JSON.
async fn expect_ok<T>(answer: Answer<T>, status: u16, what: &str) -> Step<ResponseValue<T>> {
    let value = match answer {
        Ok(value) => value,
        Err(err) => return Err(format!("{what}: expected {status}, got {}", describe(err).await)),
    };
    eq(&value.status().as_u16(), &status, &format!("{what}: HTTP status"))?;
    if status != 204 {
        let content_type = value
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        check(content_type.starts_with("application/json"), || {
            format!("{what}: content-type {content_type:?}")
        })?;
    }
    Ok(value)
}

/// A 201 whose `Location` names the new resource.
async fn expect_created<T>(answer: Answer<T>, what: &str, location: impl FnOnce(&T) -> String) -> Step<T> {
    let value = expect_ok(answer, 201, what).await?;
    let want = location(&value);
    let got = value
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    check(got.ends_with(&want), || format!("{what}: Location {got:?} does not end with {want:?}"))?;
    Ok(value.into_inner())
}

/// The typed problem of a call that must fail with `status`.
async fn expect_problem<T: Debug>(answer: Answer<T>, status: u16, what: &str) -> Step<Problem> {
    let err = match answer {
        Ok(value) => {
            return Err(format!(
                "{what}: expected a {status} problem, got {} {:?}",
                value.status(),
                value.into_inner()
            ));
        }
        Err(err) => err,
    };
    let p = problem(err).await.map_err(|e| format!("{what}: {e}"))?;
    eq(&p.status, &status, &format!("{what}: problem.status"))?;
    check(!p.type_.is_empty(), || format!("{what}: problem.type is empty"))?;
    check(!p.title.is_empty(), || format!("{what}: problem.title is empty"))?;
    check(!p.detail.is_empty(), || format!("{what}: problem.detail is empty"))?;
    Ok(p)
}

// ---- data ------------------------------------------------------------------------------------------

/// A random u64 from the standard library's per-process random hash keys and the clock.
fn random_u64() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// A random, valid ISBN-13 (979 prefix): as a person would type it, and as the server stores it.
fn random_isbn13() -> (String, String) {
    let mut n = random_u64();
    let mut digits = vec![9, 7, 9];
    for _ in 0..9 {
        digits.push((n % 10) as u32);
        n /= 10;
    }
    let sum: u32 = digits.iter().enumerate().map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 }).sum();
    digits.push((10 - sum % 10) % 10);
    let stored: String = digits.iter().map(|d| char::from(b'0' + *d as u8)).collect();
    let typed = format!("{}-{}-{}", &stored[..3], &stored[3..12], &stored[12..]);
    (typed, stored)
}

// ---- the scenario ----------------------------------------------------------------------------------

async fn scenario(r: &mut Runner, client: &Client) -> Result<(), Stopped> {
    let suffix = format!("{:x}", random_u64());

    r.step("health answers ok", async {
        // The liveness probe documents no error answer, so its error type is `Error<()>`.
        let health = client.health().send().await.map_err(|e| format!("health: {e}"))?;
        eq(&health.status().as_u16(), &200, "health: HTTP status")?;
        eq(&health.status.as_str(), &"ok", "health.status")
    })
    .await?;

    let authors = r
        .step("createAuthor twice (201, Location)", async {
            let mut authors = Vec::new();
            for name in [format!("Ada Scenario {suffix}"), format!("Bob Scenario {suffix}")] {
                let answer = client.create_author().body(NewAuthor { name: typed(name.clone())? }).send().await;
                let author = expect_created(answer, "createAuthor", |a| format!("/authors/{}", a.id)).await?;
                eq(&author.name, &name, "author.name")?;
                check(author.id > 0, || format!("author.id {}", author.id))?;
                authors.push(author);
            }
            check(authors[0].id != authors[1].id, || "the two authors share an id".into())?;
            Ok(authors)
        })
        .await?;
    let author_ids: Vec<i64> = authors.iter().map(|a| a.id).collect();

    let (isbn_typed, isbn_stored) = random_isbn13();
    let published = NaiveDate::from_ymd_opt(2026, 11, 1).ok_or(Stopped)?;
    let title = format!("The Typed Client {suffix}");
    let book = r
        .step("createBook crediting both authors (201, Location)", async {
            let answer = client
                .create_book()
                .body(NewBook {
                    title: typed(title.clone())?,
                    isbn: Some(typed(isbn_typed.clone())?),
                    published_date: Some(published),
                    author_ids: Some(author_ids.clone()),
                })
                .send()
                .await;
            let book: Book = expect_created(answer, "createBook", |b| format!("/books/{}", b.id)).await?;
            eq(&book.title, &title, "book.title")?;
            eq(&book.isbn, &Some(isbn_stored.clone()), "book.isbn (stored as ISBN-13 digits)")?;
            eq(&book.published_date, &Some(published), "book.published_date")?;
            let mut credited: Vec<i64> = book.authors.iter().map(|a| a.id).collect();
            credited.sort_unstable();
            let mut want = author_ids.clone();
            want.sort_unstable();
            eq(&credited, &want, "book.authors ids")?;
            eq(&book.available, &true, "book.available")?;
            eq(&book.due_at, &None, "book.due_at")?;
            eq(&book.review_count, &0, "book.review_count")?;
            eq(&book.average_rating, &None, "book.average_rating")?;
            Ok(book)
        })
        .await?;

    let borrowers = r
        .step("createBorrower twice, unique emails (201, Location)", async {
            let mut borrowers = Vec::new();
            for who in ["Ada", "Bob"] {
                let email = format!("{who}.{suffix}@Example.org");
                let answer = client
                    .create_borrower()
                    .body(NewBorrower {
                        name: typed(format!("{who} Reader {suffix}"))?,
                        email: typed(email.clone())?,
                        subject: None,
                    })
                    .send()
                    .await;
                let borrower =
                    expect_created(answer, "createBorrower", |b| format!("/borrowers/{}", b.id)).await?;
                eq(&borrower.email, &email.to_lowercase(), "borrower.email (lower-cased)")?;
                borrowers.push(borrower);
            }
            check(borrowers[0].id != borrowers[1].id, || "the two borrowers share an id".into())?;
            Ok(borrowers)
        })
        .await?;

    let loan = r
        .step("checkOutBook to the first borrower (201)", async {
            let answer = client
                .check_out_book()
                .body(NewLoan {
                    book_id: book.id,
                    borrower_id: borrowers[0].id,
                    period_days: Some(typed(14_u64)?),
                })
                .send()
                .await;
            let loan = expect_created(answer, "checkOutBook", |l| format!("/loans/{}", l.id)).await?;
            eq(&loan.book_id, &book.id, "loan.book_id")?;
            eq(&loan.borrower_id, &borrowers[0].id, "loan.borrower_id")?;
            eq(&loan.renewals, &0, "loan.renewals")?;
            eq(&loan.overdue, &false, "loan.overdue")?;
            eq(&loan.returned_at, &None, "loan.returned_at")?;
            eq(&loan.returned_late, &None, "loan.returned_late")?;
            let days = (loan.due_at - loan.borrowed_at).num_days();
            eq(&days, &14, "loan period (days)")?;

            let on_loan = expect_ok(client.get_book().id(book.id).send().await, 200, "getBook").await?;
            eq(&on_loan.available, &false, "book.available while on loan")?;
            eq(&on_loan.due_at, &Some(loan.due_at), "book.due_at while on loan")?;
            Ok(loan)
        })
        .await?;

    r.step("checkOutBook to the second borrower: 409 problem, code book_on_loan", async {
        let answer = client
            .check_out_book()
            .body(NewLoan { book_id: book.id, borrower_id: borrowers[1].id, period_days: None })
            .send()
            .await;
        let p = expect_problem(answer, 409, "second checkOutBook").await?;
        eq(&p.code, &Some(ConflictCode::BookOnLoan), "problem.code")
    })
    .await?;

    r.step("returnLoan (200)", async {
        let answer = client.return_loan().id(loan.id).send().await;
        let returned = expect_ok(answer, 200, "returnLoan").await?.into_inner();
        eq(&returned.id, &loan.id, "returned loan keeps its id")?;
        check(returned.returned_at.is_some(), || "loan.returned_at is null after the return".into())?;
        eq(&returned.returned_late, &Some(false), "loan.returned_late")?;
        eq(&returned.overdue, &false, "loan.overdue")?;

        let back = expect_ok(client.get_book().id(book.id).send().await, 200, "getBook").await?;
        eq(&back.available, &true, "book.available after the return")?;
        eq(&back.due_at, &None, "book.due_at after the return")
    })
    .await?;

    r.step("checkOutBook retried with one Idempotency-Key: one loan, the retry replayed", async {
        let key = format!("rust-check-out-{suffix}");
        // The first borrower again: the second must stay one who never borrowed it (a later step).
        let request = NewLoan { book_id: book.id, borrower_id: borrowers[0].id, period_days: None };
        let first = client.check_out_book().idempotency_key(key.as_str()).body(request.clone()).send().await;
        let first = expect_ok(first, 201, "checkOutBook(key)").await?;
        eq(&header(first.headers(), "idempotent-replayed"), &"", "first answer: Idempotent-Replayed")?;
        let retry = client.check_out_book().idempotency_key(key.as_str()).body(request).send().await;
        let retry = expect_ok(retry, 201, "checkOutBook(key) retried").await?;
        eq(&header(retry.headers(), "idempotent-replayed"), &"true", "retry: Idempotent-Replayed")?;
        let (loan, again) = (first.into_inner(), retry.into_inner());
        eq(&(again.id, again.due_at), &(loan.id, loan.due_at), "the retry answers the same loan")?;
        let other = NewLoan { book_id: book.id, borrower_id: borrowers[1].id, period_days: None };
        let reused = client.check_out_book().idempotency_key(key.as_str()).body(other).send().await;
        let p = expect_problem(reused, 422, "checkOutBook(key reused)").await?;
        eq(&p.type_.as_str(), &"/problems/idempotency-key-reused", "problem.type")?;
        let back_key = format!("rust-return-{suffix}");
        for attempt in ["returnLoan(key)", "returnLoan(key) retried"] {
            let answer = client.return_loan().id(loan.id).idempotency_key(back_key.as_str()).send().await;
            let returned = expect_ok(answer, 200, attempt).await?.into_inner();
            eq(&returned.id, &loan.id, "returned loan id")?;
        }
        Ok(())
    })
    .await?;

    let book = r
        .step("getBook: ETag, If-None-Match 304; updateBook with If-Match, a stale tag 412", async {
            let read = expect_ok(client.get_book().id(book.id).send().await, 200, "getBook").await?;
            let tag = header(read.headers(), "etag").to_owned();
            check(tag.starts_with('"') && tag.ends_with('"'), || format!("ETag {tag:?} is not a strong tag"))?;
            match client.get_book().id(book.id).if_none_match(tag.as_str()).send().await {
                Err(Error::UnexpectedResponse(response)) => {
                    eq(&response.status().as_u16(), &304, "getBook(If-None-Match): status")?
                }
                Ok(value) => return Err(format!("getBook(If-None-Match): expected 304, got {}", value.status())),
                Err(other) => return Err(format!("getBook(If-None-Match): {}", describe(other).await)),
            }
            let patch: BookPatch = serde_json::from_value(serde_json::json!({ "title": format!("{title} (2nd ed.)") }))
                .map_err(|e| format!("BookPatch: {e}"))?;
            let saved = client.update_book().id(book.id).if_match(tag.as_str()).body(patch.clone()).send().await;
            let saved = expect_ok(saved, 200, "updateBook(If-Match)").await?;
            let new_tag = header(saved.headers(), "etag").to_owned();
            check(new_tag != tag && !new_tag.is_empty(), || format!("updateBook: ETag {new_tag:?} after {tag:?}"))?;
            let stale = client.update_book().id(book.id).if_match(tag.as_str()).body(patch).send().await;
            expect_problem(stale, 412, "updateBook(stale If-Match)").await?;
            let book = saved.into_inner();
            eq(&book.title, &format!("{title} (2nd ed.)"), "book.title after the edit")?;
            Ok(book)
        })
        .await?;

    r.step("createReview by the first borrower (201)", async {
        let comment = format!("Typed all the way down ({suffix}).");
        let answer = client
            .create_review()
            .id(book.id)
            .body(NewReview { borrower_id: borrowers[0].id, rating: typed(5_u64)?, comment: Some(typed(comment.clone())?) })
            .send()
            .await;
        let review = expect_created(answer, "createReview", |v| format!("/reviews/{}", v.id)).await?;
        eq(&review.book_id, &book.id, "review.book_id")?;
        eq(&review.borrower_id, &Some(borrowers[0].id), "review.borrower_id (shown to its librarian)")?;
        eq(&review.rating, &5, "review.rating")?;
        eq(&review.comment, &Some(comment), "review.comment")?;

        let reviewed = expect_ok(client.get_book().id(book.id).send().await, 200, "getBook").await?;
        eq(&reviewed.review_count, &1, "book.review_count")?;
        eq(&reviewed.average_rating, &Some(5.0), "book.average_rating")
    })
    .await?;

    r.step("listBooks, limit 3, following next_cursor: no repeats, the new book appears", async {
        let items = pages("listBooks", |cursor| async move {
            let mut request = client.list_books().limit(PAGE_LIMIT);
            if let Some(cursor) = cursor {
                request = request.cursor(cursor);
            }
            let page = expect_ok(request.send().await, 200, "listBooks").await?.into_inner();
            Ok((page.items, page.next_cursor))
        })
        .await?;
        check(items.iter().any(|b| b.id == book.id), || format!("book {} is not listed", book.id))
    })
    .await?;

    r.step(
        "listAvailableBooks, limit 3, following next_cursor: all available, the new book appears",
        async {
            let items = pages("listAvailableBooks", |cursor| async move {
                let mut request = client.list_available_books().limit(PAGE_LIMIT);
                if let Some(cursor) = cursor {
                    request = request.cursor(cursor);
                }
                let page = expect_ok(request.send().await, 200, "listAvailableBooks").await?.into_inner();
                Ok((page.items, page.next_cursor))
            })
            .await?;
            if let Some(b) = items.iter().find(|b| !b.available) {
                return Err(format!("book {} is listed as available but has available=false", b.id));
            }
            check(items.iter().any(|b| b.id == book.id), || format!("book {} is not listed", book.id))
        },
    )
    .await?;

    r.step("getBook for a missing id: 404 problem", async {
        let p = expect_problem(client.get_book().id(i64::MAX).send().await, 404, "getBook(missing)").await?;
        eq(&p.code, &None, "problem.code")
    })
    .await?;

    r.step("createReview by a borrower who never borrowed it: 409 problem, code not_borrowed", async {
        let answer = client
            .create_review()
            .id(book.id)
            .body(NewReview { borrower_id: borrowers[1].id, rating: typed(3_u64)?, comment: None })
            .send()
            .await;
        let p = expect_problem(answer, 409, "createReview(not borrowed)").await?;
        eq(&p.code, &Some(ConflictCode::NotBorrowed), "problem.code")
    })
    .await?;

    r.step("createBook with an invalid ISBN: 422 problem naming the field", async {
        let answer = client
            .create_book()
            .body(NewBook {
                title: typed(format!("Bad ISBN {suffix}"))?,
                // The right shape (the client's type takes it), a wrong check digit (only the server knows).
                isbn: Some(typed("978-0-00-000000-1")?),
                published_date: None,
                author_ids: None,
            })
            .send()
            .await;
        let p = expect_problem(answer, 422, "createBook(bad isbn)").await?;
        check(p.errors.iter().any(|e| e.field == "isbn"), || {
            format!("problem.errors {:?} do not name isbn", p.errors)
        })
    })
    .await?;

    Ok(())
}

/// Follows `next_cursor` from the first page until there is none; fails on a repeated id, a page
/// larger than the limit, or too many pages. Returns every item, in order.
async fn pages<F, Fut>(what: &str, mut fetch: F) -> Step<Vec<BookSummary>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Step<(Vec<BookSummary>, Option<String>)>>,
{
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    let mut cursor = None;
    for page in 1..=MAX_PAGES {
        let (items, next) = fetch(cursor.take()).await?;
        check(items.len() as u64 <= PAGE_LIMIT.get(), || {
            format!("{what}: page {page} has {} items, more than the limit {PAGE_LIMIT}", items.len())
        })?;
        for item in items {
            check(seen.insert(item.id), || format!("{what}: book {} repeats on page {page}", item.id))?;
            all.push(item);
        }
        match next {
            Some(next) => {
                check(!next.is_empty(), || format!("{what}: page {page} has an empty next_cursor"))?;
                cursor = Some(next);
            }
            None => {
                println!("     {what}: {} books on {page} pages of at most {PAGE_LIMIT}", all.len());
                return Ok(all);
            }
        }
    }
    Err(format!("{what}: still a next_cursor after {MAX_PAGES} pages"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(base_url) = std::env::var("LIBRIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("LIBRIS_URL is not set (e.g. http://127.0.0.1:8080)");
        return ExitCode::from(2);
    };
    // A librarian's bearer token (in dev mode: GET /auth/dev-token?role=librarian), on every request.
    let Some(token) = std::env::var("LIBRIS_TOKEN").ok().filter(|t| !t.is_empty()) else {
        eprintln!("LIBRIS_TOKEN is not set (a librarian's bearer token)");
        return ExitCode::from(2);
    };
    let Ok(mut authorization) = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")) else {
        eprintln!("LIBRIS_TOKEN is not a valid header value");
        return ExitCode::from(2);
    };
    authorization.set_sensitive(true);
    let headers = reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, authorization)]);
    let http =
        match reqwest::Client::builder().default_headers(headers).timeout(Duration::from_secs(15)).build() {
            Ok(http) => http,
            Err(error) => {
                eprintln!("cannot build the HTTP client: {error}");
                return ExitCode::from(2);
            }
        };
    let client = Client::new_with_client(base_url.trim_end_matches('/'), http);
    let mut runner = Runner { passed: 0, failed: 0 };

    let finished = tokio::time::timeout(RUN_TIMEOUT, scenario(&mut runner, &client)).await;
    let timed_out = finished.is_err();
    if timed_out {
        println!("FAIL the scenario did not finish within {} s", RUN_TIMEOUT.as_secs());
        runner.failed += 1;
    }
    let done = runner.passed + runner.failed;
    if finished.is_ok_and(|r| r.is_ok()) && done != STEPS {
        println!("FAIL the scenario ran {done} steps, but STEPS says {STEPS}");
        runner.failed += 1;
    }
    let skipped = STEPS.saturating_sub(runner.passed + runner.failed);
    let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
    println!("rust-client: {} passed, {} failed{skipped}", runner.passed, runner.failed);
    if runner.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
