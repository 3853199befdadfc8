import pytest

from libris_tools.pinning import sqlscan


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "UPDATE books SET title = 'x' WHERE id = 1",
        "INSERT INTO b (t) VALUES ('a') ON CONFLICT (t) DO UPDATE SET t = excluded.t",
        "SELECT id FROM books WHERE title <> 'SET x = 1; RESET ALL; LISTEN c'",
        "-- SET statement_timeout = 0\n/* DISCARD ALL */ SELECT nextval('s')",
        "SELECT $$ SET work_mem = '1GB' $$ AS d, \"title\" AS \"SET\" FROM books",
        "SELECT E'it\\'s; SET x = 1' AS s",
        "SELECT $1, $2",
        "/* outer /* nested SET */ still comment */ SELECT 1",
    ],
)
def test_plain_sql_does_not_pin(sql):
    assert sqlscan.pinning_reasons(sql) == []


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("SET statement_timeout = 1000", "SET"),
        ("set local statement_timeout = 1", "SET LOCAL"),
        ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION"),
        ("SELECT 1;\n  RESET statement_timeout", "RESET"),
        ("SELECT set_config('a', 'b', true)", "set_config()"),
        ("PREPARE q AS SELECT 1", "PREPARE"),
        ("EXECUTE q", "EXECUTE (SQL)"),
        ("DEALLOCATE q", "DEALLOCATE"),
        ("DISCARD PLANS", "DISCARD"),
        ("LISTEN c", "LISTEN"),
        ("UNLISTEN *", "UNLISTEN"),
        ("LOAD 'x'", "LOAD"),
        ("DECLARE c CURSOR FOR SELECT 1", "DECLARE CURSOR"),
        ("CREATE TEMP TABLE t (x int)", "CREATE TEMP"),
        ("create or replace temporary view v as select 1", "CREATE TEMP"),
        ("SELECT 1 AS x INTO TEMPORARY t2", "SELECT INTO TEMP"),
        ("SELECT pg_try_advisory_xact_lock(7)", "advisory lock function"),
    ],
)
def test_each_session_level_command_pins_with_its_reason(sql, reason):
    assert reason in sqlscan.pinning_reasons(sql)


def test_a_do_body_is_checked_but_plpgsql_execute_and_declare_are_not_sql():
    assert sqlscan.pinning_reasons("DO $b$ BEGIN PERFORM pg_advisory_lock(1); END $b$") == ["advisory lock function"]
    assert sqlscan.pinning_reasons("DO $$ DECLARE n int; BEGIN EXECUTE 'SELECT 1'; END $$") == []
    assert sqlscan.pinning_reasons("DO $$ BEGIN SET LOCAL work_mem = '1MB'; END $$") == ["SET LOCAL"]


def test_the_skeleton_blanks_literals_identifiers_and_comments():
    assert sqlscan.skeleton("SELECT 'a;b', \"c\" -- d\n") == "SELECT '', \"_\"  \n"


def test_a_statement_over_the_size_limit_pins():
    long = "SELECT '" + "x" * 17000 + "'"
    assert sqlscan.statement_reasons(long) == [f"statement of {len(long)} bytes > 16384"]
    assert sqlscan.statement_reasons("SELECT 1") == []


def test_pgbouncers_own_statements_are_recognised():
    assert sqlscan.is_pgbouncer_sync("SET application_name='psql';SET TimeZone='UTC';")
    assert not sqlscan.is_pgbouncer_sync("SET statement_timeout=0;")
    assert sqlscan.is_pgbouncer_health_check(" select 1 /* pgbouncer server_check_query */ ")
