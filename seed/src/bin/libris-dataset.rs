//! Fills a database with a deterministic library for benchmarks:
//! `DATABASE_URL=… cargo run --release -p seed --bin libris-dataset -- [BOOKS [AUTHORS [BORROWERS [LOANS [REVIEWS]]]]]`
//! (defaults 100000 20000 10000 50000 200000). Migrates first; needs empty tables.

use std::process::ExitCode;
use std::time::Instant;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database};
use seed::dataset::{DatasetSize, generate};
use settings::{Env, redact_url};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("libris-dataset: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let url = Env::process().required("DATABASE_URL", "the database to fill").map_err(|e| e.to_string())?;
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().map_err(|_| format!("{arg:?} is not a count")))
        .collect::<Result<_, _>>()?;
    let defaults = DatasetSize::default();
    let pick = |i: usize, default: u64| numbers.get(i).copied().unwrap_or(default);
    let size = DatasetSize {
        books: pick(0, defaults.books),
        authors: pick(1, defaults.authors),
        borrowers: pick(2, defaults.borrowers),
        active_loans: pick(3, defaults.active_loans),
        reviews: pick(4, defaults.reviews),
    };
    let mut options = ConnectOptions::new(url.clone());
    options.sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", redact_url(&url)))?;
    Migrator::up(&db, None).await.map_err(|e| format!("migrations failed: {e}"))?;
    let started = Instant::now();
    generate(&db, size, 7).await.map_err(|e| e.to_string())?;
    eprintln!("libris-dataset: {size:?} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
