"""Crash safety: SIGKILL the server in the middle of a write load, restart it, and check that nothing
acknowledged is lost and nothing is half-written.

usage: python3 -m libris_tools.checks.crash_load SERVER_BINARY DATABASE_URL
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time

from libris_tools.local.server import LocalServer

binary, database_url = sys.argv[1:3]
failures = []


server = LocalServer(binary, {**os.environ, "DATABASE_URL": database_url, "LIBRIS_DEMO_DATA": "false",
                                 "RUST_LOG": "warn"})
call = server.call


def psql(sql):
    out = subprocess.run(["psql", database_url, "-At", "-c", sql], check=True, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if line]


server.start()
books = [call("POST", "/books", {"title": f"Crash {n}"})[1]["id"] for n in range(10)]
readers = [call("POST", "/borrowers", {"name": f"R{n}", "email": f"crash{n}@example.org"})[1]["id"] for n in range(6)]

acked = {"loans": set(), "returns": set(), "reviews": set()}
lock = threading.Lock()
stop = threading.Event()


def client(seed):
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            book, reader = rng.choice(books), rng.choice(readers)
            with lock:
                open_loans = list(acked["loans"] - acked["returns"])
            choice = rng.random()
            if choice < 0.45:
                status, body = call("POST", "/loans", {"book_id": book, "borrower_id": reader})
                if status == 201:
                    with lock:
                        acked["loans"].add(body["id"])
            elif choice < 0.85 and open_loans:
                loan = rng.choice(open_loans)
                status, body = call("POST", f"/loans/{loan}/return")
                if status == 200:
                    with lock:
                        acked["returns"].add(loan)
            else:
                status, body = call("POST", f"/books/{book}/reviews", {"borrower_id": reader, "rating": 3})
                if status == 201:
                    with lock:
                        acked["reviews"].add(body["id"])
            if status >= 500:
                failures.append(f"5xx before the crash: {status} {body}")
        except OSError:
            pass  # the server is being killed: an unanswered request is not acknowledged


threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
time.sleep(3)
server.process.send_signal(signal.SIGKILL)
server.process.wait()
time.sleep(0.3)
stop.set()
for t in threads:
    t.join()

server.start()  # a new process: a new dev key, so a new token
status, body = call("GET", "/health/ready")
if status != 200:
    failures.append(f"not ready after restart: {status} {body}")

active = {int(r.split("|")[0]): (int(r.split("|")[1]), int(r.split("|")[2]))
          for r in psql("SELECT id, book_id, borrower_id FROM loans")}
history = {int(r) for r in psql("SELECT id FROM loan_history")}
reviews = {int(r) for r in psql("SELECT id FROM reviews")}
stored_loans = set(active) | history

if not acked["loans"]:
    failures.append("the load acknowledged no check-out before the crash")
if missing := acked["loans"] - stored_loans:
    failures.append(f"acknowledged check-outs lost: {sorted(missing)}")
if missing := acked["returns"] - history:
    failures.append(f"acknowledged returns lost: {sorted(missing)}")
if missing := acked["reviews"] - reviews:
    failures.append(f"acknowledged reviews lost: {sorted(missing)}")
if both := set(active) & history:
    failures.append(f"half-written returns (loan both active and archived): {sorted(both)}")
if len({book for book, _ in active.values()}) != len(active):
    failures.append("a book has two active loans")
per_reader = {}
for _, reader in active.values():
    per_reader[reader] = per_reader.get(reader, 0) + 1
if over := {r: n for r, n in per_reader.items() if n > 5}:
    failures.append(f"borrowers over the limit: {over}")
server.stop()

print(f"acknowledged: {len(acked['loans'])} check-outs, {len(acked['returns'])} returns, "
      f"{len(acked['reviews'])} reviews; stored: {len(stored_loans)} loans ({len(history)} returned), "
      f"{len(reviews)} reviews")
for failure in failures:
    print(f"FAIL {failure}")
print(f"crash-check: {0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
