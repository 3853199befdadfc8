//! Reads the live schema back from each backend's catalogue, normalised so one expectation fits all.

use migration::testkit::{Backend, TestDb};
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
    let result = db
        .conn
        .query_all_raw(Statement::from_string(db.db_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("catalogue query failed: {e}\n{sql}"));
    let mut rows: Vec<Vec<String>> = result
        .iter()
        .map(|row| (0..).map_while(|i| row.try_get_by_index::<String>(i).ok()).collect())
        .collect();
    rows.sort();
    rows
}

/// Our tables (the migrator's bookkeeping table excluded), sorted.
pub async fn tables(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        Backend::MySql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    rows(db, sql)
        .await
        .into_iter()
        .map(|mut row| row.remove(0))
        .filter(|name| name != "seaql_migrations")
        .collect()
}

/// Unique keys other than primary keys, as `(table, "col1,col2")`, sorted.
pub async fn unique_keys(db: &TestDb) -> Vec<(String, String)> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT m.name, group_concat(ii.name, ',') FROM sqlite_master m, pragma_index_list(m.name) il, \
             pragma_index_info(il.name) ii WHERE m.type = 'table' AND il.\"unique\" = 1 AND il.origin <> 'pk' \
             AND m.name <> 'seaql_migrations' GROUP BY m.name, il.name"
        }
        Backend::Postgres => {
            "SELECT t.relname::text, string_agg(a.attname::text, ',' ORDER BY array_position(i.indkey::int2[], a.attnum)) \
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) \
             WHERE i.indisunique AND NOT i.indisprimary AND n.nspname = current_schema() \
             AND t.relname <> 'seaql_migrations' GROUP BY t.relname, i.indexrelid"
        }
        Backend::MySql => {
            "SELECT CAST(table_name AS CHAR), CAST(GROUP_CONCAT(column_name ORDER BY seq_in_index) AS CHAR) \
             FROM information_schema.statistics WHERE table_schema = DATABASE() AND non_unique = 0 \
             AND index_name <> 'PRIMARY' AND table_name <> 'seaql_migrations' GROUP BY table_name, index_name"
        }
    };
    rows(db, sql).await.into_iter().map(|row| (row[0].clone(), row[1].clone())).collect()
}

/// Foreign keys as `(table, referenced table, ON DELETE rule)`, sorted.
pub async fn foreign_keys(db: &TestDb) -> Vec<(String, String, String)> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT m.name, p.\"table\", p.on_delete FROM sqlite_master m, pragma_foreign_key_list(m.name) p \
             WHERE m.type = 'table'"
        }
        Backend::Postgres => {
            "SELECT tc.table_name::text, ccu.table_name::text, rc.delete_rule::text \
             FROM information_schema.referential_constraints rc \
             JOIN information_schema.table_constraints tc \
               ON tc.constraint_name = rc.constraint_name AND tc.constraint_schema = rc.constraint_schema \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = rc.constraint_name AND ccu.constraint_schema = rc.constraint_schema \
             WHERE tc.table_schema = current_schema()"
        }
        Backend::MySql => {
            "SELECT CAST(table_name AS CHAR), CAST(referenced_table_name AS CHAR), CAST(delete_rule AS CHAR) \
             FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE()"
        }
    };
    rows(db, sql)
        .await
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone(), row[2].to_uppercase()))
        .collect()
}
