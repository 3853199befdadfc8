"""The capped database and the proxy in front of it, started for a storm and stopped after it.

The budget. Aurora PostgreSQL sets `max_connections` to LEAST(DBInstanceClassMemory / 9531392, 5000): about
400 on a db.t3.medium (4 GiB; the article measured "approximately 400"), about 105 per GiB of an Aurora
Serverless v2 maximum capacity (2 GiB per ACU). This machine has 2 cores for the storm, the database and
its clients, so the storm is a 1:10 scale model: 40 connections for the application (a cluster of its own
with `max_connections = 43`, of which PostgreSQL keeps 3 for superusers, the monitor among them), where a
db.t3.medium would give 400. 300 instances on 40 connections is the ratio of 3,000 instances on a
db.t3.medium. A cluster of its own, not a role's CONNECTION LIMIT on the machine's shared server: a direct
storm's refused logins each fork a backend before being refused, and on the shared server those would
take the slots other programs need.

The proxy: PgBouncer 1.24 (pgbouncer_build) with a pool cap of 80 % of the budget (RDS Proxy's
`max_connections_percent`, infra's default) and a wait timeout (`connection_borrow_timeout`); one
transaction-mode pool (how RDS Proxy multiplexes) and one session-mode pool (what a pinned RDS Proxy
connection amounts to: a server connection per client for its whole session).
"""

import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from .. import db, paths, pgbouncer, pgbouncer_build, procs
from ..local.cluster import PrivateCluster
from ..log import Failure, log
from ..net import port_open, wait_for_port

APP_ROLE = "storm_app"
DATABASE = "storm"
BUDGET = 40  # connections the application role may open
RESERVED = 3  # PostgreSQL's superuser_reserved_connections
PROXY_SHARE = 0.8  # RDS Proxy's max_connections_percent
BORROW_TIMEOUT = 10  # seconds: RDS Proxy's connection_borrow_timeout, infra's default
# The dataset (libris-dataset): books, authors, borrowers, active loans, reviews.
DATASET = (3000, 300, 600, 0, 0)


@dataclass(frozen=True)
class Ports:
    transaction_pool: int = 21632
    session_pool: int = 21633
    first_instance: int = 22000


def proxy_cap():
    return int(BUDGET * PROXY_SHARE)


def cluster_settings():
    return {"max_connections": BUDGET + RESERVED, "superuser_reserved_connections": RESERVED,
            "shared_buffers": "64MB", "log_min_messages": "warning"}


class Cluster:
    """The capped PostgreSQL: a private cluster (local/cluster.py) in a temporary directory, gone afterwards."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="libris-storm-")
        self.server = PrivateCluster(self.directory, cluster_settings())
        self.port = self.server.port

    def admin_url(self, database="postgres"):
        return self.server.url(database)

    def app_url(self):
        return f"postgres://{APP_ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self):
        log(f"starting a private PostgreSQL cluster on port {self.port} (max_connections {BUDGET + RESERVED})")
        self.server.start()

    def prepare_database(self, dataset, sizes):
        """A fresh database owned by the application role, filled by the project's dataset generator."""
        admin = self.admin_url()
        db.psql(admin, f"CREATE ROLE {APP_ROLE} LOGIN", f'CREATE DATABASE "{DATABASE}" OWNER {APP_ROLE}')
        log(f"filling the database: libris-dataset {' '.join(map(str, sizes))}")
        procs.run([dataset, *map(str, sizes)], env={**paths.tool_env(), "DATABASE_URL": self.app_url()})

    def stop(self):
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def bouncer_ini(port, target_port, mode, cap, wait_timeout, files):
    reset = "server_reset_query =" if mode == "transaction" else "server_reset_query = DISCARD ALL"
    return f""";; Written by tools/libris_tools/storm/budget.py: the storm's RDS Proxy stand-in ({mode} pooling).
[databases]
{DATABASE} = host=127.0.0.1 port={target_port} dbname={DATABASE}

{pgbouncer.daemon_settings(port, files, os.getuid() == 0)}
pool_mode = {mode}
;; RDS Proxy's max_connections_percent of the budget: the most server connections the proxy opens.
default_pool_size = {cap}
max_db_connections = {cap}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 4000
;; RDS Proxy's connection_borrow_timeout: how long a client waits for a server connection.
query_wait_timeout = {wait_timeout}
;; Idle server connections are closed after this long, as RDS Proxy lets idle ones go.
server_idle_timeout = 10
max_prepared_statements = 200
ignore_startup_parameters = extra_float_digits
{reset}
"""


class Bouncer:
    """A PgBouncer daemon of the storm's own (its own port, config and pidfile)."""

    def __init__(self, port, target_port, mode, wait_timeout):
        self.port, self.mode = port, mode
        run = paths.run_dir() / "storm"
        self.files = {"dir": run, "ini": run / f"pgbouncer-{port}.ini", "users": run / f"userlist-{port}.txt",
                      "pid": run / f"pgbouncer-{port}.pid", "log": run / f"pgbouncer-{port}.log"}
        self.config = bouncer_ini(port, target_port, mode, proxy_cap(), wait_timeout, self.files)
        self.pid = None

    def start(self):
        if port_open(self.port):
            raise Failure(f"127.0.0.1:{self.port} is taken; the storm's PgBouncer cannot start there")
        run = self.files["dir"]
        run.mkdir(parents=True, exist_ok=True)
        self.files["ini"].write_text(self.config)
        self.files["users"].write_text(f'"{APP_ROLE}" ""\n"postgres" ""\n')
        self.files["pid"].unlink(missing_ok=True)
        if os.getuid() == 0:
            for path in [run, *run.iterdir()]:
                shutil.chown(path, pgbouncer.run_user())
        log(f"starting PgBouncer ({self.mode} pooling, cap {proxy_cap()}) on 127.0.0.1:{self.port}")
        procs.run([pgbouncer_build.binary(), "-d", self.files["ini"]])
        for _ in range(50):
            if self.files["pid"].exists() and self.files["pid"].read_text().strip():
                self.pid = int(self.files["pid"].read_text().strip())
                break
            time.sleep(0.1)
        wait_for_port(self.port, f"PgBouncer ({self.mode})")

    def url(self):
        return f"postgres://{APP_ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self):
        if self.pid is not None:
            procs.stop_pid(self.pid, name=f"the storm's PgBouncer ({self.mode})")
            self.pid = None
