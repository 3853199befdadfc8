"""The stack wired the way the app needs it: a stack can name every resource right and still mean the wrong thing.

- `DB_HOST` of each function is the RDS Proxy's endpoint, not the cluster's
  (which would bypass the pool and the proxy's TLS and auth).
- The JWT authorizer's audience is the app client's id (not the pool's), its
  issuer that client's pool's issuer URL, and the API function checks tokens
  against the same issuer and audience.
- Each function's environment has every setting the Rust configuration
  cannot start without in its mode (from infra/required-settings.json, which
  a test in lambda/ derives from the configuration) and none of the
  variables Lambda reserves (AWS refuses them).
- Every route without the authorizer reaches only operations the app's spec
  declares public.
- A function behind an HTTP API integration times out before the
  integration does (else API Gateway answers 503 while the function still
  runs and the caller cannot tell whether the write happened)."""

from __future__ import annotations

import re
import typing

from ..app_contract import LAMBDA_RESERVED
from ..context import Context
from ..mutation import Mutation, env, props

ISSUER = re.compile(r"^https://cognito-idp\.\$\{[^}]+\}\.amazonaws\.com/\$\{(?P<pool>[A-Za-z0-9_]+)\.id\}$")


def functions(ctx: Context) -> list[tuple[str, dict]]:
    out = []
    for name, _ in ctx.of_type("aws:lambda:Function"):
        variables = ((ctx.props(name).get("environment") or {}).get("variables")) or {}
        out.append((name, variables if isinstance(variables, dict) else {}))
    return out


def check_db_host(ctx: Context) -> None:
    for name, variables in functions(ctx):
        if "DB_HOST" not in variables:
            continue
        target = ctx.referenced_resource(variables["DB_HOST"], "aws:rds:Proxy", "aws:rds:ProxyEndpoint")
        if target is None or target[1] != ["endpoint"]:
            ctx.err(
                "meaning",
                f"resources.{name}.environment.variables.DB_HOST",
                f"{variables['DB_HOST']} is not an RDS Proxy's endpoint; the functions connect through the proxy",
            )


def issuer_pool(ctx: Context, value: typing.Any) -> str | None:
    """The user pool whose issuer URL value is (through variables), if it is one."""
    for text in ctx.possible_values(value):
        match = ISSUER.match(text) if isinstance(text, str) else None
        if match:
            return match.group("pool")
    return None


def check_authorizer(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:apigatewayv2:Authorizer"):
        authorizer = ctx.props(name)
        if authorizer.get("authorizerType") != "JWT":
            continue
        where = f"resources.{name}.jwtConfiguration"
        jwt = authorizer.get("jwtConfiguration") or {}
        audiences = jwt.get("audiences") or []
        client = ctx.referenced_resource(audiences[0], "aws:cognito:UserPoolClient") if len(audiences) == 1 else None
        if client is None or client[1] != ["id"]:
            ctx.err(
                "meaning", f"{where}.audiences", f"{audiences} must be [${{<app client>.id}}], the tokens' audience"
            )
            continue
        pool = issuer_pool(ctx, jwt.get("issuer"))
        client_pool = ctx.referenced_resource(ctx.props(client[0]).get("userPoolId"), "aws:cognito:UserPool")
        if pool is None or client_pool is None or pool != client_pool[0]:
            ctx.err(
                "meaning",
                f"{where}.issuer",
                f"{jwt.get('issuer')} must be https://cognito-idp.<region>.amazonaws.com/${{<pool>.id}} "
                f"of {client[0]}'s pool",
            )
            continue
        for function, variables in functions(ctx):
            if variables.get("LIBRIS_AUTH") != "jwt":
                continue
            checks = (
                (
                    "LIBRIS_AUTH_AUDIENCE",
                    audiences[0],
                    ctx.canonical(variables.get("LIBRIS_AUTH_AUDIENCE")) == ctx.canonical(audiences[0]),
                ),
                (
                    "LIBRIS_AUTH_ISSUER",
                    jwt.get("issuer"),
                    issuer_pool(ctx, variables.get("LIBRIS_AUTH_ISSUER")) == pool,
                ),
            )
            for key, expected, same in checks:
                if key in variables and not same:
                    ctx.err(
                        "meaning",
                        f"resources.{function}.environment.variables.{key}",
                        f"{variables[key]} is not the authorizer's {expected}; the app would refuse "
                        "the tokens API Gateway lets through",
                    )


def check_required_settings(ctx: Context) -> None:
    for problem in ctx.app.problems:
        ctx.err("required-settings", "resources", f"cannot read what the app requires: {problem}")
    for name, variables in functions(ctx):
        where = f"resources.{name}.environment.variables"
        for key in sorted(set(map(str, variables)) & LAMBDA_RESERVED):
            ctx.err("aws-refuses", f"{where}.{key}", "reserved by Lambda; AWS refuses a function that sets it")
        if not ctx.app.modes:
            continue
        switch = variables.get("LIBRIS_LAMBDA_MODE")
        found = ctx.app.mode_of(switch)
        if found is None:
            ctx.err("required-settings", f"{where}.LIBRIS_LAMBDA_MODE", f"{switch!r} is not a mode of the binary")
            continue
        mode, needs = found[0], found[1].needs()
        for key in sorted(needs - set(map(str, variables))):
            ctx.err("required-settings", where, f"missing {key}: the {mode} function cannot start without it")


def route_matches(route_path: str, spec_path: str) -> bool:
    """Whether an HTTP API route path (`{x}` one segment, `{x+}` the rest) can match a spec path."""
    route, spec = route_path.strip("/").split("/"), spec_path.strip("/").split("/")
    for i, part in enumerate(route):
        if part.endswith("+}"):
            return len(spec) > i
        if i >= len(spec):
            return False
        if not part.startswith("{") and not spec[i].startswith("{") and part != spec[i]:
            return False
    return len(route) == len(spec)


def check_routes(ctx: Context) -> None:
    jwt_authorizers = {n for n, _ in ctx.of_type("aws:apigatewayv2:Authorizer")}
    for name, _ in ctx.of_type("aws:apigatewayv2:Route"):
        route = ctx.props(name)
        key = route.get("routeKey")
        if not isinstance(key, str) or " " not in key:
            continue
        method, path = key.split(" ", 1)
        authorizer = ctx.referenced_resource(route.get("authorizerId"), "aws:apigatewayv2:Authorizer")
        if route.get("authorizationType") == "JWT" and authorizer is not None and authorizer[0] in jwt_authorizers:
            continue
        guarded = [
            f"{op.method} {op.path}"
            for op in ctx.app.operations
            if not op.public and method in ("ANY", op.method) and route_matches(path, op.path)
        ]
        if guarded:
            ctx.err(
                "meaning",
                f"resources.{name}",
                f"{key!r} has no JWT authorizer but reaches operations that need a token: {', '.join(guarded[:3])}"
                + (f" and {len(guarded) - 3} more" if len(guarded) > 3 else ""),
            )


def check_timeouts(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:apigatewayv2:Integration"):
        integration = ctx.props(name)
        target = ctx.referenced_resource(integration.get("integrationUri"), "aws:lambda:Function")
        if target is None:
            continue
        limits = ctx.possible_values(integration.get("timeoutMilliseconds", 30000))
        for seconds in ctx.possible_values(ctx.props(target[0]).get("timeout", 3)):
            for limit in limits:
                if isinstance(seconds, int) and isinstance(limit, int) and seconds * 1000 >= limit:
                    ctx.err(
                        "meaning",
                        f"resources.{target[0]}.timeout",
                        f"{seconds} s is not below {name}'s {limit} ms: API Gateway would give up first",
                    )


RULES = (check_db_host, check_authorizer, check_required_settings, check_routes, check_timeouts)


def _public_route(doc: dict, key: str) -> None:
    doc["resources"]["httpApiPublicLoans"] = {
        "type": "aws:apigatewayv2:Route",
        "properties": {
            "apiId": "${httpApi.id}",
            "routeKey": key,
            "target": "integrations/${httpApiIntegration.id}",
        },
    }


def _strip_authorizer(doc: dict, stacks: dict) -> None:
    route = props(doc, "httpApiProxyRoute")
    route.pop("authorizationType")
    route.pop("authorizerId")


MUTATIONS = (
    Mutation(
        "DB_HOST is the cluster's endpoint",
        "meaning",
        lambda d, s: env(d).update(DB_HOST="${dbCluster.endpoint}"),
    ),
    Mutation(
        "the authorizer's audience is the pool id",
        "meaning",
        lambda d, s: props(d, "httpApiJwtAuthorizer")["jwtConfiguration"].update(audiences=["${userPool.id}"]),
    ),
    Mutation(
        "the authorizer's issuer names the app client, not the pool",
        "meaning",
        lambda d, s: props(d, "httpApiJwtAuthorizer")["jwtConfiguration"].update(
            issuer="https://cognito-idp.${region}.amazonaws.com/${appClient.id}"
        ),
    ),
    Mutation(
        "the app checks a different audience than the authorizer",
        "meaning",
        lambda d, s: env(d).update(LIBRIS_AUTH_AUDIENCE="${userPool.id}"),
    ),
    Mutation(
        "LIBRIS_AUTH_ISSUER forgotten",
        "required-settings",
        lambda d, s: env(d).pop("LIBRIS_AUTH_ISSUER"),
    ),
    Mutation(
        "the migration function without DB_HOST",
        "required-settings",
        lambda d, s: env(d, "migrateFunction").pop("DB_HOST"),
    ),
    Mutation(
        "an environment variable Lambda reserves",
        "aws-refuses",
        lambda d, s: env(d).update(AWS_REGION="${region}"),
    ),
    Mutation("the catch-all route without the authorizer", "meaning", _strip_authorizer),
    Mutation(
        "the API function outlasting the integration",
        "meaning",
        lambda d, s: d["config"]["lambdaTimeoutSeconds"].update(default=30),
    ),
    Mutation("a public route to a write", "meaning", lambda d, s: _public_route(d, "POST /loans")),
)
