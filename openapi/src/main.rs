//! The local server: `cargo run` serves the API on 127.0.0.1:3000 over an embedded SQLite file, migrated
//! and filled with demo data on first start.

use std::process::ExitCode;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use openapi::auth::Auth;
use openapi::{AppState, Config, app, connect};
use poem::Server;
use poem::listener::TcpListener;
use settings::ExposeSecret;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::print_stdout, reason = "the URL to open is the one thing a new user must see")]
async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| format!("configuration error: {e}"))?;
    let db = connect(config.database_url.expose_secret())
        .await
        .map_err(|e| format!("cannot open the database {:?}: {e}", config.database_url))?;
    Migrator::up(&db, None).await.map_err(|e| format!("migrations failed: {e}"))?;
    // Dev tokens name the demo borrowers by their subjects; real tokens must never reach them.
    let logins = match config.auth.mode {
        openapi::auth::AuthMode::Dev => seed::demo::DemoLogins::DevSubjects,
        openapi::auth::AuthMode::Jwt { .. } => seed::demo::DemoLogins::Unlinked,
    };
    if config.demo_data
        && seed::demo::load(&db, logins).await.map_err(|e| format!("demo data failed: {e}"))?
    {
        tracing::info!("loaded the demo library (set LIBRIS_DEMO_DATA=false to start empty)");
    }
    let auth = Auth::from_settings(&config.auth).map_err(|e| format!("authentication setup failed: {e}"))?;
    let dev_mode = auth.dev_issuer().is_some();
    let state = AppState::from_settings(db, auth, &config.app);
    let address = format!("{}:{}", config.host, config.port);
    let listener = TcpListener::bind(address.clone());
    println!("Libris API:  http://{address}/");
    println!("Swagger UI:  http://{address}/docs");
    if dev_mode {
        tracing::warn!("LIBRIS_AUTH=dev: anyone who can reach this server can get a librarian token");
        println!(
            "Dev tokens:  http://{address}/auth/dev-token?role=librarian  (or ?role=borrower&subject=demo-ada)"
        );
    }
    Server::new(listener)
        .run_with_graceful_shutdown(app(state), shutdown_signal(), Some(Duration::from_secs(10)))
        .await
        .map_err(|e| format!("server failed on {address}: {e}"))
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
