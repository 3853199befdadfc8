"""Project structure and config declarations (stackcheck/rules/project.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.project import check_config_declarations, check_project
from tests.fragments import check, project, resource, setting


def test_a_minimal_project_passes(schema):
    doc = project(config={"region": setting("string", "eu-west-1")}, outputs={})
    assert check(schema, check_project, doc) == []
    assert check(schema, check_config_declarations, doc) == []


def test_runtime_may_be_written_as_an_object(schema):
    assert check(schema, check_project, project(runtime={"name": "yaml", "options": {}})) == []


def test_wrong_name_runtime_and_unknown_top_level_keys_are_reported(schema):
    doc = project(name="other", runtime="nodejs", resource={})
    assert check(schema, check_project, doc) == [
        "[structure] Pulumi.yaml: unknown top-level key 'resource'",
        "[structure] Pulumi.yaml: project name must be 'libris'",
        "[structure] Pulumi.yaml: runtime must be yaml",
    ]


def test_a_name_used_twice_is_reported(schema):
    doc = project({"db": resource("aws:rds:Cluster")}, config={"db": setting("string", "x")})
    assert check(schema, check_project, doc) == [
        "[structure] db: name declared more than once (config/variables/resources)"
    ]


@pytest.mark.parametrize(
    ("key", "decl", "message"),
    [
        ("libris:region", setting("string", "x"), "declare project keys without a namespace"),
        ("region", setting("string", "x", secrett=True), "unknown declaration key 'secrett'"),
        ("acu", setting("number", 0.5), "type 'number' is not one of ['array', 'boolean', 'integer', 'string']"),
        ("zones", setting("array"), "array config needs `items`"),
        ("region", {"description": "no type, no default"}, "needs a `type` or a `default`"),
        ("memory", setting("integer", "lots"), "default 'lots' is not of type integer"),
        ("name", setting("string", "${pulumi.stack}"), "defaults must be literals"),
        ("region", {"type": "string"}, "add a description"),
        ("region", "eu-west-1", "add a description"),  # shorthand has no description either
    ],
)
def test_config_declarations_the_cli_would_reject(schema, key, decl, message):
    problems = check(schema, check_config_declarations, project(config={key: decl}))
    assert len(problems) == 1
    assert problems[0].startswith(f"[config] config.{key}: {message}")


def test_array_config_with_items_passes(schema):
    doc = project(config={"zones": setting("array", ["a"], items={"type": "string"})})
    assert check(schema, check_config_declarations, doc) == []
