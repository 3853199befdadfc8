//! `bootstrap`: tracing for CloudWatch, configuration, the database pool made once before the first
//! event, then either the API under lambda_http or the migration function.

use lambda::app_role::{self, AppRoleSettings};
use lambda::config::{LambdaConfig, Mode};
use lambda::database;
use lambda::function::ApiFunction;
use lambda::init_error;
use lambda::metrics::{self, Record, Unit};
use lambda_http::{Request, service_fn};
use migration::{Migrator, MigratorTrait};
use openapi::CauseChain;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let started = std::time::Instant::now();
    // JSON lines when the function's log format is JSON; each line carries the invocation's request id.
    lambda_http::tracing::init_default_subscriber();
    let config = match LambdaConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            return fail_init("Runtime.ConfigError", &format!("configuration error: {error}")).await;
        }
    };
    if let Some(warning) = config.insecure_tls_warning() {
        tracing::error!("{warning}");
    }
    match config.mode {
        Mode::Api => {
            let function = match ApiFunction::new(config).await {
                Ok(function) => function,
                Err(error) => return fail_init(error.error_type(), &CauseChain(&error).to_string()).await,
            };
            Record::for_function()
                .metric("ColdStart", Unit::Count, 1.0)
                .metric("InitTime", Unit::Milliseconds, metrics::millis(started.elapsed()))
                .emit();
            let function = &function;
            lambda_http::run(service_fn(move |event: Request| function.handle(event))).await
        }
        Mode::Migrate => {
            // The application role to set up after the migrations, and the client for its secret.
            let app_role = match AppRoleSettings::read(&settings::Env::process()) {
                Ok(Some(settings)) => {
                    let aws = aws_config::load_from_env().await;
                    Some((settings, aws_sdk_secretsmanager::Client::new(&aws)))
                }
                Ok(None) => None,
                Err(error) => {
                    return fail_init("Runtime.ConfigError", &format!("configuration error: {error}")).await;
                }
            };
            let app_role = &app_role;
            let pool = match database::connect(&config.database, &config.pool).await {
                Ok(pool) => pool,
                Err(error) => {
                    return fail_init("Runtime.DatabaseSetupError", &CauseChain(&error).to_string()).await;
                }
            };
            let pool = &pool;
            lambda_runtime::run(service_fn(
                move |_: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                    let started = std::time::Instant::now();
                    // IAM mode: a warm migration function may hold a token older than its 15 minutes.
                    pool.renew_login().await?;
                    let db = pool.db();
                    let pending: Vec<String> = Migrator::get_pending_migrations(db)
                        .await?
                        .iter()
                        .map(|m| m.name().to_owned())
                        .collect();
                    Migrator::up(db, None).await?;
                    tracing::info!(applied = ?pending, "migrations applied");
                    if let Some((settings, secrets)) = app_role {
                        let generated = app_role::ensure(db, secrets, settings).await?;
                        tracing::info!(role = %settings.user, new_password = generated, "application role set up");
                    }
                    let applied = f64::from(u32::try_from(pending.len()).unwrap_or(u32::MAX));
                    Record::for_function()
                        .metric("MigrationsApplied", Unit::Count, applied)
                        .metric("MigrationTime", Unit::Milliseconds, metrics::millis(started.elapsed()))
                        .emit();
                    Ok::<_, lambda_runtime::Error>(serde_json::json!({ "applied": pending }))
                },
            ))
            .await
        }
    }
}

async fn fail_init(error_type: &str, message: &str) -> Result<(), lambda_http::Error> {
    tracing::error!(error_type, "{message}");
    if let Err(error) = init_error::report(error_type, message).await {
        tracing::error!(%error, "could not report the init error to the Runtime API");
    }
    Err(message.to_owned().into())
}
