"""Security invariants of IAM: least privilege on the secret, the database login and keys.

Policies are written so they can be read (fn::toJSON or literal JSON); no
statement grants wildcard actions (`*`, `logs:*`, `s3:Get*`) or uses
NotAction/NotResource; `Resource: "*"` only for actions AWS cannot scope to a
resource (X-Ray, ENI management), since for everything else the stack knows
the ARN; statements on secretsmanager, rds-db and kms name their resources
without any `*`, rds-db:connect names `dbuser:<proxy resource id>/<user>`,
kms is limited with kms:ViaService; the Lambda permission is scoped to the
API."""

from __future__ import annotations

import json
import re
import typing

from ..context import Context
from ..expressions import builtin_of
from ..mutation import Mutation, props, statement

SENSITIVE_ACTION = re.compile(r"^(secretsmanager|rds-db|kms):", re.I)
# Actions that take no resource ARN (AWS's service authorization reference
# lists no resource type for them): `Resource: "*"` is the only way to grant them.
UNSCOPABLE_ACTIONS = {
    "xray:puttracesegments",
    "xray:puttelemetryrecords",
    "xray:getsamplingrules",
    "xray:getsamplingtargets",
    "ec2:describenetworkinterfaces",
    "ec2:describesubnets",
    "ec2:describesecuritygroups",
    "ec2:describevpcs",
}


def policy_documents(ctx: Context) -> list[tuple[str, typing.Any]]:
    """(where, policy) of every policy document in the stack."""
    docs = []
    for name, _ in ctx.of_type(
        "aws:iam:RolePolicy", "aws:iam:Policy", "aws:ec2:VpcEndpoint", "aws:iam:UserPolicy", "aws:iam:GroupPolicy"
    ):
        if "policy" in ctx.props(name):
            docs.append((f"resources.{name}.policy", ctx.props(name)["policy"]))
    for name, _ in ctx.of_type("aws:iam:Role"):
        for i, inline in enumerate(ctx.props(name).get("inlinePolicies") or []):
            if isinstance(inline, dict) and "policy" in inline:
                docs.append((f"resources.{name}.inlinePolicies[{i}].policy", inline["policy"]))
    return docs


def check_policies(ctx: Context) -> None:
    for where, raw in policy_documents(ctx):
        fn = builtin_of(raw)
        if fn is not None and fn[0] == "fn::toJSON":
            document = fn[1]
        elif isinstance(raw, str) and "${" not in raw:
            try:
                document = json.loads(raw)
            except ValueError:
                ctx.err("iam", where, "policy is not valid JSON")
                continue
        else:
            ctx.err("iam", where, "write policies with fn::toJSON (or literal JSON) so they can be checked")
            continue
        statements = document.get("Statement") if isinstance(document, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        for i, st in enumerate(statements or []):
            if isinstance(st, dict):
                check_statement(ctx, st, f"{where}.Statement[{i}]")


def check_statement(ctx: Context, st: dict, where: str) -> None:
    actions = st.get("Action", [])
    actions = actions if isinstance(actions, list) else [actions]
    if "NotAction" in st or "NotResource" in st:
        ctx.err("iam", where, "NotAction/NotResource grant too much; list what is allowed")
    if any(a == "*" for a in actions):
        ctx.err("iam-wildcard", where, "Action '*' is not allowed")
    elif any(isinstance(a, str) and "*" in a for a in actions):
        ctx.err("iam-wildcard", where, "wildcard actions are not allowed; list the actions the function uses")
    resources = st.get("Resource", [])
    resources = resources if isinstance(resources, list) else [resources]
    if any(v == "*" for res in resources for v in ctx.possible_values(res) or [res]):
        scopable = sorted(str(a) for a in actions if str(a).lower() not in UNSCOPABLE_ACTIONS)
        if scopable and not any(SENSITIVE_ACTION.match(a) for a in scopable):
            ctx.err(
                "iam-wildcard",
                where,
                f"resource '*' on {', '.join(scopable)}: name the resource (the stack knows its ARN)",
            )
    if not any(isinstance(a, str) and SENSITIVE_ACTION.match(a) for a in actions):
        return
    if not resources:
        ctx.err("iam-wildcard", where, "statement needs an explicit Resource")
    for res in resources:
        for v in ctx.possible_values(res) or [res]:
            if isinstance(v, str) and "*" in v:
                ctx.err("iam-wildcard", where, f"resource {v!r} uses '*' on {', '.join(map(str, actions))}")
    if any(str(a).lower() == "rds-db:connect" for a in actions):
        for res in resources:
            if not (isinstance(res, str) and ":dbuser:" in res and "/" in res.split(":dbuser:")[-1]):
                ctx.err("iam-wildcard", where, "rds-db:connect must name dbuser:<proxy resource id>/<user>")
    if any(str(a).lower().startswith("kms:") for a in actions):
        if "kms:ViaService" not in json.dumps(st.get("Condition", {})):
            ctx.err("iam", where, "kms statements must be limited with a kms:ViaService condition")


def check_permissions(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:lambda:Permission"):
        source = ctx.props(name).get("sourceArn")
        if not isinstance(source, str) or "executionArn}" not in source:
            ctx.err(
                "iam",
                f"resources.{name}.sourceArn",
                "Lambda permission must be scoped to the API's execution ARN (${api.executionArn}/*/*)",
            )


RULES = (check_policies, check_permissions)

MUTATIONS = (
    Mutation(
        "'*' resource on the API function's secret policy",
        "iam-wildcard",
        lambda d, s: statement(d, "apiAccessPolicy", "ReadDatabaseSecret").update(Resource="*"),
    ),
    Mutation(
        "'*' resource on the proxy secret policy",
        "iam-wildcard",
        lambda d, s: statement(d, "proxySecretPolicy", "ReadDatabaseSecrets").update(Resource="*"),
    ),
    Mutation(
        "wildcard in the rds-db:connect resource",
        "iam-wildcard",
        lambda d, s: statement(d, "migrateAccessPolicy", "ConnectThroughProxyWithIamToken").update(
            Resource="arn:aws:rds-db:*:*:dbuser:*/*"
        ),
    ),
    Mutation(
        "secretsmanager:* action",
        "iam-wildcard",
        lambda d, s: statement(d, "apiAccessPolicy", "ReadDatabaseSecret").update(Action="secretsmanager:*"),
    ),
    Mutation(
        "logs on '*' although the stack knows the log group",
        "iam-wildcard",
        lambda d, s: statement(d, "apiAccessPolicy", "WriteOwnLogs").update(Resource="*"),
    ),
    Mutation(
        "logs:* action",
        "iam-wildcard",
        lambda d, s: statement(d, "migrateAccessPolicy", "WriteOwnLogs").update(Action="logs:*"),
    ),
    Mutation("unscoped Lambda permission", "iam", lambda d, s: props(d, "httpApiInvokePermission").pop("sourceArn")),
)
