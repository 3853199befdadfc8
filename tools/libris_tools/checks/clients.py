"""Proves the API for its users, against a local server on a fresh SQLite file with the demo data:
 1. clients/ts: a TypeScript client generated from openapi/openapi.json (openapi-typescript types,
    openapi-fetch runtime); the generator must print no warning, the strict tsc must pass, and the scenario
    must pass against the server, directly and under the /prod stage prefix;
 2. clients/browser: Swagger UI in Debian's Chromium (playwright-core), directly and through a stage-prefix
    proxy: no console errors, every tag, "Try it out" on GET /books/{id} (200, 404).
Installs what it needs (Chromium by apt only if missing; npm packages from the lock files, once per lock file
change), stops everything it started, and fails on any failure; a failed check does not stop the others.

  scripts/clients-check                      # screenshots in ${LIBRIS_ARTIFACTS:-/tmp/libris-artifacts}
  LIBRIS_SKIP_BUILD=1 scripts/clients-check  # use the server binary already built
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import builds, installs, paths, procs
from ..local.server import LocalServer
from ..log import Failure, log
from ..net import free_port, wait_for_port

PREFIX = "/prod"
TS = paths.ROOT / "clients" / "ts"
BROWSER = paths.ROOT / "clients" / "browser"


def lock_digest(folder):
    return hashlib.sha256((folder / "package.json").read_bytes() + (folder / "package-lock.json").read_bytes()).hexdigest()


def npm_ci(folder):
    """`npm ci` once per lock file: a stamp in node_modules remembers which lock file it installed."""
    stamp, want = folder / "node_modules" / ".libris-lock.sha256", lock_digest(folder)
    if stamp.exists() and stamp.read_text().strip() == want:
        log(f"npm packages of {folder.relative_to(paths.ROOT)} are up to date")
        return
    log(f"npm ci in {folder.relative_to(paths.ROOT)}")
    procs.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=folder)
    stamp.write_text(want + "\n")


def generator_warned(stdout, stderr):
    """The generator must not warn about the spec (its lint: clients/ts/redocly.yaml)."""
    return bool(stderr.strip()) or "⚠" in stdout or "✘" in stdout


def generate_client(spec):
    shutil.rmtree(TS / "generated", ignore_errors=True)
    shutil.rmtree(TS / "dist", ignore_errors=True)
    # --default-non-nullable=false: a request field with a `default` (NewLoan.period_days) is one the client
    # may leave out, which openapi-typescript's default would make required.
    result = subprocess.run(["node_modules/.bin/openapi-typescript", str(spec), "--redocly", "redocly.yaml",
                             "--default-non-nullable=false", "--output", "generated/libris.ts"],
                            cwd=TS, capture_output=True, text=True)
    sys.stderr.write(result.stdout + result.stderr)
    if result.returncode != 0:
        return False
    if generator_warned(result.stdout, result.stderr):
        print(f"openapi-typescript warned about {spec}", file=sys.stderr)
        return False
    return True


def ensure_node_and_chromium():
    if not shutil.which("node"):
        raise Failure("node is not installed (Node 20 or newer is needed)")
    major = int(procs.output(["node", "-p", 'process.versions.node.split(".")[0]']))
    if major < 20:
        raise Failure(f"Node {major} is too old: 20 or newer is needed")
    installs.ensure_debian_package("/usr/bin/chromium", "chromium")


class Tally:
    def __init__(self):
        self.passed, self.failures = 0, []

    def check(self, name, action):
        log(name)
        started = time.monotonic()
        ok = action()
        seconds = time.monotonic() - started
        if ok:
            self.passed += 1
            print(f"    ({name}: ok in {seconds:.0f}s)", file=sys.stderr)
        else:
            self.failures.append(name)
            print(f"    ({name}: FAILED after {seconds:.0f}s)", file=sys.stderr)


def node(cwd, *args, env=None):
    return subprocess.run(["node", *map(str, args)], cwd=cwd, env=env).returncode == 0


def main(argv):
    started = time.monotonic()
    artifacts = paths.artifacts()
    spec = Path(os.environ.get("LIBRIS_CLIENT_SPEC") or paths.ROOT / "openapi/openapi.json").resolve()
    os.environ.update(PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", NO_COLOR="1", FORCE_COLOR="0",
                      npm_config_update_notifier="false")
    binary = builds.server()
    ensure_node_and_chromium()
    npm_ci(TS)
    npm_ci(BROWSER)
    tally = Tally()
    tally.check("generate the TypeScript client (openapi-typescript)", lambda: generate_client(spec))
    tally.check("type-check and compile the client and scenario (tsc, strict)",
                lambda: subprocess.run(["node_modules/.bin/tsc", "-p", ".", "--noEmitOnError"], cwd=TS).returncode == 0)
    with tempfile.TemporaryDirectory(prefix="libris-clients.") as work:
        work = Path(work)
        # The prefix proxy sets X-Forwarded-Prefix, as API Gateway's stage does for the Lambda.
        env = {**paths.tool_env(), "DATABASE_URL": f"sqlite://{work}/libris.db?mode=rwc", "LIBRIS_DEMO_DATA": "true",
               "LIBRIS_TRUST_FORWARDED_PREFIX": "true"}
        server = LocalServer(str(binary), env)
        proxy = None
        log(f"starting the server on {server.base} ({work}/libris.db, demo data)")
        with open(work / "server.log", "wb") as server_log:
            server.start(output=server_log, timeout=60)
        try:
            proxy_port = free_port()
            log(f"starting the {PREFIX} proxy on 127.0.0.1:{proxy_port}")
            proxy = procs.Service("the prefix proxy", ["node", BROWSER / "prefix-proxy.mjs", "--target", server.base,
                                                       "--prefix", PREFIX, "--port", str(proxy_port)],
                                  work / "proxy.log").start()
            proxy.wait_for_line("listening")
            wait_for_port(proxy_port, "the prefix proxy")
            staged = f"http://127.0.0.1:{proxy_port}{PREFIX}"
            artifacts.mkdir(parents=True, exist_ok=True)
            for old in [*artifacts.glob("swagger-*.png"), artifacts / "server.log"]:
                old.unlink(missing_ok=True)
            # The client scenarios act as a librarian with a dev token (the Swagger UI check gets its own).
            scenario_env = {**os.environ, "LIBRIS_TOKEN": server.token}
            if (TS / "dist" / "scenario.js").exists():
                for base in (server.base, staged):
                    tally.check(f"TypeScript client scenario ({base})",
                                lambda base=base: node(TS, "dist/scenario.js", env={**scenario_env, "LIBRIS_URL": base}))
            else:
                tally.failures += ["TypeScript client scenario: not compiled"] * 2
            tally.check(f"Swagger UI in Chromium ({server.base}/docs)",
                        lambda: node(BROWSER, "swagger.mjs", f"{server.base}/docs", artifacts))
            tally.check(f"Swagger UI in Chromium ({staged}/docs)",
                        lambda: node(BROWSER, "swagger.mjs", f"{staged}/docs", artifacts, "--prefix", PREFIX))
        finally:
            if proxy:
                proxy.stop()
            server.stop()
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / "server.log", artifacts / "server.log")
    log(f"screenshots and the server log are in {artifacts}")
    print("\n".join(sorted(p.name for p in artifacts.iterdir())), file=sys.stderr)
    for name in tally.failures:
        print(f"FAILED: {name}", file=sys.stderr)
    print(f"took {time.monotonic() - started:.0f}s", file=sys.stderr)
    print(f"clients-check: {tally.passed} passed, {len(tally.failures)} failed")
    return 1 if tally.failures else 0
