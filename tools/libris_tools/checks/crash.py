"""Crash safety: SIGKILL the local server mid-load on PostgreSQL, restart it, check the data
(the load and the checks are checks/crash_load.py)."""

from .. import builds, db, procs


def main(argv):
    binary = builds.server()
    with db.scratch_database("libris_crash") as url:
        procs.run(["python3", "-m", "libris_tools.checks.crash_load", binary, url])
    return 0
