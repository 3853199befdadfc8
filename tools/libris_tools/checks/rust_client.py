"""Proves the API for Rust users: clients/rust (crate libris-client) is a client that progenitor generates
from openapi/openapi.json when the crate compiles (no generated code is checked in or edited). This builds it
from its own Cargo.lock, failing on any warning (progenitor reports spec problems as compile errors), starts
a local server on a fresh SQLite file with the demo data, and runs the crate's scenario binary against it.

  scripts/rust-client-check
  LIBRIS_SKIP_BUILD=1 scripts/rust-client-check   # use the server binary already built

The client has its own workspace and build cache ($CARGO_TARGET_DIR/clients-rust), so it never touches the
root workspace's Cargo.lock or target directory.
"""

import subprocess
import sys
import tempfile
import time

from .. import builds, paths
from ..local.server import demo_server
from ..log import Failure, log


def warned(build_stderr):
    return any(line.startswith("warning") for line in build_stderr.splitlines())


def main(argv):
    started = time.monotonic()
    client_target = paths.target_dir() / "clients-rust"
    scenario = client_target / "debug" / "libris-client-scenario"
    log("building the Rust client (clients/rust: progenitor generates it from openapi/openapi.json)")
    env = {**paths.tool_env(), "CARGO_TARGET_DIR": str(client_target)}
    build = subprocess.run(["nice", "-n", "10", "cargo", "build", "--locked", "--bins"], cwd=paths.ROOT / "clients/rust",
                           env=env, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(build.stderr)
    if build.returncode != 0:
        raise Failure("the Rust client did not build (a generator error names a spec problem)")
    if warned(build.stderr):
        raise Failure("the Rust client built with warnings (see above)")
    if not scenario.exists():
        raise Failure(f"no scenario binary at {scenario}")
    binary = builds.server()
    with tempfile.TemporaryDirectory(prefix="libris-rust-client.") as work, demo_server(binary, work) as server:
        log(f"running the Rust client scenario against {server.base}")
        # The scenario bounds itself at 120 s; `timeout` is the backstop.
        status = subprocess.run(["timeout", "180", str(scenario)],
                                env={**paths.tool_env(), "LIBRIS_URL": server.base, "LIBRIS_TOKEN": server.token}
                                ).returncode
        print(f"took {time.monotonic() - started:.0f}s", file=sys.stderr)
        if status != 0:
            raise Failure(f"the Rust client scenario failed (exit {status})")
    return 0
