"""Pulumi YAML interpolation and builtins (stackcheck/expressions.py)."""

from __future__ import annotations

import pytest

from stackcheck.expressions import (
    BUILTINS,
    InterpolationError,
    builtin_of,
    fmt_path,
    parse_interpolations,
    whole_reference,
)


def test_a_reference_is_a_root_and_its_property_accesses():
    assert parse_interpolations("${db.masterUserSecrets[0].secretArn}") == [["db", "masterUserSecrets", 0, "secretArn"]]


def test_string_subscripts_keep_dots_and_escaped_quotes():
    assert parse_interpolations('${tags["a.b"]}') == [["tags", "a.b"]]
    assert parse_interpolations('${tags["say \\"hi\\""]}') == [["tags", 'say "hi"']]


def test_every_interpolation_in_a_text_is_found():
    assert parse_interpolations("libris-${pulumi.stack}-${region.name}") == [["pulumi", "stack"], ["region", "name"]]


def test_double_dollar_is_a_literal_dollar_not_a_reference():
    assert parse_interpolations("$${notARef} costs $5") == []
    assert parse_interpolations("$${a}${b}") == [["b"]]


def test_config_keys_with_a_namespace_are_one_root():
    assert parse_interpolations("${libris:dbName}") == [["libris:dbName"]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${db.endpoint", "unterminated"),
        ("${}", "empty interpolation"),
        ("${db[first]}", "invalid list index"),
        ("${db[0}", "missing ]"),
        ('${db["key}', "bad string subscript"),
        ("${[0]}", "index without a root name"),
    ],
)
def test_malformed_interpolations_are_errors(text, message):
    with pytest.raises(InterpolationError, match=message):
        parse_interpolations(text)


def test_whole_reference_is_one_interpolation_and_nothing_else():
    assert whole_reference("${db.endpoint}") == ["db", "endpoint"]
    assert whole_reference("host=${db.endpoint}") is None
    assert whole_reference("${a}${b}") is None
    assert whole_reference("${broken") is None
    assert whole_reference(5) is None


def test_builtin_of_recognises_one_key_fn_objects():
    assert builtin_of({"fn::join": ["-", ["a", "b"]]}) == ("fn::join", ["-", ["a", "b"]])
    assert builtin_of({"Fn::Join": 1}) == ("Fn::Join", 1)  # spelling is judged by the references rules
    assert builtin_of({"fn::join": 1, "other": 2}) is None
    assert builtin_of({"name": "x"}) is None
    assert builtin_of("fn::join") is None


def test_builtins_are_looked_up_case_insensitively_to_their_canonical_spelling():
    assert BUILTINS["fn::tojson"] == "fn::toJSON"
    assert "fn::tojsonn" not in BUILTINS


def test_fmt_path_prints_a_path_as_it_is_written():
    assert fmt_path(["db", "masterUserSecrets", 0, "secretArn"]) == "db.masterUserSecrets[0].secretArn"
