"""Stack files (stackcheck/rules/stack_files.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.stack_files import check_stack_files
from tests.fragments import check, project, setting

DOC = project(
    config={
        "awsRegion": setting("string"),  # required: no default
        "lambdaMemoryMb": setting("integer", 512),
        "proxyIamAuth": setting("string", "DISABLED"),
        "dbIamAuth": setting("boolean", False),
    }
)


def dev(**config) -> dict[str, dict]:
    """A Pulumi.dev.yaml that sets the required region and the given keys."""
    return {"Pulumi.dev.yaml": {"config": {"libris:awsRegion": "eu-west-1", **config}}}


def test_a_stack_with_declared_keys_of_the_right_type_passes(schema):
    stacks = dev(**{"libris:lambdaMemoryMb": 1024, "libris:dbIamAuth": False})
    assert check(schema, check_stack_files, DOC, stacks) == []


def test_secure_values_are_not_type_checked(schema):
    assert check(schema, check_stack_files, DOC, dev(**{"libris:lambdaMemoryMb": {"secure": "AAEA..."}})) == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("awsRegion", "eu-west-1", "stack config keys need a namespace (libris:...)"),
        ("aws:region", "eu-west-1", "aws:* keys are ignored by this stack's explicit provider; use libris:awsRegion"),
        ("other:thing", "x", "namespace 'other' is not used by this project"),
        ("libris:dbNmae", "x", "'dbNmae' is not declared in Pulumi.yaml"),
        ("libris:lambdaMemoryMb", "lots", "'lots' is not of the declared type int"),
    ],
)
def test_keys_the_stack_does_not_read_or_values_of_the_wrong_type(schema, key, value, message):
    assert check(schema, check_stack_files, DOC, dev(**{key: value})) == [f"[config] Pulumi.dev.yaml:{key}: {message}"]


def test_a_required_key_must_be_set(schema):
    assert check(schema, check_stack_files, DOC, {"Pulumi.dev.yaml": {"config": {}}}) == [
        "[config] Pulumi.dev.yaml: required key libris:awsRegion is not set"
    ]


@pytest.mark.parametrize("name", ["Pulumi.Dev.yaml", "Pulumi.dev_1.yaml", "Pulumi.1dev.yaml"])
def test_stack_names_must_fit_rds_identifiers(schema, name):
    stacks = {name: {"config": {"libris:awsRegion": "eu-west-1"}}}
    assert check(schema, check_stack_files, DOC, stacks) == [
        f"[config] {name}: stack names must be lower-case letters, digits and hyphens (RDS identifiers)"
    ]


def test_a_stack_file_must_be_a_mapping_with_a_config_mapping(schema):
    assert check(schema, check_stack_files, DOC, {"Pulumi.dev.yaml": ["x"]}) == [
        "[config] Pulumi.dev.yaml: not a mapping"
    ]
    assert check(schema, check_stack_files, DOC, {"Pulumi.dev.yaml": {"config": ["x"]}}) == [
        "[config] Pulumi.dev.yaml: `config` must be a mapping"
    ]


@pytest.mark.parametrize(("proxy", "app"), [("REQUIRED", True), ("DISABLED", False), ("DISABLED", None)])
def test_iam_switches_that_agree_pass(schema, proxy, app):
    config = {"libris:proxyIamAuth": proxy}
    if app is not None:
        config["libris:dbIamAuth"] = app
    assert check(schema, check_stack_files, DOC, dev(**config)) == []


def test_iam_switches_that_disagree_are_reported(schema):
    assert check(schema, check_stack_files, DOC, dev(**{"libris:proxyIamAuth": "REQUIRED"})) == [
        "[config] Pulumi.dev.yaml: proxyIamAuth=REQUIRED needs dbIamAuth=true (got False)"
    ]
    assert check(schema, check_stack_files, DOC, dev(**{"libris:dbIamAuth": True})) == [
        "[config] Pulumi.dev.yaml: proxyIamAuth=DISABLED needs dbIamAuth=false (got True)"
    ]
    assert check(schema, check_stack_files, DOC, dev(**{"libris:proxyIamAuth": "OPTIONAL"})) == [
        "[config] Pulumi.dev.yaml: proxyIamAuth must be REQUIRED or DISABLED, not 'OPTIONAL'"
    ]
