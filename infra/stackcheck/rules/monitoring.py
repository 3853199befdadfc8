"""Someone hears about it: every alarm notifies a topic, and nothing that can fail goes unwatched.

Every CloudWatch alarm sends its alarm (and OK) notifications to an SNS
topic of the stack; every Lambda function has an `Errors` and a `Throttles`
alarm, and the API function a p99 `Duration` alarm; every RDS Proxy has
borrow-latency and client-connection alarms; every Aurora cluster a
capacity alarm; every HTTP API a 5xx alarm. A resource added without its
alarms, or an alarm that notifies no one, is reported."""

from __future__ import annotations

import typing

from ..context import Context
from ..expressions import whole_reference
from ..mutation import Mutation, props

# (watched type, dimension naming it, the output the dimension references, metrics that must have an alarm)
WATCHED = (
    ("aws:lambda:Function", "FunctionName", "name", ("Errors", "Throttles")),
    ("aws:rds:Proxy", "ProxyName", "name", ("DatabaseConnectionsBorrowLatency", "ClientConnections")),
    ("aws:rds:Cluster", "DBClusterIdentifier", "clusterIdentifier", ("ACUUtilization|ServerlessDatabaseCapacity",)),
    ("aws:apigatewayv2:Api", "ApiId", "id", ("5xx",)),
)


def alarms(ctx: Context) -> list[tuple[str, dict]]:
    return [(name, ctx.props(name)) for name, _ in ctx.of_type("aws:cloudwatch:MetricAlarm")]


def notifies_a_topic(ctx: Context, actions: typing.Any) -> bool:
    """Whether the actions include `${<an aws:sns:Topic>.arn}`."""
    targets = [ctx.referenced_resource(a, "aws:sns:Topic") for a in actions] if isinstance(actions, list) else []
    return any(t is not None and t[1] == ["arn"] for t in targets)


def check_alarm_actions(ctx: Context) -> None:
    for name, alarm in alarms(ctx):
        if not notifies_a_topic(ctx, alarm.get("alarmActions")):
            ctx.err("monitoring", f"resources.{name}.alarmActions", "must notify an aws:sns:Topic of the stack")


def watched_by(ctx: Context, resource: str, dimension: str, output: str) -> set[str]:
    """The metrics alarmed on whose `dimension` is `${resource.output}` (plus `p99 Duration` for a p99 alarm)."""
    found = set()
    for _, alarm in alarms(ctx):
        path = whole_reference((alarm.get("dimensions") or {}).get(dimension))
        if path is None or ctx.resolve_variable_path(path) != [resource, output]:
            continue
        metric = str(alarm.get("metricName"))
        found.add(metric)
        if metric == "Duration" and alarm.get("extendedStatistic") == "p99":
            found.add("p99 Duration")
    return found


def check_coverage(ctx: Context) -> None:
    for type_token, dimension, output, metrics in WATCHED:
        for name, _ in ctx.of_type(type_token):
            have = watched_by(ctx, name, dimension, output)
            needed = list(metrics)
            variables = ((ctx.props(name).get("environment") or {}).get("variables")) or {}
            if type_token == "aws:lambda:Function" and variables.get("LIBRIS_LAMBDA_MODE") in (None, "api"):
                needed.append("p99 Duration")
            for metric in needed:
                if not set(metric.split("|")) & have:
                    ctx.err("monitoring", f"resources.{name}", f"no alarm on {metric.replace('|', ' or ')}")


RULES = (check_alarm_actions, check_coverage)

MUTATIONS = (
    Mutation("an alarm that notifies no one", "monitoring", lambda d, s: props(d, "api5xxAlarm").pop("alarmActions")),
    Mutation(
        "a function without a throttles alarm", "monitoring", lambda d, s: d["resources"].pop("migrateThrottlesAlarm")
    ),
    Mutation(
        "the p99 duration alarm on another statistic",
        "monitoring",
        lambda d, s: props(d, "apiDurationAlarm").update(extendedStatistic="p50"),
    ),
    Mutation(
        "the proxy's borrow-latency alarm watching the cluster",
        "monitoring",
        lambda d, s: props(d, "proxyBorrowLatencyAlarm").update(
            dimensions={"ProxyName": "${dbCluster.clusterIdentifier}"}
        ),
    ),
)
