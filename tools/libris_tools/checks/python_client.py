"""Proves the API for Python users: openapi-python-client generates a client (package `libris_client`) from
openapi/openapi.json into a scratch folder, failing on any warning (the generator drops a schema it cannot
read, and with `Problem` every typed error response, while still exiting 0 unless told otherwise); mypy
--strict checks clients/python/scenario.py against the generated types; then the scenario runs against a
local server on a fresh SQLite file with the demo data. Nothing generated is checked in.

  tools/run python-client-check
  LIBRIS_SKIP_BUILD=1 tools/run python-client-check   # use the server binary already built
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import builds, paths, venv
from ..local.server import demo_server
from ..log import Failure, log

CLIENT = paths.ROOT / "clients" / "python"
PACKAGE = "libris_client"

# openapi-python-client's words for a part of the spec it skipped; exit 0 does not mean none was skipped.
GENERATOR_WARNINGS = ("WARNING", "Unable to", "will be omitted", "has resulted in the removal")


def generator_warnings(output):
    """The lines of the generator's output that say it skipped or changed part of the spec."""
    return [line for line in output.splitlines() if any(word in line for word in GENERATOR_WARNINGS)]


def generate(spec, into):
    """Generates the client package into the folder `into`; fails on an error or any warning."""
    log(f"generating the Python client (openapi-python-client) from {spec}")
    result = subprocess.run([venv.bin_path("openapi-python-client"), "generate", "--path", spec,
                             "--config", CLIENT / "generator.yaml", "--meta", "none", "--fail-on-warning",
                             "--output-path", into / PACKAGE], capture_output=True, text=True)
    output = result.stdout + result.stderr
    sys.stderr.write(output)
    warned = generator_warnings(output)
    if result.returncode != 0 or warned:
        raise Failure(f"openapi-python-client failed or warned (exit {result.returncode}); a warning names a "
                      f"schema or response it dropped: {warned[:3]}")
    if not (into / PACKAGE / "models" / "problem.py").exists():
        raise Failure("the generated client has no Problem model: error responses would be untyped")


def type_check(generated):
    """mypy --strict on the scenario and on the whole generated package (not only the parts it imports)."""
    log("type-checking the scenario against the generated client (mypy --strict)")
    cache = paths.target_dir() / "mypy-python-client"
    env = {**os.environ, "MYPYPATH": str(generated)}
    result = subprocess.run([venv.bin_path("mypy"), "--config-file", CLIENT / "mypy.ini", "--cache-dir", cache,
                             CLIENT / "scenario.py", generated / PACKAGE], env=env)
    if result.returncode != 0:
        raise Failure("mypy found type errors in the scenario or the generated client (see above)")


def main(argv):
    started = time.monotonic()
    spec = Path(os.environ.get("LIBRIS_CLIENT_SPEC") or paths.ROOT / "openapi/openapi.json").resolve()
    python = venv.python()
    with tempfile.TemporaryDirectory(prefix="libris-python-client.") as work:
        work = Path(work)
        generated = work / "generated"
        generated.mkdir()
        generate(spec, generated)
        type_check(generated)
        binary = builds.server()
        with demo_server(binary, work) as server:
            log(f"running the Python client scenario against {server.base}")
            env = {**paths.tool_env(), "PYTHONPATH": str(generated), "LIBRIS_URL": server.base,
                   "LIBRIS_TOKEN": server.token}
            # Each call has the client's 5 s timeout; `timeout` bounds the whole run.
            status = subprocess.run(["timeout", "120", python, CLIENT / "scenario.py"], env=env).returncode
            if status != 0:
                raise Failure(f"the Python client scenario failed (exit {status})")
    print(f"took {time.monotonic() - started:.0f}s", file=sys.stderr)
    return 0
