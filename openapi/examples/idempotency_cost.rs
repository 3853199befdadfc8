//! What an `Idempotency-Key` costs a check-out: `POST /loans` with and without a key, on PostgreSQL.
//!
//!   cargo run --release -p openapi --example idempotency_cost [ROUNDS] [PER_ROUND]
//!
//! The app runs in process (no socket: the HTTP layer's own cost is left out, so the key's share comes out
//! larger than a client would see) against a fresh database on the server at `TEST_POSTGRES_URL`
//! (default: the local one), dropped at the end. Each round checks out `PER_ROUND` books to distinct
//! borrowers, plain and keyed in turn request by request (and the other way round in the next round), so
//! both kinds meet the same disk and the same neighbours on a shared machine; every loan is returned
//! between rounds, untimed. Prints the median per-request time of each kind, the overhead, and what a
//! replayed retry costs.
//!
//! On PostgreSQL a keyed request takes its key, runs and keeps its answer in one transaction, so it
//! commits once, as a plain one does; what it adds is a few statements (the slot lock, the key lookup, a
//! savepoint, the answer's INSERT). `BENCH_SYNC_COMMIT=off` sets `synchronous_commit = off` on the
//! benchmark's own database (never do that to a real one) to show the cost apart from commit flushes.
//! The machine's load average is printed before and after: the figures mean little on a busy machine.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark that prints its figures"
)]

use std::time::{Duration, Instant};

use migration::testkit::{Backend, TestDb};
use openapi::auth::{Auth, DevRole, RoleNames};
use openapi::{AppState, app};
use poem::EndpointExt;
use poem::endpoint::BoxEndpoint;
use poem::test::TestClient;
use serde_json::{Value, json};

type Client = TestClient<BoxEndpoint<'static, poem::Response>>;

struct Bench {
    client: Client,
    bearer: String,
}

impl Bench {
    async fn post(&self, path: &str, body: Value, key: Option<&str>) -> (u16, Value) {
        let mut request = self.client.post(path).header("authorization", &self.bearer).body_json(&body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.0;
        let status = response.status().as_u16();
        let bytes = response.into_body().into_vec().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn create(&self, path: &str, body: Value) -> i64 {
        let (status, body) = self.post(path, body, None).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }
}

/// The 1-, 5- and 15-minute load averages (Linux), or a note that there are none.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap());
    let (rounds, per_round) = (args.next().unwrap_or(10), args.next().unwrap_or(200));
    println!("load average before: {}", load());
    let db = TestDb::migrated(Backend::Postgres).await.expect("a PostgreSQL server (TEST_POSTGRES_URL)");
    let auth = Auth::dev(RoleNames::default()).unwrap();
    let token =
        auth.dev_issuer().unwrap().issue(DevRole::Librarian, "bench", Duration::from_secs(3600)).unwrap();
    let conn = if std::env::var("BENCH_SYNC_COMMIT").as_deref() == Ok("off") {
        let sql = format!("ALTER DATABASE {} SET synchronous_commit = off", db.name());
        sea_orm::ConnectionTrait::execute_unprepared(&db.conn, &sql).await.unwrap();
        println!("synchronous_commit = off on the benchmark database");
        openapi::connect(&db.url).await.unwrap()
    } else {
        db.conn.clone()
    };
    let state = AppState::new(conn, auth);
    let bench = Bench { client: TestClient::new(app(state).boxed()), bearer: format!("Bearer {token}") };

    let mut books = Vec::new();
    let mut readers = Vec::new();
    for n in 0..per_round {
        books.push(bench.create("/books", json!({ "title": format!("Bench {n}") })).await);
        let reader = json!({ "name": format!("Reader {n}"), "email": format!("r{n}@bench.example") });
        readers.push(bench.create("/borrowers", reader).await);
    }

    let (mut plain, mut keyed, mut replays) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=rounds {
        let mut loans = Vec::new();
        for (n, (book, reader)) in books.iter().zip(&readers).enumerate() {
            let with_key = (n + round) % 2 == 1;
            let key = format!("bench-{round}-{n}");
            let request = json!({ "book_id": book, "borrower_id": reader });
            let started = Instant::now();
            let (status, loan) =
                bench.post("/loans", request.clone(), with_key.then_some(key.as_str())).await;
            let took = started.elapsed();
            assert_eq!(status, 201, "{loan}");
            if with_key {
                keyed.push(took);
                let started = Instant::now();
                let (status, again) = bench.post("/loans", request, Some(&key)).await;
                replays.push(started.elapsed());
                assert_eq!((status, &again["id"]), (201, &loan["id"]));
            } else {
                plain.push(took);
            }
            loans.push(loan["id"].as_i64().unwrap());
        }
        for loan in loans {
            assert_eq!(bench.post(&format!("/loans/{loan}/return"), json!(null), None).await.0, 200);
        }
        if round == 0 {
            // The first round warmed the pool and the caches: measure from here.
            plain.clear();
            keyed.clear();
            replays.clear();
        }
    }
    let (plain, keyed, replay) = (median(plain), median(keyed), median(replays));
    let overhead = (keyed.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0;
    println!("check-outs per kind: {}", rounds * per_round / 2);
    println!("plain POST /loans:             median {:>8.3} ms", plain.as_secs_f64() * 1000.0);
    println!(
        "with Idempotency-Key:          median {:>8.3} ms  ({overhead:+.1} %)",
        keyed.as_secs_f64() * 1000.0
    );
    println!("replayed retry (same key):     median {:>8.3} ms", replay.as_secs_f64() * 1000.0);
    println!("load average after: {}", load());
}
