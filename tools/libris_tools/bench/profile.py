"""Instructions per request of GET /books/{id}, and where they go, under callgrind.

usage: python3 -m libris_tools.bench.profile SERVER_BINARY DATABASE_URL BOOKS REQUESTS OUT_PREFIX

Starts the server under `valgrind --tool=callgrind` with instrumentation off, so start-up and migrations
are not counted; turns it on, sends 200 warm-up requests, zeroes the counters, sends REQUESTS requests
for ids drawn with a fixed seed (the same ids on every run), and dumps. Requests go one at a time over one
keep-alive connection, so the figure is the server's own work per request, free of contention: instruction
counts repeat to a fraction of a percent on a busy machine, where times do not. The binary needs symbols
(scripts/bench --profile builds one). Prints instructions per request and the top inclusive functions;
the full profile is OUT_PREFIX.callgrind (open it with callgrind_annotate or kcachegrind).
"""

import http.client
import os
import random
import re
import subprocess
import sys
import time

from libris_tools.local.server import LocalServer

binary, database_url, books, requests, out = sys.argv[1:6]
books, requests = int(books), int(requests)
WARMUP = 200


def drive(conn, ids):
    for book_id in ids:
        conn.request("GET", f"/books/{book_id}")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"GET /books/{book_id}: {response.status}")


def control(*args):
    # In the server's environment: vgdb names its pipes after HOST and USER, and the server sets HOST.
    subprocess.run(["callgrind_control", *args, str(server.process.pid)], check=True, capture_output=True,
                   env=server.env)


out_file = f"{out}.callgrind"
server = LocalServer(binary, {**os.environ, "DATABASE_URL": database_url, "LIBRIS_DEMO_DATA": "false",
                              "RUST_LOG": "error"},
                     prefix=["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}"])
try:
    server.start(timeout=120)
    dice = random.Random(42)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    control("--instr=on")
    drive(conn, [dice.randint(1, books) for _ in range(WARMUP)])
    control("--zero")
    started = time.perf_counter()
    drive(conn, [dice.randint(1, books) for _ in range(requests)])
    elapsed = time.perf_counter() - started
    control("--dump")
    control("--instr=off")
finally:
    server.stop()

dumps = sorted((f for f in os.listdir(os.path.dirname(out_file) or ".") if f.startswith(os.path.basename(out_file))),
               key=lambda f: os.path.getmtime(os.path.join(os.path.dirname(out_file) or ".", f)))
dump = os.path.join(os.path.dirname(out_file) or ".", [f for f in dumps if f != os.path.basename(out_file)][-1])
annotate = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", dump],
                          capture_output=True, text=True, check=True).stdout
total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", annotate).group(1).replace(",", ""))
print(f"{requests} requests: {total:,} instructions, {total / requests:,.0f} per request "
      f"({elapsed / requests * 1000:.2f} ms per request under callgrind); profile {dump}")
rows = re.findall(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+\*?\s*(\S.*)$", annotate, re.M)
for count, percent, name in rows[:60]:
    print(f"{percent:>6}%  {int(count.replace(',', '')) / requests:>10,.0f}/req  {name[:160]}")
