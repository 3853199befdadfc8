"""Expressions and references (stackcheck/rules/references.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.references import check_references
from tests.fragments import check, project, resource, setting

CONFIG = {"dbName": setting("string", "libris")}


def problems(schema, resources: dict | None = None, **sections) -> list[str]:
    sections.setdefault("config", dict(CONFIG))
    return check(schema, check_references, project(resources or {}, **sections))


def uses(value) -> dict:
    """A resource whose one property holds value (and which uses dbName, so nothing is unused)."""
    return {"x": resource("aws:rds:Cluster", engine="aurora-postgresql", databaseName="${libris:dbName}", tags=value)}


def test_references_that_resolve_pass(schema):
    resources = {
        "db": resource("aws:rds:Cluster", databaseName="${dbName}"),
        "fn": resource("aws:lambda:Function", environment={"variables": {"HOST": "${db.endpoint}"}}),
    }
    resources["fn"]["options"] = {"dependsOn": ["${db}"]}  # a whole resource is fine in options
    variables = {
        "secretArn": "${db.masterUserSecrets[0].secretArn}",
        "name": "libris-${pulumi.stack}",
        "zones": {"fn::invoke": {"function": "aws:getAvailabilityZones", "arguments": {"state": "available"}}},
    }
    outputs = {"secret": "${secretArn}", "name": "${name}", "zone": "${zones.names[0]}", "price": "$${notARef}"}
    assert problems(schema, resources, variables=variables, outputs=outputs) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${dbb.endpoint}", "${dbb.endpoint}: no resource, variable or config named 'dbb' (did you mean 'db'?)"),
        ("${db.endpoints}", "${db.endpoints}: Cluster has no output 'endpoints' (did you mean 'endpoint'?)"),
        (
            "${db.masterUserSecrets[0].secretArm}",
            "${db.masterUserSecrets[0].secretArm}: ClusterMasterUserSecret has no field 'secretArm' "
            "(did you mean 'secretArn'?)",
        ),
        ("${db.endpoint.host}", "${db.endpoint.host}: cannot apply 'host' to string"),
        ("${libris:dbNmae}", "${libris:dbNmae}: config 'libris:dbNmae' is not declared in this project's config block"),
        ("${aws:region}", "${aws:region}: config 'aws:region' is not declared in this project's config block"),
        ("${pulumi.stackName}", "${pulumi.stackName}: pulumi.* offers ['cwd', 'organization', 'project', "),
    ],
)
def test_references_that_do_not_resolve(schema, value, message):
    resources = {
        "db": resource("aws:rds:Cluster", databaseName="${dbName}"),
        "y": resource("aws:rds:Cluster", tags=value),
    }
    found = problems(schema, resources)
    assert len(found) == 1
    assert found[0].startswith(f"[unresolved-reference] resources.y.properties.tags: {message}")


def test_a_bare_resource_in_a_property_is_reported(schema):
    resources = {
        "db": resource("aws:rds:Cluster", databaseName="${dbName}"),
        "y": resource("aws:rds:Cluster", tags="${db}"),
    }
    assert problems(schema, resources) == [
        "[bare-resource-reference] resources.y.properties.tags: ${db} passes the whole resource; "
        "name the output you mean (.id, .arn, .name)"
    ]


def test_builtins_must_exist_and_be_spelled_canonically(schema):
    assert problems(schema, uses({"fn::toJson": {}})) == [
        "[unknown-builtin] resources.x.properties.tags: write 'fn::toJSON', not 'fn::toJson'"
    ]
    assert problems(schema, uses({"fn::getRegion": {}})) == [
        "[unknown-builtin] resources.x.properties.tags: 'fn::getRegion' is not a Pulumi YAML builtin "
        "(use fn::invoke for provider functions)"
    ]


def test_structural_mistakes_in_expressions(schema):
    assert problems(schema, uses({"fn::select": [0]})) == [
        "[structure] resources.x.properties.tags: fn::select takes a two-element list"
    ]
    assert problems(schema, uses({"${dbName}": "x"})) == [
        "[structure] resources.x.properties.tags: interpolation in a key ('${dbName}') is not supported"
    ]
    assert problems(schema, uses("${dbName")) == [
        "[syntax] resources.x.properties.tags: unterminated interpolation in '${dbName'"
    ]
    assert problems(schema, uses("x"), outputs=["not", "a", "mapping"]) == ["[structure] outputs: must be a mapping"]


def test_invoke_must_name_a_function_its_arguments_and_its_return_field(schema):
    def invoke(**body):
        return {"fn::invoke": body}

    assert problems(schema, uses(invoke(function="aws:index:getRegionn"))) == [
        f"[unknown-function] resources.x.properties.tags: function 'aws:index:getRegionn' does not exist in "
        f"pulumi-aws {schema.version}"
    ]
    assert problems(schema, uses(invoke(function="aws:getPartition", **{"return": "partitions"}))) == [
        "[unknown-return] resources.x.properties.tags: aws:index/getPartition:getPartition returns no field "
        "'partitions' (did you mean 'partition'?)"
    ]
    assert problems(schema, uses(invoke(function="aws:getAvailabilityZones", arguments={"stat": "available"}))) == [
        "[unknown-property] resources.x.properties.tags.arguments.stat: not an input of "
        "aws:index/getAvailabilityZones:getAvailabilityZones (did you mean 'state'?)"
    ]
    assert problems(schema, uses(invoke(function="aws:getPartition", args={}))) == [
        "[structure] resources.x.properties.tags: fn::invoke has no key 'args'"
    ]


def test_a_field_of_a_whole_invoke_result_must_exist(schema):
    variables = {"partition": {"fn::invoke": {"function": "aws:getPartition"}}}
    assert problems(schema, uses("${partition.partitions}"), variables=variables) == [
        "[unresolved-reference] resources.x.properties.tags: ${partition.partitions}: "
        "aws:index/getPartition:getPartition returns no field 'partitions'"
    ]


def test_dependency_cycles_are_reported(schema):
    resources = {
        "a": resource("aws:rds:Cluster", databaseName="${dbName}", tags={"peer": "${b.id}"}),
        "b": resource("aws:rds:Cluster", tags={"peer": "${a.id}"}),
    }
    assert problems(schema, resources) == ["[cycle] a: dependency cycle: a -> b -> a"]


def test_unused_config_keys_and_variables_are_reported(schema):
    doc_config = {**CONFIG, "orphan": setting("string", "x")}
    assert problems(schema, uses("x"), config=doc_config, variables={"spare": "y"}) == [
        "[unused] config.orphan: declared but never referenced",
        "[unused] variables.spare: declared but never referenced",
    ]
