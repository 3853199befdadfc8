"""The provider schema read from the installed pulumi-aws (stackcheck/schema.py)."""

from __future__ import annotations

import re

import pulumi_aws

from stackcheck.schema import camel_to_snake, snake_to_camel


def test_names_convert_between_python_and_schema_spelling():
    assert snake_to_camel("require_tls") == "requireTls"
    assert snake_to_camel("lambda_") == "lambda"  # keyword escape
    assert camel_to_snake("getAvailabilityZones") == "get_availability_zones"


def test_version_is_the_installed_sdk(schema):
    assert re.fullmatch(r"\d+\.\d+\.\d+", schema.version)


def test_short_token_resolves_to_the_canonical_one(schema):
    info = schema.resolve_resource("aws:rds:Proxy")
    assert info.token == "aws:rds/proxy:Proxy"
    assert info.cls is pulumi_aws.rds.Proxy
    assert info.args_cls is pulumi_aws.rds.ProxyArgs
    assert schema.resolve_resource("aws:rds/proxy:Proxy").token == "aws:rds/proxy:Proxy"


def test_module_named_after_a_python_keyword_resolves(schema):
    info = schema.resolve_resource("aws:lambda:Function")
    assert info.token == "aws:lambda/function:Function"
    assert info.cls is pulumi_aws.lambda_.Function


def test_unknown_types_do_not_resolve(schema):
    assert schema.resolve_resource("aws:rds:Proxyy") is None
    assert schema.resolve_resource("gcp:compute:Instance") is None
    assert schema.resolve_resource("aws:rds") is None


def test_the_provider_itself_resolves(schema):
    assert schema.resolve_resource("pulumi:providers:aws").cls is pulumi_aws.Provider


def test_inputs_carry_schema_names_requiredness_and_shapes(schema):
    inputs = schema.inputs_of(pulumi_aws.rds.ProxyArgs)
    assert {name for name, prop in inputs.items() if prop.required} == {"engineFamily", "roleArn", "vpcSubnetIds"}
    assert inputs["requireTls"].shape == ("scalar", "bool")
    assert inputs["requireTls"].python_name == "require_tls"
    assert inputs["idleClientTimeout"].shape == ("scalar", "int")
    assert inputs["vpcSubnetIds"].shape == ("list", ("scalar", "string"))
    assert inputs["tags"].shape == ("map", ("scalar", "string"))


def test_nested_inputs_are_followed_into_their_args_classes(schema):
    auths = schema.inputs_of(pulumi_aws.rds.ProxyArgs)["auths"].shape
    assert auths[0] == "list" and auths[1][0] == "object"
    assert auths[1][1].__name__ == "ProxyAuthArgs"
    assert "secretArn" in schema.inputs_of(auths[1][1])
    environment = schema.inputs_of(pulumi_aws.lambda_.FunctionArgs)["environment"].shape
    assert schema.inputs_of(environment[1])["variables"].shape == ("map", ("scalar", "string"))


def test_archives_are_their_own_shape(schema):
    assert schema.inputs_of(pulumi_aws.lambda_.FunctionArgs)["code"].shape == ("archive",)


def test_deprecated_inputs_are_marked(schema):
    bucket = schema.inputs_of(pulumi_aws.s3.BucketArgs)
    assert bucket["acl"].deprecated
    assert not bucket["bucket"].deprecated


def test_outputs_include_nested_fields_and_id(schema):
    outputs = schema.outputs_of(pulumi_aws.rds.Cluster)
    assert outputs["endpoint"] == ("scalar", "string")
    assert outputs["id"] == ("scalar", "string")
    secrets = outputs["masterUserSecrets"]
    assert secrets[0] == "list" and secrets[1][0] == "object"
    assert schema.outputs_of(secrets[1][1])["secretArn"] == ("scalar", "string")


def test_functions_resolve_with_their_arguments_and_result_fields(schema):
    zones = schema.resolve_function("aws:index:getAvailabilityZones")
    assert zones.token == "aws:index/getAvailabilityZones:getAvailabilityZones"
    assert "state" in zones.args and not zones.args["state"].required
    assert "names" in zones.result_fields
    partition = schema.resolve_function("aws:getPartition")
    assert partition.token == "aws:index/getPartition:getPartition"
    assert "partition" in partition.result_fields


def test_unknown_functions_do_not_resolve(schema):
    assert schema.resolve_function("aws:index:getRegionn") is None
    assert schema.resolve_function("aws:nosuchmodule:getThing") is None
