"""Per-second figures of a storm and the summary of a window of it. Pure: no I/O, so it is unit-tested.

An `Outcome` is one request as the load generator saw it; a `Sample` is what the sampler read once a second
(instances, connections). Status 0 stands for "no HTTP answer" (the instance died or the front door gave up).
"""

import math
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    finished: float  # seconds since the storm started
    latency: float  # seconds
    status: int
    op: str


@dataclass
class Sample:
    at: float
    instances: int = 0
    busy: int = 0
    queued: int = 0
    cold_starts: int = 0  # cumulative
    clients: int = 0  # client connections at the proxy (direct: the database's own count)
    waiting: int = 0  # clients waiting for a server connection at the proxy
    servers: int = 0  # server connections the database sees for the application role
    extra: dict = field(default_factory=dict)


def percentile(values, q):
    """Nearest-rank percentile of `values` (any order), `q` in 0-100; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def failed(status):
    """A request the client could not use: any 5xx, and no answer at all. 4xx are the API's own answers
    (a book already on loan is a 409), not failures of the platform."""
    return status == 0 or status >= 500


def bad(status):
    """What must never happen under any scenario: a 5xx other than 503 (with `Retry-After`), or no answer."""
    return status == 0 or (status >= 500 and status != 503)


@dataclass
class Row:
    second: int
    done: int
    failed: int
    statuses: Counter
    p50: float | None
    p95: float | None
    p99: float | None
    sample: Sample | None


def per_second(outcomes, samples, seconds):
    """One row per whole second 0..seconds-1: requests finished in it, by status, their latency
    percentiles (ms), and the last sample taken in it."""
    buckets = [[] for _ in range(seconds)]
    for outcome in outcomes:
        index = int(outcome.finished)
        if 0 <= index < seconds:
            buckets[index].append(outcome)
    last = {}
    for sample in samples:
        last[int(sample.at)] = sample
    rows = []
    for second, bucket in enumerate(buckets):
        millis = [o.latency * 1000 for o in bucket]
        rows.append(Row(second, len(bucket), sum(failed(o.status) for o in bucket),
                        Counter(o.status for o in bucket), percentile(millis, 50), percentile(millis, 95),
                        percentile(millis, 99), last.get(second)))
    return rows


@dataclass
class Summary:
    requests: int
    failed: int
    bad: int
    statuses: Counter
    per_second: float
    p50: float | None
    p95: float | None
    p99: float | None
    max_instances: int
    cold_starts: int
    max_clients: int
    max_waiting: int
    max_servers: int
    first_servers: int
    last_servers: int

    def as_json(self):
        """A JSON-ready dict (statuses keyed by their text, as JSON keys must be)."""
        return {**vars(self), "statuses": {str(k): v for k, v in self.statuses.items()}}


def summarize(outcomes, samples, start, end):
    """The figures of the window [start, end) seconds: requests finished in it, the peak gauges sampled in
    it, the cold starts counted in it, and the server connections at its first and last sample."""
    inside = [o for o in outcomes if start <= o.finished < end]
    window = [s for s in samples if start <= s.at < end]
    before = [s for s in samples if s.at < start]
    millis = [o.latency * 1000 for o in inside]
    cold_before = before[-1].cold_starts if before else 0
    peak = lambda attribute: max((getattr(s, attribute) for s in window), default=0)  # noqa: E731
    return Summary(
        requests=len(inside),
        failed=sum(failed(o.status) for o in inside),
        bad=sum(bad(o.status) for o in inside),
        statuses=Counter(o.status for o in inside),
        per_second=len(inside) / (end - start) if end > start else 0.0,
        p50=percentile(millis, 50), p95=percentile(millis, 95), p99=percentile(millis, 99),
        max_instances=peak("instances"),
        cold_starts=(window[-1].cold_starts - cold_before) if window else 0,
        max_clients=peak("clients"), max_waiting=peak("waiting"), max_servers=peak("servers"),
        first_servers=window[0].servers if window else 0,
        last_servers=window[-1].servers if window else 0,
    )
