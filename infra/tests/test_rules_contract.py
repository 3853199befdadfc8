"""The contract with the Rust app (stackcheck/rules/contract.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.contract import REQUIRED_OUTPUTS, check_endpoints_and_outputs, check_functions
from tests.fragments import check, project, resource

ENV = {
    "DB_HOST": "${dbProxy.endpoint}",
    "DB_PORT": "5432",
    "DB_NAME": "${dbName}",
    "DB_SECRET_ARN": "${secretArn}",
    "DB_TLS": "verify-full",
    "DB_IAM_AUTH": "${dbIamAuth}",
    "DB_USER": "${dbMasterUsername}",
    "DB_MAX_CONNECTIONS": "1",
    "RUST_LOG": "${rustLog}",
}


def function(mode: str, **overrides) -> dict:
    props = {
        "runtime": "provided.al2023",
        "handler": "bootstrap",
        "architectures": ["arm64"],
        "code": {"fn::fileArchive": "${lambdaZipPath}"},
        "vpcConfig": {"subnetIds": ["${a.id}"], "securityGroupIds": ["${sg.id}"]},
        "loggingConfig": {"logFormat": "JSON"},
        "environment": {"variables": {**ENV, "LIBRIS_LAMBDA_MODE": mode}},
        **overrides,
    }
    return resource("aws:lambda:Function", **props)


def problems(schema, api: dict) -> list[str]:
    return check(schema, check_functions, project({"api": api, "migrate": function("migrate")}))


def test_functions_as_the_app_expects_pass(schema):
    assert problems(schema, function("http")) == []


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"runtime": "provided.al2"}, "runtime", "must be 'provided.al2023'"),
        ({"handler": "main"}, "handler", "must be 'bootstrap'"),
        ({"architectures": ["x86_64"]}, "architectures", "must be [arm64] (cargo lambda build --arm64)"),
        ({"code": {"fn::fileAsset": "b.zip"}}, "code", "must be fn::fileArchive of the cargo-lambda zip"),
        ({"vpcConfig": {"subnetIds": []}}, "vpcConfig", "functions run inside the VPC (subnetIds + securityGroupIds)"),
        ({"loggingConfig": {"logFormat": "Text"}}, "loggingConfig.logFormat", "must be JSON"),
    ],
)
def test_the_function_is_what_cargo_lambda_builds_and_runs_in_the_vpc(schema, overrides, where, message):
    assert problems(schema, function("http", **overrides)) == [f"[contract] resources.api.{where}: {message}"]


def test_the_environment_pins_tls_and_one_connection(schema):
    api = function("http")
    variables = api["properties"]["environment"]["variables"]
    del variables["DB_MAX_CONNECTIONS"]
    variables["DB_TLS"] = "require"
    assert problems(schema, api) == [
        "[contract] resources.api.environment.variables.DB_TLS: must be 'verify-full'",
        "[contract] resources.api.environment.variables.DB_MAX_CONNECTIONS: must be '1'",
    ]


def test_one_function_runs_the_migrations(schema):
    doc = project({"api": function("http")})
    assert check(schema, check_functions, doc) == ["[contract] resources: no function with LIBRIS_LAMBDA_MODE=migrate"]


def outputs() -> dict:
    return {key: "x" for key in REQUIRED_OUTPUTS}


def test_endpoints_stage_and_outputs_as_promised_pass(schema):
    doc = project(
        {
            "endpoint": resource("aws:ec2:VpcEndpoint", privateDnsEnabled=True),
            "stage": resource("aws:apigatewayv2:Stage", name="$default", autoDeploy=True),
        },
        outputs=outputs(),
    )
    assert check(schema, check_endpoints_and_outputs, doc) == []


def test_endpoints_stage_and_outputs_that_break_the_promise(schema):
    missing = outputs()
    del missing["swaggerUiUrl"]
    doc = project(
        {
            "endpoint": resource("aws:ec2:VpcEndpoint"),
            "stage": resource("aws:apigatewayv2:Stage", name="prod", autoDeploy=True),
        },
        outputs=missing,
    )
    assert check(schema, check_endpoints_and_outputs, doc) == [
        "[contract] resources.endpoint.privateDnsEnabled: must be true (the SDK uses the public DNS name)",
        "[contract] resources.stage: use the $default stage with autoDeploy: true",
        "[contract] outputs: missing output swaggerUiUrl",
    ]
