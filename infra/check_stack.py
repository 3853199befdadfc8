#!/usr/bin/env python3
"""Offline static checks for the Libris Pulumi YAML stack (infra/Pulumi.yaml).

Run through `infra/check`, which provides a virtualenv with the pinned
`pulumi-aws` Python SDK and PyYAML. No AWS credentials, no Pulumi CLI and no
network are needed: the provider schema is read from the installed SDK.

What is checked
  * structure: top-level keys, resource keys, resource option names, config
    declarations (the subset the Pulumi CLI accepts), builtin function names;
  * schema: each resource type exists in pulumi-aws, every property is an
    input of that resource (nested objects too), required inputs are present,
    literal/config value kinds fit the input type, `fn::invoke` functions,
    their arguments and `return` fields exist, ignoreChanges names inputs;
  * references: each `${...}` resolves to a resource (and one of its
    outputs), a variable, a config key (`key` or `libris:key`) or a `pulumi.*`
    builtin; every config key and variable is used;
  * stack files (Pulumi.*.yaml next to Pulumi.yaml): keys declared, values of
    the declared type, IAM-auth switches consistent;
  * security invariants: proxy TLS, no public or unencrypted database, no
    plaintext master password, no 0.0.0.0/0 or ::/0 ingress, no secret-like
    Lambda environment values, no `*` resource on secretsmanager / rds-db
    statements, Lambda permission scoped to the API;
  * the contract with the Rust app (environment variable names and values,
    runtime, architecture) and the outputs the README promises.

Usage
  check_stack.py [--dir infra/]     check the stack, exit 1 on any problem
  check_stack.py --self-test        mutate the stack in memory and prove each
                                    mutation is reported (exit 1 otherwise)
"""

from __future__ import annotations

import argparse
import collections.abc
import copy
import enum
import importlib
import inspect
import json
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:
    import pulumi
    import pulumi_aws
except ImportError as exc:  # pragma: no cover - only outside the venv
    sys.exit(f"check_stack.py needs pulumi-aws installed (run infra/check): {exc}")

PROJECT = "libris"
HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------


@dataclass
class Problem:
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.where}: {self.message}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, where: str, message: str) -> None:
        self.problems.append(Problem(code, where, message))

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def snake_to_camel(name: str) -> str:
    name = name.rstrip("_")  # python keyword escapes such as `lambda_`
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_to_snake(name: str) -> str:
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return out.lower()


# --------------------------------------------------------------------------
# Provider schema, derived from the installed pulumi_aws package
# --------------------------------------------------------------------------

# Shapes describe what an input accepts:
#   ("scalar", "string"|"int"|"number"|"bool"), ("object", ArgsClass),
#   ("list", shape), ("map", shape), ("archive",), ("asset",), ("any",)
ANY = ("any",)


@dataclass
class Prop:
    name: str  # camelCase (schema) name
    python_name: str
    required: bool
    shape: tuple
    deprecated: bool


@dataclass
class ResourceInfo:
    token: str  # canonical token, e.g. aws:rds/proxy:Proxy
    cls: type
    args_cls: type


@dataclass
class FunctionInfo:
    token: str
    func: typing.Callable
    args: dict[str, Prop]
    result_fields: dict[str, tuple]


class Schema:
    """Answers questions about pulumi-aws types from the Python SDK."""

    def __init__(self) -> None:
        self.version = pulumi_aws._utilities.get_version()
        init_text = Path(pulumi_aws.__file__).read_text()
        match = re.search(r'resource_modules="""(.*?)"""', init_text, re.S)
        if not match:
            raise RuntimeError("cannot find the resource module table in pulumi_aws/__init__.py")
        self._resources: dict[str, tuple[str, str, str]] = {}  # lower token -> (token, fqn, class)
        self._module_fqn: dict[str, str] = {"index": "pulumi_aws"}
        for entry in json.loads(match.group(1)):
            top = entry["mod"].split("/")[0]
            self._module_fqn.setdefault(top, entry["fqn"])
            for token, cls_name in entry["classes"].items():
                self._resources[token.lower()] = (token, entry["fqn"], cls_name)
        self._props_cache: dict[type, dict[str, Prop]] = {}
        self._outputs_cache: dict[type, dict[str, tuple]] = {}

    # ---- resources -------------------------------------------------------

    def resolve_resource(self, type_token: str) -> ResourceInfo | None:
        if type_token == "pulumi:providers:aws":
            return ResourceInfo(type_token, pulumi_aws.Provider, pulumi_aws.ProviderArgs)
        parts = type_token.split(":")
        if len(parts) == 2:
            parts = [parts[0], "index", parts[1]]
        if len(parts) != 3 or parts[0] != "aws":
            return None
        candidates = [":".join(parts)]
        if "/" not in parts[1]:
            candidates.append(f"{parts[0]}:{parts[1]}/{parts[2].lower()}:{parts[2]}")
        for candidate in candidates:
            found = self._resources.get(candidate.lower())
            if found:
                token, fqn, cls_name = found
                module = importlib.import_module(fqn)
                cls = getattr(module, cls_name)
                args_cls = getattr(module, cls_name + "Args", None)
                if args_cls is None:
                    return None
                return ResourceInfo(token, cls, args_cls)
        return None

    # ---- functions -------------------------------------------------------

    def resolve_function(self, token: str) -> FunctionInfo | None:
        parts = token.split(":")
        if len(parts) == 2:
            parts = [parts[0], "index", parts[1]]
        if len(parts) != 3 or parts[0] != "aws":
            return None
        mod, name = parts[1].split("/")[0], parts[2]
        fqns = [self._module_fqn.get(mod, f"pulumi_aws.{mod}"), f"pulumi_aws.{mod}_"]
        for fqn in dict.fromkeys(fqns):
            try:
                module = importlib.import_module(fqn)
            except ImportError:
                continue
            func = getattr(module, camel_to_snake(name), None)
            if not callable(func):
                continue
            canonical = f"aws:{mod}/{name}:{name}"
            try:
                source = inspect.getsource(func)
            except (OSError, TypeError):
                source = ""
            if canonical.lower() not in source.lower():
                continue
            func_module = sys.modules[func.__module__]
            args: dict[str, Prop] = {}
            for pname, param in inspect.signature(func).parameters.items():
                if pname == "opts":
                    continue
                camel = snake_to_camel(pname)
                args[camel] = Prop(
                    camel,
                    pname,
                    param.default is inspect.Parameter.empty,
                    self.shape_of(param.annotation, func_module),
                    False,
                )
            result_cls = getattr(func_module, f"Get{name[3:]}Result", None) if name.startswith("get") else None
            result_fields = self.outputs_of(result_cls) if result_cls else {}
            return FunctionInfo(canonical, func, args, result_fields)
        return None

    # ---- inputs ----------------------------------------------------------

    def inputs_of(self, args_cls: type) -> dict[str, Prop]:
        """Input properties of an Args class, keyed by their schema name."""
        if args_cls in self._props_cache:
            return self._props_cache[args_cls]
        module = sys.modules[args_cls.__module__]
        props: dict[str, Prop] = {}
        for pname, param in inspect.signature(args_cls.__init__).parameters.items():
            if pname in ("self", "__self__") or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            camel = snake_to_camel(pname)
            deprecated = False
            attr = inspect.getattr_static(args_cls, pname, None)
            if isinstance(attr, property) and attr.fget is not None:
                # @pulumi.getter(name="...") carries the exact schema name.
                camel = getattr(attr.fget, "_pulumi_name", camel)
                deprecated = "_pulumi_deprecated_callable" in getattr(attr.fget, "__dict__", {})
            props[camel] = Prop(
                camel,
                pname,
                param.default is inspect.Parameter.empty,
                self.shape_of(param.annotation, module),
                deprecated,
            )
        self._props_cache[args_cls] = props
        return props

    # ---- outputs ---------------------------------------------------------

    def outputs_of(self, cls: type | None) -> dict[str, tuple]:
        """Output properties (pulumi getters) of a resource or output type."""
        if cls is None:
            return {}
        if cls in self._outputs_cache:
            return self._outputs_cache[cls]
        module = sys.modules[cls.__module__]
        outs: dict[str, tuple] = {}
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                if isinstance(attr, property) and attr.fget is not None:
                    name = getattr(attr.fget, "_pulumi_name", None)
                    if name is None:
                        continue
                    ann = getattr(attr.fget, "__annotations__", {}).get("return", None)
                    outs[name] = self.shape_of(ann, module) if ann is not None else ANY
        if inspect.isclass(cls) and issubclass(cls, pulumi.Resource):
            outs.setdefault("id", ("scalar", "string"))
            outs.setdefault("urn", ("scalar", "string"))
        self._outputs_cache[cls] = outs
        return outs

    # ---- type annotations -> shapes ---------------------------------------

    def _resolve_name(self, name: str, module) -> typing.Any:
        if name.startswith("Output["):
            return None
        obj: typing.Any = module
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is None and "." not in name:
            # Nested Args classes live in the package's _inputs module.
            pkg = module.__name__.rsplit(".", 1)[0] if not hasattr(module, "__path__") else module.__name__
            for sub in ("_inputs", "outputs"):
                try:
                    obj = getattr(importlib.import_module(f"{pkg}.{sub}"), name, None)
                except ImportError:
                    obj = None
                if obj is not None:
                    break
        return obj

    def shape_of(self, ann: typing.Any, module) -> tuple:
        if ann is inspect.Parameter.empty or ann is None or ann is type(None):
            return ANY
        if isinstance(ann, str):
            ann = typing.ForwardRef(ann)
        if isinstance(ann, typing.ForwardRef):
            target = self._resolve_name(ann.__forward_arg__, module)
            if target is None:
                return ANY
            return self.shape_of(target, sys.modules.get(getattr(target, "__module__", ""), module))
        if ann is typing.Any:
            return ANY
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if origin is typing.Union:
            for arg in args:
                if arg is type(None):
                    continue
                shape = self.shape_of(arg, module)
                if shape != ANY:
                    return shape
            return ANY
        if origin is collections.abc.Awaitable or (inspect.isclass(origin) and issubclass(origin, pulumi.Output)):
            return self.shape_of(args[0], module) if args else ANY
        if origin in (collections.abc.Sequence, list, tuple, collections.abc.MutableSequence):
            return ("list", self.shape_of(args[0], module) if args else ANY)
        if origin in (collections.abc.Mapping, dict, collections.abc.MutableMapping):
            return ("map", self.shape_of(args[1], module) if len(args) > 1 else ANY)
        if inspect.isclass(ann):
            if hasattr(ann, "_pulumi_input_type") or hasattr(ann, "_pulumi_output_type"):
                return ("object", ann)
            if issubclass(ann, pulumi.Archive):
                return ("archive",)
            if issubclass(ann, pulumi.Asset):
                return ("asset",)
            if ann is bool:
                return ("scalar", "bool")
            if ann is int:
                return ("scalar", "int")
            if ann is float:
                return ("scalar", "number")
            if ann is str or (issubclass(ann, enum.Enum) and issubclass(ann, str)):
                return ("scalar", "string")
        return ANY


# --------------------------------------------------------------------------
# Pulumi YAML expressions
# --------------------------------------------------------------------------

BUILTINS = {
    name.lower(): name
    for name in (
        "fn::invoke fn::join fn::toJSON fn::toBase64 fn::fromBase64 fn::select fn::split "
        "fn::stackReference fn::assetArchive fn::secret fn::unsecret fn::readFile "
        "fn::filebase64 fn::filebase64sha256 fn::sha1 fn::length fn::singleOrNone "
        "fn::pulumiResourceName fn::pulumiResourceType fn::stringAsset fn::fileAsset "
        "fn::remoteAsset fn::fileArchive fn::remoteArchive"
    ).split()
}
ASSET_BUILTINS = {"fn::stringAsset", "fn::fileAsset", "fn::remoteAsset"}
ARCHIVE_BUILTINS = {"fn::fileArchive", "fn::remoteArchive", "fn::assetArchive"}
STRING_RESULT_BUILTINS = {
    "fn::join",
    "fn::toJSON",
    "fn::toBase64",
    "fn::fromBase64",
    "fn::readFile",
    "fn::filebase64",
    "fn::filebase64sha256",
    "fn::sha1",
    "fn::pulumiResourceName",
    "fn::pulumiResourceType",
}
PULUMI_BUILTIN_VARS = {"cwd", "organization", "project", "rootDirectory", "stack"}

TOP_LEVEL_KEYS = {
    # Pulumi project file
    "name",
    "runtime",
    "description",
    "main",
    "stackConfigDir",
    "backend",
    "options",
    "template",
    "plugins",
    "packages",
    "author",
    "website",
    "license",
    # Pulumi YAML program
    "config",
    "variables",
    "resources",
    "outputs",
    "pulumi",
}
RESOURCE_KEYS = {"type", "name", "defaultProvider", "properties", "options", "get"}
RESOURCE_OPTIONS = {
    "additionalSecretOutputs",
    "aliases",
    "customTimeouts",
    "deleteBeforeReplace",
    "dependsOn",
    "ignoreChanges",
    "import",
    "parent",
    "protect",
    "provider",
    "providers",
    "version",
    "pluginDownloadURL",
    "replaceOnChanges",
    "retainOnDelete",
    "replaceWith",
    "deletedWith",
    "hideDiffs",
    "replacementTrigger",
    "envVarMappings",
}
CONFIG_DECL_KEYS = {"type", "description", "secret", "default", "value", "items"}
CONFIG_TYPES = {"string": "string", "integer": "int", "boolean": "bool", "array": "list"}


class InterpolationError(ValueError):
    pass


def parse_interpolations(text: str) -> list[list]:
    """Return the property-access paths of every ${...} in text.

    Mirrors Pulumi YAML: `$$` is a literal `$`; an access is a root name followed
    by `.name`, `[0]` or `["key"]` parts."""
    refs: list[list] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
        elif text.startswith("${", i):
            i += 2
            path: list = []
            while True:
                if i >= len(text):
                    raise InterpolationError(f"unterminated interpolation in {text!r}")
                ch = text[i]
                if ch == "}":
                    i += 1
                    break
                if ch == ".":
                    i += 1
                elif ch == "[":
                    if text.startswith('["', i):
                        j = i + 2
                        key = []
                        while j < len(text) and text[j] != '"':
                            if text.startswith('\\"', j):
                                key.append('"')
                                j += 2
                            else:
                                key.append(text[j])
                                j += 1
                        if not text.startswith('"]', j):
                            raise InterpolationError(f"bad string subscript in {text!r}")
                        path.append("".join(key))
                        i = j + 2
                    else:
                        end = text.find("]", i)
                        if end < 0:
                            raise InterpolationError(f"missing ] in {text!r}")
                        try:
                            index = int(text[i + 1 : end])
                        except ValueError as exc:
                            raise InterpolationError(f"invalid list index in {text!r}") from exc
                        if not path:
                            raise InterpolationError(f"index without a root name in {text!r}")
                        path.append(index)
                        i = end + 1
                else:
                    j = i
                    while j < len(text) and text[j] not in ".[}":
                        j += 1
                    path.append(text[i:j])
                    i = j
            if not path or path[0] == "":
                raise InterpolationError(f"empty interpolation in {text!r}")
            refs.append(path)
        else:
            i += 1
    return refs


def whole_reference(value: typing.Any) -> list | None:
    """The access path if value is exactly one `${...}` and nothing else."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        try:
            refs = parse_interpolations(value)
        except InterpolationError:
            return None
        if len(refs) == 1 and value.count("${") == 1:
            return refs[0]
    return None


def builtin_of(value: typing.Any) -> tuple[str, typing.Any] | None:
    """(key, argument) if value is a one-key `fn::...` object."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if isinstance(key, str) and key.lower().startswith("fn::"):
            return key, arg
    return None


def fmt_path(path: list) -> str:
    out = str(path[0])
    for part in path[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


# --------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------


class Checker:
    def __init__(self, schema: Schema, project: dict, stacks: dict[str, dict]):
        self.schema = schema
        self.doc = project
        self.stacks = stacks
        self.report = Report()
        self.config: dict[str, dict] = {}
        self.variables: dict = {}
        self.resources: dict[str, dict] = {}
        self.resource_info: dict[str, ResourceInfo] = {}
        self.used_config: set[str] = set()
        self.used_variables: set[str] = set()

    # ---- helpers ---------------------------------------------------------

    def err(self, code: str, where: str, message: str) -> None:
        self.report.add(code, where, message)

    def config_key(self, root: str) -> str | None:
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

    # ---- entry point -----------------------------------------------------

    def run(self) -> Report:
        doc = self.doc
        if not isinstance(doc, dict):
            self.err("structure", "Pulumi.yaml", "not a mapping")
            return self.report
        for key in doc:
            if key not in TOP_LEVEL_KEYS:
                self.err("structure", "Pulumi.yaml", f"unknown top-level key {key!r}")
        if doc.get("name") != PROJECT:
            self.err("structure", "Pulumi.yaml", f"project name must be {PROJECT!r}")
        runtime = doc.get("runtime")
        if (runtime.get("name") if isinstance(runtime, dict) else runtime) != "yaml":
            self.err("structure", "Pulumi.yaml", "runtime must be yaml")
        self.config = {k: v for k, v in (doc.get("config") or {}).items()}
        self.variables = dict(doc.get("variables") or {})
        self.resources = dict(doc.get("resources") or {})
        names = list(self.config) + list(self.variables) + list(self.resources)
        for name in {n for n in names if names.count(n) > 1}:
            self.err("structure", name, "name declared more than once (config/variables/resources)")

        self.check_config_declarations()
        self.check_resources()
        self.check_expressions()
        self.check_unused()
        self.check_stack_files()
        self.check_security()
        self.check_app_contract()
        return self.report

    # ---- config ----------------------------------------------------------

    def check_config_declarations(self) -> None:
        normalised: dict[str, dict] = {}
        for key, decl in self.config.items():
            where = f"config.{key}"
            if ":" in key:
                self.err("config", where, "declare project keys without a namespace")
            if not isinstance(decl, dict):
                decl = {"default": decl}  # shorthand form
            for k in decl:
                if k not in CONFIG_DECL_KEYS:
                    self.err("config", where, f"unknown declaration key {k!r}")
            ctype = decl.get("type")
            if ctype is not None and ctype not in CONFIG_TYPES:
                self.err(
                    "config", where, f"type {ctype!r} is not one of {sorted(CONFIG_TYPES)} (Pulumi CLI project schema)"
                )
            if ctype == "array" and "items" not in decl:
                self.err("config", where, "array config needs `items`")
            if ctype is None and "default" not in decl:
                self.err("config", where, "needs a `type` or a `default` (Pulumi YAML cannot infer its type)")
            if "default" in decl and ctype in CONFIG_TYPES:
                if not kind_fits(literal_kind(decl["default"]), CONFIG_TYPES[ctype]):
                    self.err("config", where, f"default {decl['default']!r} is not of type {ctype}")
            if "default" in decl and isinstance(decl["default"], str) and "${" in decl["default"]:
                self.err("config", where, "defaults must be literals")
            if not decl.get("description"):
                self.err("config", where, "add a description (it is the documentation of the knob)")
            normalised[key] = decl
        self.config = normalised

    # ---- resources -------------------------------------------------------

    def check_resources(self) -> None:
        for name, res in self.resources.items():
            where = f"resources.{name}"
            if not isinstance(res, dict):
                self.err("structure", where, "must be a mapping")
                continue
            for key in res:
                if key not in RESOURCE_KEYS:
                    self.err("structure", where, f"unknown resource key {key!r}")
            type_token = res.get("type")
            if not isinstance(type_token, str):
                self.err("structure", where, "missing `type`")
                continue
            info = self.schema.resolve_resource(type_token)
            if info is None:
                self.err(
                    "unknown-type", where, f"type {type_token!r} does not exist in pulumi-aws {self.schema.version}"
                )
                continue
            self.resource_info[name] = info
            if res.get("defaultProvider") is not None and not type_token.startswith("pulumi:providers:"):
                self.err("structure", where, "defaultProvider is only valid on provider resources")
            props = res.get("properties", {})
            if props is None:
                props = {}
            if isinstance(props, dict):
                self.check_object(props, self.schema.inputs_of(info.args_cls), where, info.token)
            elif whole_reference(props) is None:
                self.err("structure", where, "properties must be a mapping")
            options = res.get("options") or {}
            if not isinstance(options, dict):
                self.err("structure", where, "options must be a mapping")
                continue
            for opt in options:
                if opt not in RESOURCE_OPTIONS:
                    self.err("unknown-option", where, f"unknown resource option {opt!r}")
            inputs = self.schema.inputs_of(info.args_cls)
            for prop in options.get("ignoreChanges") or []:
                top = str(prop).split(".")[0].split("[")[0]
                if top not in inputs:
                    self.err(
                        "unknown-property",
                        f"{where}.options.ignoreChanges",
                        f"{prop!r} is not an input of {info.token}",
                    )
            if type_token == "pulumi:providers:aws":
                version = options.get("version")
                if str(version) != self.schema.version:
                    self.err(
                        "provider-version",
                        where,
                        f"provider version {version!r} differs from the checked pulumi-aws {self.schema.version}",
                    )

    def check_object(self, obj: dict, inputs: dict[str, Prop], where: str, type_name: str) -> None:
        for key, value in obj.items():
            prop = inputs.get(key)
            if prop is None:
                hint = close_match(key, inputs)
                self.err("unknown-property", f"{where}.{key}", f"not an input of {type_name}{hint}")
                continue
            if prop.deprecated:
                self.err("deprecated", f"{where}.{key}", f"input is deprecated in pulumi-aws {self.schema.version}")
            self.check_value(value, prop.shape, f"{where}.{key}")
        for prop in inputs.values():
            if prop.required and prop.name not in obj:
                self.err("missing-required", where, f"required input {prop.name!r} of {type_name} is missing")

    def check_value(self, value: typing.Any, shape: tuple, where: str) -> None:
        kind = shape[0]
        if kind == "any":
            return
        fn = builtin_of(value)
        if fn is not None:
            canonical = BUILTINS.get(fn[0].lower())
            if canonical in ASSET_BUILTINS and kind == "archive":
                self.err(
                    "type-mismatch",
                    where,
                    f"{canonical} yields an Asset but this input takes an Archive (use fn::fileArchive)",
                )
            elif canonical in ARCHIVE_BUILTINS | ASSET_BUILTINS and kind not in ("archive", "asset"):
                self.err("type-mismatch", where, f"{canonical} given to an input that takes no asset/archive")
            elif canonical in STRING_RESULT_BUILTINS and kind == "scalar" and shape[1] in ("int", "number", "bool"):
                self.err("type-mismatch", where, f"{canonical} yields a string but the input is {shape[1]}")
            elif canonical in STRING_RESULT_BUILTINS and kind in ("object", "list", "map"):
                self.err("type-mismatch", where, f"{canonical} yields a string but the input is {kind}")
            return
        if isinstance(value, str) and "${" in value:
            path = whole_reference(value)
            if path is None:
                # Text with interpolations is always a string.
                if kind != "scalar" or shape[1] != "string":
                    self.err(
                        "type-mismatch", where, f"interpolated text is a string but the input is {describe(shape)}"
                    )
                return
            expected = shape[1] if kind == "scalar" else kind
            if len(path) == 1:
                key = self.config_key(path[0])
                if key and not kind_fits(self.config_kind(key), expected):
                    self.err(
                        "type-mismatch",
                        where,
                        f"config {key!r} is {self.config_kind(key)} but the input is {describe(shape)}",
                    )
            elif path[0] in self.resource_info:
                found = self.output_shape(self.resource_info[path[0]].cls, path)
                actual = shape_kind(found) if found else "any"
                if not kind_fits(actual, expected):
                    self.err(
                        "type-mismatch",
                        where,
                        f"${{{fmt_path(path)}}} is {describe(found)} but the input is {describe(shape)}",
                    )
            return
        if kind in ("archive", "asset"):
            self.err("type-mismatch", where, f"expects an {kind} (fn::fileArchive / fn::fileAsset), got {value!r}")
            return
        if kind == "scalar":
            if not kind_fits(literal_kind(value), shape[1]):
                self.err("type-mismatch", where, f"{value!r} is {literal_kind(value)} but the input is {shape[1]}")
            return
        if kind == "object":
            if not isinstance(value, dict):
                self.err("type-mismatch", where, f"expects an object ({shape[1].__name__}), got {type(value).__name__}")
                return
            self.check_object(value, self.schema.inputs_of(shape[1]), where, shape[1].__name__)
            return
        if kind == "list":
            if not isinstance(value, list):
                self.err("type-mismatch", where, f"expects a list, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.check_value(item, shape[1], f"{where}[{i}]")
            return
        if kind == "map":
            if not isinstance(value, dict):
                self.err("type-mismatch", where, f"expects a map, got {type(value).__name__}")
                return
            for k, item in value.items():
                self.check_value(item, shape[1], f"{where}.{k}")

    # ---- expressions and references ---------------------------------------

    def check_expressions(self) -> None:
        self.edges: dict[str, set[str]] = {}
        self.owner: str | None = None
        for key, decl in self.config.items():
            self.walk(decl.get("default"), f"config.{key}.default", in_options=False)
        for name, value in self.variables.items():
            self.owner = name
            self.walk(value, f"variables.{name}", in_options=False)
        for name, res in self.resources.items():
            if not isinstance(res, dict):
                continue
            self.owner = name
            self.walk(res.get("properties"), f"resources.{name}.properties", in_options=False)
            self.walk(res.get("options"), f"resources.{name}.options", in_options=True)
        self.owner = None
        outputs = self.doc.get("outputs") or {}
        if not isinstance(outputs, dict):
            self.err("structure", "outputs", "must be a mapping")
        else:
            for name, value in outputs.items():
                self.walk(value, f"outputs.{name}", in_options=False)
        self.check_cycles()

    def check_cycles(self) -> None:
        """Pulumi YAML evaluates in dependency order and rejects cycles."""
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        stack: list[str] = []

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for nxt in sorted(self.edges.get(node, ())):
                if state.get(nxt) == 1:
                    cycle = stack[stack.index(nxt) :] + [nxt]
                    self.err("cycle", nxt, "dependency cycle: " + " -> ".join(cycle))
                elif nxt not in state:
                    visit(nxt)
            stack.pop()
            state[node] = 2

        for node in sorted(self.edges):
            if node not in state:
                visit(node)

    def walk(self, value: typing.Any, where: str, in_options: bool) -> None:
        fn = builtin_of(value)
        if fn is not None:
            key, arg = fn
            canonical = BUILTINS.get(key.lower())
            if canonical is None:
                self.err(
                    "unknown-builtin",
                    where,
                    f"{key!r} is not a Pulumi YAML builtin (use fn::invoke for provider functions)",
                )
            elif canonical != key:
                self.err("unknown-builtin", where, f"write {canonical!r}, not {key!r}")
            if canonical == "fn::invoke":
                self.check_invoke(arg, where)
            elif canonical in ("fn::select", "fn::split", "fn::join") and not (isinstance(arg, list) and len(arg) == 2):
                self.err("structure", where, f"{canonical} takes a two-element list")
            self.walk(arg, f"{where}.{key}", in_options)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and "${" in k:
                    self.err("structure", where, f"interpolation in a key ({k!r}) is not supported")
                self.walk(v, f"{where}.{k}", in_options)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.walk(v, f"{where}[{i}]", in_options)
        elif isinstance(value, str) and "${" in value:
            try:
                paths = parse_interpolations(value)
            except InterpolationError as exc:
                self.err("syntax", where, str(exc))
                return
            whole = whole_reference(value) is not None
            for path in paths:
                self.check_reference(path, where, bare_allowed=in_options and whole)

    def check_reference(self, path: list, where: str, bare_allowed: bool) -> None:
        root = path[0]
        shown = fmt_path(path)
        if self.owner is not None and (root in self.resources or root in self.variables):
            self.edges.setdefault(self.owner, set()).add(root)
        if not isinstance(root, str):
            self.err("unresolved-reference", where, f"${{{shown}}}: invalid root")
            return
        if root in self.resources:
            info = self.resource_info.get(root)
            if len(path) == 1:
                if not bare_allowed:
                    self.err(
                        "bare-resource-reference",
                        where,
                        f"${{{root}}} passes the whole resource; name the output you mean (.id, .arn, .name)",
                    )
                return
            if info is None:
                return
            self.check_output_path(info.cls, path, where)
            return
        if root in self.variables:
            self.used_variables.add(root)
            var = self.variables[root]
            fn = builtin_of(var)
            if (
                len(path) > 1
                and fn is not None
                and fn[0] == "fn::invoke"
                and isinstance(fn[1], dict)
                and "return" not in fn[1]
            ):
                info = self.schema.resolve_function(str(fn[1].get("function", "")))
                if info is not None and isinstance(path[1], str) and path[1] not in info.result_fields:
                    self.err("unresolved-reference", where, f"${{{shown}}}: {info.token} returns no field {path[1]!r}")
            return
        key = self.config_key(root)
        if key is not None:
            self.used_config.add(key)
            return
        if root == "pulumi":
            if len(path) != 2 or path[1] not in PULUMI_BUILTIN_VARS:
                self.err("unresolved-reference", where, f"${{{shown}}}: pulumi.* offers {sorted(PULUMI_BUILTIN_VARS)}")
            return
        if ":" in root:
            self.err(
                "unresolved-reference",
                where,
                f"${{{shown}}}: config {root!r} is not declared in this project's config block "
                f"(other namespaces are not read by this stack)",
            )
            return
        hint = close_match(root, {**self.resources, **self.variables, **self.config})
        self.err("unresolved-reference", where, f"${{{shown}}}: no resource, variable or config named {root!r}{hint}")

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

    def check_output_path(self, cls: type, path: list, where: str) -> None:
        self.output_shape(cls, path, where)

    def check_invoke(self, arg: typing.Any, where: str) -> None:
        if not isinstance(arg, dict):
            self.err("structure", where, "fn::invoke takes an object with function/arguments/options/return")
            return
        for k in arg:
            if k not in ("function", "arguments", "options", "return"):
                self.err("structure", where, f"fn::invoke has no key {k!r}")
        token = arg.get("function")
        if not isinstance(token, str):
            self.err("structure", where, "fn::invoke needs a literal `function` token")
            return
        info = self.schema.resolve_function(token)
        if info is None:
            self.err(
                "unknown-function", where, f"function {token!r} does not exist in pulumi-aws {self.schema.version}"
            )
            return
        arguments = arg.get("arguments") or {}
        if isinstance(arguments, dict):
            self.check_object(arguments, info.args, f"{where}.arguments", info.token)
        ret = arg.get("return")
        if ret is not None and ret not in info.result_fields:
            hint = close_match(str(ret), info.result_fields)
            self.err("unknown-return", where, f"{info.token} returns no field {ret!r}{hint}")

    def check_unused(self) -> None:
        for key in self.config:
            if key not in self.used_config:
                self.err("unused", f"config.{key}", "declared but never referenced")
        for name in self.variables:
            if name not in self.used_variables:
                self.err("unused", f"variables.{name}", "declared but never referenced")

    # ---- stack files -------------------------------------------------------

    def check_stack_files(self) -> None:
        for fname, stack in self.stacks.items():
            stack_name = fname[len("Pulumi.") : -len(".yaml")]
            if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", stack_name):
                self.err(
                    "config", fname, "stack names must be lower-case letters, digits and hyphens (RDS identifiers)"
                )
            if not isinstance(stack, dict):
                self.err("config", fname, "not a mapping")
                continue
            cfg = stack.get("config") or {}
            if not isinstance(cfg, dict):
                self.err("config", fname, "`config` must be a mapping")
                continue
            for key, value in cfg.items():
                where = f"{fname}:{key}"
                if ":" not in key:
                    self.err("config", where, "stack config keys need a namespace (libris:...)")
                    continue
                ns, bare = key.split(":", 1)
                if ns == "aws":
                    self.err(
                        "config",
                        where,
                        "aws:* keys are ignored by this stack's explicit provider; use libris:awsRegion",
                    )
                    continue
                if ns != PROJECT:
                    self.err("config", where, f"namespace {ns!r} is not used by this project")
                    continue
                if bare not in self.config:
                    self.err("config", where, f"{bare!r} is not declared in Pulumi.yaml")
                    continue
                if isinstance(value, dict) and "secure" in value:
                    continue
                expected = self.config_kind(bare)
                if not kind_fits(literal_kind(value), expected):
                    self.err("config", where, f"{value!r} is not of the declared type {expected}")
            for key, decl in self.config.items():
                if "default" not in decl and f"{PROJECT}:{key}" not in cfg:
                    self.err("config", fname, f"required key {PROJECT}:{key} is not set")
            self.check_iam_switches(fname, cfg)

    def check_iam_switches(self, fname: str, cfg: dict) -> None:
        if "proxyIamAuth" not in self.config or "dbIamAuth" not in self.config:
            return

        def get(key):
            return cfg.get(f"{PROJECT}:{key}", self.config[key].get("default"))

        proxy, app = get("proxyIamAuth"), get("dbIamAuth")
        if proxy not in ("REQUIRED", "DISABLED"):
            self.err("config", fname, f"proxyIamAuth must be REQUIRED or DISABLED, not {proxy!r}")
        elif (proxy == "REQUIRED") != (app is True or app == "true"):
            self.err(
                "config",
                fname,
                f"proxyIamAuth={proxy} needs dbIamAuth={'true' if proxy == 'REQUIRED' else 'false'} (got {app!r})",
            )

    # ---- security invariants ----------------------------------------------

    def check_security(self) -> None:
        self.check_proxy_tls()
        self.check_database()
        self.check_ingress()
        self.check_network_chain()
        self.check_function_environment()
        self.check_policies()
        self.check_permissions()

    def literal_is(self, value: typing.Any, expected: typing.Any) -> bool:
        values = self.possible_values(value)
        return (
            bool(values)
            and all(v is expected or v == expected for v in values)
            and all(type(v) is type(expected) for v in values)
        )

    def check_proxy_tls(self) -> None:
        proxies = self.of_type("aws:rds:Proxy")
        if not proxies:
            self.err("tls", "resources", "no aws:rds:Proxy found")
        for name, _ in proxies:
            props = self.props(name)
            if not self.literal_is(props.get("requireTls"), True):
                self.err("tls", f"resources.{name}.requireTls", "RDS Proxy must have requireTls: true")
            if props.get("engineFamily") != "POSTGRESQL":
                self.err("contract", f"resources.{name}.engineFamily", "must be POSTGRESQL")
            for i, auth in enumerate(props.get("auths") or []):
                where = f"resources.{name}.auths[{i}]"
                if not isinstance(auth, dict):
                    continue
                if auth.get("authScheme") != "SECRETS":
                    self.err("contract", where, "authScheme must be SECRETS")
                if whole_reference(auth.get("secretArn")) is None:
                    self.err("secret-env", where, "secretArn must reference the managed secret, not a literal")
                for v in self.possible_values(auth.get("iamAuth")):
                    if v not in ("REQUIRED", "DISABLED"):
                        self.err("contract", where, f"iamAuth value {v!r} is not REQUIRED or DISABLED")
        for name, _ in self.of_type("aws:rds:ProxyDefaultTargetGroup"):
            pool = self.props(name).get("connectionPoolConfig") or {}
            for key in ("initQuery", "sessionPinningFilters"):
                if key in pool:
                    self.err(
                        "contract",
                        f"resources.{name}.connectionPoolConfig.{key}",
                        "not used by design (see comment in Pulumi.yaml)",
                    )
            for key in ("connectionBorrowTimeout", "maxConnectionsPercent", "maxIdleConnectionsPercent"):
                if whole_reference(pool.get(key)) is None:
                    self.err("contract", f"resources.{name}.connectionPoolConfig", f"{key} must come from config")

    def check_database(self) -> None:
        clusters = self.of_type("aws:rds:Cluster")
        if not clusters:
            self.err("encryption", "resources", "no aws:rds:Cluster found")
        for name, _ in clusters:
            props = self.props(name)
            where = f"resources.{name}"
            if not self.literal_is(props.get("storageEncrypted"), True):
                self.err(
                    "encryption",
                    f"{where}.storageEncrypted",
                    "Aurora storage must be encrypted (storageEncrypted: true)",
                )
            if "publiclyAccessible" in props and not self.literal_is(props.get("publiclyAccessible"), False):
                self.err("public-db", f"{where}.publiclyAccessible", "the cluster must not be publicly accessible")
            for key in ("masterPassword", "masterPasswordWo"):
                if key in props:
                    self.err(
                        "plaintext-password",
                        f"{where}.{key}",
                        "use manageMasterUserPassword: the password must not pass through config/state",
                    )
            if not self.literal_is(props.get("manageMasterUserPassword"), True):
                self.err("plaintext-password", where, "manageMasterUserPassword must be true (RDS-managed secret)")
            scaling = props.get("serverlessv2ScalingConfiguration")
            if not isinstance(scaling, dict):
                self.err("contract", where, "serverlessv2ScalingConfiguration is required (Serverless v2)")
            for key in ("backupRetentionPeriod", "deletionProtection"):
                if whole_reference(props.get(key)) is None:
                    self.err("contract", f"{where}.{key}", "must be configurable (reference a config key)")
        instances = self.of_type("aws:rds:ClusterInstance", "aws:rds:Instance")
        for name, res in instances:
            props = self.props(name)
            where = f"resources.{name}"
            if not self.literal_is(props.get("publiclyAccessible"), False):
                self.err("public-db", f"{where}.publiclyAccessible", "DB instances must set publiclyAccessible: false")
            if "ClusterInstance" in str(res.get("type")) and props.get("instanceClass") != "db.serverless":
                self.err("contract", f"{where}.instanceClass", "Serverless v2 instances use db.serverless")

    def check_ingress(self) -> None:
        world = {"0.0.0.0/0", "::/0"}

        def check_cidrs(value, where):
            values = []
            for v in self.possible_values(value):
                values.extend(v if isinstance(v, list) else [v])
            if isinstance(value, list):
                for item in value:
                    for v in self.possible_values(item):
                        values.extend(v if isinstance(v, list) else [v])
            if any(v in world for v in values):
                self.err("world-ingress", where, "ingress from 0.0.0.0/0 or ::/0 is not allowed")

        for name, _ in self.of_type("aws:ec2:SecurityGroup", "aws:ec2:DefaultSecurityGroup"):
            for i, rule in enumerate(self.props(name).get("ingress") or []):
                if isinstance(rule, dict):
                    for key in ("cidrBlocks", "ipv6CidrBlocks"):
                        if key in rule:
                            check_cidrs(rule[key], f"resources.{name}.ingress[{i}].{key}")
        for name, _ in self.of_type("aws:vpc:SecurityGroupIngressRule"):
            props = self.props(name)
            for key in ("cidrIpv4", "cidrIpv6"):
                if key in props:
                    check_cidrs(props[key], f"resources.{name}.{key}")
        for name, _ in self.of_type("aws:ec2:SecurityGroupRule"):
            props = self.props(name)
            if props.get("type") == "ingress":
                for key in ("cidrBlocks", "ipv6CidrBlocks"):
                    if key in props:
                        check_cidrs(props[key], f"resources.{name}.{key}")

    def check_network_chain(self) -> None:
        """Rules only between security groups, on single TCP ports, no inline rules."""
        for name, _ in self.of_type("aws:ec2:SecurityGroup"):
            for key in ("ingress", "egress"):
                if key in self.props(name):
                    self.err(
                        "network",
                        f"resources.{name}.{key}",
                        "use aws:vpc:SecurityGroup*Rule resources, not inline rules",
                    )
        for name, _ in self.of_type("aws:vpc:SecurityGroupIngressRule", "aws:vpc:SecurityGroupEgressRule"):
            props = self.props(name)
            where = f"resources.{name}"
            if whole_reference(props.get("referencedSecurityGroupId")) is None:
                self.err(
                    "network", where, "rules must reference a security group (referencedSecurityGroupId), not a CIDR"
                )
            if (
                props.get("ipProtocol") != "tcp"
                or props.get("fromPort") != props.get("toPort")
                or props.get("fromPort") not in (443, 5432)
            ):
                self.err("network", where, "rules must be tcp on a single port (5432 or 443)")

    SECRET_VALUE_PATTERNS = (
        re.compile(r"://[^/\s:@]+:[^@\s]+@"),  # URL with user:password@
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    )

    def check_function_environment(self) -> None:
        for name, _ in self.of_type("aws:lambda:Function"):
            env = ((self.props(name).get("environment") or {}).get("variables")) or {}
            if not isinstance(env, dict):
                continue
            for key, value in env.items():
                where = f"resources.{name}.environment.variables.{key}"
                upper = str(key).upper()
                if key == "DB_SECRET_ARN":
                    path = whole_reference(value)
                    if path is not None:
                        target = self.resolve_variable_path(path)
                        if not str(target[-1]).lower().endswith("arn"):
                            self.err("secret-env", where, "must reference an ARN output (e.g. ...secretArn)")
                    elif not (isinstance(value, str) and value.startswith("arn:")):
                        self.err("secret-env", where, "must be the secret's ARN, never its value")
                    continue
                if "PASSWORD" in upper or "SECRET" in upper or "TOKEN" in upper:
                    self.err("secret-env", where, "secret-looking variable name; pass an ARN and fetch at runtime")
                    continue
                for v in self.possible_values(value):
                    if isinstance(v, str) and any(p.search(v) for p in self.SECRET_VALUE_PATTERNS):
                        self.err("secret-env", where, "value looks like a credential")
                path = whole_reference(value)
                if path is not None:
                    key_name = self.config_key(path[0])
                    if key_name and self.config[key_name].get("secret"):
                        self.err(
                            "secret-env", where, f"config {key_name!r} is secret and must not become a plain env var"
                        )

    def resolve_variable_path(self, path: list) -> list:
        seen = set()
        while len(path) == 1 and path[0] in self.variables and path[0] not in seen:
            seen.add(path[0])
            inner = whole_reference(self.variables[path[0]])
            if inner is None:
                break
            path = inner
        return path

    def policy_documents(self) -> list[tuple[str, typing.Any]]:
        docs = []
        for name, _ in self.of_type(
            "aws:iam:RolePolicy", "aws:iam:Policy", "aws:ec2:VpcEndpoint", "aws:iam:UserPolicy", "aws:iam:GroupPolicy"
        ):
            if "policy" in self.props(name):
                docs.append((f"resources.{name}.policy", self.props(name)["policy"]))
        for name, _ in self.of_type("aws:iam:Role"):
            for i, inline in enumerate(self.props(name).get("inlinePolicies") or []):
                if isinstance(inline, dict) and "policy" in inline:
                    docs.append((f"resources.{name}.inlinePolicies[{i}].policy", inline["policy"]))
        return docs

    def check_policies(self) -> None:
        sensitive = re.compile(r"^(secretsmanager|rds-db|kms):", re.I)
        for where, raw in self.policy_documents():
            fn = builtin_of(raw)
            if fn is not None and fn[0] == "fn::toJSON":
                document = fn[1]
            elif isinstance(raw, str) and "${" not in raw:
                try:
                    document = json.loads(raw)
                except ValueError:
                    self.err("iam", where, "policy is not valid JSON")
                    continue
            else:
                self.err("iam", where, "write policies with fn::toJSON (or literal JSON) so they can be checked")
                continue
            statements = document.get("Statement") if isinstance(document, dict) else None
            if isinstance(statements, dict):
                statements = [statements]
            for i, st in enumerate(statements or []):
                if not isinstance(st, dict):
                    continue
                swhere = f"{where}.Statement[{i}]"
                actions = st.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                if "NotAction" in st or "NotResource" in st:
                    self.err("iam", swhere, "NotAction/NotResource grant too much; list what is allowed")
                if any(a == "*" for a in actions):
                    self.err("iam-wildcard", swhere, "Action '*' is not allowed")
                if not any(isinstance(a, str) and sensitive.match(a) for a in actions):
                    continue
                if any(isinstance(a, str) and a.endswith(":*") for a in actions):
                    self.err("iam-wildcard", swhere, "wildcard actions on secretsmanager/rds-db/kms are not allowed")
                resources = st.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                if not resources:
                    self.err("iam-wildcard", swhere, "statement needs an explicit Resource")
                for res in resources:
                    for v in self.possible_values(res) or [res]:
                        if isinstance(v, str) and "*" in v:
                            self.err(
                                "iam-wildcard", swhere, f"resource {v!r} uses '*' on {', '.join(map(str, actions))}"
                            )
                if any(str(a).lower() == "rds-db:connect" for a in actions):
                    for res in resources:
                        if not (isinstance(res, str) and ":dbuser:" in res and "/" in res.split(":dbuser:")[-1]):
                            self.err(
                                "iam-wildcard", swhere, "rds-db:connect must name dbuser:<proxy resource id>/<user>"
                            )
                if any(str(a).lower().startswith("kms:") for a in actions):
                    cond = json.dumps(st.get("Condition", {}))
                    if "kms:ViaService" not in cond:
                        self.err("iam", swhere, "kms statements must be limited with a kms:ViaService condition")

    def check_permissions(self) -> None:
        for name, _ in self.of_type("aws:lambda:Permission"):
            props = self.props(name)
            source = props.get("sourceArn")
            where = f"resources.{name}.sourceArn"
            if not isinstance(source, str) or "executionArn}" not in source:
                self.err(
                    "iam",
                    where,
                    "Lambda permission must be scoped to the API's execution ARN (${api.executionArn}/*/*)",
                )

    # ---- the contract with the Rust app ------------------------------------

    REQUIRED_ENV = {
        "DB_HOST": None,
        "DB_PORT": "5432",
        "DB_NAME": None,
        "DB_SECRET_ARN": None,
        "DB_TLS": "verify-full",
        "DB_IAM_AUTH": None,
        "DB_USER": None,
        "DB_MAX_CONNECTIONS": "1",
        "RUST_LOG": None,
    }
    REQUIRED_OUTPUTS = ("apiUrl", "swaggerUiUrl", "proxyEndpoint", "secretArn", "migrateFunctionName")

    def check_app_contract(self) -> None:
        functions = self.of_type("aws:lambda:Function")
        modes = []
        for name, _ in functions:
            props = self.props(name)
            where = f"resources.{name}"
            for key, expected in (("runtime", "provided.al2023"), ("handler", "bootstrap")):
                if props.get(key) != expected:
                    self.err("contract", f"{where}.{key}", f"must be {expected!r}")
            if props.get("architectures") != ["arm64"]:
                self.err("contract", f"{where}.architectures", "must be [arm64] (cargo lambda build --arm64)")
            code = builtin_of(props.get("code"))
            if code is None or code[0] != "fn::fileArchive":
                self.err("contract", f"{where}.code", "must be fn::fileArchive of the cargo-lambda zip")
            vpc = props.get("vpcConfig") or {}
            if not vpc.get("subnetIds") or not vpc.get("securityGroupIds"):
                self.err(
                    "contract", f"{where}.vpcConfig", "functions run inside the VPC (subnetIds + securityGroupIds)"
                )
            logging_config = props.get("loggingConfig") or {}
            if logging_config.get("logFormat") != "JSON":
                self.err("contract", f"{where}.loggingConfig.logFormat", "must be JSON")
            env = ((props.get("environment") or {}).get("variables")) or {}
            for key, expected in self.REQUIRED_ENV.items():
                if key not in env:
                    self.err("contract", f"{where}.environment.variables", f"missing {key}")
                elif expected is not None and env[key] != expected:
                    self.err("contract", f"{where}.environment.variables.{key}", f"must be {expected!r}")
            if "DB_HOST" in env and "dbProxy" not in str(env["DB_HOST"]) and ".endpoint}" not in str(env["DB_HOST"]):
                self.err("contract", f"{where}.environment.variables.DB_HOST", "must be the RDS Proxy endpoint")
            modes.append(env.get("LIBRIS_LAMBDA_MODE"))
        if "migrate" not in modes:
            self.err("contract", "resources", "no function with LIBRIS_LAMBDA_MODE=migrate")
        for name, _ in self.of_type("aws:ec2:VpcEndpoint"):
            props = self.props(name)
            if props.get("privateDnsEnabled") is not True:
                self.err(
                    "contract", f"resources.{name}.privateDnsEnabled", "must be true (the SDK uses the public DNS name)"
                )
        for name, _ in self.of_type("aws:apigatewayv2:Stage"):
            props = self.props(name)
            if props.get("name") != "$default" or props.get("autoDeploy") is not True:
                self.err("contract", f"resources.{name}", "use the $default stage with autoDeploy: true")
        outputs = self.doc.get("outputs") or {}
        for key in self.REQUIRED_OUTPUTS:
            if key not in outputs:
                self.err("contract", "outputs", f"missing output {key}")


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def literal_kind(value: typing.Any) -> str:
    if isinstance(value, bool):
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


def close_match(word: str, candidates: typing.Iterable[str]) -> str:
    import difflib

    best = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {best[0]!r}?)" if best else ""


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def load_yaml(path: Path) -> typing.Any:
    with path.open() as fh:
        return yaml.safe_load(fh)


def load_stack(directory: Path) -> tuple[dict, dict[str, dict]]:
    project = load_yaml(directory / "Pulumi.yaml")
    stacks = {p.name: load_yaml(p) for p in sorted(directory.glob("Pulumi.*.yaml"))}
    if "Pulumi.example.yaml" not in stacks:
        raise SystemExit(f"{directory}/Pulumi.example.yaml is missing")
    return project, stacks


def run_check(schema: Schema, project: dict, stacks: dict[str, dict]) -> Report:
    return Checker(schema, project, stacks).run()


# --------------------------------------------------------------------------
# Self-test: every mutation must be reported
# --------------------------------------------------------------------------


def _res(doc: dict, name: str) -> dict:
    return doc["resources"][name]["properties"]


def _statement(doc: dict, resource: str, sid: str) -> dict:
    for st in _res(doc, resource)["policy"]["fn::toJSON"]["Statement"]:
        if st.get("Sid") == sid:
            return st
    raise KeyError(sid)


def _env(doc: dict, fn: str = "apiFunction") -> dict:
    return _res(doc, fn)["environment"]["variables"]


def _mut_world_rule(doc, stacks):
    doc["resources"]["openToWorld"] = {
        "type": "aws:vpc:SecurityGroupIngressRule",
        "properties": {
            "securityGroupId": "${proxySg.id}",
            "ipProtocol": "tcp",
            "fromPort": 5432,
            "toPort": 5432,
            "cidrIpv4": "0.0.0.0/0",
        },
    }


def _mut_world_v6(doc, stacks):
    doc["resources"]["openToWorld6"] = {
        "type": "aws:vpc:SecurityGroupIngressRule",
        "properties": {"securityGroupId": "${dbSg.id}", "ipProtocol": "-1", "cidrIpv6": "::/0"},
    }


def _mut_inline_ingress(doc, stacks):
    _res(doc, "lambdaSg")["ingress"] = [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
    ]


def _mut_world_via_config(doc, stacks):
    doc["config"]["adminCidr"] = {"type": "string", "default": "0.0.0.0/0", "description": "admin range"}
    doc["resources"]["adminIngress"] = {
        "type": "aws:vpc:SecurityGroupIngressRule",
        "properties": {
            "securityGroupId": "${proxySg.id}",
            "ipProtocol": "tcp",
            "fromPort": 5432,
            "toPort": 5432,
            "cidrIpv4": "${adminCidr}",
        },
    }


def _mut_rule_by_cidr(doc, stacks):
    rule = _res(doc, "dbFromProxyIngress")
    rule.pop("referencedSecurityGroupId")
    rule["cidrIpv4"] = "10.40.0.0/16"


def _mut_rename(props: dict, old: str, new: str) -> None:
    props[new] = props.pop(old)


SELF_TESTS: list[tuple[str, str, typing.Callable]] = [
    ("proxy requireTls false", "tls", lambda d, s: _res(d, "dbProxy").__setitem__("requireTls", False)),
    ("proxy requireTls removed", "tls", lambda d, s: _res(d, "dbProxy").pop("requireTls")),
    ("0.0.0.0/0 ingress rule", "world-ingress", _mut_world_rule),
    ("::/0 ingress rule", "world-ingress", _mut_world_v6),
    ("inline 0.0.0.0/0 ingress on a security group", "world-ingress", _mut_inline_ingress),
    ("0.0.0.0/0 ingress through a config default", "world-ingress", _mut_world_via_config),
    ("security group rule by CIDR instead of group", "network", _mut_rule_by_cidr),
    (
        "security group rule on a port range",
        "network",
        lambda d, s: _res(d, "proxyFromLambdaIngress").__setitem__("toPort", 6000),
    ),
    (
        "misspelled property (requireTsl)",
        "unknown-property",
        lambda d, s: _mut_rename(_res(d, "dbProxy"), "requireTls", "requireTsl"),
    ),
    (
        "misspelled nested property (connectionPoolConfig.maxConnectionPercent)",
        "unknown-property",
        lambda d, s: _mut_rename(
            _res(d, "dbProxyTargetGroup")["connectionPoolConfig"], "maxConnectionsPercent", "maxConnectionPercent"
        ),
    ),
    (
        "misspelled property in a list item (auths[0].secretArm)",
        "unknown-property",
        lambda d, s: _mut_rename(_res(d, "dbProxy")["auths"][0], "secretArn", "secretArm"),
    ),
    ("missing required input (engineFamily)", "missing-required", lambda d, s: _res(d, "dbProxy").pop("engineFamily")),
    (
        "missing required nested input (vpcConfig.subnetIds)",
        "missing-required",
        lambda d, s: _res(d, "apiFunction")["vpcConfig"].pop("subnetIds"),
    ),
    (
        "dependency cycle",
        "cycle",
        lambda d, s: d["resources"]["dbCluster"]["options"]["dependsOn"].append("${apiFunction}"),
    ),
    (
        "unknown resource type",
        "unknown-type",
        lambda d, s: d["resources"]["dbProxy"].__setitem__("type", "aws:rds:Proxyy"),
    ),
    (
        "unknown resource option",
        "unknown-option",
        lambda d, s: d["resources"]["dbProxy"].setdefault("options", {}).__setitem__("dependOn", []),
    ),
    (
        "undefined resource reference",
        "unresolved-reference",
        lambda d, s: _env(d).__setitem__("DB_HOST", "${dbProxyy.endpoint}"),
    ),
    (
        "unknown resource output",
        "unresolved-reference",
        lambda d, s: _env(d).__setitem__("DB_HOST", "${dbProxy.endpoints}"),
    ),
    (
        "unknown nested output field",
        "unresolved-reference",
        lambda d, s: d["variables"].__setitem__("dbSecretArn", "${dbCluster.masterUserSecrets[0].secretArm}"),
    ),
    (
        "undeclared config reference",
        "unresolved-reference",
        lambda d, s: _env(d).__setitem__("RUST_LOG", "${libris:rustLogg}"),
    ),
    (
        "foreign config namespace",
        "unresolved-reference",
        lambda d, s: _env(d).__setitem__("RUST_LOG", "${other:rustLog}"),
    ),
    (
        "unknown pulumi builtin variable",
        "unresolved-reference",
        lambda d, s: d["variables"].__setitem__("baseName", "libris-${pulumi.stackName}"),
    ),
    (
        "bare resource reference in a property",
        "bare-resource-reference",
        lambda d, s: _res(d, "dbProxyTarget").__setitem__("dbProxyName", "${dbProxy}"),
    ),
    (
        "unknown invoke function",
        "unknown-function",
        lambda d, s: d["variables"]["region"]["fn::invoke"].__setitem__("function", "aws:index:getRegionn"),
    ),
    (
        "unknown invoke return field",
        "unknown-return",
        lambda d, s: d["variables"]["partition"]["fn::invoke"].__setitem__("return", "partitions"),
    ),
    (
        "unknown invoke argument",
        "unknown-property",
        lambda d, s: d["variables"]["availableZones"]["fn::invoke"]["arguments"].__setitem__("stat", "available"),
    ),
    (
        "unknown builtin function",
        "unknown-builtin",
        lambda d, s: _env(d).__setitem__("DB_IAM_AUTH", {"fn::toJson": "${dbIamAuth}"}),
    ),
    (
        "string literal for a boolean input",
        "type-mismatch",
        lambda d, s: _res(d, "dbProxy").__setitem__("requireTls", "true"),
    ),
    (
        "string config for an integer input",
        "type-mismatch",
        lambda d, s: _res(d, "apiFunction").__setitem__("timeout", "${rustLog}"),
    ),
    (
        "string output for a boolean input",
        "type-mismatch",
        lambda d, s: _res(d, "dbProxy").__setitem__("requireTls", "${dbProxy.endpoint}"),
    ),
    (
        "fn::fileAsset where an Archive is needed",
        "type-mismatch",
        lambda d, s: _res(d, "apiFunction").__setitem__("code", {"fn::fileAsset": "${lambdaZipPath}"}),
    ),
    (
        "cluster storage not encrypted",
        "encryption",
        lambda d, s: _res(d, "dbCluster").__setitem__("storageEncrypted", False),
    ),
    (
        "writer instance publicly accessible",
        "public-db",
        lambda d, s: _res(d, "dbWriter").__setitem__("publiclyAccessible", True),
    ),
    (
        "cluster publicly accessible",
        "public-db",
        lambda d, s: _res(d, "dbCluster").__setitem__("publiclyAccessible", True),
    ),
    (
        "plaintext master password",
        "plaintext-password",
        lambda d, s: _res(d, "dbCluster").__setitem__("masterPassword", "hunter2hunter2"),
    ),
    ("secret value in an env var", "secret-env", lambda d, s: _env(d).__setitem__("DB_PASSWORD", "hunter2")),
    (
        "connection string with password in an env var",
        "secret-env",
        lambda d, s: _env(d).__setitem__("DATABASE_URL", "postgres://app:hunter2@db/libris"),
    ),
    (
        "DB_SECRET_ARN not an ARN",
        "secret-env",
        lambda d, s: _env(d, "migrateFunction").__setitem__("DB_SECRET_ARN", "libris-db-secret"),
    ),
    (
        "DB_SECRET_ARN referencing a non-ARN output",
        "secret-env",
        lambda d, s: _env(d).__setitem__("DB_SECRET_ARN", "${dbCluster.masterUsername}"),
    ),
    (
        "'*' resource on the Lambda secret policy",
        "iam-wildcard",
        lambda d, s: _statement(d, "lambdaDbAccessPolicy", "ReadDatabaseSecret").__setitem__("Resource", "*"),
    ),
    (
        "'*' resource on the proxy secret policy",
        "iam-wildcard",
        lambda d, s: _statement(d, "proxySecretPolicy", "ReadDatabaseSecret").__setitem__("Resource", "*"),
    ),
    (
        "wildcard in the rds-db:connect resource",
        "iam-wildcard",
        lambda d, s: _statement(d, "lambdaDbAccessPolicy", "ConnectThroughProxyWithIamToken").__setitem__(
            "Resource", "arn:aws:rds-db:*:*:dbuser:*/*"
        ),
    ),
    (
        "secretsmanager:* action",
        "iam-wildcard",
        lambda d, s: _statement(d, "lambdaDbAccessPolicy", "ReadDatabaseSecret").__setitem__(
            "Action", "secretsmanager:*"
        ),
    ),
    ("unscoped Lambda permission", "iam", lambda d, s: _res(d, "httpApiInvokePermission").pop("sourceArn")),
    (
        "initQuery on the proxy pool",
        "contract",
        lambda d, s: _res(d, "dbProxyTargetGroup")["connectionPoolConfig"].__setitem__("initQuery", "SET x=1"),
    ),
    ("wrong DB_TLS", "contract", lambda d, s: _env(d).__setitem__("DB_TLS", "require")),
    ("x86_64 architecture", "contract", lambda d, s: _res(d, "apiFunction").__setitem__("architectures", ["x86_64"])),
    ("missing required output", "contract", lambda d, s: d["outputs"].pop("swaggerUiUrl")),
    (
        "unused config key",
        "unused",
        lambda d, s: d["config"].__setitem__("orphan", {"type": "string", "default": "x", "description": "never used"}),
    ),
    ("number-typed config declaration", "config", lambda d, s: d["config"]["dbMinAcu"].__setitem__("type", "number")),
    (
        "stack file with inconsistent IAM switches",
        "config",
        lambda d, s: s["Pulumi.example.yaml"]["config"].__setitem__("libris:proxyIamAuth", "REQUIRED"),
    ),
    (
        "stack file with an undeclared key",
        "config",
        lambda d, s: s["Pulumi.example.yaml"]["config"].__setitem__("libris:dbNmae", "x"),
    ),
    (
        "stack name unusable in RDS identifiers",
        "config",
        lambda d, s: s.__setitem__("Pulumi.Dev_1.yaml", {"config": {"libris:awsRegion": "eu-west-1"}}),
    ),
    (
        "stack file with aws:region",
        "config",
        lambda d, s: s["Pulumi.example.yaml"]["config"].__setitem__("aws:region", "eu-west-1"),
    ),
    (
        "stack file value of the wrong type",
        "config",
        lambda d, s: s["Pulumi.example.yaml"]["config"].__setitem__("libris:lambdaMemoryMb", "lots"),
    ),
    (
        "provider version differs from the checked SDK",
        "provider-version",
        lambda d, s: d["resources"]["awsProvider"]["options"].__setitem__("version", "6.0.0"),
    ),
]


def self_test(schema: Schema, project: dict, stacks: dict[str, dict]) -> int:
    baseline = run_check(schema, copy.deepcopy(project), copy.deepcopy(stacks))
    if baseline.problems:
        print(
            f"self-test: not run, the unmodified stack has {len(baseline.problems)} problem(s) "
            "(run check_stack.py without --self-test to list them)"
        )
        return 1
    failures = 0
    for title, code, mutate in SELF_TESTS:
        doc, stk = copy.deepcopy(project), copy.deepcopy(stacks)
        mutate(doc, stk)
        report = run_check(schema, doc, stk)
        if code in report.codes():
            continue
        failures += 1
        got = ", ".join(sorted(report.codes())) or "nothing"
        print(f"self-test FAILED: mutation '{title}' was not reported as [{code}] (got: {got})")
    if failures:
        print(f"self-test: {failures} of {len(SELF_TESTS)} mutations went undetected")
        return 1
    print(f"self-test: OK ({len(SELF_TESTS)} mutations, each detected)")
    return 0


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=HERE, help="directory holding Pulumi.yaml (default: this script's)")
    parser.add_argument("--self-test", action="store_true", help="prove that seeded mistakes are caught")
    args = parser.parse_args(argv)

    try:
        project, stacks = load_stack(args.dir)
    except yaml.YAMLError as exc:
        print(f"infra check: cannot parse YAML: {exc}")
        return 1
    schema = Schema()
    if args.self_test:
        return self_test(schema, project, stacks)
    report = run_check(schema, project, stacks)
    if report.problems:
        for p in report.problems:
            print(f"ERROR {p}")
        print(f"infra check: FAILED ({len(report.problems)} problem(s), pulumi-aws {schema.version})")
        return 1
    count = len(project.get("resources") or {})
    print(f"checked Pulumi.yaml and {len(stacks)} stack file(s) against pulumi-aws {schema.version}")
    print(f"infra check: OK ({count} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
