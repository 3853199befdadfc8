"""Small hand-written stacks, and running one rule over them."""

from __future__ import annotations

import typing

from stackcheck.context import Context
from stackcheck.schema import Schema


def project(resources: dict | None = None, **sections: typing.Any) -> dict:
    """A Pulumi.yaml with the right name and runtime, the given resources and other sections."""
    doc: dict = {"name": "libris", "runtime": "yaml"}
    if resources is not None:
        doc["resources"] = resources
    doc.update(sections)
    return doc


def resource(type_token: str, **properties: typing.Any) -> dict:
    return {"type": type_token, "properties": properties}


def setting(type_name: str, default: typing.Any = None, **decl: typing.Any) -> dict:
    """A config declaration with a description (and a default when given)."""
    out = {"type": type_name, "description": "a knob", **decl}
    if default is not None:
        out["default"] = default
    return out


def context(schema: Schema, doc: dict, stacks: dict[str, dict] | None = None) -> Context:
    return Context(schema, doc, stacks or {})


def check(schema: Schema, rule: typing.Callable[[Context], None], doc: dict, stacks=None) -> list[str]:
    """What one rule reports on doc, as `[code] where: message` lines."""
    ctx = context(schema, doc, stacks)
    rule(ctx)
    return [str(p) for p in ctx.report.problems]


def codes(schema: Schema, rule: typing.Callable[[Context], None], doc: dict, stacks=None) -> list[str]:
    """The codes one rule reports, in order."""
    return [line[1 : line.index("]")] for line in check(schema, rule, doc, stacks)]
