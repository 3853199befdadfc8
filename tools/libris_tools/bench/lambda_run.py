"""Lambda figures (`scripts/bench-lambda [COLD_RUNS] [WARM_INVOCATIONS]`): cold start (process start to first
response, GET /books/1, cold database connection), warm latency and peak RSS under the Runtime API emulator,
with and without TLS to PostgreSQL, plus the stripped binary size, and the handler's own warm latency
in-process (no emulator). Prints JSON; BENCHMARKS.md records the results and the method."""

import sys

from .. import builds, db, paths, procs, urls
from ..local.server import LocalServer


def main(argv):
    cold = argv[0] if argv else "10"
    warm = argv[1] if len(argv) > 1 else "1000"
    db.ensure_servers()
    bootstrap = builds.release_bootstrap()
    with db.scratch_database("libris_bench") as url:
        # Schema and demo data: the local server migrates and seeds on start; stop it once it answers.
        procs.cargo("build", "--workspace", "--bins", "--examples")
        seeder = LocalServer(str(paths.target_dir() / "debug" / "libris"), {**paths.tool_env(), "DATABASE_URL": url})
        seeder.start(timeout=60)
        seeder.stop()
        print(f"binary: {bootstrap.stat().st_size} bytes (stripped, release profile: LTO, 1 codegen unit, panic=abort)",
              flush=True)
        for mode in ("require", "disable"):
            print(f"sslmode={mode}", flush=True)
            procs.run([sys.executable, "-m", "libris_tools.bench.lambda_figures", bootstrap,
                       urls.with_query(url, f"sslmode={mode}"), paths.ROOT / "lambda/tests/events/fixtures", cold, warm])
        # The handler alone, in-process: the warm figures above include the emulator's two HTTP exchanges per event.
        procs.run(["cargo", "build", "--locked", "--release", "-p", "lambda", "--example", "warm_handler"],
                  env=builds.bootstrap_env())
        print(f"in-process handler (sslmode=require), {warm} invocations per path:", flush=True)
        env = {**paths.tool_env(), "DATABASE_URL": urls.with_query(url, "sslmode=require"),
               "DB_TLS_ALLOW_INSECURE": "true", "LIBRIS_AUTH": "jwt",
               "LIBRIS_AUTH_ISSUER": "https://issuer.example", "LIBRIS_AUTH_AUDIENCE": "libris"}
        procs.run([builds.bootstrap_target() / "release/examples/warm_handler",
                   paths.ROOT / "lambda/tests/events/fixtures/http_v2_default.json", warm], env=env)
    return 0
