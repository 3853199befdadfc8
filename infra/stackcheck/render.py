"""What the stack hands a resource, evaluated: a function's environment as Lambda would see it.

The rehearsal (`tools/libris_tools/checks/rehearsal.py`) runs the release bootstrap with the environment
each function gets in AWS, so a setting the code needs and the stack forgets fails a real cold start.
That environment is not written anywhere as plain values: it is Pulumi YAML expressions over config,
variables, provider look-ups and other resources' outputs. This module evaluates them the way Pulumi
YAML does (`${...}` interpolation, `$$`, the builtins the stack uses), with values for what only AWS
knows (the proxy's endpoint, a secret's ARN) given by the caller as stand-ins.

Anything the caller gave no stand-in for is an error naming the reference: a stack that starts to pass a
new output into a function makes the rehearsal fail until it stands something in for it, instead of
quietly rendering a blank. Config comes from Pulumi.yaml's defaults unless the caller overrides a key,
as a stack file would.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field

from .expressions import InterpolationError, builtin_of, fmt_path, parse_interpolations, whole_reference

PROJECT = "libris"
FUNCTION_TYPES = ("aws:lambda:Function", "aws:lambda/function:Function")


class RenderError(Exception):
    """An expression cannot be evaluated with the stand-ins given; the message names it and where it is."""


@dataclass(frozen=True)
class StandIns:
    """What replaces AWS when rendering.

    `outputs` maps a resource output reference as written (`dbProxy.endpoint`,
    `dbCluster.masterUserSecrets[0].secretArn`) to its value; `invokes` maps a provider function
    (`aws:index:getRegion`) to the object it returns; `config` overrides Pulumi.yaml's defaults."""

    stack: str = "rehearsal"
    config: dict[str, typing.Any] = field(default_factory=dict)
    outputs: dict[str, typing.Any] = field(default_factory=dict)
    invokes: dict[str, typing.Any] = field(default_factory=dict)


class Renderer:
    def __init__(self, doc: dict, stand_ins: StandIns):
        self.doc = doc
        self.stand_ins = stand_ins
        self.config = {
            key: decl if isinstance(decl, dict) else {"default": decl}
            for key, decl in (doc.get("config") or {}).items()
        }
        self.variables = doc.get("variables") or {}
        self.resources = doc.get("resources") or {}
        self._evaluating: list[str] = []
        self._variable_values: dict[str, typing.Any] = {}

    # ---- what callers ask for ------------------------------------------------

    def functions(self) -> list[str]:
        """The Lambda functions the program declares, in program order."""
        return [name for name, res in self.resources.items() if isinstance(res, dict) and res.get("type") in FUNCTION_TYPES]

    def property(self, resource: str, *path: str) -> typing.Any:
        """A resource property (`dbProxy`, `auths`), evaluated; None when the program does not set it."""
        node: typing.Any = (self.resources.get(resource) or {}).get("properties")
        for step in path:
            if not isinstance(node, dict) or step not in node:
                return None
            node = node[step]
        return self.value(node, f"resources.{resource}.properties.{'.'.join(path)}")

    def environment(self, function: str) -> dict[str, str]:
        """The environment variables the program gives `function`, as the strings Lambda passes on."""
        variables = self.property(function, "environment", "variables") or {}
        if not isinstance(variables, dict):
            raise RenderError(f"resources.{function}.properties.environment.variables: not a map")
        return {name: self.as_string(value, f"{function}: {name}") for name, value in variables.items()}

    @staticmethod
    def as_string(value: typing.Any, where: str) -> str:
        """A scalar as Pulumi converts it for a string input (`true`, `5432`)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise RenderError(f"{where}: {value!r} is not a scalar")

    # ---- evaluation ----------------------------------------------------------

    def value(self, expr: typing.Any, where: str) -> typing.Any:
        builtin = builtin_of(expr)
        if builtin is not None:
            return self._builtin(*builtin, where)
        if isinstance(expr, dict):
            return {key: self.value(item, f"{where}.{key}") for key, item in expr.items()}
        if isinstance(expr, list):
            return [self.value(item, f"{where}[{i}]") for i, item in enumerate(expr)]
        if isinstance(expr, str):
            return self._text(expr, where)
        return expr

    def _text(self, text: str, where: str) -> typing.Any:
        path = whole_reference(text)
        if path is not None:
            return self.reference(path, where)
        out, i = [], 0
        while i < len(text):
            if text.startswith("$$", i):
                out.append("$")
                i += 2
            elif text.startswith("${", i):
                end = text.find("}", i)
                if end < 0:
                    raise RenderError(f"{where}: unterminated interpolation in {text!r}")
                try:
                    (path,) = parse_interpolations(text[i : end + 1])
                except (InterpolationError, ValueError) as exc:  # ValueError: not exactly one reference
                    raise RenderError(f"{where}: {exc}") from exc
                out.append(self.as_string(self.reference(path, where), where))
                i = end + 1
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def reference(self, path: list, where: str) -> typing.Any:
        root, rest = path[0], path[1:]
        key = root[len(PROJECT) + 1 :] if root.startswith(PROJECT + ":") else root
        if key in self.config:
            return self._index(self._config_value(key, where), rest, path, where)
        if root == "pulumi":
            names = {"stack": self.stand_ins.stack, "project": PROJECT}
            if len(rest) != 1 or rest[0] not in names:
                raise RenderError(f"{where}: ${{{fmt_path(path)}}} is not a Pulumi built-in the rehearsal knows")
            return names[rest[0]]
        if root in self.variables:
            return self._index(self._variable(root, where), rest, path, where)
        if root in self.resources:
            written = fmt_path(path)
            if written not in self.stand_ins.outputs:
                raise RenderError(f"{where}: no stand-in for ${{{written}}} (add one to the rehearsal's outputs)")
            return self.stand_ins.outputs[written]
        raise RenderError(f"{where}: ${{{fmt_path(path)}}} names nothing in the program")

    def _config_value(self, key: str, where: str) -> typing.Any:
        if key in self.stand_ins.config:
            return self.stand_ins.config[key]
        if "default" in self.config[key]:
            return self.config[key]["default"]
        raise RenderError(f"{where}: config `{key}` has no default and the rehearsal sets none")

    def _variable(self, name: str, where: str) -> typing.Any:
        if name not in self._variable_values:
            if name in self._evaluating:
                raise RenderError(f"{where}: variable `{name}` refers to itself ({' -> '.join(self._evaluating)})")
            self._evaluating.append(name)
            try:
                self._variable_values[name] = self.value(self.variables[name], f"variables.{name}")
            finally:
                self._evaluating.pop()
        return self._variable_values[name]

    @staticmethod
    def _index(value: typing.Any, rest: list, path: list, where: str) -> typing.Any:
        for step in rest:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError) as exc:
                raise RenderError(f"{where}: ${{{fmt_path(path)}}}: no {step!r} in {value!r}") from exc
        return value

    def _builtin(self, name: str, arg: typing.Any, where: str) -> typing.Any:
        name = name.lower()
        if name == "fn::invoke":
            function = arg.get("function") if isinstance(arg, dict) else None
            if function not in self.stand_ins.invokes:
                raise RenderError(f"{where}: no stand-in for the look-up {function!r}")
            result = self.stand_ins.invokes[function]
            return result[arg["return"]] if arg.get("return") else result
        if name in ("fn::secret", "fn::unsecret"):
            return self.value(arg, where)
        value = self.value(arg, where)
        if name == "fn::tojson":
            return json.dumps(value, separators=(",", ":"))
        if name == "fn::join" and isinstance(value, list) and len(value) == 2:
            return value[0].join(self.as_string(v, where) for v in value[1])
        if name == "fn::split" and isinstance(value, list) and len(value) == 2:
            return value[1].split(value[0])
        if name == "fn::select" and isinstance(value, list) and len(value) == 2:
            return value[1][int(value[0])]
        raise RenderError(f"{where}: the rehearsal cannot evaluate {name} with {value!r}")
