"""The tools' one virtualenv: every requirements file under tools/requirements/, installed in one go under
the pins of constraints.txt, and rebuilt only when a file or the Python version changes."""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import paths
from .log import Failure, log

REQUIREMENTS = paths.TOOLS / "requirements"
CONSTRAINTS = REQUIREMENTS / "constraints.txt"


def location():
    return Path(os.environ.get("LIBRIS_TOOLS_VENV") or paths.libris_cache() / "tools-venv")


def requirement_files(folder=REQUIREMENTS):
    return sorted(p for p in Path(folder).glob("*.txt") if p.name != CONSTRAINTS.name)


def stamp_for(files, python_version):
    """What the venv was built from: the Python version and a digest of each file's name and content."""
    digest = hashlib.sha256(python_version.encode())
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current(venv, want):
    stamp = venv / ".libris-requirements"
    return (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text().strip() == want


def ensure():
    """The venv's path, built first if it is missing or stale; one build at a time per machine (another
    suite may be using or building the same venv)."""
    venv = location()
    files = requirement_files()
    want = stamp_for([*files, CONSTRAINTS], sys.version)
    if is_current(venv, want):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_current(venv, want):
            _build(venv, files, want)
    return venv


def _build(venv, files, want):
    log(f"preparing the tools venv {venv} ({', '.join(f.name for f in files)})")
    started = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cmd = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-input",
           "-c", str(CONSTRAINTS)]
    for f in files:
        cmd += ["-r", str(f)]
    if subprocess.run(cmd).returncode != 0:
        raise Failure("installing the tools' Python requirements failed")
    (venv / ".libris-requirements").write_text(want + "\n")
    log(f"tools venv ready in {time.monotonic() - started:.0f} s")


def python():
    return ensure() / "bin" / "python"


def bin_path(name):
    return ensure() / "bin" / name


def main(argv):
    print(ensure())
    return 0
