"""The stack's configuration, rehearsed (issue 19, requirement 5): the release bootstrap run with the
environment each function gets from infra/Pulumi.yaml, against local stand-ins for AWS: moto's Secrets
Manager and Cognito, PgBouncer with TLS as RDS Proxy, a fresh database and roles on the local PostgreSQL.
`tools/run rehearsal [BOOTSTRAP]`: without one, builds the release bootstrap first. The stand-ins are in
rehearsal_aws.py, the checks and their seeded mistakes in rehearsal_scenario.py."""

import tempfile

from .. import builds, db, paths, pgbouncer_build, procs, venv


def main(argv):
    bootstrap = argv[0] if argv else builds.release_bootstrap()
    python = venv.python()  # boto3, moto's server, PyYAML and cryptography
    pgbouncer_build.ensure()
    db.ensure_postgres()
    env = {**paths.tool_env(), "MOTO_SERVER": str(venv.bin_path("moto_server"))}
    with tempfile.TemporaryDirectory(prefix="libris-rehearsal.") as workdir:
        procs.run([python, "-m", "libris_tools.checks.rehearsal_scenario", bootstrap,
                   paths.ROOT / "lambda/tests/events/fixtures", workdir], env=env)
    return 0
