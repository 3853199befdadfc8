"""The benchmark suite (`scripts/bench`): dataset generation, HTTP throughput/latency against pgbench's
ceiling, the Lambda figures and the 1,000,000-book scaling pages. Installs wrk (and valgrind for --profile)
from Debian. Prints the figures BENCHMARKS.md records.

  scripts/bench            full: 100,000 books, 10 s per case, 3 runs (about 10 minutes)
  scripts/bench --smoke    CI: a tiny library, 2 s per case, 1 run; checks the suite still starts
  scripts/bench --scaling  only the 1,000,000-book pages with their EXPLAIN (also the last step of the full run);
                           writes its section of BENCHMARKS.md. The library is loaded once per machine into the
                           database libris_bench_1m and reused (~10 minutes the first time).
  scripts/bench --profile  GET /books/{id} under callgrind on the default library: instructions per request and
                           the top inclusive costs (a release build with symbols; ~5 minutes)
"""

import glob
import os
import shutil
import sys

from .. import db, paths, procs, urls
from ..log import Failure, log

SCALING_DB = "libris_bench_1m"
SCALING_SIZES = ["1000000", "200000", "100000", "250000", "1000000"]
SMOKE_SIZES = ["2000", "400", "200", "100", "400"]


def apt_install(command, package):
    if not shutil.which(command):
        procs.run(["apt-get", "update", "-qq"])
        procs.run(["apt-get", "install", "-y", "-qq", package], capture=True)


def bench_module(name, *args, env=None):
    procs.run([sys.executable, "-m", f"libris_tools.bench.{name}", *[str(a) for a in args]], env=env)


def scaling(server):
    """1,000,000 books (a quarter on loan), 200,000 authors, 100,000 borrowers, 1,000,000 reviews; the
    database's comment records a finished load, so an interrupted one starts over."""
    url = urls.with_database(server, SCALING_DB)
    stamp = f"libris-dataset {' '.join(SCALING_SIZES)} seed 7, analysed"
    release = paths.target_dir() / "release"
    procs.cargo("build", "--release", "-p", "openapi", "-p", "seed", "--bin", "libris", "--bin", "libris-dataset")
    procs.cargo("build", "--release", "-p", "service", "--example", "query_plans")
    loaded = db.psql(server, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                             f"WHERE datname = '{SCALING_DB}'")
    if loaded != stamp:
        log(f"loading {SCALING_SIZES[0]} books into {SCALING_DB} (once per machine)")
        db.drop_database(server, SCALING_DB)
        db.create_database(server, SCALING_DB)
        procs.run([release / "libris-dataset", *SCALING_SIZES], env={**paths.tool_env(), "DATABASE_URL": url})
        db.psql(url, "VACUUM ANALYZE")
        db.psql(server, f"COMMENT ON DATABASE {SCALING_DB} IS '{stamp}'")
    log("scaling: 1,000,000 books")
    bench_module("scaling", release / "libris", release / "examples/query_plans", url, 500000,
                 os.environ.get("BENCH_SCALING_REQUESTS", "50"), "--write", "BENCHMARKS.md")


def main(argv):
    mode = argv[0] if argv else ""
    if mode not in ("", "--smoke", "--scaling", "--profile"):
        raise Failure(f"unknown argument {mode} (scripts/bench [--smoke | --scaling | --profile])")
    db.ensure_servers()
    apt_install("wrk", "wrk")
    if mode == "--profile":
        apt_install("valgrind", "valgrind")
    if not shutil.which("pgbench"):
        os.environ["PATH"] += os.pathsep + sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    server = urls.admin_url()
    if mode == "--scaling":
        scaling(server)
        return 0

    if mode == "--smoke":
        # The suite's own debug build (see builds.py): no second build of the tree.
        profile, books, secs, runs, sizes = "debug", 2000, 2, 1, SMOKE_SIZES
        procs.cargo("build", "--workspace", "--bins", "--examples")
    elif mode == "--profile":
        # The release profile strips symbols; this one keeps them (and line tables) and changes nothing else.
        os.environ.update(CARGO_PROFILE_PROFILING_INHERITS="release", CARGO_PROFILE_PROFILING_STRIP="false",
                          CARGO_PROFILE_PROFILING_DEBUG="line-tables-only")
        profile, books, secs, runs, sizes = "profiling", 100000, 0, 0, []
        procs.cargo("build", "--profile", "profiling", "-p", "openapi", "-p", "seed", "--bin", "libris",
                    "--bin", "libris-dataset")
    else:
        profile, books, sizes = "release", 100000, []
        secs, runs = os.environ.get("BENCH_SECS", "10"), os.environ.get("BENCH_RUNS", "3")
        procs.cargo("build", "--release", "-p", "openapi", "-p", "seed", "--bin", "libris", "--bin", "libris-dataset")
        procs.cargo("build", "--release", "-p", "service", "--example", "query_plans")
    built = paths.target_dir() / profile

    with db.scratch_database("libris_bench", server) as url:
        log("dataset")
        procs.run([built / "libris-dataset", *sizes], env={**paths.tool_env(), "DATABASE_URL": url})
        db.psql(url, "VACUUM ANALYZE")
        if mode == "--profile":
            log("GET /books/{id} under callgrind")
            bench_module("profile", built / "libris", url, books, os.environ.get("BENCH_PROFILE_REQUESTS", "1000"),
                         built / "get-book")
            return 0
        log("HTTP against pgbench")
        bench_module("http", built / "libris", url, secs, runs, 16, books, built / "examples/query_plans")
        if mode == "--smoke":
            log("scaling step on the small library (prints, writes nothing)")
            procs.run([sys.executable, "-m", "libris_tools.bench.scaling", built / "libris",
                       built / "examples/query_plans", url, books // 2, 5], capture=True)
            print("bench smoke: 1 passed, 0 failed")
            return 0
    log("Lambda")
    from . import lambda_run

    lambda_run.main(["10", "1000"])
    scaling(server)
    return 0
