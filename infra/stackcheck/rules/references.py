"""Expressions and references.

Every builtin is one Pulumi YAML knows, spelled as it spells it; every
`${...}` resolves to a resource and one of its outputs (nested fields
too), a variable, a declared config key (`key` or `libris:key`) or a
`pulumi.*` builtin; `fn::invoke` names an existing function, its
arguments and its `return` field; nothing depends on itself; every config
key and variable is used."""

from __future__ import annotations

import typing

from ..context import Context
from ..expressions import (
    BUILTINS,
    PULUMI_BUILTIN_VARS,
    InterpolationError,
    builtin_of,
    fmt_path,
    parse_interpolations,
    whole_reference,
)
from ..mutation import Mutation, env, props
from ..report import close_match
from .resources import check_object


def check_references(ctx: Context) -> None:
    walk = _Walk(ctx)
    for key, decl in ctx.config.items():
        walk.value(decl.get("default"), f"config.{key}.default", in_options=False)
    for name, value in ctx.variables.items():
        walk.owner = name
        walk.value(value, f"variables.{name}", in_options=False)
    for name, res in ctx.resources.items():
        if not isinstance(res, dict):
            continue
        walk.owner = name
        walk.value(res.get("properties"), f"resources.{name}.properties", in_options=False)
        walk.value(res.get("options"), f"resources.{name}.options", in_options=True)
    walk.owner = None
    outputs = ctx.doc.get("outputs") or {}
    if not isinstance(outputs, dict):
        ctx.err("structure", "outputs", "must be a mapping")
    else:
        for name, value in outputs.items():
            walk.value(value, f"outputs.{name}", in_options=False)
    _check_cycles(ctx, walk.edges)
    for key in ctx.config:
        if key not in walk.used_config:
            ctx.err("unused", f"config.{key}", "declared but never referenced")
    for name in ctx.variables:
        if name not in walk.used_variables:
            ctx.err("unused", f"variables.{name}", "declared but never referenced")


def _check_cycles(ctx: Context, edges: dict[str, set[str]]) -> None:
    """Pulumi YAML evaluates in dependency order and rejects cycles."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                ctx.err("cycle", nxt, "dependency cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


class _Walk:
    """One pass over every expression: reports what does not resolve, records what is used and who needs whom."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.owner: str | None = None  # the variable or resource being walked
        self.edges: dict[str, set[str]] = {}  # owner -> resources and variables it references
        self.used_config: set[str] = set()
        self.used_variables: set[str] = set()

    def value(self, value: typing.Any, where: str, in_options: bool) -> None:
        ctx = self.ctx
        fn = builtin_of(value)
        if fn is not None:
            key, arg = fn
            canonical = BUILTINS.get(key.lower())
            if canonical is None:
                ctx.err(
                    "unknown-builtin",
                    where,
                    f"{key!r} is not a Pulumi YAML builtin (use fn::invoke for provider functions)",
                )
            elif canonical != key:
                ctx.err("unknown-builtin", where, f"write {canonical!r}, not {key!r}")
            if canonical == "fn::invoke":
                check_invoke(ctx, arg, where)
            elif canonical in ("fn::select", "fn::split", "fn::join") and not (isinstance(arg, list) and len(arg) == 2):
                ctx.err("structure", where, f"{canonical} takes a two-element list")
            self.value(arg, f"{where}.{key}", in_options)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and "${" in k:
                    ctx.err("structure", where, f"interpolation in a key ({k!r}) is not supported")
                self.value(v, f"{where}.{k}", in_options)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.value(v, f"{where}[{i}]", in_options)
        elif isinstance(value, str) and "${" in value:
            try:
                paths = parse_interpolations(value)
            except InterpolationError as exc:
                ctx.err("syntax", where, str(exc))
                return
            whole = whole_reference(value) is not None
            for path in paths:
                self.reference(path, where, bare_allowed=in_options and whole)

    def reference(self, path: list, where: str, bare_allowed: bool) -> None:
        ctx = self.ctx
        root = path[0]
        shown = fmt_path(path)
        if self.owner is not None and (root in ctx.resources or root in ctx.variables):
            self.edges.setdefault(self.owner, set()).add(root)
        if not isinstance(root, str):
            ctx.err("unresolved-reference", where, f"${{{shown}}}: invalid root")
            return
        if root in ctx.resources:
            if len(path) == 1:
                if not bare_allowed:
                    ctx.err(
                        "bare-resource-reference",
                        where,
                        f"${{{root}}} passes the whole resource; name the output you mean (.id, .arn, .name)",
                    )
                return
            info = ctx.resource_info.get(root)
            if info is not None:
                ctx.output_shape(info.cls, path, where)
            return
        if root in ctx.variables:
            self.used_variables.add(root)
            self.invoke_field(path, where)
            return
        key = ctx.config_key(root)
        if key is not None:
            self.used_config.add(key)
            return
        if root == "pulumi":
            if len(path) != 2 or path[1] not in PULUMI_BUILTIN_VARS:
                ctx.err("unresolved-reference", where, f"${{{shown}}}: pulumi.* offers {sorted(PULUMI_BUILTIN_VARS)}")
            return
        if ":" in root:
            ctx.err(
                "unresolved-reference",
                where,
                f"${{{shown}}}: config {root!r} is not declared in this project's config block "
                f"(other namespaces are not read by this stack)",
            )
            return
        hint = close_match(root, {**ctx.resources, **ctx.variables, **ctx.config})
        ctx.err("unresolved-reference", where, f"${{{shown}}}: no resource, variable or config named {root!r}{hint}")

    def invoke_field(self, path: list, where: str) -> None:
        """`${variable.field}` where the variable is a whole fn::invoke result: the function returns that field."""
        fn = builtin_of(self.ctx.variables[path[0]])
        if (
            len(path) > 1
            and fn is not None
            and fn[0] == "fn::invoke"
            and isinstance(fn[1], dict)
            and "return" not in fn[1]
        ):
            info = self.ctx.schema.resolve_function(str(fn[1].get("function", "")))
            if info is not None and isinstance(path[1], str) and path[1] not in info.result_fields:
                self.ctx.err(
                    "unresolved-reference", where, f"${{{fmt_path(path)}}}: {info.token} returns no field {path[1]!r}"
                )


def check_invoke(ctx: Context, arg: typing.Any, where: str) -> None:
    if not isinstance(arg, dict):
        ctx.err("structure", where, "fn::invoke takes an object with function/arguments/options/return")
        return
    for k in arg:
        if k not in ("function", "arguments", "options", "return"):
            ctx.err("structure", where, f"fn::invoke has no key {k!r}")
    token = arg.get("function")
    if not isinstance(token, str):
        ctx.err("structure", where, "fn::invoke needs a literal `function` token")
        return
    info = ctx.schema.resolve_function(token)
    if info is None:
        ctx.err("unknown-function", where, f"function {token!r} does not exist in pulumi-aws {ctx.schema.version}")
        return
    arguments = arg.get("arguments") or {}
    if isinstance(arguments, dict):
        check_object(ctx, arguments, info.args, f"{where}.arguments", info.token)
    ret = arg.get("return")
    if ret is not None and ret not in info.result_fields:
        hint = close_match(str(ret), info.result_fields)
        ctx.err("unknown-return", where, f"{info.token} returns no field {ret!r}{hint}")


RULES = (check_references,)


def _invoke(doc: dict, variable: str) -> dict:
    return doc["variables"][variable]["fn::invoke"]


MUTATIONS = (
    Mutation(
        "dependency cycle",
        "cycle",
        lambda d, s: d["resources"]["dbCluster"]["options"]["dependsOn"].append("${apiFunction}"),
    ),
    Mutation(
        "undefined resource reference",
        "unresolved-reference",
        lambda d, s: env(d).update(DB_HOST="${dbProxyy.endpoint}"),
    ),
    Mutation(
        "unknown resource output", "unresolved-reference", lambda d, s: env(d).update(DB_HOST="${dbProxy.endpoints}")
    ),
    Mutation(
        "unknown nested output field",
        "unresolved-reference",
        lambda d, s: d["variables"].update(dbSecretArn="${dbCluster.masterUserSecrets[0].secretArm}"),
    ),
    Mutation(
        "undeclared config reference", "unresolved-reference", lambda d, s: env(d).update(RUST_LOG="${libris:rustLogg}")
    ),
    Mutation(
        "foreign config namespace", "unresolved-reference", lambda d, s: env(d).update(RUST_LOG="${other:rustLog}")
    ),
    Mutation(
        "unknown pulumi builtin variable",
        "unresolved-reference",
        lambda d, s: d["variables"].update(baseName="libris-${pulumi.stackName}"),
    ),
    Mutation(
        "bare resource reference in a property",
        "bare-resource-reference",
        lambda d, s: props(d, "dbProxyTarget").update(dbProxyName="${dbProxy}"),
    ),
    Mutation(
        "unknown invoke function",
        "unknown-function",
        lambda d, s: _invoke(d, "region").update(function="aws:index:getRegionn"),
    ),
    Mutation(
        "unknown invoke return field",
        "unknown-return",
        lambda d, s: _invoke(d, "partition").update({"return": "partitions"}),
    ),
    Mutation(
        "unknown invoke argument",
        "unknown-property",
        lambda d, s: _invoke(d, "availableZones")["arguments"].update(stat="available"),
    ),
    Mutation(
        "unknown builtin function",
        "unknown-builtin",
        lambda d, s: env(d).update(DB_IAM_AUTH={"fn::toJson": "${dbIamAuth}"}),
    ),
    Mutation(
        "unused config key",
        "unused",
        lambda d, s: d["config"].update(orphan={"type": "string", "default": "x", "description": "never used"}),
    ),
)
