"""The provider schema, read from the installed pulumi-aws Python SDK.

Pulumi YAML resolves `aws:<module>:<Type>` through the token table in
`pulumi_aws/__init__.py`; the inputs of a type are the parameters of its
`<Type>Args.__init__` (camel-cased, confirmed against `@pulumi.getter(name=...)`),
required when they have no default; outputs are the getters of the resource
class. Type annotations become shapes (see shapes.py), followed into nested
Args classes. Nothing here knows about the Libris stack."""

from __future__ import annotations

import collections.abc
import enum
import importlib
import inspect
import json
import re
import sys
import typing
from dataclasses import dataclass
from pathlib import Path

from .shapes import ANY

try:
    import pulumi
    import pulumi_aws
except ImportError as exc:  # pragma: no cover - only outside the venv
    sys.exit(f"check_stack.py needs pulumi-aws installed (run infra/check): {exc}")


def snake_to_camel(name: str) -> str:
    name = name.rstrip("_")  # python keyword escapes such as `lambda_`
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_to_snake(name: str) -> str:
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return out.lower()


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
