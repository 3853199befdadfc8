//! Warm invocation latency of the handler itself, without the Runtime API's two HTTP exchanges per event
//! (`scripts/bench-lambda`): the function's own configuration and `ApiFunction`, exactly as `bootstrap` builds
//! them, given an HTTP API (v2) event as the runtime would hand it over (JSON text, deserialised per
//! invocation like lambda_http does). `GET /health` touches no database; `GET /books/1` is one statement.
//!
//! ```sh
//! DATABASE_URL=postgres://… LIBRIS_AUTH=jwt LIBRIS_AUTH_ISSUER=… LIBRIS_AUTH_AUDIENCE=… \
//!   cargo run --release -p lambda --example warm_handler -- FIXTURE.json INVOCATIONS
//! ```
//!
//! Prints one JSON object per path: microseconds, min / p50 / p99 / max over INVOCATIONS after 100 warm-ups.
#![expect(clippy::print_stdout, reason = "a report for scripts/bench-lambda, printed")]

use std::time::Instant;

use lambda::config::LambdaConfig;
use lambda::function::ApiFunction;

type Failure = lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: warm_handler FIXTURE.json INVOCATIONS";
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(args.next().ok_or(usage)?)?)?;
    let invocations: usize = args.next().ok_or(usage)?.parse()?;
    let function = ApiFunction::new(LambdaConfig::from_env()?).await?;
    for path in ["/health", "/books/1"] {
        let event = event_for(&fixture, path).to_string();
        let mut micros = Vec::with_capacity(invocations);
        for n in 0..invocations + 100 {
            let started = Instant::now();
            let response = function.handle(lambda_http::request::from_str(&event)?).await?;
            let elapsed = started.elapsed();
            if response.status() != 200 {
                return Err(format!("GET {path}: {}", response.status()).into());
            }
            if n >= 100 {
                micros.push(elapsed.as_secs_f64() * 1e6);
            }
        }
        micros.sort_by(f64::total_cmp);
        let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize];
        println!(
            "{}",
            serde_json::json!({
                "path": path, "n": micros.len(), "unit": "us",
                "min": at(0.0).round(), "p50": at(0.5).round(), "p99": at(0.99).round(), "max": at(1.0).round(),
            })
        );
    }
    Ok(())
}

/// The fixture with its path replaced and its query string dropped.
fn event_for(fixture: &serde_json::Value, path: &str) -> serde_json::Value {
    let mut event = fixture.clone();
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["rawQueryString"] = "".into();
    if let Some(object) = event.as_object_mut() {
        object.remove("queryStringParameters");
    }
    event
}
