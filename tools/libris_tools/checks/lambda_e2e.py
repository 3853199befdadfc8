"""End-to-end test of a `bootstrap` under the Lambda Runtime API emulator, against a fresh PostgreSQL
database (created here, dropped afterwards). `scripts/lambda-e2e [BOOTSTRAP]`: without one, builds the
release bootstrap (after the driver check) and tests that. The scenario is checks/lambda_scenario.py."""

from .. import builds, db, paths, procs, venv


def main(argv):
    bootstrap = argv[0] if argv else builds.release_bootstrap()
    python = venv.python()  # boto3 and moto's server for the emulated Cognito
    env = {**paths.tool_env(), "MOTO_SERVER": str(venv.bin_path("moto_server"))}
    with db.scratch_database("libris_lambda") as url:
        procs.run([python, "-m", "libris_tools.checks.lambda_scenario", bootstrap, url,
                   paths.ROOT / "lambda/tests/events/fixtures"], env=env)
    return 0
