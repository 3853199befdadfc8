"""A PgBouncer >= 1.21, built once per machine from Debian trixie's source package.

Debian bookworm's PgBouncer is 1.18, which has no prepared-statement support in transaction mode (sqlx's
named statements fail with `prepared statement "sqlx_s_1" already exists`), so it is built from trixie's
source (apt deb-src entry, `apt-get source`, configure, make; about half a minute). The version is recorded
in $LIBRIS_TOOLS/pgbouncer/VERSION.
"""

import fcntl
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from . import paths
from .log import Failure, log

MIN_VERSION = (1, 21)
APT_SRC_FILE = Path("/etc/apt/sources.list.d/libris-trixie-src.sources")
TRIXIE_SOURCES = """# Written by libris tools (pgbouncer_build): Debian trixie sources, to build PgBouncer >= 1.21.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
BUILD_DEPS = ["build-essential", "pkg-config", "libevent-dev", "libssl-dev", "libc-ares-dev", "dpkg-dev"]


def home():
    return paths.tools_cache() / "pgbouncer"


def binary():
    return home() / "bin" / "pgbouncer"


def parse_version(text):
    """(major, minor, …) from `pgbouncer --version` output, or None."""
    m = re.search(r"^PgBouncer ([0-9][0-9.]*)", text or "", re.M)
    return tuple(int(p) for p in m.group(1).strip(".").split(".")) if m else None


def binary_version(path):
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    return parse_version(out)


def good_enough(version):
    return version is not None and version >= MIN_VERSION


def _apt(*args, log_to=None):
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", *args], env=env,
                          stdout=log_to, stderr=subprocess.STDOUT if log_to else None).returncode == 0


class _Apt:
    updated = False

    def update(self):
        if not self.updated:
            log("apt-get update")
            if not _apt("update", "-q"):
                raise Failure("apt-get update failed")
            self.updated = True


def _ensure_sources(apt):
    if not APT_SRC_FILE.exists() or APT_SRC_FILE.read_text() != TRIXIE_SOURCES:
        log(f"adding the Debian trixie deb-src entry ({APT_SRC_FILE})")
        APT_SRC_FILE.write_text(TRIXIE_SOURCES)
        apt.update()
    elif not glob.glob("/var/lib/apt/lists/*_dists_trixie_main_source_Sources*"):
        apt.update()


def _ensure_build_deps(apt):
    def installed(pkg):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True).stdout
        return out == "install ok installed"

    missing = [p for p in BUILD_DEPS if not installed(p)]
    if not missing:
        return
    log(f"installing build dependencies: {' '.join(missing)}")
    args = ["install", "-y", "-q", "--no-install-recommends", *missing]
    if not _apt(*args):
        if apt.updated:
            raise Failure(f"apt-get install {' '.join(missing)} failed")
        apt.update()  # stale or missing package lists: refresh once and retry
        if not _apt(*args):
            raise Failure(f"apt-get install {' '.join(missing)} failed")


def _tail(path, lines):
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def build():
    started = time.monotonic()
    log("building PgBouncer >= 1.21 from Debian trixie's source package (once per machine)")
    apt = _Apt()
    _ensure_sources(apt)
    _ensure_build_deps(apt)
    paths.tools_cache().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pgbouncer-build.", dir=paths.tools_cache()))
    try:
        with open(work / "source.log", "w") as out:
            ok = subprocess.run(["apt-get", "source", "-q", "pgbouncer/trixie"], cwd=work, stdout=out,
                                stderr=subprocess.STDOUT).returncode == 0
        if not ok:
            raise Failure(f"apt-get source pgbouncer/trixie failed:\n{_tail(work / 'source.log', 30)}")
        src = next((p for p in sorted(work.glob("pgbouncer-*")) if p.is_dir()), None)
        if src is None:
            raise Failure(f"apt-get source left no pgbouncer-* directory in {work}")
        debver = subprocess.run(["dpkg-parsechangelog", "-l", str(src / "debian/changelog"), "-S", "Version"],
                                capture_output=True, text=True).stdout.strip()
        log(f"compiling pgbouncer {debver} (log: {work}/build.log)")
        script = f"./configure --prefix='{home()}' --without-systemd && make -j{os.cpu_count() or 1}"
        with open(work / "build.log", "w") as out:
            ok = subprocess.run(["sh", "-c", script], cwd=src, stdout=out, stderr=subprocess.STDOUT).returncode == 0
        if not ok:
            raise Failure(f"building pgbouncer {debver} failed:\n{_tail(work / 'build.log', 40)}")
        version = binary_version(src / "pgbouncer")
        if not good_enough(version):
            raise Failure(f"the built pgbouncer reports version {version}, need >= 1.21")
        binary().parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "pgbouncer", f"{binary()}.new")
        os.chmod(f"{binary()}.new", 0o755)
        os.replace(f"{binary()}.new", binary())
        shown = ".".join(map(str, version))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        (home() / "VERSION").write_text(f"PgBouncer {shown}, built from Debian trixie source package pgbouncer "
                                        f"{debver} on {stamp} in {time.monotonic() - started:.0f}s\n")
        log(f"installed {(home() / 'VERSION').read_text().strip()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure():
    """The binary, built if missing or too old; one build at a time per machine."""
    if good_enough(binary_version(binary())):
        return
    paths.tools_cache().mkdir(parents=True, exist_ok=True)
    with open(paths.tools_cache() / ".pgbouncer-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another call may be building it right now
        if not good_enough(binary_version(binary())):
            build()
