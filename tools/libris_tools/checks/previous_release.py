"""The previous release's API tests against the new schema (issue 19, requirement 7: expand before contract).

While a deploy rolls out, and for as long as a failed deploy leaves it so, the previous function version
serves requests against the schema the new release migrated to (infra/docs/migrations.md). So the
previous release's own API tests must pass on that schema. This check:

  1. extracts the release pinned in migration/PREVIOUS_RELEASE from git (`git archive`, once per commit, into
     the build directory) and builds its API tests in a target directory of their own (their binaries must
     not replace this tree's; after the first run they are up to date and nothing compiles);
  2. starts a private PostgreSQL cluster (local/cluster.py) and migrates its `template1` with THIS tree's
     migrations, so every database the old test kit creates starts with the new schema; the rows of the
     migrations the old release does not know are taken out of that template's `seaql_migrations`, so the
     old migrator finds its own applied and changes nothing (a migration of the old release missing here
     fails the check: applied migrations are never removed or renamed);
  3. runs the old release's PostgreSQL API tests there;
  4. seeds a contracting change (a column the old code reads renamed) into the template and runs a few of
     the old tests again: they must fail, or the check proves nothing.

`tools/run previous-release-check`.
"""

import re
import subprocess
import tarfile
import tempfile
import time

from .. import builds, db, paths, procs
from ..local.cluster import PrivateCluster
from ..log import Failure, log

PIN_FILE = paths.ROOT / "migration" / "PREVIOUS_RELEASE"
# The old tests that run (the suite's PostgreSQL filter), and the few that must fail on the seeded mistake.
FILTER = "postgres"
SEEDED_FILTER = "catalogue::via::postgres::authors"
SEEDED_MISTAKE = "ALTER TABLE authors RENAME COLUMN name TO full_name"


def pinned_commit(text=None):
    """The commit in migration/PREVIOUS_RELEASE: its one line that is not a comment."""
    text = PIN_FILE.read_text() if text is None else text
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1 or not re.fullmatch(r"[0-9a-f]{40}", lines[0]):
        raise Failure(f"{PIN_FILE} must hold one full commit id (40 hex digits) besides its comments")
    return lines[0]


def home():
    return paths.target_dir() / "previous-release"


def source_tree(commit):
    """The commit's files, extracted once into the build directory (a stable path keeps cargo's cache valid)."""
    tree = home() / commit[:12]
    if (tree / ".extracted").exists():
        return tree
    if subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=paths.ROOT).returncode != 0:
        raise Failure(f"commit {commit} (migration/PREVIOUS_RELEASE) is not in this clone; fetch the full history")
    log(f"extracting the previous release {commit[:12]} into {tree}")
    tree.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", commit], cwd=paths.ROOT, stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(tree, filter="data")
    (tree / ".extracted").touch()
    return tree


def migrations_in(tree):
    """The migration names a tree's `migration/src` defines (the versions sea-orm records)."""
    return sorted(p.stem for p in (tree / "migration" / "src").glob("m[0-9]*_*.rs"))


def old_api_tests(tree, filter_, server, check=True):
    """`cargo test --test api FILTER` in the old tree against `server`; its output."""
    env = {**paths.tool_env(), "CARGO_TARGET_DIR": str(home() / "target"), "TEST_POSTGRES_URL": server,
           "CI": "true"}
    cmd = ["nice", "-n", "10", "cargo", "test", "--locked", "--workspace", "--test", "api", "--", filter_]
    result = subprocess.run(cmd, cwd=tree, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and result.returncode != 0:
        raise Failure(f"the previous release's API tests fail against the new schema:\n{result.stdout[-6000:]}")
    return result


def prepare_template(cluster, old):
    """template1 with this tree's schema and only the old release's migrations recorded as applied."""
    template = cluster.url("template1")
    procs.run([builds.debug_binary("migration"), "up"], env={**paths.tool_env(), "DATABASE_URL": template})
    applied = db.psql(template, "SELECT version FROM seaql_migrations ORDER BY version").splitlines()
    missing = sorted(set(old) - set(applied))
    if missing:
        raise Failure(f"the previous release applied migrations this tree no longer has: {missing}; an applied "
                      "migration is never removed or renamed (migration/README.md)")
    newer = sorted(set(applied) - set(old))
    log(f"new schema in template1; the old release knows {len(old)} of its {len(applied)} migrations "
        f"(newer: {', '.join(newer) or 'none'})")
    quoted = ", ".join(f"'{name}'" for name in old)
    db.psql(template, f"DELETE FROM seaql_migrations WHERE version NOT IN ({quoted})")
    return template


def main(argv):
    commit = pinned_commit()
    tree = source_tree(commit)
    started = time.monotonic()
    log(f"building the previous release's API tests ({commit[:12]}, target {home() / 'target'})")
    cmd = ["nice", "-n", "10", "cargo", "test", "--locked", "--workspace", "--test", "api", "--no-run"]
    procs.run(cmd, cwd=tree, env={**paths.tool_env(), "CARGO_TARGET_DIR": str(home() / "target")})
    log(f"built in {time.monotonic() - started:.0f} s")
    with tempfile.TemporaryDirectory(prefix="libris-previous-release.") as workdir:
        with PrivateCluster(workdir) as cluster:
            template = prepare_template(cluster, migrations_in(tree))
            started = time.monotonic()
            result = old_api_tests(tree, FILTER, cluster.url())
            summary = [line for line in result.stdout.splitlines() if line.startswith("test result:")]
            log(f"the previous release's API tests pass on the new schema in {time.monotonic() - started:.0f} s: "
                f"{' '.join(summary)}")
            db.psql(template, SEEDED_MISTAKE)
            seeded = old_api_tests(tree, f"{SEEDED_FILTER}", cluster.url(), check=False)
            if seeded.returncode == 0 or "test result: FAILED" not in seeded.stdout:
                raise Failure(f"self-test: after the seeded contracting change `{SEEDED_MISTAKE}` the old "
                              f"'{SEEDED_FILTER}' tests still pass, so this check could not catch one:\n"
                              f"{seeded.stdout[-3000:]}")
            failed = [line for line in seeded.stdout.splitlines() if line.startswith("test result:")]
            log(f"self-test: with `{SEEDED_MISTAKE}` the old '{SEEDED_FILTER}' tests fail, as they must: "
                f"{' '.join(failed)}")
    return 0
