"""A PostgreSQL cluster of one check's own: `initdb` into a temporary directory, trusting loopback, on a
free port, stopped and gone afterwards.

For a check that must change what every new database starts from (`template1`) without touching the
machine's shared server, where other runs create their databases at the same time. Uses the newest
PostgreSQL installed under /usr/lib/postgresql (the machine's server package). PostgreSQL refuses to run as
root, so as root the cluster belongs to the `postgres` user.
"""

import os
import shutil
import subprocess
from pathlib import Path

from ..log import Failure
from ..net import free_port

SERVER_USER = "postgres"


def bin_dir():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise Failure("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return found[-1].parent


class PrivateCluster:
    def __init__(self, directory, settings=None):
        """`settings`: server settings beyond the defaults (name -> value), such as a small max_connections."""
        self.directory = Path(directory)
        self.settings = settings or {}
        self.data, self.log_path = self.directory / "data", self.directory / "server.log"
        self.port = free_port()
        self.bin = bin_dir()

    def _run(self, *cmd):
        prefix = ["runuser", "-u", SERVER_USER, "--"] if os.getuid() == 0 else []
        result = subprocess.run([*prefix, *map(str, cmd)], capture_output=True, text=True)
        if result.returncode != 0:
            raise Failure(f"`{' '.join(map(str, cmd))}` failed:\n{result.stdout}{result.stderr}"
                          f"{self.log_path.read_text(errors='replace') if self.log_path.exists() else ''}")

    def start(self):
        if os.getuid() == 0:
            shutil.chown(self.directory, SERVER_USER)
        # No fsync: the cluster lives for one check and its data is thrown away.
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log_path, "-o", options, "-w", "start")
        return self

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

