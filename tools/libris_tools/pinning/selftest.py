"""Proves against the real server, through PgBouncer, that verify fails on each kind of pinning statement
(naming its reason) and passes on plain SQL, with psql and with sqlx-style prepared statements. It runs as
its own role (pgbouncer.SELFTEST_ROLE), so that a concurrent suite's check of libris_proxy never sees its SQL.

Each case: mark, run its SQL in a scratch database, verify only that database.
"""

import re
import subprocess
import sys

from .. import db, pgbouncer
from ..log import Failure, log
from . import check
from .wire import SqlxLikeClient

PLAIN = [
    "INSERT INTO books (title) VALUES ('Dune')",
    "SELECT count(*) FROM books",
    "SELECT id,\n       title\n  FROM books\n WHERE title <> 'SET x = 1; RESET ALL; LISTEN c'",
    "UPDATE books SET title = 'Dune (1965)' WHERE title = 'Dune'",
    "INSERT INTO books (title) VALUES ('Emma') ON CONFLICT (title) DO UPDATE SET title = excluded.title",
    "-- SET statement_timeout = 0 in a comment\n/* DISCARD ALL */ SELECT nextval(pg_get_serial_sequence('books', 'id'))",
    "SELECT $$ SET work_mem = '1GB' $$ AS dollar_quoted, \"title\" AS \"SET\" FROM books",
    "BEGIN", "DELETE FROM books WHERE title = 'nothing'", "COMMIT",
]
SQLX_PLAIN = [
    "P:sqlx_s_1:INSERT INTO books (title) VALUES ('Middlemarch') ON CONFLICT (title) DO NOTHING",
    "P:sqlx_s_2:SELECT count(*) FROM books", "Q:BEGIN", "P:sqlx_s_2:", "P:sqlx_s_1:", "Q:COMMIT", "P:sqlx_s_2:",
]
# (expected: "pass" or the reason verify must name, case name, "psql" or "sqlx", statements)
CASES = [
    ("pass", "plain SELECT/INSERT (psql)", "psql", PLAIN),
    ("pass", "sqlx-style named prepared statements (extended protocol)", "sqlx", SQLX_PLAIN),
    ("no statement from", "nothing ran since the marker", "psql", []),
    ("SET", "SET statement_timeout = 1000", "psql", ["SELECT 1", "BEGIN", "SET statement_timeout = 1000", "ROLLBACK"]),
    ("advisory lock function", "pg_advisory_lock / pg_advisory_unlock",
     "psql", ["SELECT pg_advisory_lock(1); SELECT pg_advisory_unlock(1)"]),
    ("SET", "SET through the extended protocol", "sqlx", ["Q:BEGIN", "P:sqlx_s_1:SET statement_timeout = 1000", "Q:ROLLBACK"]),
    ("SET LOCAL", "SET LOCAL", "psql", ["BEGIN", "SET LOCAL statement_timeout = 1000", "COMMIT"]),
    ("SET TRANSACTION", "SET TRANSACTION", "psql", ["BEGIN", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "COMMIT"]),
    ("set_config()", "set_config()", "psql", ["SELECT set_config('statement_timeout', '1000', true)"]),
    ("RESET", "RESET", "psql", ["SELECT 1;\n  RESET statement_timeout"]),
    ("PREPARE", "PREPARE / EXECUTE / DEALLOCATE", "psql", ["PREPARE q AS SELECT 1; EXECUTE q; DEALLOCATE q"]),
    ("EXECUTE (SQL)", "SQL EXECUTE", "psql", ["PREPARE q AS SELECT 1; EXECUTE q; DEALLOCATE q"]),
    ("DISCARD", "DISCARD", "psql", ["DISCARD PLANS"]),
    ("LISTEN", "LISTEN", "psql", ["LISTEN libris_channel; UNLISTEN libris_channel"]),
    ("UNLISTEN", "UNLISTEN", "psql", ["UNLISTEN *"]),
    ("LOAD", "LOAD", "psql", ["LOAD 'libris_no_such_library'"]),
    ("DECLARE CURSOR", "DECLARE … CURSOR", "psql", ["BEGIN", "DECLARE c CURSOR FOR SELECT 1", "CLOSE c", "COMMIT"]),
    ("CREATE TEMP", "CREATE TEMP TABLE", "psql", ["BEGIN", "CREATE TEMP TABLE scratch (x int) ON COMMIT DROP", "COMMIT"]),
    ("SELECT INTO TEMP", "SELECT … INTO TEMP", "psql", ["BEGIN", "SELECT 1 AS x INTO TEMPORARY scratch2", "ROLLBACK"]),
    ("advisory lock function", "advisory lock in a DO block",
     "psql", ["DO $body$ BEGIN PERFORM pg_try_advisory_xact_lock(7); END $body$"]),
    ("bytes > 16384", "statement longer than 16384 bytes", "psql", ["SELECT length('" + "x" * 17000 + "')"]),
]


def names_reason(output, reason):
    """Whether verify's output names `reason` as one item of a `PINNING [a, b]: …` list (or, for the two
    reasons that are not list items, anywhere)."""
    if reason in ("no statement from", "bytes > 16384"):
        return reason in output
    return any(reason in [r.strip() for r in m.split(",")] for m in re.findall(r"PINNING \[([^\]]*)\]", output))


def judge(expect, rc, output):
    """Whether a case behaved: `pass` wants exit 0, a reason wants exit 1 and the reason named."""
    if expect == "pass":
        return rc == 0
    return rc == 1 and names_reason(output, expect)


def run_sql(kind, port, database, url, statements):
    if kind == "sqlx":
        client = SqlxLikeClient(port, database, pgbouncer.SELFTEST_ROLE)
        try:
            client.run(statements)
        finally:
            client.close()
    elif statements:
        args = [a for sql in statements for a in ("-c", sql)]
        # Errors are fine (LOAD of a missing library): log_statement logs a statement before running it.
        subprocess.run(["psql", "-X", "-q", url, *args], capture_output=True)


def main():
    port = pgbouncer.port()
    pgbouncer.up(quiet=True)
    role = pgbouncer.SELFTEST_ROLE
    name = db.scratch_name("libris_pincheck")
    admin = f"postgres://{role}@127.0.0.1:{port}/postgres"
    url = f"postgres://{role}@127.0.0.1:{port}/{name}"
    log(f"self-test: scratch database {name}, created and dropped through PgBouncer (port {port}) as {role}")
    db.create_database(admin, name)
    failures = 0
    try:
        db.psql(url, "CREATE TABLE books (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL UNIQUE)")
        for expect, case, kind, statements in CASES:
            marker = check.mark()
            try:
                run_sql(kind, port, name, url, statements)
            except Exception as error:  # noqa: BLE001 - a case that cannot run is a failed case
                print(f"self-test: {case}: running the SQL failed: {error}", file=sys.stderr)
                failures += 1
                continue
            try:
                rc, lines = check.verify(marker, role, name)
            except Failure as error:
                rc, lines = error.code, [str(error)]
            output = "\n".join(lines)
            if judge(expect, rc, output):
                shown = lines[-1] if expect == "pass" else next(line for line in lines if expect in line)
                print(f"self-test ok: {case}: verify {'passes' if expect == 'pass' else 'fails'}: {shown[:170]}",
                      file=sys.stderr)
            else:
                print(f"self-test FAILED: {case}: expected {expect}, verify exited {rc}:", file=sys.stderr)
                print("\n".join("    " + line for line in lines), file=sys.stderr)
                failures += 1
    finally:
        db.drop_database(admin, name)
    if failures:
        print(f"pinning-check self-test: {failures} case(s) FAILED", file=sys.stderr)
        return 1
    print("pinning-check self-test: all cases behaved as expected", file=sys.stderr)
    return 0
