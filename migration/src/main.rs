//! `sea-orm-cli migrate …` runs this binary (`cargo run --manifest-path migration/Cargo.toml -- …`).

use sea_orm_migration::sea_orm::{ConnectOptions, Database};

#[tokio::main]
async fn main() {
    // The stock CLI always sets `search_path` on PostgreSQL. Our tables live in the login role's default
    // schema, and a `SET` would pin an RDS Proxy session, so the schema option is deliberately dropped.
    sea_orm_migration::cli::run_cli_with_connection(migration::Migrator, |options| {
        Database::connect(ConnectOptions::new(options.get_url().to_owned()))
    })
    .await;
}
