"""Proves `sea-orm-cli migrate up|status|down|fresh|refresh` work from the repository root against a fresh
PostgreSQL database (the URL given, or a new randomly named one that is dropped afterwards): each step leaves
the expected migrations applied, `down` all the way leaves no table but seaql_migrations, and `refresh`
rebuilds exactly the tables `up` made."""

import contextlib
import re
import subprocess
import sys

from .. import db, paths
from ..log import Failure

def count_applied(status_output):
    """How many migrations `sea-orm-cli migrate status` lists as applied."""
    return len(re.findall(r"\.\.\. Applied", status_output))


def tables(url):
    """The names of the tables in the public schema."""
    listed = db.psql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    return set(listed.split())


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
        schema = tables(url)
        if "seaql_migrations" not in schema or len(schema) < 2:
            raise Failure(f"after up, the schema has only {sorted(schema)}")
        sea_orm_cli(env, "down")
        expect(total - 1, "down (exactly the last one undone)")
        sea_orm_cli(env, "down", "-n", str(total))
        expect(0, f"down -n {total}")
        if tables(url) != {"seaql_migrations"}:
            raise Failure(f"after down -n {total}, tables remain: {sorted(tables(url) - {'seaql_migrations'})}")
        sea_orm_cli(env, "fresh")
        sea_orm_cli(env, "refresh")
        expect(total, "refresh")
        if tables(url) != schema:
            raise Failure(f"after refresh the tables differ from after up: {sorted(tables(url) ^ schema)}")
    print("migrate-cli-check: 1 passed, 0 failed")
    return 0
