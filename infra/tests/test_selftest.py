"""The whole check on the real stack, and every seeded mistake (stackcheck/selftest.py, rules/__init__.py)."""

from __future__ import annotations

import pytest

from stackcheck.checker import run_check
from stackcheck.mutation import Mutation
from stackcheck.rules import FAMILIES, MUTATIONS, RULES
from stackcheck.selftest import self_test, undetected


def test_the_real_stack_has_no_problem(schema, real_stack):
    assert [str(p) for p in run_check(schema, *real_stack).problems] == []


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.title for m in MUTATIONS])
def test_each_seeded_mistake_is_reported_with_its_code(schema, pristine_stack, mutation):
    assert undetected(schema, *pristine_stack, mutation) is None


def test_the_self_test_passes_on_the_real_stack(schema, pristine_stack, capsys):
    assert self_test(schema, *pristine_stack) == 0
    assert capsys.readouterr().out == f"self-test: OK ({len(MUTATIONS)} mutations, each detected)\n"


def test_the_self_test_fails_on_a_mistake_nothing_reports(schema, pristine_stack, capsys):
    harmless = Mutation("a description nobody checks", "tls", lambda d, s: d.update(description="changed"))
    assert self_test(schema, *pristine_stack, mutations=[harmless]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "self-test FAILED: mutation 'a description nobody checks' was not reported as [tls] (got: nothing)",
        "self-test: 1 of 1 mutations went undetected",
    ]


def test_the_self_test_runs_only_on_a_clean_stack(schema, real_stack, capsys):
    project, stacks = real_stack
    project["resources"]["dbProxy"]["properties"]["requireTls"] = False
    assert self_test(schema, project, stacks) == 1
    assert capsys.readouterr().out == (
        "self-test: not run, the unmodified stack has 1 problem(s) "
        "(run check_stack.py without --self-test to list them)\n"
    )


def test_every_family_has_rules_and_seeded_mistakes_with_distinct_titles(schema):
    for family in FAMILIES:
        assert family.RULES, family.__name__
        assert family.MUTATIONS, family.__name__
    assert len({m.title for m in MUTATIONS}) == len(MUTATIONS)
    assert len(set(RULES)) == len(RULES)


def test_a_document_that_is_not_a_mapping_is_one_problem(schema):
    assert [str(p) for p in run_check(schema, ["not", "a", "mapping"], {}).problems] == [
        "[structure] Pulumi.yaml: not a mapping"
    ]
