"""Security invariant of the functions' environment: it carries no secrets.

Environment variables are visible to anyone who can read the function's
configuration, so no name looks like a secret, no value looks like a
credential or comes from a secret config key, and `DB_SECRET_ARN` (like any
`*_SECRET_ARN`) is the secret's ARN (a reference to an ARN output), never
its value."""

from __future__ import annotations

import re

from ..context import Context
from ..expressions import whole_reference
from ..mutation import Mutation, env

SECRET_VALUE_PATTERNS = (
    re.compile(r"://[^/\s:@]+:[^@\s]+@"),  # URL with user:password@
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
)


def check_function_environment(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:lambda:Function"):
        variables = ((ctx.props(name).get("environment") or {}).get("variables")) or {}
        if not isinstance(variables, dict):
            continue
        for key, value in variables.items():
            where = f"resources.{name}.environment.variables.{key}"
            upper = str(key).upper()
            if str(key).endswith("_SECRET_ARN"):
                path = whole_reference(value)
                if path is not None:
                    target = ctx.resolve_variable_path(path)
                    if not str(target[-1]).lower().endswith("arn"):
                        ctx.err("secret-env", where, "must reference an ARN output (e.g. ...secretArn)")
                elif not (isinstance(value, str) and value.startswith("arn:")):
                    ctx.err("secret-env", where, "must be the secret's ARN, never its value")
                continue
            if "PASSWORD" in upper or "SECRET" in upper or "TOKEN" in upper:
                ctx.err("secret-env", where, "secret-looking variable name; pass an ARN and fetch at runtime")
                continue
            for v in ctx.possible_values(value):
                if isinstance(v, str) and any(p.search(v) for p in SECRET_VALUE_PATTERNS):
                    ctx.err("secret-env", where, "value looks like a credential")
            path = whole_reference(value)
            if path is not None:
                key_name = ctx.config_key(path[0])
                if key_name and ctx.config[key_name].get("secret"):
                    ctx.err("secret-env", where, f"config {key_name!r} is secret and must not become a plain env var")


RULES = (check_function_environment,)

MUTATIONS = (
    Mutation("secret value in an env var", "secret-env", lambda d, s: env(d).update(DB_PASSWORD="hunter2")),
    Mutation(
        "connection string with password in an env var",
        "secret-env",
        lambda d, s: env(d).update(DATABASE_URL="postgres://app:hunter2@db/libris"),
    ),
    Mutation(
        "DB_SECRET_ARN not an ARN",
        "secret-env",
        lambda d, s: env(d, "migrateFunction").update(DB_SECRET_ARN="libris-db-secret"),
    ),
    Mutation(
        "DB_SECRET_ARN referencing a non-ARN output",
        "secret-env",
        lambda d, s: env(d).update(DB_SECRET_ARN="${dbCluster.masterUsername}"),
    ),
)
