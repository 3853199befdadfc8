"""A local PgBouncer in transaction pooling mode in front of the local PostgreSQL: the stand-in for AWS RDS
Proxy, so the suite can prove that the service survives connection multiplexing.

`up`: the binary (pgbouncer_build), the PostgreSQL role `libris_proxy` (LOGIN CREATEDB, no password: pg_hba
trusts loopback) logging every statement it runs for the pinning check, the config in $LIBRIS_RUN/pgbouncer/,
and PgBouncer daemonized on 127.0.0.1:$PGBOUNCER_PORT (default 6432). One started earlier with the same
binary and config is left running; one with another config is restarted. `down` stops only the process
named by our pidfile, and only if it runs our binary. Idempotent both.

Environment: LIBRIS_TOOLS, LIBRIS_RUN, PGBOUNCER_PORT, PGBOUNCER_RUN_USER (the Unix user PgBouncer drops to
when started as root, which it refuses to run as; default postgres).
"""

import fcntl
import os
import pwd
import shutil
import subprocess
import sys
import time

from . import db, paths, pgbouncer_build, procs
from .log import Failure, log
from .net import port_open

PG_PORT = 5432
PROXY_ROLE = "libris_proxy"
# The pinning check's self-test runs its pinning SQL as this role, so that it never lands among the statements
# a concurrent suite's check reads for PROXY_ROLE.
SELFTEST_ROLE = "libris_pincheck"
# The application role the API tests log in as with TEST_AS_APP_ROLE=true (APP_ROLE in
# migration/src/testkit.rs). The test kit creates it, through the proxy as PROXY_ROLE (hence CREATEROLE);
# PgBouncer must list it, or it refuses the login before PostgreSQL is asked.
TEST_APP_ROLE = "libris_test_app"


def port():
    value = os.environ.get("PGBOUNCER_PORT", "6432")
    if not value.isdigit():
        raise Failure(f"PGBOUNCER_PORT must be a port number, not '{value}'")
    if int(value) == PG_PORT:
        raise Failure(f"PGBOUNCER_PORT must not be PostgreSQL's own port {PG_PORT}")
    return int(value)


def files(p):
    run = paths.run_dir() / "pgbouncer"
    return {"dir": run, "ini": run / f"pgbouncer-{p}.ini", "users": run / f"userlist-{p}.txt",
            "pid": run / f"pgbouncer-{p}.pid", "log": run / f"pgbouncer-{p}.log", "lock": run / f".pgbouncer-{p}.lock"}


def proxy_url(p):
    return f"postgres://{PROXY_ROLE}@127.0.0.1:{p}/postgres"


def run_user():
    if os.getuid() == 0:
        return os.environ.get("PGBOUNCER_RUN_USER") or "postgres"
    return pwd.getpwuid(os.getuid()).pw_name


TRUST_AUTH = """;; The server trusts loopback; PgBouncer trusts its clients too, but only the users in auth_file.
auth_type = trust"""


def daemon_settings(p, f, as_root, listen_addr="127.0.0.1", auth=TRUST_AUTH, tls=""):
    """The [pgbouncer] section's opening, shared by every PgBouncer the tools start: listening on
    `listen_addr`:`p`, the files `f` (pid, log, users), clients authenticated as `auth` says and, when `tls`
    holds PgBouncer's client_tls_* lines, over TLS; postgres is the admin."""
    user_line = f"user = {run_user()}" if as_root else ""
    return f"""[pgbouncer]
listen_addr = {listen_addr}
listen_port = {p}
;; TCP only: no Unix socket.
unix_socket_dir =
{user_line}
pidfile = {f["pid"]}
logfile = {f["log"]}
log_connections = 0
log_disconnections = 0

{auth}
auth_file = {f["users"]}{tls}
admin_users = postgres
stats_users = postgres
"""


def render_config(p, f, as_root, listen_addr="127.0.0.1", auth=TRUST_AUTH, tls=""):
    """The configuration file of the suite's proxy (see `daemon_settings` for the arguments)."""
    return f""";; Written by tools/libris_tools/pgbouncer.py: a local stand-in for AWS RDS Proxy. Do not edit; rerun scripts/pgbouncer-up.
[databases]
;; Any database name (the tests create random ones) is proxied to the local PostgreSQL.
* = host=127.0.0.1 port={PG_PORT}

{daemon_settings(p, f, as_root, listen_addr, auth, tls)}
;; RDS Proxy multiplexes transactions, never sessions: a client holds a server connection only for
;; the length of one transaction.
pool_mode = transaction
;; Pool sizes are deliberately smaller than the number of clients, so multiplexing really happens:
;; every test database gets its own pool, and a test's sqlx pool opens up to 8 connections to it
;; (migration/src/testkit.rs: max_connections(8)), plus the harness's admin pool on "postgres".
;; Those 8+ clients share at most 2 server connections per (database, user) and at most 4 per
;; database. With cargo test running 2 tests at once on this 2-core machine, that stays far below
;; PostgreSQL's max_connections = 100. A transaction waits up to query_wait_timeout (120 s, like RDS
;; Proxy's default ConnectionBorrowTimeout) for a free server connection.
default_pool_size = 2
min_pool_size = 0
reserve_pool_size = 0
max_db_connections = 4
max_client_conn = 500
query_wait_timeout = 120

;; Protocol-level named prepared statements (sqlx_s_N) are tracked per client and re-prepared on
;; whichever server connection the client gets (needs PgBouncer >= 1.21).
max_prepared_statements = 200
;; sqlx sends extra_float_digits as a startup parameter. "options" is deliberately NOT listed: RDS
;; Proxy rejects startup options, and a client that sends them must fail here too.
ignore_startup_parameters = extra_float_digits

;; No session reset between clients (transaction mode must not need one), and a health check whose
;; text the pinning check recognises as PgBouncer's own, not the application's.
server_reset_query =
server_reset_query_always = 0
server_check_query = select 1 /* pgbouncer server_check_query */
"""


def render_users():
    return "".join(f'"{role}" ""\n' for role in (PROXY_ROLE, SELFTEST_ROLE, TEST_APP_ROLE, "postgres"))


def role_sql(role, rights="LOGIN CREATEDB"):
    return f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role} {rights};
  END IF;
END
$$;
ALTER ROLE {role} {rights};
-- Every statement this role runs lands in the server log, where the pinning check reads it.
ALTER ROLE {role} SET log_statement = 'all';
"""


PROXY_ROLE_SQL = ("SELECT pg_advisory_xact_lock(hashtext('libris pgbouncer-up role')); -- serialise concurrent callers\n"
                  + role_sql(PROXY_ROLE, "LOGIN CREATEDB CREATEROLE") + role_sql(SELFTEST_ROLE)
                  # A test database is dropped WITH (FORCE), ending the sessions PgBouncer still holds in it,
                  # also those of TEST_APP_ROLE; PostgreSQL lets a role end another role's sessions only as
                  # a member of pg_signal_backend. Without it the drop fails, the databases and PgBouncer's
                  # server connections to them pile up, and PostgreSQL runs out of connections.
                  + f"GRANT pg_signal_backend TO {PROXY_ROLE};\n")


def ensure_proxy_role():
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
           "-d", "postgres"]
    if subprocess.run(cmd, input=PROXY_ROLE_SQL, text=True, stdout=subprocess.DEVNULL).returncode != 0:
        raise Failure(f"could not set up the PostgreSQL roles {PROXY_ROLE} and {SELFTEST_ROLE} "
                      f"(as postgres on 127.0.0.1:{PG_PORT})")


def running_pid(f):
    """The pid of a PgBouncer running from our pidfile (and really our binary), or None."""
    try:
        pid = int(f["pid"].read_text().strip())
        exe = os.readlink(f"/proc/{pid}/exe")
    except (OSError, ValueError):
        return None
    return pid if exe in (str(pgbouncer_build.binary()), f"{pgbouncer_build.binary()} (deleted)") else None


def accepts_clients(p):
    cmd = ["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(p), "-U", PROXY_ROLE, "-d", "postgres",
           "-c", "select 1"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == "1"


def _tail_log(f):
    try:
        return "\n".join(f["log"].read_text(errors="replace").splitlines()[-30:])
    except OSError:
        return ""


def _start(p, f):
    config, users = render_config(p, f, os.getuid() == 0), render_users()
    pid = running_pid(f)
    if pid is not None:
        same = (f["ini"].exists() and f["ini"].read_text() == config and f["users"].exists()
                and f["users"].read_text() == users and os.readlink(f"/proc/{pid}/exe") == str(pgbouncer_build.binary()))
        if same and accepts_clients(p):
            log(f"PgBouncer already running (pid {pid}, 127.0.0.1:{p}, config {f['ini']})")
            return
        log(f"stopping PgBouncer (pid {pid}) to restart it with the new binary or config")
        procs.stop_pid(pid, name="PgBouncer")
    if port_open(p):
        raise Failure(f"127.0.0.1:{p} is taken by another process (not a PgBouncer started from {f['pid']}); "
                      "set PGBOUNCER_PORT")
    for key, text in (("ini", config), ("users", users)):
        f[key].with_suffix(".new").write_text(text)
        os.replace(f[key].with_suffix(".new"), f[key])
    f["pid"].unlink(missing_ok=True)
    if os.getuid() == 0:  # PgBouncer drops to the run user, who must be able to write here
        for path in [f["dir"], *f["dir"].iterdir()]:
            shutil.chown(path, run_user())
    log(f"starting PgBouncer on 127.0.0.1:{p} (config {f['ini']})")
    # The daemon must not inherit our descriptors (the start lock, callers' pipes): close_fds does that.
    if subprocess.run([str(pgbouncer_build.binary()), "-d", str(f["ini"])], stdout=sys.stderr,
                      close_fds=True).returncode != 0:
        raise Failure(f"PgBouncer failed to start:\n{_tail_log(f)}")
    for _ in range(20):
        if f["pid"].exists() and f["pid"].stat().st_size:
            break
        time.sleep(0.1)
    pid = running_pid(f)
    if pid is None:
        raise Failure(f"PgBouncer exited right after start:\n{_tail_log(f)}")
    for _ in range(60):
        if accepts_clients(p):
            log(f"PgBouncer is up (pid {pid}, log {f['log']})")
            return
        if not procs.pid_alive(pid):
            break
        time.sleep(0.5)
    raise Failure(f"PgBouncer does not accept connections as {PROXY_ROLE} on 127.0.0.1:{p}:\n{_tail_log(f)}")


def up(quiet=False):
    """Builds, configures and starts PgBouncer; returns the proxy URL for TEST_POSTGRES_URL."""
    p = port()
    pgbouncer_build.ensure()
    db.ensure_postgres()
    ensure_proxy_role()
    f = files(p)
    f["dir"].mkdir(parents=True, exist_ok=True)
    with open(f["lock"], "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one start at a time per port
        _start(p, f)
    url = proxy_url(p)
    if not quiet:
        print(f"\nPgBouncer (transaction pooling) on 127.0.0.1:{p} -> PostgreSQL 127.0.0.1:{PG_PORT}\n"
              f"  run the tests through it:   export TEST_POSTGRES_URL={url}\n"
              f"  admin console:              psql -h 127.0.0.1 -p {p} -U postgres pgbouncer -c 'SHOW POOLS'\n"
              f"  stop it:                    scripts/pgbouncer-down", file=sys.stderr)
    return url


def down():
    p = port()
    f = files(p)
    pid = running_pid(f)
    if pid is None:
        f["pid"].unlink(missing_ok=True)
        if port_open(p):
            raise Failure(f"no PgBouncer of ours runs on port {p} (pidfile {f['pid']}), but something else listens there")
        log(f"PgBouncer is not running on port {p}")
        return
    log(f"stopping PgBouncer (pid {pid}, port {p})")
    procs.stop_pid(pid, name="PgBouncer")  # SIGINT first: safe shutdown lets running transactions finish
    f["pid"].unlink(missing_ok=True)


def main_up(argv):
    print(f"export TEST_POSTGRES_URL={up()}")
    return 0


def main_down(argv):
    down()
    return 0
