//! Fills a database with a deterministic library for benchmarks:
//! `DATABASE_URL=… cargo run --release -p openapi --bin libris-dataset -- [BOOKS [AUTHORS [BORROWERS [LOANS [REVIEWS]]]]]`
//! (defaults 100000 20000 10000 50000 200000). Migrates first; needs empty tables.

use std::process::ExitCode;
use std::time::Instant;

use migration::{Migrator, MigratorTrait};
use service::dataset::{DatasetSize, generate};

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
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set".to_owned())?;
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
    let db = openapi::connect(&url).await.map_err(|e| format!("cannot connect: {e}"))?;
    Migrator::up(&db, None).await.map_err(|e| format!("migrations failed: {e}"))?;
    let started = Instant::now();
    generate(&db, size, 7).await.map_err(|e| e.to_string())?;
    eprintln!("libris-dataset: {size:?} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
