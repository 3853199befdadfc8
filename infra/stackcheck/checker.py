"""Loading the stack from disk and running every rule over it."""

from __future__ import annotations

import typing
from pathlib import Path

import yaml

from .context import Context
from .program import load_program
from .report import Report
from .rules import RULES
from .schema import Schema


def load_yaml(path: Path) -> typing.Any:
    with path.open() as fh:
        return yaml.safe_load(fh)


def load_stack_files(directory: Path) -> dict[str, dict]:
    """Every Pulumi.<stack>.yaml beside Pulumi.yaml (Pulumi.example.yaml must be one)."""
    stacks = {p.name: load_yaml(p) for p in sorted(directory.glob("Pulumi.*.yaml"))}
    if "Pulumi.example.yaml" not in stacks:
        raise SystemExit(f"{directory}/Pulumi.example.yaml is missing")
    return stacks


def load_stack(directory: Path) -> tuple[typing.Any, dict[str, dict]]:
    """The program Pulumi deploys (assembled as Pulumi.yaml says) and the stack files."""
    return load_program(directory).doc, load_stack_files(directory)


def run_check(schema: Schema, project: typing.Any, stacks: dict[str, dict], rules: typing.Iterable = RULES) -> Report:
    if not isinstance(project, dict):
        report = Report()
        report.add("structure", "Pulumi.yaml", "not a mapping")
        return report
    ctx = Context(schema, project, stacks)
    for rule in rules:
        rule(ctx)
    return ctx.report
