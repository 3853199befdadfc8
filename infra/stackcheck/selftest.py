"""`--self-test`: every seeded mistake must be reported with its code.

It runs only when the unmodified stack is clean, so a mutation is detected
by the rule it targets and not by some problem already there."""

from __future__ import annotations

import copy
import typing

from .checker import run_check
from .mutation import Mutation
from .rules import MUTATIONS
from .schema import Schema


def undetected(schema: Schema, project: dict, stacks: dict[str, dict], mutation: Mutation) -> str | None:
    """None when the mutated stack is reported with mutation.code, else the codes it got instead."""
    doc, stk = copy.deepcopy(project), copy.deepcopy(stacks)
    mutation.apply(doc, stk)
    report = run_check(schema, doc, stk)
    if mutation.code in report.codes():
        return None
    return ", ".join(sorted(report.codes())) or "nothing"


def self_test(
    schema: Schema, project: dict, stacks: dict[str, dict], mutations: typing.Sequence[Mutation] = MUTATIONS
) -> int:
    baseline = run_check(schema, copy.deepcopy(project), copy.deepcopy(stacks))
    if baseline.problems:
        print(
            f"self-test: not run, the unmodified stack has {len(baseline.problems)} problem(s) "
            "(run check_stack.py without --self-test to list them)"
        )
        return 1
    failures = 0
    for mutation in mutations:
        got = undetected(schema, project, stacks, mutation)
        if got is None:
            continue
        failures += 1
        print(f"self-test FAILED: mutation '{mutation.title}' was not reported as [{mutation.code}] (got: {got})")
    if failures:
        print(f"self-test: {failures} of {len(mutations)} mutations went undetected")
        return 1
    print(f"self-test: OK ({len(mutations)} mutations, each detected)")
    return 0
