#!/usr/bin/env python3
"""Catalogue search (issue 17) against the title scan it replaced, and the list pages against GET /books/{id}.

usage: bench_search.py SERVER_BINARY QUERY_PLANS_BINARY SECONDS CONNECTIONS URL_100K [URL_1M]

1. Server-side time, on each library given: every statement one page of GET /books?q= sends, captured by
   the `query_plans` example and timed by PostgreSQL's EXPLAIN ANALYZE (QUERY_PLANS_RUNS runs each); a
   page's time is the sum over its statements, and the median over the runs is reported, for pages 1 and 3
   of each case. The replaced scan (`LOWER(title) LIKE '%…%' ORDER BY id LIMIT 21`, what `title=` sent) is
   timed the same way, in the same run.
2. Throughput on the 100,000-book library with bench_http.py's wrk settings: GET /books/{id} (random ids),
   the list pages and searches, each as a share of GET /books/{id}'s rate.

The libraries are the seed crate's datasets: titles "The <word> <word> <n>" with 16 words (each in about
one title in eight) and a unique number, and authors "Author <n>".
"""

import os
import re
import statistics
import subprocess
import sys

from libris_local import LocalServer

server_binary, query_plans, seconds, connections, url_100k = sys.argv[1:6]
url_1m = sys.argv[6] if len(sys.argv) > 6 else None
seconds, connections = int(seconds), int(connections)
here = os.path.dirname(os.path.abspath(__file__))
runs = os.environ.get("QUERY_PLANS_RUNS", "7")

CASES = [  # (case, words)
    ("one word (a title number, an author's number)", "4242"),
    ("two words", "author 4242"),
    ("prefix", "424"),
    ("two words, the last a prefix", "crimson gard"),
    ("a word in 12 % of titles", "orchard"),
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


def wrk(base, path=None, script=None, books=100000):
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", os.path.join(here, "bench.d", script)]
    out = subprocess.run(args + [base + (path or "/")], capture_output=True, text=True,
                         env={**os.environ, "BOOKS": str(books)}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = unit_ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups())
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return rps, p50, errors


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
    ]
    try:
        results = [(name, *wrk(server.base, path, script)) for name, path, script in cases]
    finally:
        server.stop()
    detail = results[0][1]
    print(f"\n### Throughput, 100,000 books (wrk -t2 -c{connections} -d{seconds}s, one run, same server)\n")
    print("| case | req/s | p50 ms | share of GET /books/{id} | non-2xx |")
    print("|---|---|---|---|---|")
    for name, rps, p50, errors in results:
        print(f"| {name} | {rps:.0f} | {p50:.2f} | {100 * rps / detail:.0f} % | {errors} |")


server_side(url_100k, "100,000 books")
if url_1m:
    server_side(url_1m, "1,000,000 books")
throughput(url_100k)
