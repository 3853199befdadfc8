"""Resources against the provider schema.

Each resource's type exists in pulumi-aws, its keys and options are ones
Pulumi YAML knows, every property (nested too) is an input of the type,
required inputs are present, deprecated ones are not used, and literal,
config and output values have a kind the input accepts."""

from __future__ import annotations

import typing

from ..context import Context
from ..expressions import (
    ARCHIVE_BUILTINS,
    ASSET_BUILTINS,
    BUILTINS,
    STRING_RESULT_BUILTINS,
    builtin_of,
    fmt_path,
    whole_reference,
)
from ..mutation import Mutation, props, rename
from ..report import close_match
from ..schema import Prop
from ..shapes import describe, kind_fits, literal_kind, shape_kind

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


def check_resources(ctx: Context) -> None:
    for name, res in ctx.resources.items():
        where = f"resources.{name}"
        if not isinstance(res, dict):
            ctx.err("structure", where, "must be a mapping")
            continue
        for key in res:
            if key not in RESOURCE_KEYS:
                ctx.err("structure", where, f"unknown resource key {key!r}")
        type_token = res.get("type")
        if not isinstance(type_token, str):
            ctx.err("structure", where, "missing `type`")
            continue
        info = ctx.resource_info.get(name)
        if info is None:
            ctx.err("unknown-type", where, f"type {type_token!r} does not exist in pulumi-aws {ctx.schema.version}")
            continue
        if res.get("defaultProvider") is not None and not type_token.startswith("pulumi:providers:"):
            ctx.err("structure", where, "defaultProvider is only valid on provider resources")
        properties = res.get("properties", {})
        if properties is None:
            properties = {}
        inputs = ctx.schema.inputs_of(info.args_cls)
        if isinstance(properties, dict):
            check_object(ctx, properties, inputs, where, info.token)
        elif whole_reference(properties) is None:
            ctx.err("structure", where, "properties must be a mapping")
        options = res.get("options") or {}
        if not isinstance(options, dict):
            ctx.err("structure", where, "options must be a mapping")
            continue
        for opt in options:
            if opt not in RESOURCE_OPTIONS:
                ctx.err("unknown-option", where, f"unknown resource option {opt!r}")
        for prop in options.get("ignoreChanges") or []:
            top = str(prop).split(".")[0].split("[")[0]
            if top not in inputs:
                ctx.err(
                    "unknown-property", f"{where}.options.ignoreChanges", f"{prop!r} is not an input of {info.token}"
                )
        if type_token == "pulumi:providers:aws":
            version = options.get("version")
            if str(version) != ctx.schema.version:
                ctx.err(
                    "provider-version",
                    where,
                    f"provider version {version!r} differs from the checked pulumi-aws {ctx.schema.version}",
                )


def check_object(ctx: Context, obj: dict, inputs: dict[str, Prop], where: str, type_name: str) -> None:
    """Every key an input of type_name, every required input present, every value of a fitting kind."""
    for key, value in obj.items():
        prop = inputs.get(key)
        if prop is None:
            hint = close_match(key, inputs)
            ctx.err("unknown-property", f"{where}.{key}", f"not an input of {type_name}{hint}")
            continue
        if prop.deprecated:
            ctx.err("deprecated", f"{where}.{key}", f"input is deprecated in pulumi-aws {ctx.schema.version}")
        check_value(ctx, value, prop.shape, f"{where}.{key}")
    for prop in inputs.values():
        if prop.required and prop.name not in obj:
            ctx.err("missing-required", where, f"required input {prop.name!r} of {type_name} is missing")


def check_value(ctx: Context, value: typing.Any, shape: tuple, where: str) -> None:
    kind = shape[0]
    if kind == "any":
        return
    fn = builtin_of(value)
    if fn is not None:
        canonical = BUILTINS.get(fn[0].lower())
        if canonical in ASSET_BUILTINS and kind == "archive":
            ctx.err(
                "type-mismatch",
                where,
                f"{canonical} yields an Asset but this input takes an Archive (use fn::fileArchive)",
            )
        elif canonical in ARCHIVE_BUILTINS | ASSET_BUILTINS and kind not in ("archive", "asset"):
            ctx.err("type-mismatch", where, f"{canonical} given to an input that takes no asset/archive")
        elif canonical in STRING_RESULT_BUILTINS and kind == "scalar" and shape[1] in ("int", "number", "bool"):
            ctx.err("type-mismatch", where, f"{canonical} yields a string but the input is {shape[1]}")
        elif canonical in STRING_RESULT_BUILTINS and kind in ("object", "list", "map"):
            ctx.err("type-mismatch", where, f"{canonical} yields a string but the input is {kind}")
        return
    if isinstance(value, str) and "${" in value:
        check_reference_kind(ctx, value, shape, where)
        return
    if kind in ("archive", "asset"):
        ctx.err("type-mismatch", where, f"expects an {kind} (fn::fileArchive / fn::fileAsset), got {value!r}")
        return
    if kind == "scalar":
        if not kind_fits(literal_kind(value), shape[1]):
            ctx.err("type-mismatch", where, f"{value!r} is {literal_kind(value)} but the input is {shape[1]}")
        return
    if kind == "object":
        if not isinstance(value, dict):
            ctx.err("type-mismatch", where, f"expects an object ({shape[1].__name__}), got {type(value).__name__}")
            return
        check_object(ctx, value, ctx.schema.inputs_of(shape[1]), where, shape[1].__name__)
        return
    if kind == "list":
        if not isinstance(value, list):
            ctx.err("type-mismatch", where, f"expects a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_value(ctx, item, shape[1], f"{where}[{i}]")
        return
    if kind == "map":
        if not isinstance(value, dict):
            ctx.err("type-mismatch", where, f"expects a map, got {type(value).__name__}")
            return
        for k, item in value.items():
            check_value(ctx, item, shape[1], f"{where}.{k}")


def check_reference_kind(ctx: Context, value: str, shape: tuple, where: str) -> None:
    """A value with `${...}`: text around it makes a string; a whole config or output reference has its kind."""
    kind = shape[0]
    path = whole_reference(value)
    if path is None:
        if kind != "scalar" or shape[1] != "string":
            ctx.err("type-mismatch", where, f"interpolated text is a string but the input is {describe(shape)}")
        return
    expected = shape[1] if kind == "scalar" else kind
    if len(path) == 1:
        key = ctx.config_key(path[0])
        if key and not kind_fits(ctx.config_kind(key), expected):
            ctx.err(
                "type-mismatch", where, f"config {key!r} is {ctx.config_kind(key)} but the input is {describe(shape)}"
            )
    elif path[0] in ctx.resource_info:
        found = ctx.output_shape(ctx.resource_info[path[0]].cls, path)
        actual = shape_kind(found) if found else "any"
        if not kind_fits(actual, expected):
            ctx.err(
                "type-mismatch", where, f"${{{fmt_path(path)}}} is {describe(found)} but the input is {describe(shape)}"
            )


RULES = (check_resources,)


def _add_unknown_option(doc: dict, stacks: dict) -> None:
    doc["resources"]["dbProxy"].setdefault("options", {})["dependOn"] = []


MUTATIONS = (
    Mutation(
        "misspelled property (requireTsl)",
        "unknown-property",
        lambda d, s: rename(props(d, "dbProxy"), "requireTls", "requireTsl"),
    ),
    Mutation(
        "misspelled nested property (connectionPoolConfig.maxConnectionPercent)",
        "unknown-property",
        lambda d, s: rename(
            props(d, "dbProxyTargetGroup")["connectionPoolConfig"], "maxConnectionsPercent", "maxConnectionPercent"
        ),
    ),
    Mutation(
        "misspelled property in a list item (auths[0].secretArm)",
        "unknown-property",
        lambda d, s: rename(props(d, "dbProxy")["auths"][0], "secretArn", "secretArm"),
    ),
    Mutation(
        "missing required input (engineFamily)",
        "missing-required",
        lambda d, s: props(d, "dbProxy").pop("engineFamily"),
    ),
    Mutation(
        "missing required nested input (vpcConfig.subnetIds)",
        "missing-required",
        lambda d, s: props(d, "apiFunction")["vpcConfig"].pop("subnetIds"),
    ),
    Mutation(
        "unknown resource type", "unknown-type", lambda d, s: d["resources"]["dbProxy"].update(type="aws:rds:Proxyy")
    ),
    Mutation("unknown resource option", "unknown-option", _add_unknown_option),
    Mutation(
        "string literal for a boolean input",
        "type-mismatch",
        lambda d, s: props(d, "dbProxy").update(requireTls="true"),
    ),
    Mutation(
        "string config for an integer input",
        "type-mismatch",
        lambda d, s: props(d, "apiFunction").update(timeout="${rustLog}"),
    ),
    Mutation(
        "string output for a boolean input",
        "type-mismatch",
        lambda d, s: props(d, "dbProxy").update(requireTls="${dbProxy.endpoint}"),
    ),
    Mutation(
        "fn::fileAsset where an Archive is needed",
        "type-mismatch",
        lambda d, s: props(d, "apiFunction").update(code={"fn::fileAsset": "${lambdaZipPath}"}),
    ),
    Mutation(
        "provider version differs from the checked SDK",
        "provider-version",
        lambda d, s: d["resources"]["awsProvider"]["options"].update(version="6.0.0"),
    ),
)
