"""`python3 -m libris_tools COMMAND [ARGS]`: the command table. Each command is a module's `main(argv)`."""

import importlib
import signal
import sys

from .log import Failure

# command: (module, function, what it does)
COMMANDS = {
    "test": ("suite", "main", "the whole test suite (scripts/test)"),
    "ci": ("suite", "main_ci", "formatting, lints, then the suite with CI settings (.ci/run)"),
    "databases": ("db", "main_ensure", "start PostgreSQL and MariaDB if they are stopped"),
    "venv": ("venv", "main", "prepare the tools venv (tools/requirements/*.txt) and print its path"),
    "pgbouncer-up": ("pgbouncer", "main_up", "start the local PgBouncer (prints export TEST_POSTGRES_URL=…)"),
    "pgbouncer-down": ("pgbouncer", "main_down", "stop it"),
    "pinning-check": ("pinning.check", "main", "mark | verify MARKER | self-test"),
    "migrate-cli-check": ("checks.migrate_cli", "main", "sea-orm-cli migrate from the repository root [DATABASE_URL]"),
    "crash-check": ("checks.crash", "main", "SIGKILL the server mid-load, restart, nothing acknowledged lost"),
    "bench": ("bench.main", "main", "the benchmarks [--smoke | --scaling | --profile]"),
    "bench-lambda": ("bench.lambda_run", "main", "the Lambda figures [COLD_RUNS] [WARM_INVOCATIONS]"),
    "schemathesis-check": ("checks.schemathesis", "main", "property-based API testing against the local server"),
    "clients-check": ("checks.clients", "main", "the generated TypeScript client and Swagger UI in Chromium"),
    "rust-client-check": ("checks.rust_client", "main", "the progenitor-generated Rust client's scenario"),
    "python-client-check": ("checks.python_client", "main", "the openapi-python-client client's scenario"),
    "openapi-generator-check": ("checks.openapi_generator", "main",
                                "OpenAPI Generator's python and java clients: no warning that loses a schema"),
    "lambda-e2e": ("checks.lambda_e2e", "main", "the release bootstrap under the Runtime API emulator [BOOTSTRAP]"),
    "previous-release-check": ("checks.previous_release", "main", "the previous release's API tests against the new schema"),
    "rehearsal": ("checks.rehearsal", "main", "the bootstrap with the stack's rendered environment, AWS stood in [BOOTSTRAP]"),
    "storm": ("storm.main", "main", "hundreds of Lambda instances on a capped database [--short]"),
}


def usage():
    lines = ["usage: tools/run COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<18} {what}" for name, (_, _, what) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv):
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(usage(), file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module, function, _ = COMMANDS[argv[0]]
    # SIGTERM runs the same clean-up as Ctrl-C: servers stopped, scratch databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return getattr(importlib.import_module(f"libris_tools.{module}"), function)(argv[1:]) or 0
    except Failure as failure:
        print(f"{argv[0]}: error: {failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        return 130


sys.exit(main(sys.argv[1:]))
