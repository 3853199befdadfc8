"""HTTP throughput and latency of the local server against pgbench's ceiling, on one PostgreSQL database.

usage: python3 -m libris_tools.bench.http SERVER_BINARY DATABASE_URL SECONDS RUNS CONNECTIONS BOOKS [QUERY_PLANS_BINARY]
Prints a Markdown table (min / median / max over RUNS) and a JSON line with every figure. With the
`query_plans` example's binary, pgbench also runs the very statement GET /books/{id} sends (captured from
the service, ids drawn at random like the primary-key case): the ceiling of that endpoint's own query.
"""

import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

from libris_tools.local.server import LocalServer

binary, database_url, seconds, runs, connections, books = sys.argv[1:7]
query_plans = sys.argv[7] if len(sys.argv) > 7 else None
seconds, runs, connections, books = int(seconds), int(runs), int(connections), int(books)
here = os.path.dirname(os.path.abspath(__file__))


server = LocalServer(binary, {**os.environ, "DATABASE_URL": database_url, "LIBRIS_DEMO_DATA": "false",
                             "RUST_LOG": "error"}).start()
# Reads are public; the write mix acts as a librarian, with the dev-mode server's token.
base, token = server.base, server.token


def cursor(kind, last_id):
    return base64.urlsafe_b64encode(f"v1:{kind}:{last_id}".encode()).decode().rstrip("=")


def unit_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(path=None, script=None):
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", os.path.join(here, "data", script)]
    out = subprocess.run(args + [base + (path or "/")], capture_output=True, text=True,
                         env={**os.environ, "BOOKS": str(books), "TOKEN": token}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = unit_ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups())
    p99 = unit_ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups())
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": errors, "socket_errors": socket_errors.group(1) if socket_errors else ""}


def detail_statement_script():
    """A pgbench script running the SQL the service sends for one book, every bound id a random one."""
    plans = subprocess.run([query_plans, "detail", "1"], check=True, capture_output=True, text=True,
                           env={**os.environ, "DATABASE_URL": database_url, "QUERY_PLANS_RUNS": "1"}).stdout
    sql = re.sub(r"\$\d+", ":id", re.search(r"^SQL: (.*)$", plans, re.M).group(1))
    script = tempfile.NamedTemporaryFile("w", prefix="libris-detail-", suffix=".sql", delete=False)
    script.write(f"\\set id random(1, {books})\n{sql};\n")
    script.close()
    return script.name


def pgbench(script=os.path.join(here, "data", "pk-select.sql")):
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", f"-c{connections}", "-j2", f"-T{seconds}",
                          "-f", script, database_url],
                         capture_output=True, text=True).stdout
    return {"rps": float(re.search(r"tps = ([\d.]+)", out).group(1)),
            "p50": float(re.search(r"latency average = ([\d.]+) ms", out).group(1)), "p99": None,
            "non2xx": 0, "socket_errors": ""}


depth = books // 2
cases = [
    ("GET /books/{id} (random ids)", lambda: wrk(script="random-book.lua")),
    ("GET /books/available (first page)", lambda: wrk("/books/available")),
    (f"GET /books/available (cursor at id {depth})", lambda: wrk(f"/books/available?cursor={cursor('ab', depth)}")),
    ("GET /books?q=crimson garden", lambda: wrk("/books?q=crimson%20garden")),
    ("write mix: check out + return", lambda: wrk("/", script="write-mix.lua")),
    ("pgbench: the same primary-key SELECT, prepared", pgbench),
]
if query_plans:
    detail_sql = detail_statement_script()
    cases.append(("pgbench: the statement GET /books/{id} sends, prepared", lambda: pgbench(detail_sql)))
results = {}
try:
    for name, run in cases:
        results[name] = [run() for _ in range(runs)]
finally:
    server.stop()
    if query_plans:
        os.unlink(detail_sql)


def spread(values, digits=2):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}"


print(f"| case ({connections} connections, {seconds} s × {runs} runs) | req/s min / median / max | p50 ms | p99 ms | non-2xx |")
print("|---|---|---|---|---|")
for name, samples in results.items():
    print(f"| {name} | {spread([s['rps'] for s in samples], 0)} | {spread([s['p50'] for s in samples])} | "
          f"{spread([s['p99'] for s in samples])} | {sum(s['non2xx'] for s in samples)} |")
ours = statistics.median(s["rps"] for s in results["GET /books/{id} (random ids)"])
ceiling = statistics.median(s["rps"] for s in results["pgbench: the same primary-key SELECT, prepared"])
print(f"\nGET /books/{{id}} is {100 * ours / ceiling:.0f} % of pgbench's primary-key SELECT throughput.")
if query_plans:
    own = statistics.median(s["rps"] for s in results["pgbench: the statement GET /books/{id} sends, prepared"])
    print(f"GET /books/{{id}} is {100 * ours / own:.0f} % of pgbench running the endpoint's own statement.")
print(json.dumps(results))
