"""Values AWS refuses at deploy time, although the provider's types accept them.

The SDK types these as plain strings or integers, so the schema check cannot
catch them, and `pulumi up` would fail half-way: log retention outside
CloudWatch's list, an HTTP API payload format other than "1.0"/"2.0", an
integration timeout outside 50 ms to 30 s, a Serverless v2 cluster whose
engine mode is not `provisioned`, and reserved concurrency by default (a new
account's quota of 10 leaves nothing to reserve)."""

from __future__ import annotations

from ..context import Context
from ..expressions import whole_reference
from ..mutation import Mutation, props

# CloudWatch Logs PutRetentionPolicy's allowed values (0: the provider's "never expire").
RETENTION_DAYS = frozenset(
    {0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
PAYLOAD_FORMATS = ("1.0", "2.0")
HTTP_API_TIMEOUT_MS = (50, 30000)


def check_log_retention(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:cloudwatch:LogGroup"):
        value = ctx.props(name).get("retentionInDays")
        for v in ctx.possible_values(value) if value is not None else []:
            if isinstance(v, int) and not isinstance(v, bool) and v not in RETENTION_DAYS:
                ctx.err(
                    "aws-refuses",
                    f"resources.{name}.retentionInDays",
                    f"{v} days is not a retention CloudWatch accepts ({', '.join(map(str, sorted(RETENTION_DAYS)))})",
                )


def check_http_api_integrations(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:apigatewayv2:Integration"):
        integration = ctx.props(name)
        where = f"resources.{name}"
        if "payloadFormatVersion" in integration:
            for v in ctx.possible_values(integration["payloadFormatVersion"]):
                if v not in PAYLOAD_FORMATS:
                    ctx.err(
                        "aws-refuses",
                        f"{where}.payloadFormatVersion",
                        f'{v!r} is not a payload format version (the string "1.0" or "2.0")',
                    )
        if "timeoutMilliseconds" in integration:
            low, high = HTTP_API_TIMEOUT_MS
            for v in ctx.possible_values(integration["timeoutMilliseconds"]):
                if isinstance(v, int) and not low <= v <= high:
                    ctx.err(
                        "aws-refuses",
                        f"{where}.timeoutMilliseconds",
                        f"{v} ms: HTTP API integrations time out after {low} to {high} ms",
                    )


def check_serverless_v2(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:rds:Cluster"):
        cluster = ctx.props(name)
        if "serverlessv2ScalingConfiguration" not in cluster or "engineMode" not in cluster:
            continue
        for v in ctx.possible_values(cluster["engineMode"]):
            if v != "provisioned":
                ctx.err(
                    "aws-refuses",
                    f"resources.{name}.engineMode",
                    f"{v!r}: Serverless v2 needs engineMode provisioned (serverless is v1, retired)",
                )


def check_reserved_concurrency(ctx: Context) -> None:
    """A reservation works only where the quota leaves 10 unreserved; by default there must be none."""
    for name, _ in ctx.of_type("aws:lambda:Function"):
        value = ctx.props(name).get("reservedConcurrentExecutions")
        if value is None:
            continue
        where = f"resources.{name}.reservedConcurrentExecutions"
        path = whole_reference(value)
        key = ctx.config_key(path[0]) if path is not None and len(path) == 1 else None
        default = ctx.config[key].get("default", -1) if key else value
        if default != -1:
            ctx.err(
                "aws-refuses",
                where,
                f"reserves {default}{' by default' if key else ''}: a new account (concurrency quota 10) "
                "cannot reserve any; default to -1 and let a stack file set it",
            )


RULES = (check_log_retention, check_http_api_integrations, check_serverless_v2, check_reserved_concurrency)

MUTATIONS = (
    Mutation(
        "log retention CloudWatch refuses (config default)",
        "aws-refuses",
        lambda d, s: d["config"]["logRetentionDays"].update(default=45),
    ),
    Mutation(
        "log retention CloudWatch refuses (literal)",
        "aws-refuses",
        lambda d, s: props(d, "proxyLogGroup").update(retentionInDays=10),
    ),
    Mutation(
        "payload format version 3.0",
        "aws-refuses",
        lambda d, s: props(d, "httpApiIntegration").update(payloadFormatVersion="3.0"),
    ),
    Mutation(
        "payload format version as a number",
        "aws-refuses",
        lambda d, s: props(d, "httpApiIntegration").update(payloadFormatVersion=2.0),
    ),
    Mutation(
        "integration timeout over 30 s",
        "aws-refuses",
        lambda d, s: props(d, "httpApiIntegration").update(timeoutMilliseconds=60000),
    ),
    Mutation(
        "Serverless v1 engine mode",
        "aws-refuses",
        lambda d, s: props(d, "dbCluster").update(engineMode="serverless"),
    ),
    Mutation(
        "reserved concurrency by default",
        "aws-refuses",
        lambda d, s: d["config"]["lambdaReservedConcurrency"].update(default=20),
    ),
    Mutation(
        "a literal reservation on the migration function",
        "aws-refuses",
        lambda d, s: props(d, "migrateFunction").update(reservedConcurrentExecutions=1),
    ),
)
