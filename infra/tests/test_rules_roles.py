"""A role per function, granting what that function uses; the API's own database user (stackcheck/rules/roles.py)."""

from __future__ import annotations

import copy

import pytest

from stackcheck.rules.roles import check_database_users, check_grants_match_function, check_roles_not_shared
from tests.fragments import check, project, resource

LAMBDA_TRUST = {"fn::toJSON": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}}


def function(role: str, **variables: str) -> dict:
    return resource("aws:lambda:Function", role=f"${{{role}.arn}}", environment={"variables": variables})


def policy(role: str, *statements: dict) -> dict:
    return resource("aws:iam:RolePolicy", role=f"${{{role}.name}}", policy={"fn::toJSON": {"Statement": statements}})


def grant(action: str, res: str) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": res}


def two_functions() -> dict:
    """An API and a migration function, each with its role, user and secret, both secrets on the proxy."""
    return project(
        {
            "apiRole": resource("aws:iam:Role", assumeRolePolicy=LAMBDA_TRUST),
            "migrateRole": resource("aws:iam:Role", assumeRolePolicy=LAMBDA_TRUST),
            "api": function("apiRole", DB_USER="${appUser}", DB_SECRET_ARN="${appSecret.arn}"),
            "migrate": function(
                "migrateRole", LIBRIS_LAMBDA_MODE="migrate", DB_USER="${masterUser}", DB_SECRET_ARN="${masterSecret}"
            ),
            "apiPolicy": policy(
                "apiRole",
                grant("secretsmanager:GetSecretValue", "${appSecret.arn}"),
                grant("rds-db:connect", "arn:aws:rds-db:r:1:dbuser:${proxyId}/${appUser}"),
            ),
            "migratePolicy": policy(
                "migrateRole",
                grant("secretsmanager:GetSecretValue", "${dbCluster.masterUserSecrets[0].secretArn}"),
                grant("rds-db:connect", "arn:aws:rds-db:r:1:dbuser:${proxyId}/${masterUser}"),
            ),
            "dbCluster": resource("aws:rds:Cluster", masterUsername="${masterUser}"),
            "proxy": resource(
                "aws:rds:Proxy",
                auths=[{"secretArn": "${masterSecret}"}, {"secretArn": "${appSecret.arn}"}],
            ),
        },
        # The same secret spelt through a variable and directly: the rules compare what they stand for.
        variables={"masterSecret": "${dbCluster.masterUserSecrets[0].secretArn}"},
    )


def statements(doc: dict, resource_name: str) -> list:
    return doc["resources"][resource_name]["properties"]["policy"]["fn::toJSON"]["Statement"]


def test_a_role_per_function_with_what_it_uses_passes(schema):
    doc = two_functions()
    for rule in (check_roles_not_shared, check_grants_match_function, check_database_users):
        assert check(schema, rule, doc) == []


def test_a_role_shared_by_two_functions_is_reported(schema):
    doc = two_functions()
    doc["resources"]["migrate"]["properties"]["role"] = "${apiRole.arn}"
    assert check(schema, check_roles_not_shared, doc) == [
        "[iam-role] resources.apiRole: shared by api, migrate: give each function a role with only what it uses"
    ]


def test_a_function_role_shared_with_the_proxy_is_reported(schema):
    doc = two_functions()
    doc["resources"]["proxy"]["properties"]["roleArn"] = "${migrateRole.arn}"
    assert check(schema, check_roles_not_shared, doc) == [
        "[iam-role] resources.migrateRole: shared by migrate, proxy: give each function a role with only what it uses"
    ]


def test_a_role_that_is_not_a_stack_role_is_reported(schema):
    doc = two_functions()
    doc["resources"]["api"]["properties"]["role"] = "arn:aws:iam::1:role/admin"
    assert check(schema, check_roles_not_shared, doc) == [
        "[iam-role] resources.api.role: must be ${<an aws:iam:Role of this stack>.arn}"
    ]


def test_a_secret_the_function_does_not_name_is_reported(schema):
    doc = two_functions()
    statements(doc, "apiPolicy")[0]["Resource"] = ["${appSecret.arn}", "${masterSecret}"]
    assert check(schema, check_grants_match_function, doc) == [
        "[iam-scope] resources.apiPolicy.policy.Statement[0]: apiRole (api's role) may use secret ${masterSecret} "
        "that api's environment does not name"
    ]


@pytest.mark.parametrize("user", ["${masterUser}", "postgres"])
def test_an_iam_login_as_another_user_is_reported(schema, user):
    doc = two_functions()
    statements(doc, "apiPolicy")[1]["Resource"] = f"arn:aws:rds-db:r:1:dbuser:${{proxyId}}/{user}"
    found = check(schema, check_grants_match_function, doc)
    assert len(found) == 1
    assert found[0].startswith("[iam-scope] resources.apiPolicy.policy.Statement[1]: apiRole may log in as")
    assert found[0].endswith("but api logs in as DB_USER 'appUser'")


def test_the_api_logging_in_as_the_master_user_is_reported(schema):
    doc = two_functions()
    doc["resources"]["api"]["properties"]["environment"]["variables"]["DB_USER"] = "${masterUser}"
    assert check(schema, check_database_users, doc) == [
        "[db-role] resources.api.environment.variables.DB_USER: the API logs in as the application user "
        "(dbAppUsername), never the master user that owns the schema"
    ]


def test_a_secret_missing_from_the_proxy_is_reported(schema):
    doc = two_functions()
    pristine = copy.deepcopy(doc)
    doc["resources"]["proxy"]["properties"]["auths"].pop()
    assert check(schema, check_database_users, doc) == [
        "[db-role] resources.api.environment.variables.DB_SECRET_ARN: this secret is not in the proxy's auths; "
        "the proxy refuses it"
    ]
    assert check(schema, check_database_users, pristine) == []
