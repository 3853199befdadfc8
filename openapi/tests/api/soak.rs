//! A bounded concurrency soak: 64 clients mixing check-outs, returns, renewals and reviews over a few books
//! and borrowers, then invariant checks on the database. Zero 5xx allowed, every acknowledged write must
//! be there and nothing else. `LIBRIS_SOAK_SECS` sets the length (CI runs the short default).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entity::{loan, loan_history, review};
use poem::http::Method;
use sea_orm::{EntityTrait, QuerySelect};
use serde_json::json;
use tokio::sync::Mutex;

use crate::client::Api;

crate::api_tests!(sixty_four_clients_keep_every_promise);

const CLIENTS: u64 = 64;
const BOOKS: usize = 12;
const BORROWERS: usize = 8;
/// The soak runs at least this many requests, however slow the machine, so its invariants mean something.
const FLOOR: u64 = CLIENTS * 5;
/// ...but gives up past this, so a stalled server fails the test instead of hanging it.
const CEILING: Duration = Duration::from_secs(120);

#[derive(Default)]
struct Ledger {
    checked_out: HashSet<i64>,
    returned: HashSet<i64>,
    reviews: HashSet<i64>,
    server_errors: Vec<String>,
    requests: u64,
}

/// A tiny deterministic generator per client, so a failing run can be replayed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap_or(0) % sides
    }
}

async fn sixty_four_clients_keep_every_promise(api: Api) {
    let seconds = std::env::var("LIBRIS_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(4);
    let mut books = Vec::new();
    let mut readers = Vec::new();
    for n in 0..BOOKS {
        books.push(api.book(&format!("Soak {n}"), &[]).await);
    }
    for n in 0..BORROWERS {
        readers.push(api.borrower(n).await);
    }
    let api = Arc::new(api);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let clients = (0..CLIENTS).map(|seed| {
        let (api, ledger, books, readers) = (api.clone(), ledger.clone(), books.clone(), readers.clone());
        tokio::spawn(async move {
            let mut dice = Dice(seed);
            loop {
                let now = Instant::now();
                let enough = {
                    let ledger = ledger.lock().await;
                    ledger.requests >= FLOOR && !ledger.returned.is_empty()
                };
                if now >= started + CEILING || (now >= until && enough) {
                    break;
                }
                let (book, reader) = (books[dice.roll(BOOKS)], readers[dice.roll(BORROWERS)]);
                let open: Vec<i64> = {
                    let ledger = ledger.lock().await;
                    ledger.checked_out.difference(&ledger.returned).copied().collect()
                };
                let pick = |dice: &mut Dice| open.get(dice.roll(open.len().max(1))).copied().unwrap_or(0);
                let (what, reply) = match dice.roll(4) {
                    0 => ("check out", api.check_out(book, reader).await),
                    1 => (
                        "return",
                        api.send(Method::POST, &format!("/loans/{}/return", pick(&mut dice)), None, &[])
                            .await,
                    ),
                    2 => (
                        "renew",
                        api.send(Method::POST, &format!("/loans/{}/renew", pick(&mut dice)), None, &[]).await,
                    ),
                    _ => {
                        let body =
                            json!({ "borrower_id": reader, "rating": 1 + dice.roll(5), "comment": "soak" });
                        ("review", api.post(&format!("/books/{book}/reviews"), body).await)
                    }
                };
                let mut ledger = ledger.lock().await;
                ledger.requests += 1;
                if reply.status >= 500 {
                    ledger.server_errors.push(format!("{what}: {reply:?}"));
                    continue;
                }
                let id = reply.body["id"].as_i64().unwrap_or_default();
                match (what, reply.status) {
                    ("check out", 201) => {
                        assert!(ledger.checked_out.insert(id), "loan id {id} acknowledged twice")
                    }
                    ("return", 200) => assert!(ledger.returned.insert(id), "loan {id} returned twice"),
                    ("review", 201) => assert!(ledger.reviews.insert(id)),
                    _ => assert!(matches!(reply.status, 200 | 404 | 409 | 422), "{what}: {reply:?}"),
                }
            }
        })
    });
    for client in futures::future::join_all(clients).await {
        client.unwrap();
    }
    let ledger = ledger.lock().await;
    assert!(ledger.server_errors.is_empty(), "5xx under load: {:#?}", ledger.server_errors);
    assert!(ledger.requests >= FLOOR, "the soak barely ran: {} requests", ledger.requests);
    assert!(!ledger.checked_out.is_empty() && !ledger.returned.is_empty(), "the mix exercised lending");

    let conn = &api.db.conn;
    let active: Vec<(i64, i64, i64)> = loan::Entity::find()
        .select_only()
        .columns([loan::Column::Id, loan::Column::BookId, loan::Column::BorrowerId])
        .into_tuple()
        .all(conn)
        .await
        .unwrap();
    let history: Vec<i64> = loan_history::Entity::find()
        .select_only()
        .column(loan_history::Column::Id)
        .into_tuple()
        .all(conn)
        .await
        .unwrap();
    let active_ids: HashSet<i64> = active.iter().map(|(id, _, _)| *id).collect();
    let history_ids: HashSet<i64> = history.iter().copied().collect();
    let books_on_loan: HashSet<i64> = active.iter().map(|(_, book, _)| *book).collect();
    assert_eq!(books_on_loan.len(), active.len(), "never two active loans for one book");
    for reader in &active.iter().map(|(_, _, r)| *r).collect::<HashSet<_>>() {
        let held = active.iter().filter(|(_, _, r)| r == reader).count();
        assert!(held <= 5, "borrower {reader} holds {held} loans");
    }
    let all_loans: HashSet<i64> = active_ids.union(&history_ids).copied().collect();
    assert_eq!(all_loans, ledger.checked_out, "every acknowledged check-out exists, and no other");
    assert_eq!(history_ids, ledger.returned, "every acknowledged return is archived, and no other");
    assert!(active_ids.is_disjoint(&history_ids), "no loan is both active and returned");
    let reviews: HashSet<i64> = review::Entity::find()
        .select_only()
        .column(review::Column::Id)
        .into_tuple::<i64>()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(reviews, ledger.reviews, "every acknowledged review exists, and no other");
}
