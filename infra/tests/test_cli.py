"""The command infra/check runs (stackcheck/cli.py), on the real stack and on copies with seeded mistakes."""

from __future__ import annotations

import shutil

import pytest

from stackcheck.cli import main
from tests.conftest import INFRA


@pytest.fixture
def stack_copy(tmp_path):
    """A directory with copies of Pulumi.yaml and Pulumi.example.yaml."""
    for name in ("Pulumi.yaml", "Pulumi.example.yaml"):
        shutil.copy(INFRA / name, tmp_path / name)
    return tmp_path


def replace_once(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once"
    path.write_text(text.replace(old, new))


def test_the_real_stack_is_ok(pristine_stack, capsys):
    project, stacks = pristine_stack
    assert main([]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"infra check: OK ({len(project['resources'])} resources)"


def test_a_proxy_without_tls_fails_with_one_error_line(stack_copy, schema, capsys):
    replace_once(stack_copy / "Pulumi.yaml", "requireTls: true", "requireTls: false")
    assert main(["--dir", str(stack_copy)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ERROR [tls] resources.dbProxy.requireTls: RDS Proxy must have requireTls: true",
        f"infra check: FAILED (1 problem(s), pulumi-aws {schema.version})",
    ]


def test_mistakes_in_several_families_are_listed_in_registry_order(stack_copy, schema, capsys):
    pulumi_yaml = stack_copy / "Pulumi.yaml"
    replace_once(pulumi_yaml, "requireTls: true", 'requireTls: "yes"')
    replace_once(pulumi_yaml, "storageEncrypted: true", "storageEncrypted: false")
    with (stack_copy / "Pulumi.example.yaml").open("a") as fh:
        fh.write("  aws:region: eu-west-1\n")
    assert main(["--dir", str(stack_copy)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ERROR [type-mismatch] resources.dbProxy.requireTls: 'yes' is string but the input is bool",
        "ERROR [config] Pulumi.example.yaml:aws:region: aws:* keys are ignored by this stack's explicit provider; "
        "use libris:awsRegion",
        "ERROR [tls] resources.dbProxy.requireTls: RDS Proxy must have requireTls: true",
        "ERROR [encryption] resources.dbCluster.storageEncrypted: Aurora storage must be encrypted "
        "(storageEncrypted: true)",
        f"infra check: FAILED (4 problem(s), pulumi-aws {schema.version})",
    ]


def test_the_self_test_refuses_a_stack_with_problems(stack_copy, capsys):
    replace_once(stack_copy / "Pulumi.yaml", "requireTls: true", "requireTls: false")
    assert main(["--dir", str(stack_copy), "--self-test"]) == 1
    assert "self-test: not run, the unmodified stack has 1 problem(s)" in capsys.readouterr().out


def test_unparsable_yaml_fails(stack_copy, capsys):
    (stack_copy / "Pulumi.yaml").write_text("resources: [unclosed\n")
    assert main(["--dir", str(stack_copy)]) == 1
    assert capsys.readouterr().out.startswith("infra check: cannot parse YAML:")


def test_the_example_stack_file_is_required(stack_copy):
    (stack_copy / "Pulumi.example.yaml").unlink()
    with pytest.raises(SystemExit, match="Pulumi.example.yaml is missing"):
        main(["--dir", str(stack_copy)])
