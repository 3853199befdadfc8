"""The lookups rules share (stackcheck/context.py)."""

from __future__ import annotations

from tests.fragments import context, project, resource, setting


def test_shorthand_config_is_a_default(schema):
    ctx = context(schema, project(config={"region": "eu-west-1"}))
    assert ctx.config == {"region": {"default": "eu-west-1"}}


def test_config_is_referenced_with_or_without_the_project_namespace(schema):
    ctx = context(schema, project(config={"dbName": setting("string", "libris")}))
    assert ctx.config_key("dbName") == "dbName"
    assert ctx.config_key("libris:dbName") == "dbName"
    assert ctx.config_key("other:dbName") is None
    assert ctx.config_key("dbNmae") is None


def test_config_kind_comes_from_the_type_or_the_default(schema):
    ctx = context(schema, project(config={"n": setting("integer"), "flag": {"default": True}}))
    assert ctx.config_kind("n") == "int"
    assert ctx.config_kind("flag") == "bool"


def test_possible_values_follow_variables_to_config_default_and_stack_values(schema):
    doc = project(config={"tls": setting("boolean", True)}, variables={"useTls": "${tls}"})
    ctx = context(schema, doc, {"Pulumi.dev.yaml": {"config": {"libris:tls": False}}})
    assert ctx.possible_values("${useTls}") == [True, False]
    assert ctx.possible_values("literal") == ["literal"]
    assert ctx.possible_values("${db.endpoint}") == []


def test_literal_is_needs_every_possible_value_and_its_type(schema):
    ctx = context(schema, project(config={"tls": setting("boolean", True)}))
    assert ctx.literal_is(True, True)
    assert ctx.literal_is("${tls}", True)
    assert not ctx.literal_is("true", True)
    assert not ctx.literal_is(1, True)
    assert not ctx.literal_is("${db.requireTls}", True)  # unknown at check time


def test_variable_chains_resolve_to_the_reference_behind_them(schema):
    ctx = context(schema, project(variables={"a": "${b}", "b": "${db.secretArn}", "loop": "${loop}"}))
    assert ctx.resolve_variable_path(["a"]) == ["db", "secretArn"]
    assert ctx.resolve_variable_path(["loop"]) == ["loop"]


def test_of_type_matches_short_and_canonical_tokens(schema):
    doc = project(
        {"a": resource("aws:rds:Proxy"), "b": resource("aws:rds/proxy:Proxy"), "c": resource("aws:rds:Cluster")}
    )
    ctx = context(schema, doc)
    assert [name for name, _ in ctx.of_type("aws:rds:Proxy")] == ["a", "b"]


def test_only_known_types_get_schema_information(schema):
    ctx = context(schema, project({"a": resource("aws:rds:Proxy"), "b": resource("aws:rds:Proxyy"), "c": "x"}))
    assert set(ctx.resource_info) == {"a"}


def test_output_shape_walks_nested_fields_and_reports_only_when_asked(schema):
    ctx = context(schema, project({"db": resource("aws:rds:Cluster")}))
    cls = ctx.resource_info["db"].cls
    assert ctx.output_shape(cls, ["db", "masterUserSecrets", 0, "secretArn"]) == ("scalar", "string")
    assert ctx.output_shape(cls, ["db", "masterUserSecrets", 0, "secretArm"]) is None
    assert ctx.report.problems == []
    ctx.output_shape(cls, ["db", "endpoints"], "outputs.x")
    assert [str(p) for p in ctx.report.problems] == [
        "[unresolved-reference] outputs.x: ${db.endpoints}: Cluster has no output 'endpoints' "
        "(did you mean 'endpoint'?)"
    ]
