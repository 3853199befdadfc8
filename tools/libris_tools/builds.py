"""The binaries the checks run, built the one way that shares the suite's build.

Every debug build here is `cargo build --workspace --bins --examples`: after `cargo test --workspace` it
compiles nothing, where `-p openapi` alone would unify features differently and rebuild ~50 dependencies.
The Lambda's release bootstrap is built for `-p lambda` only, so that it links PostgreSQL's driver alone.
"""

import os

from . import paths, procs
from .log import Failure, log


def skip_build():
    return os.environ.get("LIBRIS_SKIP_BUILD") == "1"


def debug_binary(name):
    """target/debug/NAME (or examples/NAME), built first unless LIBRIS_SKIP_BUILD=1."""
    if skip_build():
        log(f"LIBRIS_SKIP_BUILD=1: using {name} as built")
    else:
        log("building the workspace's binaries and examples")
        procs.cargo("build", "--workspace", "--bins", "--examples", nice=True)
    path = paths.target_dir() / "debug" / name
    if not path.exists():
        raise Failure(f"no binary at {path} (build it: cargo build --locked --workspace --bins --examples)")
    return path


def server():
    return debug_binary("libris")


def release_bootstrap():
    """The Lambda's release bootstrap, after checking that it links PostgreSQL's driver only (Aurora and RDS
    Proxy speak PostgreSQL: the SQLite and MySQL drivers, ~3 MB, stay out of the function)."""
    tree = procs.output(["cargo", "tree", "--locked", "-p", "lambda", "-e", "normal", "--prefix", "none", "-f", "{p}"])
    drivers = sorted({line.split()[0] for line in tree.splitlines()
                      if line.split() and line.split()[0] in ("sqlx-postgres", "sqlx-mysql", "sqlx-sqlite")})
    if drivers != ["sqlx-postgres"]:
        raise Failure(f"bootstrap must link PostgreSQL's driver only; it links: {' '.join(drivers)}")
    log("building the release bootstrap")
    procs.cargo("build", "--release", "-p", "lambda", "--bin", "bootstrap", nice=True)
    return paths.target_dir() / "release" / "bootstrap"
