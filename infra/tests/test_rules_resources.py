"""Resources against the provider schema (stackcheck/rules/resources.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.resources import check_resources
from tests.fragments import check, codes, project, resource, setting


def proxy(**properties) -> dict:
    """An aws:rds:Proxy with its required inputs, plus properties."""
    base = {"engineFamily": "POSTGRESQL", "roleArn": "arn:aws:iam::1:role/p", "vpcSubnetIds": ["subnet-1"]}
    return resource("aws:rds:Proxy", **{**base, **properties})


def problems(schema, resources: dict, **sections) -> list[str]:
    return check(schema, check_resources, project(resources, **sections))


def test_a_resource_with_known_inputs_of_the_right_kind_passes(schema):
    doc = {
        "db": proxy(requireTls=True, idleClientTimeout=1800, tags={"team": "libris"}),
        "fn": resource("aws:lambda:Function", role="arn:aws:iam::1:role/f", code={"fn::fileArchive": "b.zip"}),
    }
    doc["db"]["options"] = {"dependsOn": ["${fn}"], "ignoreChanges": ["tags"]}
    assert problems(schema, doc) == []


def test_unknown_type_is_reported_with_the_sdk_version(schema):
    assert problems(schema, {"db": resource("aws:rds:Proxyy")}) == [
        f"[unknown-type] resources.db: type 'aws:rds:Proxyy' does not exist in pulumi-aws {schema.version}"
    ]


def test_resource_keys_and_options_must_be_ones_pulumi_yaml_knows(schema):
    db = proxy()
    db["propreties"] = {}
    db["options"] = {"dependOn": []}
    assert problems(schema, {"db": db, "x": "not a mapping", "y": {"properties": {}}}) == [
        "[structure] resources.db: unknown resource key 'propreties'",
        "[unknown-option] resources.db: unknown resource option 'dependOn'",
        "[structure] resources.x: must be a mapping",
        "[structure] resources.y: missing `type`",
    ]


def test_ignore_changes_must_name_an_input(schema):
    db = proxy()
    db["options"] = {"ignoreChanges": ["requireTsl"]}
    assert problems(schema, {"db": db}) == [
        "[unknown-property] resources.db.options.ignoreChanges: 'requireTsl' is not an input of aws:rds/proxy:Proxy"
    ]


def test_default_provider_only_on_providers(schema):
    db = proxy()
    db["defaultProvider"] = True
    assert problems(schema, {"db": db}) == [
        "[structure] resources.db: defaultProvider is only valid on provider resources"
    ]


def test_the_provider_version_must_be_the_checked_sdk(schema):
    def provider(version):
        return {"type": "pulumi:providers:aws", "defaultProvider": True, "options": {"version": version}}

    assert problems(schema, {"aws": provider(schema.version)}) == []
    assert problems(schema, {"aws": provider("6.0.0")}) == [
        "[provider-version] resources.aws: provider version '6.0.0' differs from the checked "
        f"pulumi-aws {schema.version}"
    ]


def test_misspelled_properties_are_reported_with_a_hint_at_any_depth(schema):
    db = proxy(requireTsl=True, auths=[{"secretArm": "arn:x"}])
    assert problems(schema, {"db": db}) == [
        "[unknown-property] resources.db.requireTsl: not an input of aws:rds/proxy:Proxy (did you mean 'requireTls'?)",
        "[unknown-property] resources.db.auths[0].secretArm: not an input of ProxyAuthArgs (did you mean 'secretArn'?)",
    ]


def test_missing_required_inputs_are_reported_at_any_depth(schema):
    fn = resource("aws:lambda:Function", vpcConfig={"securityGroupIds": ["sg-1"]})
    assert problems(schema, {"fn": fn}) == [
        "[missing-required] resources.fn.vpcConfig: required input 'subnetIds' of FunctionVpcConfigArgs is missing",
        "[missing-required] resources.fn: required input 'role' of aws:lambda/function:Function is missing",
    ]


def test_deprecated_inputs_are_reported(schema):
    assert problems(schema, {"b": resource("aws:s3:Bucket", acl="private")}) == [
        f"[deprecated] resources.b.acl: input is deprecated in pulumi-aws {schema.version}"
    ]


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"requireTls": "true"}, "requireTls: 'true' is string but the input is bool"),
        ({"idleClientTimeout": 1.5}, "idleClientTimeout: 1.5 is number but the input is int"),
        ({"requireTls": "${rustLog}"}, "requireTls: config 'rustLog' is string but the input is bool"),
        ({"requireTls": "${other.endpoint}"}, "requireTls: ${other.endpoint} is string but the input is bool"),
        ({"requireTls": "tls-${rustLog}"}, "requireTls: interpolated text is a string but the input is bool"),
        (
            {"idleClientTimeout": {"fn::join": ["", ["1", "2"]]}},
            "idleClientTimeout: fn::join yields a string but the input is int",
        ),
        ({"vpcSubnetIds": "subnet-1"}, "vpcSubnetIds: expects a list, got str"),
        ({"tags": ["a"]}, "tags: expects a map, got list"),
        ({"auths": ["SECRETS"]}, "auths[0]: expects an object (ProxyAuthArgs), got str"),
    ],
)
def test_values_of_the_wrong_kind_are_reported(schema, properties, message):
    resources = {"db": proxy(**properties), "other": proxy()}
    assert problems(schema, resources, config={"rustLog": setting("string", "info")}) == [
        f"[type-mismatch] resources.db.{message}"
    ]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            {"fn::fileAsset": "b.zip"},
            "fn::fileAsset yields an Asset but this input takes an Archive (use fn::fileArchive)",
        ),
        ("b.zip", "expects an archive (fn::fileArchive / fn::fileAsset), got 'b.zip'"),
    ],
)
def test_an_archive_input_takes_an_archive(schema, code, message):
    fn = resource("aws:lambda:Function", role="arn:aws:iam::1:role/f", code=code)
    assert problems(schema, {"fn": fn}) == [f"[type-mismatch] resources.fn.code: {message}"]


def test_an_archive_given_to_a_plain_input_is_reported(schema):
    assert codes(schema, check_resources, project({"db": proxy(roleArn={"fn::fileArchive": "b.zip"})})) == [
        "type-mismatch"
    ]


def test_values_that_fit_pass(schema):
    resources = {
        "db": proxy(
            idleClientTimeout="${timeout}",  # integer config for an int
            debugLogging=False,
            roleArn="${role.arn}",  # string output for a string
            vpcSubnetIds=["${a.id}", "subnet-2"],
            tags={"stack": "libris-${pulumi.stack}"},  # text for a string
        ),
        "role": resource("aws:iam:Role", assumeRolePolicy="{}"),
        "a": resource("aws:ec2:Subnet", vpcId="vpc-1"),
    }
    assert problems(schema, resources, config={"timeout": setting("integer", 1800)}) == []


def test_references_to_resources_declared_later_are_type_checked_too(schema):
    resources = {"db": proxy(requireTls="${later.endpoint}"), "later": proxy()}
    assert problems(schema, resources) == [
        "[type-mismatch] resources.db.requireTls: ${later.endpoint} is string but the input is bool"
    ]
