"""The binaries the checks run, built the one way that shares the suite's build.

Every debug build here is `cargo build --workspace --bins --examples`: after `cargo test --workspace` it
compiles nothing, where `-p openapi` alone would unify features differently and rebuild ~50 dependencies.
The Lambda's release bootstrap is built for `-p lambda` only, so that it links PostgreSQL's driver alone, into
its own target directory.
"""

import os
import subprocess
import tempfile
from pathlib import Path

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


def bootstrap_target():
    """The Lambda's release builds have their own target directory (release artifacts share nothing with the
    debug ones anyway), so that the suite can build the bootstrap in the background while other steps hold
    the workspace's build lock."""
    return paths.target_dir() / "lambda-release"


def check_bootstrap_drivers():
    """Aurora and RDS Proxy speak PostgreSQL: the SQLite and MySQL drivers (~3 MB) stay out of the function."""
    tree = procs.output(["cargo", "tree", "--locked", "-p", "lambda", "-e", "normal", "--prefix", "none", "-f", "{p}"])
    drivers = sorted({line.split()[0] for line in tree.splitlines()
                      if line.split() and line.split()[0] in ("sqlx-postgres", "sqlx-mysql", "sqlx-sqlite")})
    if drivers != ["sqlx-postgres"]:
        raise Failure(f"bootstrap must link PostgreSQL's driver only; it links: {' '.join(drivers)}")


BOOTSTRAP_BUILD = ["nice", "-n", "10", "cargo", "build", "--locked", "--release", "-p", "lambda", "--bin", "bootstrap"]


def bootstrap_env():
    return {**paths.tool_env(), "CARGO_TARGET_DIR": str(bootstrap_target())}


def release_bootstrap():
    """The Lambda's release bootstrap, built after the driver check."""
    check_bootstrap_drivers()
    log("building the release bootstrap")
    procs.run(BOOTSTRAP_BUILD, env=bootstrap_env())
    return bootstrap_target() / "release" / "bootstrap"


class BackgroundBootstrap:
    """The release bootstrap built at a low priority while other steps run; `join` returns its path."""

    def __init__(self):
        self.process, self.log_path = None, None

    def start(self):
        check_bootstrap_drivers()
        log("building the release bootstrap in the background")
        handle, self.log_path = tempfile.mkstemp(prefix="libris-bootstrap.", suffix=".log")
        with os.fdopen(handle, "wb") as out:
            self.process = subprocess.Popen(BOOTSTRAP_BUILD, cwd=paths.ROOT, env=bootstrap_env(), stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def join(self):
        status = self.process.wait()
        text = Path(self.log_path).read_text(errors="replace")
        Path(self.log_path).unlink(missing_ok=True)
        if status != 0:
            raise Failure(f"building the release bootstrap failed:\n{text[-4000:]}")
        return bootstrap_target() / "release" / "bootstrap"

    def cancel(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
