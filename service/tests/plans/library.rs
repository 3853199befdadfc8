//! `libris_se_plans`: the 100,000-book library the plan test explains against, built once and kept.

use migration::testkit::Backend;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

pub const BOOKS: u64 = 100_000;
const NAME: &str = "libris_se_plans";
/// Bump when the load below changes, or a migration not yet released is edited; the migrations' names
/// are part of the marker too.
const LOAD_VERSION: u32 = 3;

/// The library's words: two per title, so each is in about one title in eight; the number in each title
/// is unique (a rare word), and every book's author is "Author n" with 20,000 of them.
const LOAD: [&str; 8] = [
    "INSERT INTO authors (name, created_at, updated_at) \
     SELECT 'Author ' || g, now(), now() FROM generate_series(1, 20000) g",
    "INSERT INTO books (title, title_key, author_key, isbn, published_date, created_at, updated_at) \
     SELECT t, lower(t), 'author ' || (1 + g % 20000), NULL, DATE '1900-01-01' + (g * 7919) % 45000, now(), now() \
     FROM (SELECT g, 'The ' || w[1 + g % 16] || ' ' || w[1 + (g / 16) % 16] || ' ' || g AS t \
           FROM generate_series(1, 100000) g, \
           (SELECT ARRAY['Silent','Crimson','Hidden','Northern','Glass','Iron','Winter','Paper','Garden', \
                         'River','Empire','Machine','Lantern','Harbour','Orchard','Signal'] AS w) words) titles",
    "INSERT INTO book_authors (book_id, author_id) SELECT g, 1 + g % 20000 FROM generate_series(1, 100000) g",
    "INSERT INTO borrowers (name, email, created_at, updated_at) \
     SELECT 'Borrower ' || g, 'b' || g || '@example.org', now(), now() FROM generate_series(1, 10000) g",
    "INSERT INTO loans (book_id, borrower_id, borrowed_at, due_at, renewals, created_at, updated_at) \
     SELECT 2 * g, 1 + g % 10000, now(), now() + (g % 28 - 3) * interval '1 day', 0, now(), now() \
     FROM generate_series(1, 50000) g",
    "INSERT INTO reviews (book_id, borrower_id, rating, comment, reviewed_at, created_at, updated_at) \
     SELECT 1 + g % 100000, 1 + g / 100000, 1 + g % 5, NULL, now(), now(), now() \
     FROM generate_series(0, 199999) g",
    // As autovacuum would have by now: statistics, and the full-text index's pending list merged.
    "VACUUM ANALYZE",
    "CREATE TABLE libris_plans_marker (load text NOT NULL)",
];

/// The kept library, built first if missing or stale; `None` when the test is skipped (no server).
pub async fn connect() -> Option<DatabaseConnection> {
    let server = Backend::Postgres.server_url()?;
    let Ok(admin) = Database::connect(options(&server)).await else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("PostgreSQL at TEST_POSTGRES_URL is unreachable (CI=true: the plan test must run)");
        }
        eprintln!("skipped: PostgreSQL is unreachable");
        return None;
    };
    let url = with_database(&server, NAME);
    let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let marker = format!("v{LOAD_VERSION}, {}", names.join(" "));
    if let Ok(db) = Database::connect(options(&url)).await {
        let sql = "SELECT load FROM libris_plans_marker";
        if let Ok(Some(row)) =
            db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await
            && row.try_get::<String>("", "load").ok().as_deref() == Some(marker.as_str())
        {
            return Some(db);
        }
        drop(db.close().await);
    }
    eprintln!("building {NAME} ({BOOKS} books), kept for the next run");
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE {NAME}")).await.unwrap();
    let db = Database::connect(options(&url)).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    for sql in LOAD {
        db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{e}\n{sql}"));
    }
    db.execute_unprepared(&format!("INSERT INTO libris_plans_marker VALUES ('{marker}')")).await.unwrap();
    Some(db)
}

fn options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(2);
    options
}

fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    query.map_or_else(|| format!("{base}/{name}"), |query| format!("{base}/{name}?{query}"))
}
