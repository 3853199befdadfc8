//! CloudWatch metrics as Embedded Metric Format (EMF) log lines.
//!
//! An EMF line is a JSON object on standard output whose `_aws` member tells CloudWatch Logs which of its
//! fields are metrics and which are dimensions; CloudWatch turns it into metrics in the `Libris`
//! namespace. No `PutMetricData` call, no extra IAM permission, no VPC endpoint and no time spent in the
//! request: the line joins the function's other log lines (`infra/docs/monitoring.md` lists the metrics).
//!
//! What is measured: the cold start (`ColdStart`, `InitDuration`), the database set-up at cold start and
//! after a credential rotation (`DbSetupTime`: reading the secret or signing a token, and building the
//! pool), each statement's time (`StatementTime`, from SeaORM's metric callback), responses by route and
//! status class (`Responses`, `Duration`), rotation retries (`RotationRetries`) and migration runs
//! (`MigrationsApplied`, `MigrationTime`). Routes are path templates (`GET /books/{id}`), and requests
//! that matched no route (404, 405) count under `other`, so a scan of random paths cannot create
//! thousands of metrics.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every Libris metric.
pub const NAMESPACE: &str = "Libris";
/// CloudWatch takes at most 100 values of one metric in one EMF line.
const MAX_VALUES: usize = 100;

/// The unit CloudWatch records a metric in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Count,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Self::Milliseconds => "Milliseconds",
            Self::Count => "Count",
        }
    }
}

/// One EMF line: dimension values, the dimension sets to publish under, and the metrics.
#[derive(Clone, Debug, Default)]
pub struct Record {
    dimensions: Vec<(&'static str, String)>,
    sets: Vec<Vec<&'static str>>,
    metrics: Vec<(&'static str, Unit, Vec<f64>)>,
}

impl Record {
    /// A record for this function (dimension `Function`: the Lambda function's name, `local` elsewhere),
    /// published under `Function` alone.
    #[must_use]
    pub fn for_function() -> Self {
        let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned());
        Self { dimensions: vec![("Function", name)], sets: vec![vec!["Function"]], metrics: Vec::new() }
    }

    /// Adds a dimension, and publishes the metrics under `Function` plus every dimension added so far too.
    #[must_use]
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.push((name, value.into()));
        self.sets.push(self.dimensions.iter().map(|(n, _)| *n).collect());
        self
    }

    /// One value of a metric.
    #[must_use]
    pub fn metric(self, name: &'static str, unit: Unit, value: f64) -> Self {
        self.values(name, unit, vec![value])
    }

    /// Several values of a metric (the first 100; CloudWatch keeps each as a sample), or none.
    #[must_use]
    pub fn values(mut self, name: &'static str, unit: Unit, mut values: Vec<f64>) -> Self {
        values.truncate(MAX_VALUES);
        if !values.is_empty() {
            self.metrics.push((name, unit, values));
        }
        self
    }

    /// The EMF object, stamped with `at`.
    #[must_use]
    pub fn to_json(&self, at: SystemTime) -> Value {
        let millis = at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        let definitions: Vec<Value> =
            self.metrics.iter().map(|(name, unit, _)| json!({ "Name": name, "Unit": unit.name() })).collect();
        let mut root = Map::new();
        root.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": millis,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": self.sets,
                    "Metrics": definitions,
                }],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert((*name).to_owned(), json!(value));
        }
        for (name, _, values) in &self.metrics {
            let value = if let [one] = values.as_slice() { json!(one) } else { json!(values) };
            root.insert((*name).to_owned(), value);
        }
        Value::Object(root)
    }

    /// Writes the line to standard output, where Lambda collects it into the function's log group (in
    /// one write, so it never interleaves with a log line).
    pub fn emit(&self) {
        if self.metrics.is_empty() {
            return;
        }
        let line = format!("{}\n", self.to_json(SystemTime::now()));
        if let Err(error) = std::io::stdout().lock().write_all(line.as_bytes()) {
            tracing::warn!(%error, "could not write a metrics line");
        }
    }
}

/// Milliseconds, as EMF wants them.
#[must_use]
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The statements run since the last [`Statements::take`]: one invocation's, as the function serves one
/// event at a time.
#[derive(Clone, Debug, Default)]
pub struct Statements {
    seen: Arc<Mutex<Seen>>,
}

#[derive(Debug, Default)]
struct Seen {
    times: Vec<f64>,
    failed: u32,
}

impl Statements {
    /// Notes one statement (the callback SeaORM calls after each one).
    pub fn record(&self, elapsed: Duration, failed: bool) {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.times.push(millis(elapsed));
        seen.failed += u32::from(failed);
    }

    /// The statement times and the number that failed, and a fresh start.
    #[must_use]
    pub fn take(&self) -> (Vec<f64>, u32) {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Seen { times, failed } = std::mem::take(&mut *seen);
        (times, failed)
    }
}

/// The route a request took, as a template: numeric path segments become `{id}`; requests no route
/// matched (404, 405) are `other`.
#[must_use]
pub fn route(method: &str, path: &str, status: u16) -> String {
    if matches!(status, 404 | 405) {
        return "other".to_owned();
    }
    let template: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if s.bytes().all(|b| b.is_ascii_digit()) { "{id}" } else { s })
        .collect();
    format!("{method} /{}", template.join("/"))
}

/// `2xx`, `4xx`, `5xx`...
#[must_use]
pub fn status_class(status: u16) -> String {
    format!("{}xx", status / 100)
}

/// What one API invocation reports: a line with its route, status class and time, and a line with its
/// statements under `Function` alone (per route, they would multiply the custom metrics for little).
#[must_use]
pub fn response(route: String, status: u16, took: Duration, statements: &Statements) -> [Record; 2] {
    let (times, failed) = statements.take();
    let count = f64::from(u32::try_from(times.len()).unwrap_or(u32::MAX));
    [
        Record::for_function()
            .dimension("Route", route)
            .dimension("StatusClass", status_class(status))
            .metric("Responses", Unit::Count, 1.0)
            .metric("Duration", Unit::Milliseconds, millis(took)),
        Record::for_function()
            .metric("Statements", Unit::Count, count)
            .metric("StatementErrors", Unit::Count, f64::from(failed))
            .values("StatementTime", Unit::Milliseconds, times),
    ]
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_record_is_an_emf_object_with_its_metrics_and_dimensions_at_the_root() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_633_600_000);
        let record = Record::for_function()
            .dimension("Route", "GET /books/{id}")
            .metric("Responses", Unit::Count, 1.0)
            .values("StatementTime", Unit::Milliseconds, vec![1.5, 2.0]);
        let line = record.to_json(at);
        assert_eq!(line["_aws"]["Timestamp"], 1_764_633_600_000_u64);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Libris");
        assert_eq!(directive["Dimensions"], json!([["Function"], ["Function", "Route"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{ "Name": "Responses", "Unit": "Count" }, { "Name": "StatementTime", "Unit": "Milliseconds" }])
        );
        assert_eq!(line["Route"], "GET /books/{id}");
        assert!(line["Function"].is_string());
        assert_eq!(line["Responses"], 1.0);
        assert_eq!(line["StatementTime"], json!([1.5, 2.0]));
    }

    #[test]
    fn a_metric_keeps_at_most_a_hundred_values_and_none_is_left_out() {
        let line = Record::for_function()
            .values("StatementTime", Unit::Milliseconds, (0..150).map(f64::from).collect())
            .values("Nothing", Unit::Count, Vec::new())
            .to_json(SystemTime::now());
        assert_eq!(line["StatementTime"].as_array().unwrap().len(), 100);
        assert!(line.get("Nothing").is_none());
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn routes_are_templates_and_unmatched_requests_share_one() {
        assert_eq!(route("GET", "/books/42/reviews", 200), "GET /books/{id}/reviews");
        assert_eq!(route("POST", "/loans/7/renew", 409), "POST /loans/{id}/renew");
        assert_eq!(route("GET", "/", 200), "GET /");
        assert_eq!(route("GET", "/wp-admin/x.php", 404), "other");
        assert_eq!(route("PUT", "/books", 405), "other");
        assert_eq!(status_class(503), "5xx");
    }

    #[test]
    fn an_invocation_reports_its_route_and_its_statements_once() {
        let statements = Statements::default();
        statements.record(Duration::from_millis(3), false);
        statements.record(Duration::from_micros(1500), true);
        let [served, sql] = response("GET /books".to_owned(), 200, Duration::from_millis(12), &statements)
            .map(|record| record.to_json(SystemTime::now()));
        assert_eq!(
            (served["Route"].clone(), served["StatusClass"].clone()),
            (json!("GET /books"), json!("2xx"))
        );
        assert_eq!((served["Responses"].clone(), served["Duration"].clone()), (json!(1.0), json!(12.0)));
        assert_eq!(sql["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Function"]]));
        assert_eq!((sql["Statements"].clone(), sql["StatementErrors"].clone()), (json!(2.0), json!(1.0)));
        assert_eq!(sql["StatementTime"], json!([3.0, 1.5]));
        let [_, next] = response("GET /books".to_owned(), 200, Duration::ZERO, &statements)
            .map(|record| record.to_json(SystemTime::now()));
        assert_eq!(next["Statements"], 0.0);
        assert!(
            next.get("StatementTime").is_none(),
            "the first invocation's statements are not reported twice"
        );
    }

    /// Runs in a copy of this test binary started by the test below, with Lambda's JSON log format: logs
    /// and a metrics line the way the function writes them, inside the span lambda_runtime opens for an
    /// invocation.
    #[test]
    fn json_log_probe() {
        if std::env::var("LIBRIS_JSON_LOG_PROBE").is_err() {
            return;
        }
        lambda_http::tracing::init_default_subscriber();
        let mut context = lambda_runtime::Context::default();
        context.request_id = "8f1c0a52-probe".to_owned();
        context.xray_trace_id = Some("Root=1-67891233-abcdef012345678912345678;Sampled=1".to_owned());
        let _invocation = lambda_runtime::layers::trace::request_span(&context).entered();
        tracing::info!("serving");
        Record::for_function().metric("Responses", Unit::Count, 1.0).emit();
    }

    #[test]
    fn json_logs_carry_the_request_id_and_trace_id_beside_the_metrics_lines() {
        let run = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "metrics::tests::json_log_probe", "--nocapture", "--test-threads=1"])
            .env("LIBRIS_JSON_LOG_PROBE", "1")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_FUNCTION_NAME", "libris-test-api")
            .output()
            .unwrap();
        assert!(run.status.success(), "{run:?}");
        let lines: Vec<Value> = String::from_utf8(run.stdout)
            .unwrap()
            .lines()
            // The test harness prints its own words on the first line, before the log line.
            .filter_map(|line| serde_json::from_str(&line[line.find('{')?..]).ok())
            .collect();
        let log = lines.iter().find(|l| l["fields"]["message"] == "serving").unwrap();
        assert_eq!(log["span"]["requestId"], "8f1c0a52-probe", "{log}");
        assert_eq!(log["span"]["xrayTraceId"], "Root=1-67891233-abcdef012345678912345678;Sampled=1", "{log}");
        let metrics = lines.iter().find(|l| l.get("_aws").is_some()).unwrap();
        assert_eq!(
            (metrics["Function"].clone(), metrics["Responses"].clone()),
            (json!("libris-test-api"), json!(1.0))
        );
    }
}
