"""The stack means what the app needs (stackcheck/rules/wiring.py)."""

from __future__ import annotations

import pytest

from stackcheck.app_contract import AppContract, Mode, Operation
from stackcheck.context import Context
from stackcheck.rules.wiring import (
    check_authorizer,
    check_db_host,
    check_required_settings,
    check_routes,
    check_timeouts,
    route_matches,
)
from tests.fragments import project, resource

APP = AppContract(
    modes={
        "api": Mode(
            None,
            {
                "password": frozenset({"DB_HOST", "DB_SECRET_ARN", "LIBRIS_AUTH_ISSUER"}),
                "iam": frozenset({"DB_HOST", "DB_USER", "AWS_REGION"}),
            },
        ),
        "migrate": Mode("migrate", {"password": frozenset({"DB_HOST", "DB_SECRET_ARN"})}),
    },
    operations=(
        Operation("GET", "/books", True),
        Operation("POST", "/books", False),
        Operation("GET", "/books/{id}", True),
        Operation("PATCH", "/books/{id}", False),
        Operation("GET", "/loans", False),
    ),
)
API_ENV = {
    "DB_HOST": "${dbProxy.endpoint}",
    "DB_SECRET_ARN": "${secret.arn}",
    "DB_USER": "${appUser}",
    "LIBRIS_AUTH": "jwt",
    "LIBRIS_AUTH_ISSUER": "${issuer}",
    "LIBRIS_AUTH_AUDIENCE": "${appClient.id}",
}


def stack(**extra_resources) -> dict:
    return project(
        {
            "dbProxy": resource("aws:rds:Proxy"),
            "dbCluster": resource("aws:rds:Cluster"),
            "userPool": resource("aws:cognito:UserPool"),
            "appClient": resource("aws:cognito:UserPoolClient", userPoolId="${userPool.id}"),
            "api": resource("aws:lambda:Function", environment={"variables": dict(API_ENV)}),
            "migrate": resource(
                "aws:lambda:Function",
                environment={
                    "variables": {
                        "LIBRIS_LAMBDA_MODE": "migrate",
                        "DB_HOST": "${host}",
                        "DB_SECRET_ARN": "${secret.arn}",
                    }
                },
            ),
            "authorizer": resource(
                "aws:apigatewayv2:Authorizer",
                authorizerType="JWT",
                jwtConfiguration={"issuer": "${issuer}", "audiences": ["${appClient.id}"]},
            ),
            **extra_resources,
        },
        variables={
            "host": "${dbProxy.endpoint}",
            "issuer": "https://cognito-idp.${region}.amazonaws.com/${userPool.id}",
        },
    )


def run(schema, rule, doc) -> list[str]:
    ctx = Context(schema, doc, {}, app=APP)
    rule(ctx)
    return [str(p) for p in ctx.report.problems]


def api_env(doc: dict) -> dict:
    return doc["resources"]["api"]["properties"]["environment"]["variables"]


def jwt(doc: dict) -> dict:
    return doc["resources"]["authorizer"]["properties"]["jwtConfiguration"]


def test_a_stack_wired_as_the_app_needs_passes(schema):
    for rule in (check_db_host, check_authorizer, check_required_settings, check_routes):
        assert run(schema, rule, stack()) == []


@pytest.mark.parametrize(
    "host", ["${dbCluster.endpoint}", "libris.cluster-abc.eu-west-1.rds.amazonaws.com", "${dbProxy.arn}"]
)
def test_db_host_other_than_the_proxy_endpoint_is_reported(schema, host):
    doc = stack()
    api_env(doc)["DB_HOST"] = host
    assert run(schema, check_db_host, doc) == [
        f"[meaning] resources.api.environment.variables.DB_HOST: {host} is not an RDS Proxy's endpoint; "
        "the functions connect through the proxy"
    ]


def test_an_audience_that_is_the_pool_id_is_reported(schema):
    doc = stack()
    jwt(doc)["audiences"] = ["${userPool.id}"]
    assert run(schema, check_authorizer, doc) == [
        "[meaning] resources.authorizer.jwtConfiguration.audiences: ['${userPool.id}'] must be "
        "[${<app client>.id}], the tokens' audience"
    ]


@pytest.mark.parametrize(
    "issuer",
    [
        "https://cognito-idp.${region}.amazonaws.com/${appClient.id}",
        "https://cognito-idp.${region}.amazonaws.com/${otherPool.id}",
        "https://${userPool.endpoint}",
    ],
)
def test_an_issuer_that_is_not_the_clients_pool_is_reported(schema, issuer):
    doc = stack(otherPool=resource("aws:cognito:UserPool"))
    jwt(doc)["issuer"] = issuer
    found = run(schema, check_authorizer, doc)
    assert len(found) == 1
    assert found[0].startswith(f"[meaning] resources.authorizer.jwtConfiguration.issuer: {issuer} must be")


def test_the_app_checking_other_tokens_than_the_authorizer_is_reported(schema):
    doc = stack()
    api_env(doc)["LIBRIS_AUTH_AUDIENCE"] = "${userPool.id}"
    api_env(doc)["LIBRIS_AUTH_ISSUER"] = "https://cognito-idp.${region}.amazonaws.com/${appClient.id}"
    assert [line.split(":")[0] for line in run(schema, check_authorizer, doc)] == [
        "[meaning] resources.api.environment.variables.LIBRIS_AUTH_AUDIENCE",
        "[meaning] resources.api.environment.variables.LIBRIS_AUTH_ISSUER",
    ]


def test_a_setting_the_mode_needs_is_reported_missing(schema):
    doc = stack()
    del api_env(doc)["LIBRIS_AUTH_ISSUER"]
    del api_env(doc)["DB_USER"]
    assert run(schema, check_required_settings, doc) == [
        "[required-settings] resources.api.environment.variables: missing DB_USER: the api function cannot "
        "start without it",
        "[required-settings] resources.api.environment.variables: missing LIBRIS_AUTH_ISSUER: the api function "
        "cannot start without it",
    ]


def test_lambda_reserved_variables_are_neither_required_nor_allowed(schema):
    doc = stack()  # AWS_REGION is required in IAM mode but Lambda sets it
    assert run(schema, check_required_settings, doc) == []
    api_env(doc)["AWS_REGION"] = "eu-west-1"
    assert run(schema, check_required_settings, doc) == [
        "[aws-refuses] resources.api.environment.variables.AWS_REGION: reserved by Lambda; AWS refuses a "
        "function that sets it"
    ]


def test_an_unknown_mode_and_an_unreadable_contract_are_reported(schema):
    doc = stack()
    api_env(doc)["LIBRIS_LAMBDA_MODE"] = "batch"
    assert run(schema, check_required_settings, doc) == [
        "[required-settings] resources.api.environment.variables.LIBRIS_LAMBDA_MODE: "
        "'batch' is not a mode of the binary"
    ]
    ctx = Context(schema, stack(), {}, app=AppContract(problems=("infra/required-settings.json: missing",)))
    check_required_settings(ctx)
    assert [str(p) for p in ctx.report.problems] == [
        "[required-settings] resources: cannot read what the app requires: infra/required-settings.json: missing"
    ]


def route(key: str, authorized: bool) -> dict:
    extra = {"authorizationType": "JWT", "authorizerId": "${authorizer.id}"} if authorized else {}
    return resource("aws:apigatewayv2:Route", apiId="${api.id}", routeKey=key, **extra)


@pytest.mark.parametrize(
    ("key", "authorized"),
    [("ANY /{proxy+}", True), ("GET /books", False), ("GET /books/{proxy+}", False), ("GET /docs", False)],
)
def test_routes_that_reach_only_public_operations_or_carry_the_authorizer_pass(schema, key, authorized):
    assert run(schema, check_routes, stack(r=route(key, authorized))) == []


@pytest.mark.parametrize(
    ("key", "reached"),
    [
        ("ANY /{proxy+}", "POST /books, PATCH /books/{id}, GET /loans"),
        ("POST /books", "POST /books"),
        ("ANY /books/{id}", "PATCH /books/{id}"),
        ("GET /{proxy+}", "GET /loans"),
    ],
)
def test_routes_without_the_authorizer_that_reach_guarded_operations_are_reported(schema, key, reached):
    assert run(schema, check_routes, stack(r=route(key, False))) == [
        f"[meaning] resources.r: {key!r} has no JWT authorizer but reaches operations that need a token: {reached}"
    ]


@pytest.mark.parametrize(
    ("route_path", "spec_path", "matches"),
    [
        ("/books", "/books", True),
        ("/books/{id}", "/books/{id}", True),
        ("/books/{proxy+}", "/books/{id}/reviews", True),
        ("/books/{proxy+}", "/books", False),
        ("/books/available", "/books/{id}", True),
        ("/authors/{id}", "/books/{id}", False),
        ("/books/{id}", "/books/{id}/reviews", False),
    ],
)
def test_route_paths_match_spec_paths_as_api_gateway_would(route_path, spec_path, matches):
    assert route_matches(route_path, spec_path) is matches


def integrated(timeout, limit=None) -> dict:
    integration = {"integrationUri": "${api.invokeArn}", **({} if limit is None else {"timeoutMilliseconds": limit})}
    doc = project(
        {
            "api": resource("aws:lambda:Function", timeout=timeout),
            "i": resource("aws:apigatewayv2:Integration", **integration),
        },
        config={"seconds": {"type": "integer", "default": 15, "description": "d"}},
    )
    return doc


@pytest.mark.parametrize(("timeout", "limit"), [(15, None), ("${seconds}", 30000), (5, 6000)])
def test_a_function_that_times_out_before_the_integration_passes(schema, timeout, limit):
    assert run(schema, check_timeouts, integrated(timeout, limit)) == []


@pytest.mark.parametrize(("timeout", "limit"), [(30, None), (45, 30000), (6, 6000)])
def test_a_function_that_outlasts_the_integration_is_reported(schema, timeout, limit):
    found = run(schema, check_timeouts, integrated(timeout, limit))
    assert found == [
        f"[meaning] resources.api.timeout: {timeout} s is not below i's {limit or 30000} ms: API Gateway would "
        "give up first"
    ]
