"""Every alarm notifies someone, and nothing that can fail goes unwatched (stackcheck/rules/monitoring.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.monitoring import check_alarm_actions, check_coverage
from tests.fragments import check, project, resource


def alarm(metric: str, dimension: str, target: str, **extra) -> dict:
    return resource(
        "aws:cloudwatch:MetricAlarm",
        metricName=metric,
        dimensions={dimension: target},
        alarmActions=["${topic.arn}"],
        **extra,
    )


def watched(**changes) -> dict:
    """A function, a migration function, a proxy, a cluster and an API, each with the alarms it needs."""
    resources = {
        "topic": resource("aws:sns:Topic"),
        "api": resource("aws:lambda:Function", environment={"variables": {}}),
        "migrate": resource("aws:lambda:Function", environment={"variables": {"LIBRIS_LAMBDA_MODE": "migrate"}}),
        "proxy": resource("aws:rds:Proxy"),
        "cluster": resource("aws:rds:Cluster"),
        "http": resource("aws:apigatewayv2:Api"),
        "apiErrors": alarm("Errors", "FunctionName", "${api.name}"),
        "apiThrottles": alarm("Throttles", "FunctionName", "${api.name}"),
        "apiDuration": alarm("Duration", "FunctionName", "${api.name}", extendedStatistic="p99"),
        "migrateErrors": alarm("Errors", "FunctionName", "${migrate.name}"),
        "migrateThrottles": alarm("Throttles", "FunctionName", "${migrateName}"),
        "borrow": alarm("DatabaseConnectionsBorrowLatency", "ProxyName", "${proxy.name}"),
        "clients": alarm("ClientConnections", "ProxyName", "${proxy.name}"),
        "capacity": alarm("ServerlessDatabaseCapacity", "DBClusterIdentifier", "${cluster.clusterIdentifier}"),
        "errors5xx": alarm("5xx", "ApiId", "${http.id}"),
        **changes,
    }
    # A dimension may name its resource through a variable.
    return project({k: v for k, v in resources.items() if v is not None}, variables={"migrateName": "${migrate.name}"})


def test_a_watched_stack_passes(schema):
    assert check(schema, check_alarm_actions, watched()) == []
    assert check(schema, check_coverage, watched()) == []


@pytest.mark.parametrize("actions", [None, [], ["arn:aws:sns:eu-west-1:1:elsewhere"], ["${api.arn}"]])
def test_an_alarm_that_notifies_no_topic_of_the_stack_is_reported(schema, actions):
    changed = alarm("5xx", "ApiId", "${http.id}")
    changed["properties"]["alarmActions"] = actions
    assert check(schema, check_alarm_actions, watched(errors5xx=changed)) == [
        "[monitoring] resources.errors5xx.alarmActions: must notify an aws:sns:Topic of the stack"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"migrateThrottles": None}, "resources.migrate: no alarm on Throttles"),
        (
            {"apiDuration": alarm("Duration", "FunctionName", "${api.name}", statistic="Average")},
            "resources.api: no alarm on p99 Duration",
        ),
        (
            {"borrow": alarm("DatabaseConnectionsBorrowLatency", "ProxyName", "${cluster.clusterIdentifier}")},
            "resources.proxy: no alarm on DatabaseConnectionsBorrowLatency",
        ),
        ({"capacity": None}, "resources.cluster: no alarm on ACUUtilization or ServerlessDatabaseCapacity"),
        ({"errors5xx": alarm("4xx", "ApiId", "${http.id}")}, "resources.http: no alarm on 5xx"),
    ],
)
def test_something_that_can_fail_without_its_alarm_is_reported(schema, changes, message):
    assert check(schema, check_coverage, watched(**changes)) == [f"[monitoring] {message}"]
