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


async def psql(port, database, user, sql, tuples_only=True):
    args = ["psql", "-X", "-A", "-F", "|", "-P", "footer=off", "-h", "127.0.0.1", "-p", str(port), "-U", user,
            "-d", database, "-c", sql]
    if tuples_only:
        args.insert(1, "-t")
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.DEVNULL)
    out, _ = await process.communicate()
    return out.decode() if process.returncode == 0 else None


async def server_connections(pg_port):
    out = await psql(pg_port, "postgres", "postgres", SERVER_COUNT)
    return int(out.strip()) if out and out.strip().isdigit() else 0


async def pools(bouncer_port):
    out = await psql(bouncer_port, "pgbouncer", "postgres", "SHOW POOLS", tuples_only=False)
    return parse_show_pools(out or "")
