"""The command infra/check runs (stackcheck/cli.py), on the real stack and on copies with seeded mistakes."""

from __future__ import annotations

import shutil

import pytest

from stackcheck.cli import main
from tests.conftest import INFRA


@pytest.fixture
def stack_copy(tmp_path):
    """A directory with copies of Pulumi.yaml, its parts, assemble.py and Pulumi.example.yaml."""
    for name in ("Pulumi.yaml", "Pulumi.example.yaml", "assemble.py"):
        shutil.copy(INFRA / name, tmp_path / name)
    shutil.copytree(INFRA / "program", tmp_path / "program")
    return tmp_path


def replace_once(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once"
    path.write_text(text.replace(old, new))


def at(directory, name: str, line: str) -> str:
    """`name:N`, N the number of the one line equal to `line` in directory/name: how the checker names a place."""
    lines = (directory / name).read_text().splitlines()
    assert lines.count(line) == 1, f"{line!r} is not in {name} exactly once"
    return f"{name}:{lines.index(line) + 1}"


def only_error(stack_copy, schema, capsys) -> str:
    """The one ERROR line of a check of stack_copy that must fail with exactly one problem."""
    assert main(["--dir", str(stack_copy)]) == 1
    *errors, summary = capsys.readouterr().out.splitlines()
    assert summary == f"infra check: FAILED (1 problem(s), pulumi-aws {schema.version})"
    assert len(errors) == 1, errors
    return errors[0]


def test_the_real_stack_is_ok(pristine_stack, capsys):
    project, stacks = pristine_stack
    assert main([]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"infra check: OK ({len(project['resources'])} resources)"


def test_a_proxy_without_tls_fails_with_one_error_line_naming_the_part(stack_copy, schema, capsys):
    replace_once(stack_copy / "program/proxy.yaml", "requireTls: true", "requireTls: false")
    proxy = at(stack_copy, "program/proxy.yaml", "  dbProxy:")
    assert only_error(stack_copy, schema, capsys) == (
        f"ERROR [tls] {proxy}: resources.dbProxy.requireTls: RDS Proxy must have requireTls: true"
    )


def test_mistakes_in_several_families_are_listed_in_registry_order(stack_copy, schema, capsys):
    replace_once(stack_copy / "program/proxy.yaml", "requireTls: true", 'requireTls: "yes"')
    replace_once(stack_copy / "program/database.yaml", "storageEncrypted: true", "storageEncrypted: false")
    with (stack_copy / "Pulumi.example.yaml").open("a") as fh:
        fh.write("  aws:region: eu-west-1\n")
    assert main(["--dir", str(stack_copy)]) == 1
    proxy = at(stack_copy, "program/proxy.yaml", "  dbProxy:")
    cluster = at(stack_copy, "program/database.yaml", "  dbCluster:")
    assert capsys.readouterr().out.splitlines() == [
        f"ERROR [type-mismatch] {proxy}: resources.dbProxy.requireTls: 'yes' is string but the input is bool",
        "ERROR [config] Pulumi.example.yaml:aws:region: aws:* keys are ignored by this stack's explicit provider; "
        "use libris:awsRegion",
        f"ERROR [tls] {proxy}: resources.dbProxy.requireTls: RDS Proxy must have requireTls: true",
        f"ERROR [encryption] {cluster}: resources.dbCluster.storageEncrypted: Aurora storage must be encrypted "
        "(storageEncrypted: true)",
        f"infra check: FAILED (4 problem(s), pulumi-aws {schema.version})",
    ]


def test_the_self_test_refuses_a_stack_with_problems(stack_copy, capsys):
    replace_once(stack_copy / "program/proxy.yaml", "requireTls: true", "requireTls: false")
    assert main(["--dir", str(stack_copy), "--self-test"]) == 1
    assert "self-test: not run, the unmodified stack has 1 problem(s)" in capsys.readouterr().out


def test_unparsable_yaml_fails(stack_copy, capsys):
    (stack_copy / "Pulumi.yaml").write_text("resources: [unclosed\n")
    assert main(["--dir", str(stack_copy)]) == 1
    assert capsys.readouterr().out.startswith("infra check: cannot parse YAML:")


def test_a_config_problem_names_pulumi_yaml(stack_copy, schema, capsys):
    replace_once(stack_copy / "Pulumi.yaml", "type: integer\n    default: 512", 'type: integer\n    default: "lots"')
    knob = at(stack_copy, "Pulumi.yaml", "  lambdaMemoryMb:")
    assert only_error(stack_copy, schema, capsys) == (
        f"ERROR [config] {knob}: config.lambdaMemoryMb: default 'lots' is not of type integer"
    )


def test_a_resource_defined_in_two_parts_fails_naming_both(stack_copy, capsys):
    proxy = (stack_copy / "program/proxy.yaml").read_text()
    with (stack_copy / "program/api.yaml").open("a") as fh:
        fh.write(proxy[proxy.index("  dbProxy:") : proxy.index("\n\n", proxy.index("  dbProxy:"))] + "\n")
    assert main(["--dir", str(stack_copy)]) == 1
    first, again = at(stack_copy, "program/proxy.yaml", "  dbProxy:"), at(stack_copy, "program/api.yaml", "  dbProxy:")
    assert capsys.readouterr().out == (
        f"infra check: cannot assemble the program: resources.dbProxy is defined twice: in {first} and in {again}\n"
    )


def test_a_part_left_out_of_the_compiler_command_fails(stack_copy, capsys):
    replace_once(stack_copy / "Pulumi.yaml", "      program/auth.yaml\n", "")
    assert main(["--dir", str(stack_copy)]) == 1
    assert capsys.readouterr().out == (
        "infra check: cannot assemble the program: program/auth.yaml: not listed in the compiler command "
        "in Pulumi.yaml, so Pulumi would ignore it\n"
    )


def test_a_missing_part_fails(stack_copy, capsys):
    (stack_copy / "program/outputs.yaml").unlink()
    assert main(["--dir", str(stack_copy)]) == 1
    assert capsys.readouterr().out == (
        f"infra check: cannot assemble the program: program/outputs.yaml: no such file in {stack_copy}\n"
    )


def test_the_example_stack_file_is_required(stack_copy):
    (stack_copy / "Pulumi.example.yaml").unlink()
    with pytest.raises(SystemExit, match="Pulumi.example.yaml is missing"):
        main(["--dir", str(stack_copy)])
