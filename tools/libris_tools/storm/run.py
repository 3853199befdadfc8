"""The scenarios, in the tools venv (moto's Cognito for a librarian's token, matplotlib for the pictures):
`python -m libris_tools.storm.run SETTINGS_JSON`, started by `tools/run storm` (main.py), which has set up
the capped cluster and the proxies and removes them afterwards.

Each scenario is one storm: virtual users ramp up from 0 to N over `ramp` seconds, hold for `steady`
seconds, then stop; sampling goes on for `quiet` seconds while idle instances drop their connections and
the front door stops them. A stall (scenario e) locks the books table for a while, so that every
connection that reads it is held and the clients behind them wait longer than the proxy lets them.
"""

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..local.cognito import LocalCognito
from . import budget, report, sample
from .frontdoor import FrontDoor
from .load import Ledger, User, decode, event
from .stats import Outcome, Sample, summarize

# A client pauses this long after a 5xx before its next request (not the 2 s of Retry-After: the storm
# keeps the pressure on).
RETRY_PAUSE = 0.2
# The longest a client waits for an answer before counting it as none.
CLIENT_TIMEOUT = 30.0
# The function's pool lets an idle connection go after this long (DB_IDLE_TIMEOUT_SECS), and the front
# door stops an instance idle for IDLE_STOP seconds: Lambda's ~5-15 minutes, scaled down.
DB_IDLE_SECONDS = 10
IDLE_STOP = 20


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    via: str  # direct | transaction | session
    users: int
    ramp: int
    steady: int
    quiet: int
    stall_at: int | None = None  # seconds after the ramp
    stall: int = 0

    @property
    def seconds(self):
        return self.ramp + self.steady + self.quiet


FULL = (
    Scenario("storm-direct", "(a)-(c) direct", "direct", 300, 10, 60, 30),
    Scenario("storm-proxy", "(a)-(c) through the proxy", "transaction", 300, 10, 60, 30),
    Scenario("pinned", "(d) session-mode pool (pinning)", "session", 300, 10, 30, 20),
    Scenario("overload-direct", "(e) overload: a 12 s stall, direct", "direct", 300, 10, 40, 10, 10, 12),
    Scenario("overload-proxy", "(e) overload: a 12 s stall, through the proxy", "transaction", 300, 10, 40, 10, 10, 12),
)
SHORT = (Scenario("short", "short form through the proxy", "transaction", 60, 5, 10, 5),)


def cap(scenario):
    return budget.BUDGET if scenario.via == "direct" else budget.proxy_cap()


class Storm:
    def __init__(self, scenario, settings, auth, token, template):
        self.scenario, self.settings, self.auth, self.token, self.template = scenario, settings, auth, token, template
        self.outcomes, self.samples, self.ledger = [], [], Ledger()
        self.unread = 0  # samples where the database's count could not be read (the last one is kept)
        ports = settings["ports"]
        self.pg_port = ports["postgres"]
        self.bouncer_port = {"transaction": ports["transaction_pool"], "session": ports["session_pool"]}.get(
            scenario.via)
        target = self.bouncer_port or self.pg_port
        self.url = f"postgres://{budget.APP_ROLE}@127.0.0.1:{target}/{budget.DATABASE}?sslmode=disable"

    async def run(self):
        s = self.scenario
        # Every book on the shelf and no borrower at the limit: the users of the last storm are gone.
        self.sql("DELETE FROM loans")
        log_path = Path(self.settings["logs"]) / f"{s.name}-instances.log"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": self.url,
               "DB_TLS_ALLOW_INSECURE": "true", "DB_IDLE_TIMEOUT_SECS": str(DB_IDLE_SECONDS), **self.auth}
        first = self.settings["ports"]["first_instance"]
        with open(log_path, "wb") as log_file:
            self.door = FrontDoor(self.settings["bootstrap"], env, s.users, IDLE_STOP,
                                  range(first, first + s.users), log_file)
            self.t0 = time.monotonic()
            background = [asyncio.create_task(self.door.reap()), asyncio.create_task(self.sample_forever())]
            if s.stall_at is not None:
                background.append(asyncio.create_task(self.stall()))
            stop_at = self.t0 + s.ramp + s.steady
            await asyncio.gather(*(self.user(i, stop_at) for i in range(s.users)))
            await asyncio.sleep(max(0.0, self.t0 + s.seconds - time.monotonic()))
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.door.close()

    async def user(self, index, stop_at):
        s = self.scenario
        await asyncio.sleep(s.ramp * index / s.users)
        user = User(index, s.users, budget.DATASET[0], budget.DATASET[2])
        while time.monotonic() < stop_at:
            request = user.next_request()
            started = time.monotonic()
            try:
                status, answer = await asyncio.wait_for(
                    self.door.invoke(event(self.template, request, self.token)), CLIENT_TIMEOUT)
            except asyncio.TimeoutError:
                status, answer = 0, None
            now = time.monotonic()
            self.outcomes.append(Outcome(now - self.t0, now - started, status, request.op))
            user.record(request, status, decode(answer), self.ledger)
            if status == 0 or status >= 500:
                await asyncio.sleep(RETRY_PAUSE)

    async def sample_forever(self):
        database = await sample.Monitor(self.pg_port, "postgres", "postgres").start()
        proxy = await sample.Monitor(self.bouncer_port, "pgbouncer", "postgres").start() if self.bouncer_port else None
        servers = 0
        try:
            while True:
                tick = time.monotonic()
                gauges = self.door.gauges()
                read = await sample.server_connections(database)
                self.unread += read is None
                servers = servers if read is None else read
                if proxy is not None:
                    clients, waiting, pool_servers, maxwait = await sample.pools(proxy)
                    extra = {"pool_servers": pool_servers, "maxwait": maxwait}
                else:
                    clients, waiting, extra = servers, 0, {}
                self.samples.append(Sample(at=tick - self.t0, clients=clients, waiting=waiting, servers=servers,
                                           extra=extra, **gauges))
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        finally:
            for monitor in (database, proxy):
                if monitor is not None:
                    await monitor.close()

    async def stall(self):
        """Holds an exclusive lock on the books table: every statement that reads it waits, holding its
        connection, as in a long migration, a lock pile-up or a failover."""
        s = self.scenario
        # Logged in before the storm: during it, the direct storm's logins may take every slot.
        session = await sample.Monitor(self.pg_port, budget.DATABASE, "postgres").start()
        try:
            await sample.server_connections(session)
            await asyncio.sleep(max(0.0, self.t0 + s.ramp + s.stall_at - time.monotonic()))
            await session.query(f"BEGIN; LOCK TABLE books IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({s.stall}); COMMIT")
        finally:
            await session.close()

    def sql(self, statement):
        out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.pg_port),
                              "-U", "postgres", "-d", budget.DATABASE, "-c", statement],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def lost_writes(self):
        """Acknowledged check-outs and returns the database does not have."""
        def ids(statement):
            return {int(line) for line in self.sql(statement).split()}
        history = ids("SELECT id FROM loan_history")
        loans = ids("SELECT id FROM loans") | history
        return len(self.ledger.checked_out - loans), len(self.ledger.returned - history)

    def result(self):
        s = self.scenario
        lost = self.lost_writes()
        windows = {"ramp": (0, s.ramp), "steady": (s.ramp, s.ramp + s.steady),
                   "quiet": (s.ramp + s.steady, s.seconds), "all": (0, s.seconds)}
        if s.stall_at is not None:
            windows["stall"] = (s.ramp + s.stall_at, s.ramp + s.stall_at + s.stall + 5)
        summaries = {name: summarize(self.outcomes, self.samples, *window).as_json() for name, window in windows.items()}
        worst = summarize(self.outcomes, self.samples, 0, s.seconds)
        checks = {
            "bad_answers": worst.bad,
            "lost_checkouts": lost[0], "lost_returns": lost[1],
            "acknowledged_checkouts": len(self.ledger.checked_out), "acknowledged_returns": len(self.ledger.returned),
            "max_servers": worst.max_servers, "cap": cap(s),
            "init_errors": self.door.init_errors, "crashes": self.door.crashes, "unread_samples": self.unread,
        }
        return {"scenario": asdict(s), "windows": summaries, "checks": checks,
                "outcomes": [(round(o.finished, 3), round(o.latency, 4), o.status, o.op) for o in self.outcomes],
                "samples": [asdict(x) for x in self.samples]}


def failures(result):
    """Why a scenario's run is wrong, whatever its load: a 500 (or no answer), a lost write, more server
    connections than the cap."""
    c, name = result["checks"], result["scenario"]["name"]
    problems = []
    if c["bad_answers"]:
        problems.append(f"{name}: {c['bad_answers']} answers were a 5xx other than 503, or none")
    if c["lost_checkouts"] or c["lost_returns"]:
        problems.append(f"{name}: acknowledged writes lost: {c['lost_checkouts']} check-outs, "
                        f"{c['lost_returns']} returns")
    if c["max_servers"] > c["cap"]:
        problems.append(f"{name}: {c['max_servers']} server connections, above the cap of {c['cap']}")
    return problems


def raise_file_limit():
    """A few hundred instances each hold a listening socket, a connection and a pipe here."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main_async(settings):
    raise_file_limit()
    cognito = LocalCognito(settings["moto_server"])
    try:
        token, _, _ = cognito.user("librarian", ["librarians"])
        with open(Path(settings["fixtures"]) / "http_v2_default.json") as f:
            template = json.load(f)
        chosen = SHORT if settings["short"] else tuple(s for s in FULL if s.name in settings["scenarios"])
        results = []
        for scenario in chosen:
            print(f"\n==> storm {scenario.name}: {scenario.title}, {scenario.users} users", file=sys.stderr, flush=True)
            storm = Storm(scenario, settings, cognito.settings(), token, template)
            load_before = os.getloadavg()[0]
            await storm.run()
            results.append({**storm.result(), "load": [load_before, os.getloadavg()[0]], "cpus": os.cpu_count()})
            (Path(settings["logs"]) / f"{scenario.name}.json").write_text(json.dumps(results[-1]))
            print(report.line(results[-1]), file=sys.stderr, flush=True)
            await asyncio.sleep(2)
        return results
    finally:
        cognito.stop()


def main(argv):
    settings = json.loads(Path(argv[0]).read_text())
    results = asyncio.run(main_async(settings))
    if settings.get("report"):
        # Every scenario's latest result, so that one scenario can be measured again on its own.
        saved = [Path(settings["logs"]) / f"{s.name}.json" for s in FULL]
        report.write([json.loads(p.read_text()) for p in saved if p.exists()], Path(settings["report"]))
    print(report.table(results), file=sys.stderr)
    problems = [p for r in results for p in failures(r)]
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
