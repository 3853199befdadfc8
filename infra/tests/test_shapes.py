"""Kinds of values, shapes of inputs and when one fits the other (stackcheck/shapes.py, report.py)."""

from __future__ import annotations

import pytest

from stackcheck.report import Problem, Report, close_match
from stackcheck.shapes import describe, kind_fits, literal_kind, shape_kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [(True, "bool"), (3, "int"), (0.5, "number"), ("x", "string"), ([1], "list"), ({"a": 1}, "object"), (None, "any")],
)
def test_literal_kind(value, kind):
    assert literal_kind(value) == kind


@pytest.mark.parametrize("actual", ["string", "int", "number", "bool"])
def test_any_scalar_fits_a_string_because_yaml_coerces_it(actual):
    assert kind_fits(actual, "string")


@pytest.mark.parametrize(
    ("actual", "expected", "fits"),
    [
        ("int", "number", True),
        ("number", "int", False),
        ("string", "int", False),
        ("string", "bool", False),
        ("bool", "bool", True),
        ("object", "map", True),
        ("map", "object", True),
        ("list", "object", False),
        ("list", "list", True),
        ("any", "int", True),
        ("string", "any", True),
    ],
)
def test_kind_fits(actual, expected, fits):
    assert kind_fits(actual, expected) is fits


class FakeArgs:
    pass


def test_shape_kind_and_describe():
    assert shape_kind(("scalar", "bool")) == "bool"
    assert shape_kind(("map", ("scalar", "string"))) == "object"
    assert shape_kind(("object", FakeArgs)) == "object"
    assert shape_kind(("archive",)) == "archive"
    assert describe(("list", ("object", FakeArgs))) == "list of object FakeArgs"
    assert describe(("map", ("scalar", "string"))) == "map of string"
    assert describe(None) == "unknown"


def test_a_problem_prints_as_code_place_and_message():
    report = Report()
    report.add("tls", "resources.dbProxy.requireTls", "must be true")
    report.add("tls", "resources.other", "also")
    assert str(report.problems[0]) == "[tls] resources.dbProxy.requireTls: must be true"
    assert report.codes() == {"tls"}
    assert report.problems[0] == Problem("tls", "resources.dbProxy.requireTls", "must be true")


def test_close_match_suggests_only_something_close():
    assert close_match("requireTsl", ["requireTls", "roleArn"]) == " (did you mean 'requireTls'?)"
    assert close_match("zzz", ["requireTls"]) == ""
