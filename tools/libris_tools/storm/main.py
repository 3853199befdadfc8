"""`tools/run storm [--short] [--scenarios NAME,…] [--bootstrap PATH] [--report DIR]`: the storm.

Sets up what the scenarios run against (the release bootstrap, the dataset generator, PgBouncer, the capped
cluster with a fresh database, a transaction-mode and a session-mode pool), runs the scenarios in the tools
venv (storm/run.py) in a process group of their own, and takes everything down again, whatever happened:
the group is killed (every bootstrap with it), the pools stopped, the cluster stopped and removed.

--short: 60 users for 20 s through the proxy, the form `scripts/test` runs; fails on any 500 (or no answer),
any acknowledged write missing from the database, or more server connections than the cap.
Without it: every scenario of BENCHMARKS.md (about 6 minutes), pictures and table into --report
(default benchmarks/storm/).
"""

import argparse
import dataclasses
import json
import os
import signal
import subprocess

from .. import builds, paths, pgbouncer_build, venv
from ..log import Failure, log
from . import budget

SCENARIOS = ("storm-direct", "storm-proxy", "pinned", "overload-direct", "overload-proxy")


def arguments(argv):
    parser = argparse.ArgumentParser(prog="tools/run storm")
    parser.add_argument("--short", action="store_true", help="60 users, 20 s, through the proxy (the suite's form)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--bootstrap", help="the release bootstrap to run (default: build it)")
    parser.add_argument("--report", help="folder for the PNGs and results.md (default benchmarks/storm; none with --short)")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main(argv):
    args = arguments(argv)
    bootstrap = args.bootstrap or builds.release_bootstrap()
    dataset = builds.debug_binary("libris-dataset")
    pgbouncer_build.ensure()
    python = venv.python()
    ports = budget.Ports()
    cluster = budget.Cluster()
    pools = [budget.Bouncer(ports.transaction_pool, cluster.port, "transaction", budget.BORROW_TIMEOUT),
             budget.Bouncer(ports.session_pool, cluster.port, "session", budget.BORROW_TIMEOUT)]
    logs = paths.artifacts() / "storm"
    logs.mkdir(parents=True, exist_ok=True)
    report = None if args.short and not args.report else (args.report or str(paths.ROOT / "benchmarks" / "storm"))
    child = None
    try:
        cluster.start()
        cluster.prepare_database(dataset, budget.DATASET)
        for pool in pools:
            pool.start()
        settings = {"bootstrap": str(bootstrap), "short": args.short, "scenarios": args.scenarios.split(","),
                    "ports": {**dataclasses.asdict(ports), "postgres": cluster.port},
                    "logs": str(logs), "report": report, "moto_server": str(venv.bin_path("moto_server")),
                    "fixtures": str(paths.ROOT / "lambda/tests/events/fixtures")}
        settings_path = logs / "settings.json"
        settings_path.write_text(json.dumps(settings))
        log(f"the storm (logs in {logs})")
        child = subprocess.Popen([str(python), "-m", "libris_tools.storm.run", str(settings_path)],
                                 cwd=paths.ROOT, env=paths.tool_env(), start_new_session=True)
        if child.wait() != 0:
            raise Failure(f"the storm failed (instances' logs and storm-results.json in {logs})")
    finally:
        if child is not None:
            try:
                os.killpg(child.pid, signal.SIGKILL)  # the child and any instance it left behind
            except ProcessLookupError:
                pass
            child.wait()
        for pool in pools:
            pool.stop()
        cluster.stop()
    return 0
