"""Values AWS refuses at deploy time (stackcheck/rules/aws_limits.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.aws_limits import (
    check_http_api_integrations,
    check_log_retention,
    check_reserved_concurrency,
    check_serverless_v2,
)
from tests.fragments import check, project, resource, setting


@pytest.mark.parametrize("days", [1, 30, 365, 3653, "${days}"])
def test_retentions_cloudwatch_accepts_pass(schema, days):
    doc = project(
        {"logs": resource("aws:cloudwatch:LogGroup", retentionInDays=days)}, config={"days": setting("integer", 14)}
    )
    assert check(schema, check_log_retention, doc) == []


@pytest.mark.parametrize(("days", "config"), [(45, 30), ("${days}", 45), (4000, 30)])
def test_retentions_cloudwatch_refuses_are_reported(schema, days, config):
    doc = project(
        {"logs": resource("aws:cloudwatch:LogGroup", retentionInDays=days)}, config={"days": setting("integer", config)}
    )
    found = check(schema, check_log_retention, doc)
    assert len(found) == 1
    assert found[0].startswith("[aws-refuses] resources.logs.retentionInDays: ")
    assert "is not a retention CloudWatch accepts" in found[0]


def test_a_retention_a_stack_file_sets_is_checked_too(schema):
    doc = project(
        {"logs": resource("aws:cloudwatch:LogGroup", retentionInDays="${days}")},
        config={"days": setting("integer", 30)},
    )
    stacks = {"Pulumi.dev.yaml": {"config": {"libris:days": 31}}}
    assert check(schema, check_log_retention, doc, stacks) == [
        "[aws-refuses] resources.logs.retentionInDays: 31 days is not a retention CloudWatch accepts "
        "(0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)"
    ]


def integration(**props) -> dict:
    return project({"i": resource("aws:apigatewayv2:Integration", apiId="a", integrationType="AWS_PROXY", **props)})


def test_a_valid_integration_passes(schema):
    assert (
        check(schema, check_http_api_integrations, integration(payloadFormatVersion="2.0", timeoutMilliseconds=30000))
        == []
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"payloadFormatVersion": "3.0"}, "payloadFormatVersion: '3.0' is not a payload format version"),
        ({"payloadFormatVersion": 2.0}, "payloadFormatVersion: 2.0 is not a payload format version"),
        ({"timeoutMilliseconds": 30001}, "timeoutMilliseconds: 30001 ms: HTTP API integrations time out after 50 to"),
        ({"timeoutMilliseconds": 10}, "timeoutMilliseconds: 10 ms: HTTP API integrations time out after 50 to"),
    ],
)
def test_integration_values_aws_refuses_are_reported(schema, props, message):
    found = check(schema, check_http_api_integrations, integration(**props))
    assert len(found) == 1
    assert found[0].startswith(f"[aws-refuses] resources.i.{message}")


@pytest.mark.parametrize(("mode", "problems"), [("provisioned", 0), (None, 0), ("serverless", 1), ("parallelquery", 1)])
def test_serverless_v2_needs_the_provisioned_engine_mode(schema, mode, problems):
    cluster = {
        "engine": "aurora-postgresql",
        "serverlessv2ScalingConfiguration": {"minCapacity": 0.5, "maxCapacity": 2},
    }
    if mode is not None:
        cluster["engineMode"] = mode
    assert len(check(schema, check_serverless_v2, project({"c": resource("aws:rds:Cluster", **cluster)}))) == problems


@pytest.mark.parametrize(
    ("value", "default", "problems"),
    [("${rc}", -1, 0), (-1, None, 0), ("${rc}", 20, 1), (1, None, 1), ("${rc}", 0, 1)],
)
def test_reserved_concurrency_is_off_unless_a_stack_file_sets_it(schema, value, default, problems):
    config = {"rc": setting("integer", default)} if default is not None else {}
    doc = project({"f": resource("aws:lambda:Function", reservedConcurrentExecutions=value)}, config=config)
    found = check(schema, check_reserved_concurrency, doc, {"Pulumi.big.yaml": {"config": {"libris:rc": 50}}})
    assert len(found) == problems
    assert all("a new account (concurrency quota 10) cannot reserve any" in line for line in found)
