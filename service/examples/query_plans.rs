//! The benchmarks' witness (`scripts/bench --scaling`): runs one page of `GET /books` or
//! `GET /books/available`, or one `GET /books/{id}`, through the service functions the routes call, records
//! every statement they send, and prints each one's SQL, bound values and PostgreSQL's
//! `EXPLAIN (ANALYZE, BUFFERS)` of that same statement with those same values. The SQL is captured, never
//! rewritten, so the plans shown are the plans of what the server runs.
//!
//! ```sh
//! DATABASE_URL=postgres://… cargo run --release -p service --example query_plans -- books|available [CURSOR]
//! DATABASE_URL=postgres://… cargo run --release -p service --example query_plans -- detail ID
//! DATABASE_URL=postgres://… cargo run --release -p service --example query_plans -- search 'WORDS' [CURSOR]
//! ```
//!
//! `search` is one page of `GET /books?q=WORDS` (`scripts/bench_search.py`); its last line, `next: …`, is the
//! cursor of the following page.
//!
//! Each statement is explained `QUERY_PLANS_RUNS` times (default 5) as sent (planned for these values, as
//! PostgreSQL plans a prepared statement's first five executions), then once as a generic plan, which it may
//! switch to from the sixth on (the driver caches prepared statements per connection). The last run of the
//! first kind is printed in full.
#![expect(clippy::print_stdout, reason = "a report for tools/libris_tools/bench/scaling.py, printed")]

use std::sync::{Arc, Mutex};

#[path = "../tests/plans/generic.rs"]
mod generic;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};
use service::books::{self, BookFilter, CommonWords, SearchQuery};
use service::page::PageRequest;

type Failure = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: query_plans books|available [CURSOR] | detail ID | search WORDS [CURSOR]";
    let what = args.next().ok_or(usage)?;
    let argument = args.next().filter(|c| !c.is_empty());
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let runs: usize = std::env::var("QUERY_PLANS_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    // One connection, so the generic-plan setting below applies to the connection that explains.
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    let mut db = Database::connect(options).await?;
    if db.get_database_backend() != DbBackend::Postgres {
        return Err("EXPLAIN (ANALYZE, BUFFERS) needs PostgreSQL".into());
    }
    // A search is judged as the server judges it (`CommonWords`), before the statements are recorded: the
    // server reads the statistics once in five minutes, not once a page.
    let mut search = BookFilter::default();
    if what == "search" {
        search.q = SearchQuery::parse(argument.as_deref().ok_or(usage)?)?;
        CommonWords::default().judge(&db, &mut search).await;
    }
    let sent: Arc<Mutex<Vec<Statement>>> = Arc::default();
    let sink = Arc::clone(&sent);
    db.set_metric_callback(move |info| {
        if let Ok(mut statements) = sink.lock() {
            statements.push(info.statement.clone());
        }
    });
    let mut next = None;
    // Exactly what the routes call: default filter, default page size, the client's opaque cursor.
    let ids: Vec<i64> = match what.as_str() {
        "books" | "available" => {
            let (page, filter) = (PageRequest::new(argument, None)?, BookFilter::default());
            let page = if what == "books" {
                books::list(&db, &filter, &page).await?
            } else {
                books::available(&db, &filter, &page).await?
            };
            page.items.iter().map(|summary| summary.book.id).collect()
        }
        "detail" => vec![books::get(&db, argument.ok_or(usage)?.parse()?).await?.book.id],
        "search" => {
            let page = PageRequest::new(args.next().filter(|c| !c.is_empty()), None)?;
            let page = books::list(&db, &search, &page).await?;
            next = page.next_cursor;
            page.items.iter().map(|summary| summary.book.id).collect()
        }
        _ => return Err(usage.into()),
    };
    let statements = std::mem::take(&mut *sent.lock().map_err(|_| "statement log poisoned")?);
    let (first, last) = (ids.first(), ids.last());
    println!("served: {} books, ids {first:?}..={last:?}, {} statements", ids.len(), statements.len());
    if let Some(q) = &search.q {
        println!("judged rare: {}", q.judged_rare());
    }
    for (n, statement) in statements.iter().enumerate() {
        println!("\n-- statement {} of {}", n + 1, statements.len());
        println!("SQL: {}", statement.sql);
        println!("values: {:?}", statement.values.as_ref().map(|v| &v.0));
        let mut times = Vec::new();
        let mut plan = Vec::new();
        for _ in 0..runs.max(1) {
            plan = explain(&db, statement).await?;
            times.extend(execution_ms(&plan));
        }
        println!("execution ms over {} runs: {times:?}", times.len());
        println!("{}", plan.join("\n"));
        println!("generic plan:\n{}", generic::explain(&db, statement).await?.join("\n"));
    }
    println!("next: {}", next.unwrap_or_default());
    Ok(())
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the captured statement, bound to the captured values.
async fn explain(db: &impl ConnectionTrait, statement: &Statement) -> Result<Vec<String>, Failure> {
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {}", statement.sql);
    let explain = Statement { sql, ..statement.clone() };
    let rows = db.query_all_raw(explain).await?;
    Ok(rows.iter().map(|row| row.try_get::<String>("", "QUERY PLAN")).collect::<Result<_, _>>()?)
}

fn execution_ms(plan: &[String]) -> Option<f64> {
    plan.iter().find_map(|line| line.strip_prefix("Execution Time: ")?.strip_suffix(" ms")?.parse().ok())
}
