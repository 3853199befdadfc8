"""The command line: `check_stack.py [--dir DIR] [--self-test]`."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from .checker import load_stack_files, run_check
from .program import Program, ProgramError, load_program
from .report import Problem
from .schema import Schema
from .selftest import self_test

INFRA = Path(__file__).resolve().parent.parent


def located(problem: Problem, program: Program) -> str:
    """The problem, with the file and line of the entry it is in when the program was assembled from parts."""
    origin = program.locate(problem.where)
    return f"[{problem.code}] {origin}: {problem.where}: {problem.message}" if origin else str(problem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Offline static checks for the Libris Pulumi YAML stack (infra/Pulumi.yaml)."
    )
    parser.add_argument("--dir", type=Path, default=INFRA, help="directory holding Pulumi.yaml (default: infra/)")
    parser.add_argument("--self-test", action="store_true", help="prove that seeded mistakes are caught")
    args = parser.parse_args(argv)

    try:
        program = load_program(args.dir)
        stacks = load_stack_files(args.dir)
    except yaml.YAMLError as exc:
        print(f"infra check: cannot parse YAML: {exc}")
        return 1
    except ProgramError as exc:
        print(f"infra check: cannot assemble the program: {exc}")
        return 1
    project = program.doc
    schema = Schema()
    if args.self_test:
        return self_test(schema, project, stacks)
    report = run_check(schema, project, stacks)
    if report.problems:
        for p in report.problems:
            print(f"ERROR {located(p, program)}")
        print(f"infra check: FAILED ({len(report.problems)} problem(s), pulumi-aws {schema.version})")
        return 1
    count = len(project.get("resources") or {})
    parts = f" + {len(program.parts)} part(s)" if program.parts else ""
    print(f"checked Pulumi.yaml{parts} and {len(stacks)} stack file(s) against pulumi-aws {schema.version}")
    print(f"infra check: OK ({count} resources)")
    return 0
