#!/usr/bin/env python3
"""Catalogue search (issue 17) against the title scan it replaced, and the list pages against GET /books/{id}.

usage: bench_search.py [--server-side-only | --throughput-only] SERVER_BINARY QUERY_PLANS_BINARY SECONDS CONNECTIONS
                       URL_100K [URL_1M]

1. Server-side time, on each library given: every statement one page of GET /books?q= sends, captured by
   the `query_plans` example and timed by PostgreSQL's EXPLAIN ANALYZE (QUERY_PLANS_RUNS runs each); a
   page's time is the sum over its statements, and the median over the runs is reported, for pages 1 and 3
   of each case. The replaced scan (`LOWER(title) LIKE '%…%' ORDER BY id LIMIT 21`, what `title=` sent) is
   timed the same way, in the same run.
2. Throughput on the 100,000-book library with bench_http.py's wrk settings: GET /books/{id} (random ids),
   the list pages and searches, each as a share of GET /books/{id}'s rate, on one server; THROUGHPUT_ROUNDS
   rounds (default 3) of every case in turn, and the median rate and share of each over the rounds (shares
   hold up on a shared machine where absolute rates do not).

The libraries are the seed crate's datasets: titles "The <word> <word> <n>" with 16 words (each in about
one title in eight) and a unique number, and authors "Author <n>".
"""

import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from libris_tools.local.server import LocalServer  # noqa: E402  (after the path it lives on)

args = sys.argv[1:]
only = args.pop(0) if args and args[0] in ("--server-side-only", "--throughput-only") else None
server_binary, query_plans, seconds, connections, url_100k = args[:5]
url_1m = args[5] if len(args) > 5 else None
seconds, connections = int(seconds), int(connections)
data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "libris_tools", "bench", "data")
runs = os.environ.get("QUERY_PLANS_RUNS", "7")

CASES = [  # (case, words)
    ("one word (a title number, an author's number)", "4242"),
    ("two words", "author 4242"),
    ("prefix", "424"),
    ("two words, the last a prefix", "crimson gard"),
    ("a word in 12 % of titles", "orchard"),
    ("a word in every author's name, in no title", "author"),
]


def search_page(url, words, cursor=""):
    """(server-side ms per run, next cursor) of one search page, summed over its statements."""
    out = subprocess.run([query_plans, "search", words, cursor], check=True, capture_output=True, text=True,
                         env={**os.environ, "DATABASE_URL": url, "QUERY_PLANS_RUNS": runs}).stdout
    per_statement = [[float(x) for x in m.split(",") if x.strip()]
                     for m in re.findall(r"execution ms over \d+ runs: \[([^\]]*)\]", out)]
    per_run = [sum(times) for times in zip(*per_statement)]
    return per_run, re.search(r"^next: (.*)$", out, re.M).group(1), len(per_statement)


def old_scan(url, words):
    """Server-side ms of the statement `title=` sent, per run."""
    sql = ("EXPLAIN (ANALYZE) SELECT * FROM books WHERE LOWER(title) LIKE '%" + words.lower() + "%' "
           "ESCAPE '!' ORDER BY id LIMIT 21")
    times = []
    for _ in range(int(runs)):
        out = subprocess.run(["psql", url, "-Atc", sql], check=True, capture_output=True, text=True).stdout
        times.append(float(re.search(r"Execution Time: ([\d.]+) ms", out).group(1)))
    return times


def server_side(url, label):
    print(f"\n### Server-side time per page, {label} (median of {runs} EXPLAIN ANALYZE runs, ms)\n")
    print("| q | page 1 | page 3 | statements (page 1) | replaced `title=` scan |")
    print("|---|---|---|---|---|")
    for name, words in CASES:
        first, cursor, count = search_page(url, words)
        second, cursor, _ = search_page(url, words, cursor) if cursor else ([], "", 0)
        third, _, _ = search_page(url, words, cursor) if cursor else ([], "", 0)
        third_ms = f"{statistics.median(third):.2f}" if third else "(no page 3)"
        print(f"| {name}: `{words}` | {statistics.median(first):.2f} | {third_ms} | {count} | "
              f"{statistics.median(old_scan(url, words)):.2f} |")


def unit_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cpu_seconds(pids):
    """User + system CPU seconds so far of the processes still alive among `pids` (from /proc/<pid>/stat)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def backends(url):
    """The PostgreSQL backends connected to the library's database (the server's pool)."""
    sql = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    out = subprocess.run(["psql", "-X", url, "-Atc", sql], check=True, capture_output=True, text=True).stdout
    return out.split()


def wrk(base, path=None, script=None, books=100000, server_pid=None, url=None):
    """(req/s, p50 ms, non-2xx, server µs/request, PostgreSQL µs/request) of one wrk run."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", os.path.join(data, script)]
    pg = backends(url)
    before = (cpu_seconds([server_pid]), cpu_seconds(pg))
    out = subprocess.run(args + [base + (path or "/")], capture_output=True, text=True,
                         env={**os.environ, "BOOKS": str(books)}).stdout
    after = (cpu_seconds([server_pid]), cpu_seconds(pg))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = unit_ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups())
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    server_us, pg_us = (1e6 * (a - b) / requests for a, b in zip(after, before))
    return rps, p50, errors, server_us, pg_us


def throughput(url):
    server = LocalServer(server_binary, {**os.environ, "DATABASE_URL": url, "LIBRIS_DEMO_DATA": "false",
                                         "RUST_LOG": "error"}).start()
    cases = [
        ("GET /books/{id} (random ids)", None, "random-book.lua"),
        ("GET /books (first page)", "/books", None),
        ("GET /books/available (first page)", "/books/available", None),
        ("GET /books?q=crimson%20garden", "/books?q=crimson%20garden", None),
        ("GET /books?q=4242", "/books?q=4242", None),
        ("GET /books?q=orch (prefix, 12 % of titles)", "/books?q=orch", None),
        ("GET /books?q=author (every author's name, no title)", "/books?q=author", None),
    ]
    rounds = int(os.environ.get("THROUGHPUT_ROUNDS", "3"))
    runs = {name: [] for name, _, _ in cases}
    started = os.getloadavg()
    try:
        for _, path, script in cases:  # one warm-up pass: the pool's connections open, statements prepare
            wrk(server.base, path, script, server_pid=server.process.pid, url=url)
        for _ in range(rounds):
            for name, path, script in cases:
                runs[name].append(wrk(server.base, path, script, server_pid=server.process.pid, url=url))
    finally:
        server.stop()
    ended = os.getloadavg()
    detail = [run[0] for run in runs[cases[0][0]]]
    print(f"\n### Throughput, 100,000 books (wrk -t2 -c{connections} -d{seconds}s, {rounds} rounds, one server)\n")
    print(f"Load average (1, 5, 15 min) before: {started[0]:.2f}, {started[1]:.2f}, {started[2]:.2f}; "
          f"after: {ended[0]:.2f}, {ended[1]:.2f}, {ended[2]:.2f}.\n")
    print("| case | req/s, median | p50 ms, median | share of GET /books/{id}: median (per round) | non-2xx "
          "| CPU µs per request: server / PostgreSQL (median) |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in cases:
        rates = [run[0] for run in runs[name]]
        shares = [100 * rps / base for rps, base in zip(rates, detail)]
        per_round = ", ".join(f"{share:.0f}" for share in shares)
        errors = sum(run[2] for run in runs[name])
        p50 = statistics.median(run[1] for run in runs[name])
        server_us = statistics.median(run[3] for run in runs[name])
        pg_us = statistics.median(run[4] for run in runs[name])
        print(f"| {name} | {statistics.median(rates):.0f} | {p50:.2f} | **{statistics.median(shares):.0f} %** "
              f"({per_round}) | {errors} | {server_us:.0f} / {pg_us:.0f} |")


if only != "--throughput-only":
    server_side(url_100k, "100,000 books")
    if url_1m:
        server_side(url_1m, "1,000,000 books")
if only != "--server-side-only":
    throughput(url_100k)
