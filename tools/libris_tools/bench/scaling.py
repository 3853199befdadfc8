"""Scaling: the first page and a page at depth DEPTH of GET /books and GET /books/available.

usage: python3 -m libris_tools.bench.scaling SERVER_BINARY QUERY_PLANS_BINARY DATABASE_URL DEPTH REQUESTS [--write BENCHMARKS.md]

For each page it times REQUESTS sequential requests on one keep-alive connection to the local server:
server-side from the server's own request log line (`latency_ms`, measured around the whole request in
openapi's `observe` middleware), client-side around the HTTP exchange. Then it runs the `query_plans`
example, which sends the same page through the service functions, captures the statements and prints
`EXPLAIN (ANALYZE, BUFFERS)` of each. Prints a Markdown section; with --write it replaces the section
between the scaling markers in BENCHMARKS.md.

The depth cursor is made the way the API makes it: the key of the row at position DEPTH (found once with
OFFSET, setup only) encoded like service/src/page.rs (`v1:<list>:<last id>`, URL-safe base64 without
padding); the script checks that the API's own `next_cursor` after position DEPTH - 20 equals it.
"""

import base64
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from libris_tools.local.server import LocalServer

server_binary, plans_binary, database_url, depth, requests = sys.argv[1:6]
depth, requests = int(depth), int(requests)
write_to = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--write" else None
WARMUP = 10
BEGIN, END = "<!-- scaling:begin (scripts/bench --scaling) -->", "<!-- scaling:end -->"


def psql(sql):
    return subprocess.run(["psql", "-X", "-Atq", database_url, "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def cursor(tag, last_id):
    return base64.urlsafe_b64encode(f"v1:{tag}:{last_id}".encode()).decode().rstrip("=")


AVAILABLE = "NOT EXISTS (SELECT 1 FROM loans l WHERE l.book_id = b.id)"


def key_at(position, available):
    where = f"WHERE {AVAILABLE}" if available else ""
    return int(psql(f"SELECT b.id FROM books b {where} ORDER BY b.id OFFSET {position - 1} LIMIT 1"))


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def server_latencies(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        text = ANSI.sub("", log.read())
    return [float(ms) for ms in re.findall(r"latency_ms=([\d.]+)", text)]


def get(conn, path):
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
    return json.loads(body), elapsed


def spread(values):
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


books = int(psql("SELECT count(*) FROM books"))
on_loan = int(psql("SELECT count(*) FROM loans"))
lists = {"books": ("/books", "b", False), "available": ("/books/available", "ab", True)}
cases = []
for name, (path, tag, available) in lists.items():
    cases.append((f"GET {path} (first page)", name, path, None))
    cases.append((f"GET {path} (depth {depth:,})", name, path, cursor(tag, key_at(depth, available))))

log_file = tempfile.NamedTemporaryFile(prefix="libris-scaling-", suffix=".log", delete=False)
server = LocalServer(server_binary, {**os.environ, "DATABASE_URL": database_url, "NO_COLOR": "1",
                                     "LIBRIS_DEMO_DATA": "false", "RUST_LOG": "error,openapi=info"})
results = []
try:
    server.start(output=log_file)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for name, (path, tag, available) in lists.items():
        before = cursor(tag, key_at(depth - 20, available))
        page, _ = get(conn, f"{path}?cursor={before}&limit=20")
        expected = cursor(tag, key_at(depth, available))
        if page["next_cursor"] != expected:
            raise SystemExit(f"{path}: the API's cursor {page['next_cursor']} is not the derived {expected}")
    for label, name, path, page_cursor in cases:
        url = f"{path}?cursor={page_cursor}" if page_cursor else path
        for _ in range(WARMUP):
            get(conn, url)
        seen = len(server_latencies(log_file.name))
        client = []
        for _ in range(requests):
            page, ms = get(conn, url)
            client.append(ms)
        time.sleep(0.2)
        server_side = server_latencies(log_file.name)[seen:]
        if len(server_side) != requests:
            raise SystemExit(f"{label}: {len(server_side)} server log lines for {requests} requests")
        ids = [item["id"] for item in page["items"]]
        plans = subprocess.run([plans_binary, name] + ([page_cursor] if page_cursor else []), check=True,
                               capture_output=True, text=True, env={**os.environ, "DATABASE_URL": database_url})
        results.append({"label": label, "url": url, "ids": (ids[0], ids[-1]) if ids else None,
                        "server": server_side, "client": client, "plans": plans.stdout})
finally:
    server.stop()
    os.unlink(log_file.name)


def statements(plans):
    """(sql, values, execution times, custom plan, generic plan) per statement of query_plans' output."""
    out = []
    for chunk in plans.split("\n-- statement ")[1:]:
        sql = re.search(r"^SQL: (.*)$", chunk, re.M).group(1)
        values = re.search(r"^values: (.*)$", chunk, re.M).group(1)
        times = json.loads(re.search(r"^execution ms over \d+ runs: (.*)$", chunk, re.M).group(1))
        plan = chunk.split("\n", 4)[4].split("\ngeneric plan:\n")
        out.append((sql, values, times, plan[0].strip(), plan[1].strip()))
    return out


lines = [BEGIN, "", f"## Scaling: {books:,} books, first page and depth {depth:,} (`scripts/bench --scaling`)", ""]
lines += [
    f"Method: a dedicated database (`{database_url.rsplit('/', 1)[-1]}`, loaded once per machine by "
    f"`libris-dataset`: {books:,} books, {on_loan:,} of them on loan, spread evenly over the ids) after "
    "`VACUUM ANALYZE`; the release `libris` "
    f"server on it. Each page is requested {WARMUP} times to warm up, then {requests} times in a row on one "
    "keep-alive connection. **Server-side** is the server's own `latency_ms` log field, measured around the "
    "whole request (routing, the page's three queries, JSON); **client** adds Python's HTTP round trip. The "
    f"depth cursor is the key at position {depth:,} encoded as the service encodes cursors, and the run checks "
    "it equals the `next_cursor` the API itself returns after the page before it. The SQL below is not "
    "hand-written: the `query_plans` example (`service/examples/query_plans.rs`) runs the same service call "
    "the route makes, records the statements SeaORM sends, and runs `EXPLAIN (ANALYZE, BUFFERS)` on each "
    "with the same bound values (5 runs, the last shown; the generic plan, which PostgreSQL may use from a "
    "prepared statement's sixth execution on, has the same shape and is in the details).",
    "",
    f"| page (default size 20) | server-side ms, min / median / max ({requests} requests) | client ms, "
    "min / median / max | main query `Execution Time`, ms (5 runs, min / median / max) | ids served |",
    "|---|---|---|---|---|",
]
for r in results:
    main = statements(r["plans"])[0]
    ids = f"{r['ids'][0]:,}..{r['ids'][1]:,}" if r["ids"] else "none"
    lines.append(f"| {r['label']} | {spread(r['server'])} | {spread(r['client'])} | {spread(main[2])} | {ids} |")
worst = max(statistics.median(r["server"]) for r in results)
lines += ["", f"Target: each page under 5 ms server-side. Worst median: **{worst:.2f} ms**.", ""]
for r in results:
    parsed = statements(r["plans"])
    sql, values, _, plan, _ = parsed[0]
    lines += [f"### {r['label']}: `{r['url']}`", "", "```sql", sql, "-- values: " + values, "", plan, "```", ""]
    lines += ["<details><summary>the page's other statements, and the generic plans</summary>", "", "```sql"]
    for n, (other_sql, other_values, times, other_plan, generic) in enumerate(parsed):
        if n > 0:
            lines += [other_sql, "-- values: " + other_values, "", other_plan, ""]
        lines += [f"-- generic plan of statement {n + 1}:", generic, ""]
    lines += ["```", "", "</details>", ""]
lines.append(END)
section = "\n".join(lines)
print(section)
if write_to:
    with open(write_to, encoding="utf-8") as f:
        text = f.read()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(write_to, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"\nwrote the scaling section of {write_to}", file=sys.stderr)
