"""One stack under check: the parsed files, the schema, and the report every rule writes to.

A rule is a function `rule(ctx: Context) -> None` that reads the stack
through the lookups here and calls `ctx.err(code, where, message)`. The
context is filled before any rule runs (config declarations normalised,
resource types resolved), so rules do not depend on each other's order;
the order of the registry only decides the order problems are printed in."""

from __future__ import annotations

import typing

from . import app_contract
from .expressions import fmt_path, whole_reference
from .report import Report, close_match
from .schema import ResourceInfo, Schema
from .shapes import ANY, CONFIG_TYPES, describe, literal_kind

PROJECT = "libris"


class Context:
    def __init__(
        self,
        schema: Schema,
        project: dict,
        stacks: dict[str, dict],
        app: app_contract.AppContract | None = None,
    ):
        self.schema = schema
        # What the Rust app says about itself (required settings, public operations).
        self.app = app if app is not None else app_contract.load()
        self.doc = project
        self.stacks = stacks
        self.report = Report()
        # `key: value` is shorthand for `key: {default: value}`.
        self.config: dict[str, dict] = {
            key: decl if isinstance(decl, dict) else {"default": decl}
            for key, decl in (project.get("config") or {}).items()
        }
        self.variables: dict = dict(project.get("variables") or {})
        self.resources: dict[str, dict] = dict(project.get("resources") or {})
        # Resources whose type exists in pulumi-aws; the others are reported by
        # the resources rules and skipped by everything that needs a schema.
        self.resource_info: dict[str, ResourceInfo] = {}
        for name, res in self.resources.items():
            if isinstance(res, dict) and isinstance(res.get("type"), str):
                info = schema.resolve_resource(res["type"])
                if info is not None:
                    self.resource_info[name] = info

    def err(self, code: str, where: str, message: str) -> None:
        self.report.add(code, where, message)

    # ---- config ----------------------------------------------------------

    def config_key(self, root: str) -> str | None:
        """The declared key a reference root names (`key` or `libris:key`), if any."""
        key = root[len(PROJECT) + 1 :] if root.startswith(PROJECT + ":") else root
        return key if key in self.config else None

    def config_kind(self, key: str) -> str:
        decl = self.config.get(key, {})
        if "type" in decl:
            return CONFIG_TYPES.get(decl["type"], "any")
        return literal_kind(decl.get("default"))

    def config_values(self, key: str) -> list:
        """Default plus every stack file's value for a config key."""
        values = []
        decl = self.config.get(key, {})
        if "default" in decl:
            values.append(decl["default"])
        for stack in self.stacks.values():
            cfg = stack.get("config") or {}
            if f"{PROJECT}:{key}" in cfg:
                values.append(cfg[f"{PROJECT}:{key}"])
        return values

    # ---- values ----------------------------------------------------------

    def possible_values(self, value: typing.Any) -> list:
        """Literal values an expression may take (config/variable refs resolved)."""
        path = whole_reference(value)
        if path is None:
            return [value]
        if len(path) == 1:
            key = self.config_key(path[0])
            if key:
                return self.config_values(key)
            if path[0] in self.variables:
                return self.possible_values(self.variables[path[0]])
        return []

    def literal_is(self, value: typing.Any, expected: typing.Any) -> bool:
        """True when every value the expression may take is exactly `expected`."""
        values = self.possible_values(value)
        return (
            bool(values)
            and all(v is expected or v == expected for v in values)
            and all(type(v) is type(expected) for v in values)
        )

    def resolve_variable_path(self, path: list) -> list:
        """Follow `${variable}` chains to the reference they stand for."""
        seen = set()
        while len(path) == 1 and path[0] in self.variables and path[0] not in seen:
            seen.add(path[0])
            inner = whole_reference(self.variables[path[0]])
            if inner is None:
                break
            path = inner
        return path

    def canonical(self, value: typing.Any) -> str:
        """An expression in the form two spellings of one reference share (`${dbSecretArn}` as its target)."""
        path = whole_reference(value)
        if path is None:
            return str(value)
        return fmt_path(self.resolve_variable_path(path))

    def referenced_resource(self, value: typing.Any, *types: str) -> tuple[str, list] | None:
        """(resource, output path) when value is `${resource.output...}` (through variables) of one of types."""
        path = whole_reference(value)
        if path is None:
            return None
        path = self.resolve_variable_path(path)
        if len(path) < 2 or path[0] not in dict(self.of_type(*types)):
            return None
        return path[0], path[1:]

    # ---- resources -------------------------------------------------------

    def props(self, name: str) -> dict:
        res = self.resources.get(name) or {}
        props = res.get("properties")
        return props if isinstance(props, dict) else {}

    def of_type(self, *suffixes: str) -> list[tuple[str, dict]]:
        """Resources whose (short or canonical) type ends with one of suffixes."""
        out = []
        for name, res in self.resources.items():
            info = self.resource_info.get(name)
            tokens = {str(res.get("type", ""))}
            if info:
                tokens.add(info.token)
                parts = info.token.split(":")
                if len(parts) == 3:
                    tokens.add(f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}")
            if any(t in suffixes for t in tokens):
                out.append((name, res))
        return out

    def output_shape(self, cls: type, path: list, where: str | None = None) -> tuple | None:
        """Shape of resource output path[1:], or None (reported when where is set)."""

        def fail(message: str) -> None:
            if where is not None:
                self.err("unresolved-reference", where, f"${{{fmt_path(path)}}}: {message}")

        outputs = self.schema.outputs_of(cls)
        step = path[1]
        if not isinstance(step, str) or step not in outputs:
            fail(f"{cls.__name__} has no output {step!r}{close_match(str(step), outputs)}")
            return None
        shape = outputs[step]
        for part in path[2:]:
            if shape[0] == "list" and isinstance(part, int):
                shape = shape[1]
            elif shape[0] == "map":
                shape = shape[1]
            elif shape[0] == "object" and isinstance(part, str):
                fields = self.schema.outputs_of(shape[1])
                if part not in fields:
                    fail(f"{shape[1].__name__} has no field {part!r}{close_match(part, fields)}")
                    return None
                shape = fields[part]
            elif shape[0] == "any":
                return ANY
            else:
                fail(f"cannot apply {part!r} to {describe(shape)}")
                return None
        return shape
