"""The project file itself: top-level keys, name, runtime, and the config declarations the Pulumi CLI accepts."""

from __future__ import annotations

from ..context import PROJECT, Context
from ..mutation import Mutation
from ..shapes import CONFIG_TYPES, kind_fits, literal_kind

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
CONFIG_DECL_KEYS = {"type", "description", "secret", "default", "value", "items"}


def check_project(ctx: Context) -> None:
    doc = ctx.doc
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            ctx.err("structure", "Pulumi.yaml", f"unknown top-level key {key!r}")
    if doc.get("name") != PROJECT:
        ctx.err("structure", "Pulumi.yaml", f"project name must be {PROJECT!r}")
    runtime = doc.get("runtime")
    if (runtime.get("name") if isinstance(runtime, dict) else runtime) != "yaml":
        ctx.err("structure", "Pulumi.yaml", "runtime must be yaml")
    names = list(ctx.config) + list(ctx.variables) + list(ctx.resources)
    for name in sorted({n for n in names if names.count(n) > 1}):
        ctx.err("structure", name, "name declared more than once (config/variables/resources)")


def check_config_declarations(ctx: Context) -> None:
    for key, decl in ctx.config.items():
        where = f"config.{key}"
        if ":" in key:
            ctx.err("config", where, "declare project keys without a namespace")
        for k in decl:
            if k not in CONFIG_DECL_KEYS:
                ctx.err("config", where, f"unknown declaration key {k!r}")
        ctype = decl.get("type")
        if ctype is not None and ctype not in CONFIG_TYPES:
            ctx.err("config", where, f"type {ctype!r} is not one of {sorted(CONFIG_TYPES)} (Pulumi CLI project schema)")
        if ctype == "array" and "items" not in decl:
            ctx.err("config", where, "array config needs `items`")
        if ctype is None and "default" not in decl:
            ctx.err("config", where, "needs a `type` or a `default` (Pulumi YAML cannot infer its type)")
        if "default" in decl and ctype in CONFIG_TYPES:
            if not kind_fits(literal_kind(decl["default"]), CONFIG_TYPES[ctype]):
                ctx.err("config", where, f"default {decl['default']!r} is not of type {ctype}")
        if "default" in decl and isinstance(decl["default"], str) and "${" in decl["default"]:
            ctx.err("config", where, "defaults must be literals")
        if not decl.get("description"):
            ctx.err("config", where, "add a description (it is the documentation of the knob)")


RULES = (check_project, check_config_declarations)

MUTATIONS = (
    Mutation("number-typed config declaration", "config", lambda d, s: d["config"]["dbMinAcu"].update(type="number")),
)
