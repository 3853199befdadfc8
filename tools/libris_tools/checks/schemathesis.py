"""Property-based API testing with Schemathesis against the local server on a fresh PostgreSQL database
with the demo data: every operation of the spec, positive and negative data, in four phases (the spec's
examples, coverage of boundaries, random fuzzing, and stateful sequences over the links Schemathesis infers
from the spec and from Location headers), then a second, negative-only fuzzing pass (the mixed mode draws few
negative cases when fuzzing). Each response is checked for:
  not_a_server_error            no 5xx (a 500 is a bug, however well formed)
  status_code_conformance       the status is one the operation documents
  content_type_conformance      the Content-Type is the one documented for that status
  response_schema_conformance   the body matches the documented schema (formats such as `date` too)
  response_headers_conformance  documented headers are present and well formed (Retry-After on 503)
  negative_data_rejection       a request the spec calls invalid is answered 4xx: the documented
                                400 (malformed, wrong type) or 422 (invalid value), never 2xx
Not counted, on purpose (LIBRIS_ST_CHECKS overrides the list):
  positive_data_acceptance      the spec does not yet declare what the server enforces (page size 1..100,
                                rating 1..5, loan period, lengths, no control characters, unknown JSON
                                fields), so every schema-valid value the server rightly rejects would count
  unsupported_method            405 answers carry no Allow header; a known RFC 9110 gap, tracked apart
Unknown query parameters are not generated as "invalid" data: the server ignores them by design. Generation
is steered by the fuzzing dictionaries of schemathesis.toml (hostile strings, edge integers, dates at and past
PostgreSQL's range, the demo data's ids, valid page sizes and no cursor often enough to reach the database).

Bounded: LIBRIS_ST_MAX_EXAMPLES test cases per operation, phase and pass (default 150), and a wall clock of
LIBRIS_ST_TIMEOUT seconds for both passes (default 600), after which the run is interrupted and counts as
failed. One worker: Schemathesis's threads share Hypothesis, whose lambda introspection crashes now and then
under Python 3.11 with several workers.

  scripts/schemathesis-check                      # builds the server first
  LIBRIS_SKIP_BUILD=1 scripts/schemathesis-check  # uses the server binary already built
  LIBRIS_ST_SEED=123 scripts/schemathesis-check   # replays a run (the seed is in the summary)

Environment: TEST_POSTGRES_URL (a database libris_st_* is created there and dropped at the end),
LIBRIS_ARTIFACTS (the reports go to its schemathesis/ folder), LIBRIS_ST_MAX_EXAMPLES, LIBRIS_ST_TIMEOUT,
LIBRIS_ST_SEED, LIBRIS_ST_CHECKS. Reports: failures.txt (each distinct failure once, with a curl to reproduce
it, and the server's ERROR lines), junit-<pass>.xml, events-<pass>.ndjson, schemathesis-<pass>.log, server.log.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .. import builds, db, paths, venv
from ..local.server import LocalServer
from ..log import Failure, log
from .st_summary import summarize

VERSION = "4.32.5"  # tools/requirements/schemathesis.txt
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance,negative_data_rejection")
CONFIG = Path(__file__).with_name("schemathesis.toml")
# (name, mode, phases): 1. everything, positive and negative data; 2. negative fuzzing again, on the data
# the first pass left (in the mixed mode Schemathesis draws few negative cases when fuzzing).
PASSES = [("all", "all", "examples,coverage,fuzzing,stateful"), ("negative", "negative", "fuzzing")]


def whole_number(name, default):
    value = os.environ.get(name) or str(default)
    if not value.isdigit():
        raise Failure("LIBRIS_ST_MAX_EXAMPLES, LIBRIS_ST_TIMEOUT and LIBRIS_ST_SEED must be whole numbers")
    return int(value)


def run_pass(name, mode, phases, budget, common, out):
    """One Schemathesis pass, interrupted like Ctrl-C when its budget runs out (it still writes its
    reports); its output goes to the terminal and to schemathesis-NAME.log. Returns its exit status."""
    if budget <= 0:
        return 124
    log(f"pass '{name}': {mode} data, phases {phases}")
    cmd = [*common, "--phases", phases, "--mode", mode, "--report-junit-path", str(out / f"junit-{name}.xml"),
           "--report-ndjson-path", str(out / f"events-{name}.ndjson")]
    interrupted = []

    def interrupt():  # like Ctrl-C, so that Schemathesis still writes its reports; killed 30 s later
        interrupted.append(True)
        process.send_signal(signal.SIGINT)
        threading.Timer(30, lambda: process.poll() is None and process.kill()).start()

    with open(out / f"schemathesis-{name}.log", "wb") as logfile:
        process = subprocess.Popen(cmd, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        timer = threading.Timer(budget, interrupt)
        timer.start()
        try:
            for line in process.stdout:
                logfile.write(line)
                sys.stderr.buffer.write(line)
                sys.stderr.flush()
            process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
    return 124 if interrupted else process.returncode


def problems_of(summary, statuses, server_alive, spec_failed, time_limit, out):
    """What makes the run fail, one phrase each; empty when it passed."""
    problems = []
    if summary["distinct"]:
        problems.append(f"{summary['distinct']} distinct failures ({summary['by_code']})")
    if summary["errors"]:
        problems.append(f"{summary['errors']} Schemathesis errors")
    if not server_alive:
        problems.append(f"the server died during the run (see {out}/server.log)")
    if spec_failed:
        problems.append("openapi/openapi.json is stale")
    for name, status in statuses.items():
        if status == 1 and not (summary["distinct"] or summary["errors"]):
            problems.append(f"Schemathesis reported failures in pass '{name}' (see {out}/schemathesis-{name}.log)")
        elif status not in (0, 1, 124):
            problems.append(f"Schemathesis exited with status {status} in pass '{name}' (see {out}/schemathesis-{name}.log)")
    if 124 in statuses.values():
        problems.append(f"the run hit its {time_limit} s bound and was interrupted")
    return problems


def main(argv):
    started = time.monotonic()
    max_examples = whole_number("LIBRIS_ST_MAX_EXAMPLES", 150)
    time_limit = whole_number("LIBRIS_ST_TIMEOUT", 600)
    seed = whole_number("LIBRIS_ST_SEED", random.randrange(1 << 30))
    checks = os.environ.get("LIBRIS_ST_CHECKS") or CHECKS
    out = paths.artifacts() / "schemathesis"
    binary = builds.server()
    schemathesis = venv.bin_path("schemathesis")
    st_version = subprocess.run([str(schemathesis), "--version"], capture_output=True, text=True).stdout.strip()
    if not st_version.endswith(f" {VERSION}"):
        raise Failure(f"the venv's Schemathesis is {st_version}, not {VERSION}")
    db.ensure_postgres()
    with tempfile.TemporaryDirectory(prefix="libris-schemathesis.") as work, \
            db.scratch_database("libris_st") as url:
        work = Path(work)
        shutil.copy2(binary, work / "libris")  # a build running meanwhile cannot swap the binary under the test
        # The request span (info) puts each ERROR line under its x-request-id, which ties a 500 to its cause.
        env = {**paths.tool_env(), "DATABASE_URL": url, "LIBRIS_DEMO_DATA": "true", "NO_COLOR": "1",
               "RUST_LOG": os.environ.get("RUST_LOG", "warn,openapi::observe=info")}
        server = LocalServer(str(work / "libris"), env)
        log("starting the server (demo data)")
        with open(work / "server.log", "wb") as server_log:
            server.start(output=server_log, timeout=60, ready_path="/health/ready")
        try:
            # The checked-in spec is the contract; the served one must say the same. With LIBRIS_SKIP_BUILD=1
            # the binary may predate the work tree, so the run tests the binary against its own spec.
            spec, spec_note, spec_failed = paths.ROOT / "openapi/openapi.json", "", False
            served = json.loads(urllib.request.urlopen(f"{server.base}/openapi.json", timeout=10).read())
            if json.loads(spec.read_text()) != served:
                (work / "served.json").write_text(json.dumps(served))
                spec = work / "served.json"
                if builds.skip_build():
                    log("warning: the prebuilt server serves a spec that differs from openapi/openapi.json; "
                        "testing it against its own spec")
                    spec_note = " (the binary's own spec: it differs from openapi/openapi.json)"
                else:
                    log("FAIL: openapi/openapi.json differs from the spec the server serves; regenerate and commit it")
                    spec_note, spec_failed = " (openapi/openapi.json is STALE: tested against the served spec)", True
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            log(f"Schemathesis {VERSION}: {max_examples} examples per operation and phase, at most {time_limit} s, "
                f"seed {seed}\n==> checks: {checks}")
            # Every request goes as a librarian, who may call every operation: the access rules have their
            # own tests (openapi/tests/api/access.rs); this run is about what the operations do with the data.
            common = [str(schemathesis), "--config-file", str(CONFIG), "run", str(spec), "--url", server.base,
                      "--header", f"Authorization: Bearer {server.token}", "--checks", checks,
                      "--max-examples", str(max_examples), "--seed", str(seed), "--continue-on-failure",
                      "--workers", "1", "--request-timeout", "10", "--no-color", "--report", "junit,ndjson",
                      "--report-dir", str(out)]
            run_started = time.monotonic()
            statuses = {}
            for name, mode, phases in PASSES:
                budget = int(time_limit - (time.monotonic() - run_started))
                statuses[name] = run_pass(name, mode, phases, budget, common, out)
            run_seconds = time.monotonic() - run_started
            server_alive = server.process.poll() is None
        finally:
            server.stop()
            if out.is_dir():
                shutil.copy2(work / "server.log", out / "server.log")
    summary = summarize(out, out / "failures.txt")
    log(f"distinct failures ({out}/failures.txt)")
    print((out / "failures.txt").read_text(), end="")
    problems = problems_of(summary, statuses, server_alive, spec_failed, time_limit, out)
    detail = (f"{summary['tests'] - summary['failed']} of {summary['tests']} operations clean, {summary['cases']} "
              f"test cases, Schemathesis {run_seconds:.0f} s, total {time.monotonic() - started:.0f} s, seed {seed}"
              f"{spec_note}; reports in {out}")
    if problems:
        print(f"schemathesis-check: FAILED: {'; '.join(problems)}; {detail}")
        return 1
    print(f"schemathesis-check: PASSED: {detail}")
    return 0
