//! A captured statement's generic plan: PostgreSQL plans a prepared statement once for any values and keeps
//! that plan from its sixth run on when it looks no dearer than the plans made for each run's values, and
//! the driver prepares and caches every statement. Shared by the plan test and the `query_plans` example.

use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

type Failure = Box<dyn std::error::Error>;

/// `EXPLAIN (ANALYZE, BUFFERS)` of a captured statement as a generic plan: the statement `PREPARE`d with the parameter types the driver binds, then
/// `EXPLAIN (ANALYZE, BUFFERS) EXECUTE` under `plan_cache_mode = force_generic_plan`. (Plain `EXPLAIN` of a
/// statement with bound values always plans for those values.)
pub async fn explain(db: &impl ConnectionTrait, statement: &Statement) -> Result<Vec<String>, Failure> {
    let values = statement.values.as_ref().map(|v| v.0.as_slice()).unwrap_or_default();
    let types: Vec<&str> = values.iter().map(pg_type).collect::<Option<_>>().ok_or("unmapped value type")?;
    let literals: Vec<String> = values.iter().map(|v| PostgresQueryBuilder.value_to_string(v)).collect();
    // A statement without bound values (a first page of `GET /books`) takes no parameter list.
    let (types, literals) = if values.is_empty() {
        (String::new(), String::new())
    } else {
        (format!(" ({})", types.join(", ")), format!(" ({})", literals.join(", ")))
    };
    db.execute_unprepared(&format!("PREPARE witness{types} AS {}", statement.sql)).await?;
    db.execute_unprepared("SET plan_cache_mode = force_generic_plan").await?;
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE witness{literals}");
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await;
    db.execute_unprepared("RESET plan_cache_mode; DEALLOCATE witness").await?;
    Ok(rows?.iter().map(|row| row.try_get::<String>("", "QUERY PLAN")).collect::<Result<_, _>>()?)
}

/// The PostgreSQL type sqlx binds a value as (unsigned integers go as `int8`).
fn pg_type(value: &Value) -> Option<&'static str> {
    match value {
        Value::Int(_) => Some("integer"),
        Value::BigInt(_) | Value::BigUnsigned(_) => Some("bigint"),
        Value::String(_) => Some("text"),
        Value::Bool(_) => Some("boolean"),
        Value::ChronoDate(_) => Some("date"),
        _ => None,
    }
}
