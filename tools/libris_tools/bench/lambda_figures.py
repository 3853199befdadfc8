"""Lambda figures under the Runtime API emulator: cold start, warm latency, peak RSS.

usage: python3 -m libris_tools.bench.lambda_figures BOOTSTRAP DATABASE_URL FIXTURES_DIR [COLD_RUNS] [WARM_INVOCATIONS]

Cold start = time from spawning the process to the emulator receiving the response to its first event,
GET /books/1 (HTTP API v2), with a cold database connection (the pool connects lazily on that request).
Warm latency = emulator-side time from handing out an event to receiving its response, for GET /health
(no database) and GET /books/1 (one primary-key read). Peak RSS = VmHWM after the warm invocations.
Prints one JSON object.
"""

import copy
import json
import os
import statistics
import sys
import time

# GET /books/{id} is public, so the issuer is never asked: its settings only have to be valid.
AUTH = {"LIBRIS_AUTH": "jwt", "LIBRIS_AUTH_ISSUER": "https://issuer.example", "LIBRIS_AUTH_AUDIENCE": "libris",
        # sslmode=disable/require against the local PostgreSQL: the function refuses both unless told.
        "DB_TLS_ALLOW_INSECURE": "true"}

from libris_tools.local.lambda_emulator import Emulator, rss_kib  # noqa: E402

bootstrap, database_url, fixtures = sys.argv[1:4]
cold_runs = int(sys.argv[4]) if len(sys.argv) > 4 else 10
warm_runs = int(sys.argv[5]) if len(sys.argv) > 5 else 1000

with open(os.path.join(fixtures, "http_v2_default.json")) as f:
    template = json.load(f)


def event(path):
    e = copy.deepcopy(template)
    e["rawPath"] = path
    e["requestContext"]["http"]["path"] = path
    e["rawQueryString"] = ""
    e.pop("queryStringParameters", None)
    return e


book = event("/books/1")
health = event("/health")


def stats(samples_ms):
    samples = sorted(samples_ms)
    return {
        "n": len(samples),
        "min": round(samples[0], 3),
        "p50": round(statistics.median(samples), 3),
        "p99": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "max": round(samples[-1], 3),
    }


cold = []
for _ in range(cold_runs):
    emulator = Emulator()
    started = emulator.start(bootstrap, {"DATABASE_URL": database_url, "RUST_LOG": "warn", **AUTH})
    kind, answer, finished = emulator.invoke(book)
    if answer.get("statusCode") != 200:
        raise SystemExit(f"cold start answered {answer}")
    cold.append((finished - started) * 1000)
    emulator.stop()

emulator = Emulator()
emulator.start(bootstrap, {"DATABASE_URL": database_url, "RUST_LOG": "warn", **AUTH})
warm = {"health": [], "book": []}
for i in range(warm_runs):
    for name, e in (("health", health), ("book", book)):
        sent = time.perf_counter()
        kind, answer, finished = emulator.invoke(e)
        if answer.get("statusCode") != 200:
            raise SystemExit(f"warm {name} answered {answer}")
        if i >= 10:  # the first invocations warm caches
            warm[name].append((finished - sent) * 1000)
peak_rss = rss_kib(emulator.process.pid)
emulator.stop()

print(json.dumps({
    "cold_start_ms": stats(cold),
    "warm_health_ms": stats(warm["health"]),
    "warm_get_book_ms": stats(warm["book"]),
    "peak_rss_mib": round(peak_rss / 1024, 1),
    "invocations": 2 * warm_runs,
}, indent=2))
