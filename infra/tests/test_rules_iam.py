"""Least privilege (stackcheck/rules/iam.py)."""

from __future__ import annotations

import json

import pytest

from stackcheck.rules.iam import check_permissions, check_policies
from tests.fragments import check, project, resource, setting

READ_SECRET = {
    "Sid": "Read",
    "Effect": "Allow",
    "Action": ["secretsmanager:GetSecretValue"],
    "Resource": "${secretArn}",
}
CONNECT = {
    "Effect": "Allow",
    "Action": "rds-db:connect",
    "Resource": "arn:aws:rds-db:eu-west-1:1:dbuser:prx-0123/libris_admin",
}
DECRYPT = {
    "Effect": "Allow",
    "Action": "kms:Decrypt",
    "Resource": "arn:aws:kms:eu-west-1:1:key/k",
    "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
}
LOGS = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "${logGroup.arn}:*",  # the streams of one log group
}
TRACES = {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}


def policy_stack(*statements, policy=None) -> dict:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return project(
        {"access": resource("aws:iam:RolePolicy", role="r", policy={"fn::toJSON": doc} if policy is None else policy)},
        config={"anyResource": setting("string", "*")},
    )


def problems(schema, *statements, policy=None) -> list[str]:
    return check(schema, check_policies, policy_stack(*statements, policy=policy))


def test_scoped_statements_pass(schema):
    assert problems(schema, READ_SECRET, CONNECT, DECRYPT, LOGS, TRACES) == []
    assert problems(schema, policy=json.dumps({"Statement": CONNECT})) == []  # literal JSON, one statement


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({**READ_SECRET, "Resource": "*"}, "resource '*' uses '*' on secretsmanager:GetSecretValue"),
        ({**READ_SECRET, "Resource": "${anyResource}"}, "resource '*' uses '*' on secretsmanager:GetSecretValue"),
        ({**READ_SECRET, "Resource": []}, "statement needs an explicit Resource"),
        (
            {**READ_SECRET, "Action": "secretsmanager:*"},
            "wildcard actions are not allowed",
        ),
        ({**CONNECT, "Resource": "arn:aws:rds-db:eu-west-1:1:dbuser:prx-0123"}, "rds-db:connect must name dbuser:"),
        ({**LOGS, "Action": "*"}, "Action '*' is not allowed"),
        ({**LOGS, "Action": "logs:*"}, "wildcard actions are not allowed"),
        ({**LOGS, "Action": "logs:Put*"}, "wildcard actions are not allowed"),
        ({**LOGS, "Resource": "*"}, "resource '*' on logs:CreateLogStream, logs:PutLogEvents: name the resource"),
        (
            {**TRACES, "Action": ["xray:PutTraceSegments", "sns:Publish"]},
            "resource '*' on sns:Publish: name the resource",
        ),
    ],
)
def test_wildcards_on_sensitive_statements_are_reported(schema, statement, message):
    found = problems(schema, statement)
    assert len(found) == 1
    assert found[0].startswith(f"[iam-wildcard] resources.access.policy.Statement[0]: {message}")


def test_a_kms_statement_needs_via_service(schema):
    assert problems(schema, {**DECRYPT, "Condition": {}}) == [
        "[iam] resources.access.policy.Statement[0]: kms statements must be limited with a kms:ViaService condition"
    ]


def test_not_action_is_reported(schema):
    assert problems(schema, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "x"}) == [
        "[iam] resources.access.policy.Statement[0]: NotAction/NotResource grant too much; list what is allowed"
    ]


def test_policies_must_be_readable(schema):
    assert problems(schema, policy="{not json") == ["[iam] resources.access.policy: policy is not valid JSON"]
    assert problems(schema, policy="${policyJson}") == [
        "[iam] resources.access.policy: write policies with fn::toJSON (or literal JSON) so they can be checked"
    ]


def test_inline_role_policies_are_checked_too(schema):
    role = resource(
        "aws:iam:Role",
        assumeRolePolicy="{}",
        inlinePolicies=[{"name": "p", "policy": {"fn::toJSON": {"Statement": [{**READ_SECRET, "Resource": "*"}]}}}],
    )
    assert check(schema, check_policies, project({"role": role})) == [
        "[iam-wildcard] resources.role.inlinePolicies[0].policy.Statement[0]: resource '*' uses '*' on "
        "secretsmanager:GetSecretValue"
    ]


def test_the_lambda_permission_is_scoped_to_the_api(schema):
    def permission(**props):
        return project({"invoke": resource("aws:lambda:Permission", action="lambda:InvokeFunction", **props)})

    assert check(schema, check_permissions, permission(sourceArn="${api.executionArn}/*/*")) == []
    message = "Lambda permission must be scoped to the API's execution ARN (${api.executionArn}/*/*)"
    assert check(schema, check_permissions, permission()) == [f"[iam] resources.invoke.sourceArn: {message}"]
    assert check(schema, check_permissions, permission(sourceArn="arn:aws:execute-api:*")) == [
        f"[iam] resources.invoke.sourceArn: {message}"
    ]
