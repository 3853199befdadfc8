"""The database servers: starting them if they stopped, running SQL with psql, scratch databases."""

import contextlib
import secrets
import shutil
from pathlib import Path

from . import procs, urls
from .log import log, warn
from .net import port_open, wait_for_port


def ensure_postgres():
    """The machine's PostgreSQL cluster, started if something stopped it."""
    if not port_open(5432) and shutil.which("pg_ctlcluster"):
        versions = sorted(p.name for p in Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
        if versions:
            log(f"starting PostgreSQL {versions[-1]}/main")
            procs.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
    wait_for_port(5432, "PostgreSQL")


def ensure_servers():
    """PostgreSQL and MariaDB come with the machine; starts them if something stopped them."""
    ensure_postgres()
    if not port_open(3306) and Path("/usr/sbin/mariadbd").exists():
        log("starting MariaDB")
        procs.run(["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"],
                  check=False)
    wait_for_port(3306, "MariaDB")


def psql(url, *sql, quiet=True, check=True):
    """Runs each statement with psql against `url`; returns its unaligned, tuples-only output."""
    cmd = ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1"] + (["-q"] if quiet else []) + [url]
    for statement in sql:
        cmd += ["-c", statement]
    return procs.run(cmd, capture=True, check=check).stdout.strip()


def scratch_name(prefix):
    """A database name no other run picks: the prefix and 12 random hex digits."""
    return f"{prefix}_{secrets.token_hex(6)}"


def create_database(server, name):
    psql(server, f'CREATE DATABASE "{name}"')


def drop_database(server, name):
    """Drops `name`, disconnecting its clients; a failure is a warning, not the check's failure."""
    try:
        psql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as error:  # noqa: BLE001 - cleanup must not hide the check's own result
        warn(f"could not drop the database {name}: {error}")


@contextlib.contextmanager
def scratch_database(prefix, server=None):
    """A fresh database on `server` (TEST_POSTGRES_URL by default), dropped afterwards; yields its URL."""
    server = server or urls.admin_url()
    name = scratch_name(prefix)
    create_database(server, name)
    try:
        yield urls.with_database(server, name)
    finally:
        drop_database(server, name)


def main_ensure(argv):
    ensure_servers()
    return 0
