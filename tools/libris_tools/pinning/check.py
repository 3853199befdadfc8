"""`mark` and `verify`: where the server log ends now, and whether anything since then pins a session.

The log. With this machine's settings (log_destination = stderr, logging_collector = off), PostgreSQL writes
to its stderr, which Debian's pg_ctlcluster sends to /var/log/postgresql/postgresql-15-main.log. `mark` finds
the file from the server itself: with the collector on, pg_current_logfile('stderr'); with it off, the file
the postmaster's stderr (/proc/PID/fd/2) is open on, else pg_lsclusters' log column. PINNING_CHECK_LOG=/path
overrides. The marker is `pglog:INODE:OFFSET:PATH`; verify reads from there on, following a logrotate
copytruncate (PATH.1) if the file was rotated meanwhile.

Exit status of verify: 0 clean, 1 pinning found or no statement seen, 2 the check itself could not run.
"""

import os
import re
import shutil
import sys
from pathlib import Path

from .. import procs
from ..log import Failure
from . import logparse, sqlscan

PG_PORT = 5432


def note(message):
    print(f"pinning-check: {message}", file=sys.stderr)


def pg_admin(sql):
    cmd = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
           str(PG_PORT), "-U", "postgres", "-d", "postgres", "-c", sql]
    result = procs.run(cmd, capture=True, check=False)
    if result.returncode != 0:
        raise Failure(f"cannot query PostgreSQL on 127.0.0.1:{PG_PORT} as postgres", 2)
    return result.stdout.rstrip("\n")


def find_log_file():
    """The file PostgreSQL writes its stderr log to now."""
    if os.environ.get("PINNING_CHECK_LOG"):
        return os.environ["PINNING_CHECK_LOG"]
    dest, collector, datadir, current = pg_admin(
        "SELECT current_setting('log_destination'), current_setting('logging_collector'), "
        "current_setting('data_directory'), coalesce(pg_current_logfile('stderr'), '')").split("\t")
    if "stderr" not in dest.replace(" ", "").split(","):
        raise Failure(f"log_destination is '{dest}'; this check reads the stderr log format, so it must include stderr", 2)
    if collector == "on":
        if not current:
            raise Failure("logging_collector is on but pg_current_logfile('stderr') is empty", 2)
        return current if current.startswith("/") else f"{datadir}/{current}"
    pid = ""
    try:
        pid = Path(datadir, "postmaster.pid").read_text().splitlines()[0]
        file = os.readlink(f"/proc/{pid}/fd/2")
        if os.path.isfile(file):
            return file
    except (OSError, IndexError):
        pass
    if shutil.which("pg_lsclusters"):
        for line in procs.output(["pg_lsclusters", "--no-header"], check=False).splitlines():
            cols = line.split()
            if len(cols) >= 7 and cols[2] == str(PG_PORT) and cols[5] == datadir and os.path.isfile(cols[6]):
                return cols[6]
    raise Failure(f"cannot find PostgreSQL's log file (collector off, stderr of postmaster {pid} unknown); "
                  "set PINNING_CHECK_LOG", 2)


def mark():
    file = find_log_file()
    if not os.access(file, os.R_OK):
        raise Failure(f"cannot read the PostgreSQL log {file} (run as root or as a member of group adm)", 2)
    st = os.stat(file)
    return f"pglog:{st.st_ino}:{st.st_size}:{file}"


def parse_marker(marker):
    m = re.fullmatch(r"pglog:([0-9]+):([0-9]+):(/.+)", marker or "")
    if not m:
        raise Failure(f"verify needs a marker from 'pinning-check mark' (pglog:INODE:OFFSET:PATH), got '{marker}'", 2)
    return int(m.group(1)), int(m.group(2)), m.group(3)


def _read_from(path, start):
    with open(path, "rb") as f:
        f.seek(start)
        return f.read()


def since_marker(inode, offset, path, current):
    """The log's bytes written since the marker, across a rotation."""
    try:
        st = os.stat(path)
    except OSError as error:
        raise Failure(f"cannot read {path}: {error}", 2) from error
    if st.st_ino == inode and st.st_size >= offset:
        data = _read_from(path, offset)
    else:
        # Rotated since the marker: a rename leaves the old inode at PATH.1; logrotate's copytruncate
        # (Debian's postgresql-common) copies it to PATH.1 and truncates PATH.
        old = path + ".1"
        if os.path.exists(old) and (os.stat(old).st_ino == inode or os.stat(old).st_size >= offset):
            note(f"{path} was rotated since the marker; reading {old} from the marker on, then {path}")
            data = _read_from(old, offset) + _read_from(path, 0)
        else:
            note(f"warning: {path} was rotated or truncated since the marker and its old part is gone; reading all of it")
            data = _read_from(path, 0)
    if current != path and os.path.exists(current):
        note(f"warning: the server now logs to {current}; reading it whole too (files in between are not read)")
        data += _read_from(current, 0)
    return data


def report(data, prefix, role, only_db=""):
    """(exit status, output lines) of checking the log bytes `data` for `role`'s statements."""
    counted = pinning = syncs = checks = 0
    lines = []
    for entry, sql, name in logparse.statements(logparse.entries(data, logparse.prefix_regex(prefix)), role, only_db):
        if name is None and sqlscan.is_pgbouncer_sync(sql):
            syncs += 1
            continue
        if name is None and sqlscan.is_pgbouncer_health_check(sql):
            checks += 1
            continue
        counted += 1
        reasons = sqlscan.statement_reasons(sql)
        if reasons:
            pinning += 1
            first = entry.lines[0]
            shown = first if len(first) <= 500 else first[:500] + "…"
            more = f" (+{len(entry.lines) - 1} more lines)" if len(entry.lines) > 1 else ""
            lines.append(f"pinning-check: PINNING [{', '.join(dict.fromkeys(reasons))}]: {shown}{more}")
    where = f" in database {only_db}" if only_db else ""
    ignored = f" (ignored: {syncs} PgBouncer parameter syncs, {checks} PgBouncer health checks)" if syncs or checks else ""
    lines.append(f"pinning-check: {counted} statements from {role}{where}, {pinning} pinning{ignored}")
    if counted == 0:
        lines.append(f"pinning-check: FAIL: no statement from {role}{where} was logged since the marker, so nothing "
                     f"was checked (is log_statement = 'all' set for the role, and did the tests go through PgBouncer?)")
        return 1, lines
    return (1 if pinning else 0), lines


def verify(marker, role=None, only_db=None):
    """(exit status, output lines) of `verify MARKER`."""
    inode, offset, path = parse_marker(marker)
    role = role or os.environ.get("PINNING_CHECK_USER") or "libris_proxy"
    only_db = os.environ.get("PINNING_CHECK_DATABASE", "") if only_db is None else only_db
    prefix = pg_admin("SELECT current_setting('log_line_prefix')")
    data = since_marker(inode, offset, path, find_log_file())
    return report(data, prefix, role, only_db)


def main(argv):
    command = argv[0] if argv else ""
    if command == "mark":
        print(mark())
        return 0
    if command == "verify":
        status, lines = verify(argv[1] if len(argv) > 1 else "")
        print("\n".join(lines))
        return status
    if command == "self-test":
        from . import selftest

        return selftest.main()
    print("usage: pinning-check mark | verify MARKER | self-test", file=sys.stderr)
    return 2
