"""The stack's configuration, rehearsed: the release `bootstrap` under the Runtime API emulator with each
function's environment rendered from infra/Pulumi.yaml and its parts, against the stand-ins of
rehearsal_aws.py. A deploy's order: the migration function runs with the deploy's payload (migrates, sets
up the application role and fills its secret), the proxy picks the new login up, then the API cold-starts,
serves a public read and takes a write with a Cognito access token.

Then the seeded mistakes, which prove that the rehearsal fails a stack that forgets a setting: each
setting the code requires (infra/required-settings.json) is dropped from the rendered environment in turn
and the cold start must report it through /init/error; with DB_NAME dropped (not required, the driver
falls back to the user's name) the public read must fail; and the API given the migrator's secret must fail
the check that it works as the application user.

usage: python3 -m libris_tools.checks.rehearsal_scenario BOOTSTRAP FIXTURES_DIR WORKDIR   (the venv's python)
"""

import base64
import json
import os
import sys
import time

from libris_tools import db, urls
from libris_tools.checks.rehearsal_aws import StandInAws, login_of, required_settings
from libris_tools.local.lambda_emulator import Emulator, response_body

bootstrap, fixtures, workdir = sys.argv[1:4]
failures = []


def check(name, condition, detail=""):
    if condition:
        print(f"ok   {name}", flush=True)
    else:
        failures.append(name)
        print(f"FAIL {name} {str(detail)[:2000]}", flush=True)


def http_event(method, path, body=None, token=None):
    """An HTTP API (payload 2.0, $default stage) event, as the stack's integration sends it."""
    with open(os.path.join(fixtures, "http_v2_default.json")) as f:
        event = json.load(f)
    event.update(rawPath=path, rawQueryString="", queryStringParameters=None, cookies=None)
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"] = {"accept": "application/json", "host": event["headers"]["host"]}
    if body is not None:
        event["headers"]["content-type"] = "application/json"
        event["body"] = base64.b64encode(json.dumps(body).encode()).decode()
        event["isBase64Encoded"] = True
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    return event


def run_migrations(env, payload):
    """One cold start of the migration function and an invocation; (answer, problem)."""
    emulator = Emulator()
    emulator.start(bootstrap, env)
    try:
        kind, answer, _ = emulator.invoke(payload, timeout=120)
    except RuntimeError as error:
        return None, f"{error}; output: {emulator.stop()[-2000:]}"
    emulator.stop()
    return answer, None if kind == "response" else f"the migration function failed: {answer}"


def queried_as(user, since):
    """Whether a session of `user` in the rehearsal's database ran a statement after `since` (epoch seconds):
    the proxy keeps server sessions open between clients, so an older one proves nothing."""
    count = db.psql(aws.server, f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{user}' "
                                f"AND datname = '{aws.database}' AND query_start >= to_timestamp({since})")
    return count not in ("", "0")


def api_problems(env, token):
    """The API's cold start, a public read and a librarian's write, and while it runs, PostgreSQL seeing
    its sessions as the application user; the problems found (none: all well)."""
    emulator, since = Emulator(), time.time()
    started = emulator.start(bootstrap, env)
    try:
        kind, answer, finished = emulator.invoke(http_event("GET", "/books"))
        if answer.get("statusCode") != 200:
            return [f"GET /books (public) answered {answer.get('statusCode')}: {response_body(answer)}"]
        print(f"     cold start and first read: {(finished - started) * 1000:.0f} ms", flush=True)
        kind, answer, _ = emulator.invoke(http_event("POST", "/authors", {"name": "Ursula K. Le Guin"}, token))
        if answer.get("statusCode") != 201:
            return [f"POST /authors with a librarian's access token answered {answer.get('statusCode')}: "
                    f"{response_body(answer)}"]
        author = response_body(answer)
        kind, answer, _ = emulator.invoke(http_event("GET", f"/authors/{author['id']}"))
        if answer.get("statusCode") != 200 or response_body(answer).get("name") != "Ursula K. Le Guin":
            return [f"GET /authors/{author['id']} did not read the write back: {answer}"]
        if not queried_as(aws.app, since):
            return [f"PostgreSQL shows no statement of the application user {aws.app} in {aws.database}"]
        return []
    except RuntimeError as error:
        init = emulator.init_error
        return [f"init error: {init['body'].get('errorMessage')}" if init else str(error)]
    finally:
        emulator.stop()


def init_error_of(env):
    """The /init/error message of a cold start with `env` (None when it starts)."""
    emulator = Emulator()
    emulator.start(bootstrap, env)
    try:
        error = emulator.wait_init_error(timeout=15)
        return error["body"].get("errorMessage", "") if error else None
    finally:
        emulator.stop()


aws = StandInAws(workdir)
try:
    aws.start()
    functions = aws.functions()
    migrate_env, api_env = aws.environment(functions["migrate"]), aws.environment(functions["api"])
    print(f"     rendered {functions['migrate']}: {sorted(k for k in migrate_env if k not in aws.local_settings())}")
    print(f"     rendered {functions['api']}: {sorted(k for k in api_env if k not in aws.local_settings())}")

    # 1. The deploy runs the migration function through the proxy, as the migrator.
    payload = aws.deploy_payload()
    answer, problem = run_migrations(migrate_env, payload)
    check(f"the migration function, invoked with the deploy's payload {payload}, applies the schema",
          problem is None and answer.get("applied"), problem or answer)
    secret = aws.app_secret()
    check("it filled the application user's empty secret with a login for DB_APP_USER",
          secret is not None and secret.get("username") == aws.app and len(secret.get("password", "")) >= 20,
          secret and {"username": secret.get("username")})
    server = urls.with_database(aws.server, aws.database)
    role = db.psql(server, f"SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                           f"WHERE rolname = '{aws.app}'")
    owned = db.psql(server, f"SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                            f"WHERE r.rolname = '{aws.app}'")
    check("and set up the application role: it logs in, owns nothing, no superuser, CREATEROLE or CREATEDB",
          role == "t|f|f|f" and owned == "0", f"role {role!r}, owns {owned}")
    answer, problem = run_migrations(migrate_env, payload)
    check("a second deploy's run applies nothing and keeps the secret",
          problem is None and answer.get("applied") == [] and aws.app_secret() == secret, problem or answer)

    # 2. The proxy follows the secrets it names, as RDS Proxy does: now it has the application user's login.
    logins = aws.proxy_logins()
    aws.proxy.set_logins(logins)
    check("the proxy's auths name the application user's secret", api_env["DB_USER"] in logins, sorted(logins))

    # 3. The API through the proxy, TLS verify-full, as the application user, tokens from Cognito.
    librarian, _, _ = aws.cognito.user("librarian", ["librarians"])
    problems = api_problems(api_env, librarian)
    check("the API cold-starts, serves a public read and takes a write with a Cognito access token, its "
          "sessions in PostgreSQL the application user's", not problems, problems)

    # 4. Seeded mistakes: a stack that forgets a setting fails the rehearsal.
    for mode, env in (("migrate", migrate_env), ("api", api_env)):
        for name in sorted(required_settings(mode, login_of(env))):
            forgotten = {k: v for k, v in env.items() if k != name}
            message = init_error_of(forgotten)
            check(f"seeded mistake: without {name} the {mode} function's cold start fails, naming it",
                  message is not None and name in message, message)
    started = time.monotonic()
    problems = api_problems({k: v for k, v in api_env.items() if k != "DB_NAME"}, librarian)
    check("seeded mistake: without DB_NAME (not required) the API's public read fails",
          problems and "GET /books" in problems[0], problems)
    print(f"     (that took {time.monotonic() - started:.1f} s)")
    problems = api_problems({**api_env, "DB_SECRET_ARN": migrate_env["DB_SECRET_ARN"]}, librarian)
    check("seeded mistake: the API given the migrator's secret works, but not as the application user",
          problems and "no statement of the application user" in problems[0], problems)
finally:
    aws.stop()

print(f"rehearsal: {'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}")
sys.exit(1 if failures else 0)
