"""No secrets in the functions' environment (stackcheck/rules/lambda_env.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.lambda_env import check_function_environment
from tests.fragments import check, project, resource, setting


def function(**variables) -> dict:
    return project(
        {
            "db": resource("aws:rds:Cluster", engine="aurora-postgresql"),
            "fn": resource("aws:lambda:Function", environment={"variables": variables}),
        },
        config={"apiKey": setting("string", secret=True), "logLevel": setting("string", "info")},
        variables={"secretArn": "${db.masterUserSecrets[0].secretArn}", "user": "${db.masterUsername}"},
    )


def problems(schema, **variables) -> list[str]:
    return check(schema, check_function_environment, function(**variables))


def test_an_arn_reference_and_plain_settings_pass(schema):
    assert problems(schema, DB_SECRET_ARN="${secretArn}", DB_HOST="${db.endpoint}", RUST_LOG="${logLevel}") == []
    assert problems(schema, DB_SECRET_ARN="${db.masterUserSecrets[0].secretArn}") == []
    assert problems(schema, DB_SECRET_ARN="arn:aws:secretsmanager:eu-west-1:1:secret:x") == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("libris-db-secret", "must be the secret's ARN, never its value"),
        ("${user}", "must reference an ARN output (e.g. ...secretArn)"),
        ("${db.masterUsername}", "must reference an ARN output (e.g. ...secretArn)"),
    ],
)
def test_db_secret_arn_is_an_arn(schema, value, message):
    assert problems(schema, DB_SECRET_ARN=value) == [
        f"[secret-env] resources.fn.environment.variables.DB_SECRET_ARN: {message}"
    ]


@pytest.mark.parametrize("name", ["DB_PASSWORD", "API_SECRET", "GITHUB_TOKEN", "db_password"])
def test_secret_looking_names_are_reported(schema, name):
    assert problems(schema, **{name: "x"}) == [
        f"[secret-env] resources.fn.environment.variables.{name}: "
        "secret-looking variable name; pass an ARN and fetch at runtime"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "postgres://app:hunter2@db/libris",
        "-----BEGIN RSA PRIVATE KEY-----\nMII...",
        "AKIAABCDEFGHIJKLMNOP",
    ],
)
def test_credential_looking_values_are_reported(schema, value):
    assert problems(schema, DATABASE_URL=value) == [
        "[secret-env] resources.fn.environment.variables.DATABASE_URL: value looks like a credential"
    ]


def test_a_url_without_a_password_is_not_a_credential(schema):
    assert problems(schema, DATABASE_URL="postgres://app@db/libris") == []


def test_a_secret_config_key_must_not_become_an_env_var(schema):
    assert problems(schema, API_KEY="${apiKey}") == [
        "[secret-env] resources.fn.environment.variables.API_KEY: config 'apiKey' is secret and must not become "
        "a plain env var"
    ]
