"""Rendering a function's environment from the program (stackcheck/render.py), as the rehearsal does."""

from __future__ import annotations

import pytest

from stackcheck.program import load_program
from stackcheck.render import Renderer, RenderError, StandIns
from tests.conftest import INFRA

MASTER_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf"
APP_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf"
STAND_INS = StandIns(
    stack="rehearsal",
    config={"dbName": "scratch"},
    outputs={
        "dbProxy.endpoint": "proxy.local",
        "dbCluster.masterUserSecrets[0].secretArn": MASTER_ARN,
        "appDbSecret.arn": APP_ARN,
        "userPool.id": "eu-west-1_pool",
        "appClient.id": "client",
    },
    invokes={"aws:index:getRegion": {"region": "eu-west-1"}},
)


@pytest.fixture(scope="module")
def program() -> dict:
    return load_program(INFRA).doc


def test_the_functions_get_what_the_stack_says_with_the_stand_ins_in_place(program):
    renderer = Renderer(program, STAND_INS)
    assert renderer.functions() == ["apiFunction", "migrateFunction"]
    api = renderer.environment("apiFunction")
    assert api["DB_HOST"] == "proxy.local"
    assert api["DB_NAME"] == "scratch", "a config override wins over the default"
    assert api["DB_USER"] == "libris_app", "the default of dbAppUsername"
    assert api["DB_SECRET_ARN"] == APP_ARN
    assert api["DB_IAM_AUTH"] == "false", "fn::toJSON of a boolean"
    assert api["LIBRIS_AUTH_ISSUER"] == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
    assert api["LIBRIS_AUTH_AUDIENCE"] == "client"
    migrate = renderer.environment("migrateFunction")
    assert migrate["LIBRIS_LAMBDA_MODE"] == "migrate"
    assert migrate["DB_SECRET_ARN"] == MASTER_ARN, "through the variable dbSecretArn"
    assert (migrate["DB_APP_USER"], migrate["DB_APP_SECRET_ARN"]) == ("libris_app", APP_ARN)


def test_an_output_without_a_stand_in_is_an_error_naming_it(program):
    outputs = {k: v for k, v in STAND_INS.outputs.items() if k != "dbProxy.endpoint"}
    renderer = Renderer(program, StandIns(outputs=outputs, invokes=STAND_INS.invokes))
    with pytest.raises(RenderError, match=r"no stand-in for \$\{dbProxy.endpoint\}"):
        renderer.environment("apiFunction")


def program_with(variables: dict) -> dict:
    return {"config": {"name": {"type": "string", "default": "ada"}, "noDefault": {"type": "string"}},
            "variables": variables, "resources": {"f": {"type": "aws:lambda:Function", "properties": {}}}}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("hello ${name}", "hello ada"),
        ("$${name} costs $$5", "${name} costs $5"),
        ({"fn::join": ["-", ["a", "${name}", 3]]}, "a-ada-3"),
        ({"fn::select": [1, {"fn::split": [":", "x:y:z"]}]}, "y"),
        ({"fn::toJSON": {"source": "pulumi-up"}}, '{"source":"pulumi-up"}'),
        ("${libris:name}", "ada"),
        ("${pulumi.stack}", "rehearsal"),
    ],
)
def test_expressions_evaluate_as_pulumi_yaml_does(expression, expected):
    renderer = Renderer(program_with({"v": expression}), StandIns())
    assert renderer.value("${v}", "test") == expected


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"v": "${noDefault}"}, "config `noDefault` has no default"),
        ({"v": "${w}", "w": "${v}"}, "refers to itself"),
        ({"v": "${nowhere.id}"}, "names nothing"),
        ({"v": {"fn::invoke": {"function": "aws:index:getPartition", "arguments": {}}}}, "no stand-in for the look-up"),
        ({"v": {"fn::readFile": "x"}}, "cannot evaluate fn::readfile"),
        ({"v": "a ${name"}, "unterminated interpolation"),
    ],
)
def test_what_cannot_be_rendered_is_an_error(variables, message):
    with pytest.raises(RenderError, match=message):
        Renderer(program_with(variables), StandIns()).value("${v}", "test")
