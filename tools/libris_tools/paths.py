"""Where things live: the checkout, the build directory, the caches of installed tools and runtime files.

Every path honours the environment variable the scripts have always honoured, so a caller can move it.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"


def home_cache():
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def target_dir():
    """The Cargo target directory: CARGO_TARGET_DIR if set, else the workspace's own target/, so that
    `cargo run` and `scripts/test` share one build (`.ci/run` sets its shared cache explicitly)."""
    value = os.environ.get("CARGO_TARGET_DIR")
    return Path(value) if value else ROOT / "target"


def tools_cache():
    """Tools built or installed once per machine (sea-orm-cli, PgBouncer)."""
    return Path(os.environ.get("LIBRIS_TOOLS") or home_cache() / "libris-tools")


def libris_cache():
    """Virtualenvs and other per-machine caches."""
    return home_cache() / "libris"


def run_dir():
    """Runtime files of long-lived helpers (PgBouncer's config, pidfile and log)."""
    return Path(os.environ.get("LIBRIS_RUN") or "/tmp/libris-run")


def artifacts():
    """Reports and screenshots a check leaves for a person to read."""
    return Path(os.environ.get("LIBRIS_ARTIFACTS") or "/tmp/libris-artifacts")


def tool_env():
    """The environment for child processes: the target directory, the tools cache's bin/ on PATH and this
    package on PYTHONPATH (its scenario modules run as `python -m libris_tools.…`)."""
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(target_dir())
    env["LIBRIS_TOOLS"] = str(tools_cache())
    env["PATH"] = f"{tools_cache() / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TOOLS), env.get("PYTHONPATH")) if p)
    return env
