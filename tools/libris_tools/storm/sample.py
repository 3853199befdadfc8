"""What the sampler reads once a second besides the front door's own gauges: the proxy's pools (PgBouncer's
admin console, `SHOW POOLS`) and the database's own count of the application's connections
(`pg_stat_activity`). Parsing is pure and unit-tested; reading runs psql."""

import asyncio

from .budget import APP_ROLE, DATABASE


def parse_show_pools(text, database=DATABASE):
    """(clients, waiting clients, server connections, longest wait in s) of `database`'s pools, from
    `psql -A -F '|' -P footer=off -c 'SHOW POOLS'` output (header line first)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return 0, 0, 0, 0
    names = lines[0].split("|")
    clients = waiting = servers = maxwait = 0
    for line in lines[1:]:
        row = dict(zip(names, line.split("|")))
        if row.get("database") != database:
            continue
        number = lambda key: int(row.get(key) or 0)  # noqa: E731
        clients += number("cl_active") + number("cl_waiting")
        waiting += number("cl_waiting")
        servers += sum(number(key) for key in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))
        maxwait = max(maxwait, number("maxwait"))
    return clients, waiting, servers, maxwait


SERVER_COUNT = (f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{APP_ROLE}' "
                "AND backend_type = 'client backend'")


END = "__storm_sample_end__"


class Monitor:
    """One psql session held for the whole storm: a direct storm's logins take every connection slot for
    moments at a time, and a monitor that logged in anew each second would then read nothing."""

    def __init__(self, port, database, user):
        self.args = ["psql", "-X", "-q", "-A", "-F", "|", "-P", "footer=off", "-h", "127.0.0.1", "-p", str(port),
                     "-U", user, "-d", database]
        self.process = None

    async def start(self):
        self.process = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        return self

    async def query(self, sql):
        """The output of `sql` (header line first), or None once the session is gone."""
        if self.process is None or self.process.returncode is not None:
            return None
        self.process.stdin.write(f"{sql};\n\\echo {END}\n".encode())
        await self.process.stdin.drain()
        lines = []
        while (line := await self.process.stdout.readline()):
            text = line.decode().rstrip("\n")
            if text == END:
                return "\n".join(lines)
            lines.append(text)
        return None

    async def close(self):
        if self.process is not None and self.process.returncode is None:
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:
                self.process.kill()


async def server_connections(monitor):
    """The application role's connections as the database counts them, or None when unreadable."""
    out = await monitor.query(SERVER_COUNT)
    lines = (out or "").splitlines()
    return int(lines[-1]) if len(lines) >= 2 and lines[-1].isdigit() else None


async def pools(monitor):
    return parse_show_pools(await monitor.query("SHOW POOLS") or "")
