"""End-to-end: the release `bootstrap` under the Runtime API emulator, against PostgreSQL, with callers
authenticated by user-pool tokens of a Cognito emulated by moto.

usage: python3 -m libris_tools.checks.lambda_scenario BOOTSTRAP DATABASE_URL FIXTURES_DIR   (run with the project venv's python)
"""

import base64
import copy
import json
import os
import sys

from libris_tools.local.cognito import LocalCognito, moto_server  # noqa: E402
from libris_tools.local.lambda_emulator import Emulator, response_body as body_of  # noqa: E402

bootstrap, database_url, fixtures = sys.argv[1:4]
failures = []
passed = 0


def fixture(name):
    with open(os.path.join(fixtures, f"{name}.json")) as f:
        return json.load(f)


def check(name, condition, detail=""):
    global passed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failures.append(name)
        print(f"FAIL {name} {detail}")


def header(answer, name):
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (answer.get("multiValueHeaders") or {}).items()}
    return headers.get(name) or (multi.get(name) or [None])[0]


# The local PostgreSQL has no certificate the function could verify; in AWS only verify-full is accepted.
LOCAL_DB = {"DB_TLS_ALLOW_INSECURE": "true"}

# 1. The migration function applies the schema through the same binary.
emulator = Emulator()
emulator.start(bootstrap, {"DATABASE_URL": database_url, **LOCAL_DB, "LIBRIS_LAMBDA_MODE": "migrate"})
kind, answer, _ = emulator.invoke({})
check("migrate function applies the schema", kind == "response" and answer["applied"], answer)
kind, answer, _ = emulator.invoke({})
check("migrate function is idempotent", kind == "response" and answer["applied"] == [], answer)
emulator.stop()

# 2. The API answers REST API (v1, stage prod) and HTTP API (v2) events; writes carry a librarian's
#    Cognito access token, as API Gateway passes it on.
cognito = LocalCognito(moto_server())
librarian, librarian_id_token, _ = cognito.user("librarian", ["librarians"])
borrower, _, _ = cognito.user("ada", ["borrowers"])
emulator = Emulator()
emulator.start(bootstrap, {"DATABASE_URL": database_url, **LOCAL_DB, **cognito.settings()})


def signed(event, token):
    event = copy.deepcopy(event)
    event.setdefault("headers", {})["authorization"] = f"Bearer {token}"
    return event


create = fixture("http_v2_prod_post_base64")
kind, answer, _ = emulator.invoke(create)
check("v2: POST /prod/authors without a token is 401 with a Bearer challenge",
      answer.get("statusCode") == 401 and header(answer, "www-authenticate").startswith("Bearer"), answer)
kind, answer, _ = emulator.invoke(signed(create, borrower))
check("v2: POST /prod/authors with a borrower's Cognito token is 403", answer.get("statusCode") == 403, answer)
create = signed(create, librarian)
kind, answer, _ = emulator.invoke(create)
check("v2 named stage: POST /prod/authors with a base64 body is 201",
      answer.get("statusCode") == 201 and header(answer, "location").startswith("/prod/authors/"), answer)

v2_create_book = copy.deepcopy(create)
v2_create_book["rawPath"] = "/prod/books"
v2_create_book["requestContext"]["http"]["path"] = "/prod/books"
v2_create_book["body"] = base64.b64encode(json.dumps({"title": "Kindred", "author_ids": [1]}).encode()).decode()
kind, answer, _ = emulator.invoke(v2_create_book)
book = body_of(answer)
check("v2: POST /prod/books is 201", answer.get("statusCode") == 201 and book["title"] == "Kindred", answer)
by_id_token = signed(v2_create_book, librarian_id_token)
by_id_token["body"] = base64.b64encode(json.dumps({"title": "Dawn", "author_ids": [1]}).encode()).decode()
kind, answer, _ = emulator.invoke(by_id_token)
check("v2: a librarian's Cognito ID token is refused (access tokens only unless LIBRIS_AUTH_ALLOW_ID_TOKENS)",
      answer.get("statusCode") == 401, answer)

rest = fixture("rest_v1_prod")
rest["path"] = f"/books/{book['id']}"
kind, answer, _ = emulator.invoke(rest)
check("v1 stage prod: GET /books/{id} is 200 with the book",
      answer.get("statusCode") == 200 and body_of(answer)["authors"][0]["name"] == "Octavia E. Butler", answer)

docs = fixture("rest_v1_prod")
docs["path"] = "/openapi.json"
kind, answer, _ = emulator.invoke(docs)
check("v1 stage prod: the spec's server is /prod", body_of(answer)["servers"] == [{"url": "/prod"}], answer)

listing = fixture("http_v2_default")
listing["rawQueryString"] = "q=kin"
listing["queryStringParameters"] = {"q": "kin"}
kind, answer, _ = emulator.invoke(listing)
check("v2 $default: GET /books?q=kin finds the book",
      answer.get("statusCode") == 200 and [b["title"] for b in body_of(answer)["items"]] == ["Kindred"], answer)

missing = fixture("rest_v1_prod")
missing["path"] = "/nowhere"
kind, answer, _ = emulator.invoke(missing)
check("v1: an unknown route is a 404 problem",
      answer.get("statusCode") == 404 and header(answer, "content-type") == "application/problem+json", answer)

malformed = copy.deepcopy(create)
malformed["isBase64Encoded"] = False
malformed["body"] = "{\"name\": "
kind, answer, _ = emulator.invoke(malformed)
check("v2: malformed JSON is a 400 problem", answer.get("statusCode") == 400, answer)
log = emulator.stop()
cognito.stop()
check("logs are JSON lines", any(line.startswith("{") for line in log.splitlines()), log[:500])

# 3. A bad configuration is reported through /init/error, not a hang.
emulator = Emulator()
emulator.start(bootstrap, {})
error = emulator.wait_init_error()
check("a missing DB_HOST is reported through /init/error",
      error is not None and "DB_HOST" in error["body"].get("errorMessage", ""), error)
emulator.stop()
emulator = Emulator()
emulator.start(bootstrap, {"DATABASE_URL": database_url, **LOCAL_DB, "LIBRIS_AUTH": "dev"})
error = emulator.wait_init_error()
check("dev mode is refused in Lambda through /init/error",
      error is not None and "LIBRIS_AUTH" in error["body"].get("errorMessage", ""), error)
emulator.stop()

print(f"lambda-e2e: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
