"""Shapes (what an input accepts) and kinds (what a value is), and when one fits the other.

A shape is a tuple read from the provider schema:
  ("scalar", "string"|"int"|"number"|"bool"), ("object", ArgsClass),
  ("list", shape), ("map", shape), ("archive",), ("asset",), ("any",)
A kind is one word: the kind of a YAML literal, of a config declaration or of
a shape, compared by kind_fits() the way Pulumi YAML assigns values."""

from __future__ import annotations

import typing

ANY = ("any",)

# Pulumi project config `type` -> the kind of its values.
CONFIG_TYPES = {"string": "string", "integer": "int", "boolean": "bool", "array": "list"}


def literal_kind(value: typing.Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "any"


def kind_fits(actual: str, expected: str) -> bool:
    """Pulumi YAML assignability for the kinds we track."""
    if "any" in (actual, expected):
        return True
    if expected == "string":
        return actual in ("string", "int", "number", "bool")  # YAML coerces scalars to strings
    if expected == "number":
        return actual in ("int", "number")
    if expected == "int":
        return actual == "int"
    if expected in ("object", "map"):
        return actual in ("object", "map")
    return actual == expected


def shape_kind(shape: tuple) -> str:
    """The kind of a shape in kind_fits() terms."""
    if shape[0] == "scalar":
        return shape[1]
    if shape[0] in ("object", "map"):
        return "object"
    return shape[0]


def describe(shape: tuple | None) -> str:
    if shape is None:
        return "unknown"
    if shape[0] == "scalar":
        return shape[1]
    if shape[0] == "object":
        return f"object {shape[1].__name__}"
    if shape[0] in ("list", "map"):
        return f"{shape[0]} of {describe(shape[1])}"
    return shape[0]
