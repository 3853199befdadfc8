"""Stack files (Pulumi.<stack>.yaml next to Pulumi.yaml).

Stack names fit RDS identifiers; every key is a declared `libris:` key with
a value of the declared type (no `aws:*` keys: the explicit provider does not
read them); required keys are set; the two IAM-auth switches agree."""

from __future__ import annotations

import re

from ..context import PROJECT, Context
from ..mutation import Mutation, example_stack
from ..shapes import kind_fits, literal_kind


def check_stack_files(ctx: Context) -> None:
    for fname, stack in ctx.stacks.items():
        stack_name = fname[len("Pulumi.") : -len(".yaml")]
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", stack_name):
            ctx.err("config", fname, "stack names must be lower-case letters, digits and hyphens (RDS identifiers)")
        if not isinstance(stack, dict):
            ctx.err("config", fname, "not a mapping")
            continue
        cfg = stack.get("config") or {}
        if not isinstance(cfg, dict):
            ctx.err("config", fname, "`config` must be a mapping")
            continue
        for key, value in cfg.items():
            where = f"{fname}:{key}"
            if ":" not in key:
                ctx.err("config", where, "stack config keys need a namespace (libris:...)")
                continue
            ns, bare = key.split(":", 1)
            if ns == "aws":
                ctx.err(
                    "config", where, "aws:* keys are ignored by this stack's explicit provider; use libris:awsRegion"
                )
                continue
            if ns != PROJECT:
                ctx.err("config", where, f"namespace {ns!r} is not used by this project")
                continue
            if bare not in ctx.config:
                ctx.err("config", where, f"{bare!r} is not declared in Pulumi.yaml")
                continue
            if isinstance(value, dict) and "secure" in value:
                continue
            expected = ctx.config_kind(bare)
            if not kind_fits(literal_kind(value), expected):
                ctx.err("config", where, f"{value!r} is not of the declared type {expected}")
        for key, decl in ctx.config.items():
            if "default" not in decl and f"{PROJECT}:{key}" not in cfg:
                ctx.err("config", fname, f"required key {PROJECT}:{key} is not set")
        check_iam_switches(ctx, fname, cfg)


def check_iam_switches(ctx: Context, fname: str, cfg: dict) -> None:
    if "proxyIamAuth" not in ctx.config or "dbIamAuth" not in ctx.config:
        return

    def get(key):
        return cfg.get(f"{PROJECT}:{key}", ctx.config[key].get("default"))

    proxy, app = get("proxyIamAuth"), get("dbIamAuth")
    if proxy not in ("REQUIRED", "DISABLED"):
        ctx.err("config", fname, f"proxyIamAuth must be REQUIRED or DISABLED, not {proxy!r}")
    elif (proxy == "REQUIRED") != (app is True or app == "true"):
        ctx.err(
            "config",
            fname,
            f"proxyIamAuth={proxy} needs dbIamAuth={'true' if proxy == 'REQUIRED' else 'false'} (got {app!r})",
        )


RULES = (check_stack_files,)

MUTATIONS = (
    Mutation(
        "stack file with inconsistent IAM switches",
        "config",
        lambda d, s: example_stack(s).update({"libris:proxyIamAuth": "REQUIRED"}),
    ),
    Mutation(
        "stack file with an undeclared key", "config", lambda d, s: example_stack(s).update({"libris:dbNmae": "x"})
    ),
    Mutation(
        "stack name unusable in RDS identifiers",
        "config",
        lambda d, s: s.update({"Pulumi.Dev_1.yaml": {"config": {"libris:awsRegion": "eu-west-1"}}}),
    ),
    Mutation("stack file with aws:region", "config", lambda d, s: example_stack(s).update({"aws:region": "eu-west-1"})),
    Mutation(
        "stack file value of the wrong type",
        "config",
        lambda d, s: example_stack(s).update({"libris:lambdaMemoryMb": "lots"}),
    ),
)
