"""Proves `sea-orm-cli migrate up|status|down|fresh|refresh` work from the repository root against a fresh
PostgreSQL database (the URL given, or a new randomly named one that is dropped afterwards)."""

import contextlib
import re
import subprocess
import sys

from .. import db, paths
from ..log import Failure

TABLES = 8  # 7 tables plus seaql_migrations


def count_applied(status_output):
    """How many migrations `sea-orm-cli migrate status` lists as applied."""
    return len(re.findall(r"\.\.\. Applied", status_output))


def migration_count():
    return len(list((paths.ROOT / "migration" / "src").rglob("m[0-9]*.rs")))


def sea_orm_cli(env, *args):
    result = subprocess.run(["sea-orm-cli", "migrate", *args], cwd=paths.ROOT, env=env, capture_output=True, text=True)
    sys.stderr.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise Failure(f"sea-orm-cli migrate {' '.join(args)} exited with {result.returncode}")
    return result.stdout + result.stderr


def main(argv):
    total = migration_count()
    with contextlib.ExitStack() as stack:
        url = argv[0] if argv else stack.enter_context(db.scratch_database("libris_cli"))
        env = {**paths.tool_env(), "DATABASE_URL": url}

        def expect(count, after):
            applied = count_applied(sea_orm_cli(env, "status"))
            if applied != count:
                raise Failure(f"after {after}, status shows {applied} migrations applied, not {count}")

        sea_orm_cli(env, "up")
        expect(total, "up")
        sea_orm_cli(env, "down")
        expect(total - 1, "down (exactly the last one undone)")
        sea_orm_cli(env, "down", "-n", str(total))
        expect(0, f"down -n {total}")
        sea_orm_cli(env, "fresh")
        sea_orm_cli(env, "refresh")
        expect(total, "refresh")
        tables = int(db.psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
        if tables != TABLES:
            raise Failure(f"expected 7 tables plus seaql_migrations, found {tables}")
    print("migrate-cli-check: 1 passed, 0 failed")
    return 0
