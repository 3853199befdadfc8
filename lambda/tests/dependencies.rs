//! What the release binaries link, read from Cargo's own dependency graph (`cargo tree`, offline and
//! `--locked`, normal dependencies only, as a release build resolves them):
//!
//! - the Lambda's `bootstrap` links PostgreSQL's driver only (Aurora and RDS Proxy speak PostgreSQL; the
//!   SQLite and MySQL drivers would only add size) and none of the seed data;
//! - neither the `bootstrap` nor the local server (`openapi` with its default features) carries poem's
//!   `test` feature: the in-process test client belongs in dev-dependencies.
#![expect(clippy::expect_used, reason = "tests")]

use std::collections::BTreeSet;
use std::process::Command;

/// One `(name, features)` per package in `package`'s normal dependency graph.
fn linked(package: &str) -> Vec<(String, BTreeSet<String>)> {
    let output = Command::new(env!("CARGO"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["tree", "--locked", "--offline", "-p", package, "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo tree -p {package} failed: {stderr}");
    String::from_utf8(output.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .map(|line| {
            // `name v1.2.3 (source)|feature,feature`, with ` (*)` after a package shown before.
            let (package, features) = line.split_once('|').unwrap_or((line, ""));
            let name = package.split_whitespace().next().unwrap_or_default().to_owned();
            let features = features.trim_end_matches(" (*)").split(',').filter(|f| !f.is_empty());
            (name, features.map(str::to_owned).collect())
        })
        .collect()
}

fn features_of<'a>(graph: &'a [(String, BTreeSet<String>)], name: &str) -> Vec<&'a BTreeSet<String>> {
    graph.iter().filter(|(package, _)| package == name).map(|(_, features)| features).collect()
}

#[test]
fn the_bootstrap_links_postgresql_only_and_no_seed_data() {
    let graph = linked("lambda");
    let drivers: BTreeSet<&str> = graph
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| matches!(*name, "sqlx-postgres" | "sqlx-mysql" | "sqlx-sqlite"))
        .collect();
    assert_eq!(drivers, BTreeSet::from(["sqlx-postgres"]), "the bootstrap's database drivers");
    assert!(graph.iter().all(|(name, _)| name != "seed"), "the bootstrap links the seed crate");
}

#[test]
fn no_release_binary_carries_poems_test_client() {
    for package in ["lambda", "openapi"] {
        let graph = linked(package);
        let poem = features_of(&graph, "poem");
        assert!(!poem.is_empty(), "{package} does not link poem at all: is the graph read right?");
        for features in poem {
            assert!(!features.contains("test"), "{package} links poem with `test`: {features:?}");
        }
    }
}
