"""Who each function is: its own IAM role, granting what that function uses, and its own database user.

Each Lambda function has an execution role of its own (a shared role gives
the API the migrator's rights); the secrets a role may read or write are
the ones its function's environment names (`*_SECRET_ARN`) and the database
user it may log in as with IAM is its `DB_USER`; the API function does not
log in as the master user (the migrator, which owns the schema); and every
secret a function logs in with is registered with RDS Proxy, which refuses
users it has no secret for."""

from __future__ import annotations

import typing

from ..context import Context
from ..expressions import whole_reference
from ..mutation import Mutation, env, props, statement


def role_of(ctx: Context, function: str) -> str | None:
    """The aws:iam:Role resource a function's `role: ${X.arn}` names."""
    path = whole_reference(ctx.props(function).get("role"))
    if path is None or len(path) != 2 or path[1] != "arn":
        return None
    return path[0] if path[0] in dict(ctx.of_type("aws:iam:Role")) else None


def statements_of_role(ctx: Context, role: str) -> list[tuple[str, dict]]:
    """(where, statement) of every inline policy (RolePolicy or inlinePolicies) of `role`."""
    found = []
    documents = []
    for name, _ in ctx.of_type("aws:iam:RolePolicy"):
        target = whole_reference(ctx.props(name).get("role"))
        if target is not None and target[0] == role:
            documents.append((f"resources.{name}.policy", ctx.props(name).get("policy")))
    for i, inline in enumerate(ctx.props(role).get("inlinePolicies") or []):
        if isinstance(inline, dict):
            documents.append((f"resources.{role}.inlinePolicies[{i}].policy", inline.get("policy")))
    for where, policy in documents:
        document = policy.get("fn::toJSON") if isinstance(policy, dict) else None
        statements = document.get("Statement") if isinstance(document, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        for i, st in enumerate(statements or []):
            if isinstance(st, dict) and st.get("Effect", "Allow") == "Allow":
                found.append((f"{where}.Statement[{i}]", st))
    return found


def as_list(value: typing.Any) -> list:
    return value if isinstance(value, list) else [value]


def function_env(ctx: Context, function: str) -> dict:
    variables = ((ctx.props(function).get("environment") or {}).get("variables")) or {}
    return variables if isinstance(variables, dict) else {}


def check_roles_not_shared(ctx: Context) -> None:
    users: dict[str, list[str]] = {}
    for name, _ in ctx.of_type("aws:lambda:Function"):
        role = role_of(ctx, name)
        if role is None:
            ctx.err("iam-role", f"resources.{name}.role", "must be ${<an aws:iam:Role of this stack>.arn}")
            continue
        users.setdefault(role, []).append(name)
    for name, _ in ctx.of_type("aws:rds:Proxy"):
        path = whole_reference(ctx.props(name).get("roleArn"))
        if path is not None and path[0] in users:
            users[path[0]].append(name)
    for role, holders in users.items():
        if len(holders) > 1:
            ctx.err(
                "iam-role",
                f"resources.{role}",
                f"shared by {', '.join(holders)}: give each function a role with only what it uses",
            )


def check_grants_match_function(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:lambda:Function"):
        role = role_of(ctx, name)
        if role is None:
            continue
        variables = function_env(ctx, name)
        secrets = {ctx.canonical(v) for k, v in variables.items() if str(k).endswith("_SECRET_ARN")}
        user = ctx.canonical(variables.get("DB_USER"))
        for where, st in statements_of_role(ctx, role):
            actions = [str(a).lower() for a in as_list(st.get("Action", []))]
            resources = as_list(st.get("Resource", []))
            if any(a.startswith("secretsmanager:") for a in actions):
                for res in resources:
                    if ctx.canonical(res) not in secrets:
                        ctx.err(
                            "iam-scope",
                            where,
                            f"{role} ({name}'s role) may use secret {res} that {name}'s environment does not name",
                        )
            if "rds-db:connect" in actions:
                for res in resources:
                    granted = ctx.canonical(str(res).rsplit("/", 1)[-1])
                    if granted != user:
                        ctx.err(
                            "iam-scope",
                            where,
                            f"{role} may log in as {granted!r}, but {name} logs in as DB_USER {user!r}",
                        )


def check_database_users(ctx: Context) -> None:
    masters = {ctx.canonical(ctx.props(c).get("masterUsername")) for c, _ in ctx.of_type("aws:rds:Cluster")}
    registered = set()
    for proxy, _ in ctx.of_type("aws:rds:Proxy"):
        for auth in ctx.props(proxy).get("auths") or []:
            if isinstance(auth, dict):
                registered.add(ctx.canonical(auth.get("secretArn")))
    for name, _ in ctx.of_type("aws:lambda:Function"):
        variables = function_env(ctx, name)
        where = f"resources.{name}.environment.variables"
        api = variables.get("LIBRIS_LAMBDA_MODE", "api") == "api"
        if api and ctx.canonical(variables.get("DB_USER")) in masters:
            ctx.err(
                "db-role",
                f"{where}.DB_USER",
                "the API logs in as the application user (dbAppUsername), never the master user that owns the schema",
            )
        secret = variables.get("DB_SECRET_ARN")
        if secret is not None and registered and ctx.canonical(secret) not in registered:
            ctx.err(
                "db-role", f"{where}.DB_SECRET_ARN", "this secret is not in the proxy's auths; the proxy refuses it"
            )


RULES = (check_roles_not_shared, check_grants_match_function, check_database_users)


def _app_secret_statement(doc: dict) -> dict:
    return statement(doc, "apiAccessPolicy", "ReadDatabaseSecret")


MUTATIONS = (
    Mutation(
        "both functions on one role",
        "iam-role",
        lambda d, s: props(d, "migrateFunction").update(role="${apiRole.arn}"),
    ),
    Mutation(
        "the API's role may read the migrator's secret",
        "iam-scope",
        lambda d, s: _app_secret_statement(d).update(Resource=["${appDbSecret.arn}", "${dbSecretArn}"]),
    ),
    Mutation(
        "the API's role may log in as the master user",
        "iam-scope",
        lambda d, s: statement(d, "apiAccessPolicy", "ConnectThroughProxyWithIamToken").update(
            Resource="arn:${partition}:rds-db:${region}:${accountId}:dbuser:${proxyResourceId}/${dbMasterUsername}"
        ),
    ),
    Mutation(
        "the API logs in as the master user",
        "db-role",
        lambda d, s: env(d).update(DB_USER="${dbMasterUsername}", DB_SECRET_ARN="${dbSecretArn}"),
    ),
    Mutation(
        "the application user's secret not registered with the proxy",
        "db-role",
        lambda d, s: props(d, "dbProxy")["auths"].pop(),
    ),
)
