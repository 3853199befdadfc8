"""Loading the program as Pulumi would (stackcheck/program.py): the compiler command, assemble.py, the parts."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stackcheck.program import SECTIONS, Program, ProgramError, load_program
from tests.conftest import INFRA

COMPILER = "python3 assemble.py program/net.yaml program/api.yaml"
PROJECT = f"""\
name: libris
runtime:
  name: yaml
  options:
    compiler: {COMPILER}
config:
  region:
    type: string
"""
NET = "resources:\n  vpc:\n    type: aws:ec2:Vpc\n"
API = "resources:\n  api:\n    type: aws:apigatewayv2:Api\noutputs:\n  url: ${api.apiEndpoint}\n"


def project_dir(tmp_path: Path, project: str = PROJECT, **parts: str) -> Path:
    """tmp_path with Pulumi.yaml, a copy of the real assemble.py and program/<name>.yaml for each part."""
    shutil.copy(INFRA / "assemble.py", tmp_path / "assemble.py")
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "program").mkdir()
    for name, text in (parts or {"net": NET, "api": API}).items():
        (tmp_path / "program" / f"{name}.yaml").write_text(text)
    return tmp_path


def failure(directory: Path) -> str:
    with pytest.raises(ProgramError) as exc:
        load_program(directory)
    return str(exc.value)


def test_without_a_compiler_the_program_is_pulumi_yaml_itself(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: libris\nruntime: yaml\nresources:\n  vpc:\n    type: aws:ec2:Vpc\n")
    program = load_program(tmp_path)
    assert program == Program({"name": "libris", "runtime": "yaml", "resources": {"vpc": {"type": "aws:ec2:Vpc"}}})
    assert program.locate("resources.vpc") is None


def test_with_the_compiler_the_program_is_what_assemble_py_prints(tmp_path):
    program = load_program(project_dir(tmp_path))
    assert program.parts == ("program/net.yaml", "program/api.yaml")
    assert program.doc == {
        "name": "libris",
        "runtime": {"name": "yaml", "options": {"compiler": COMPILER}},
        "config": {"region": {"type": "string"}},
        "resources": {"vpc": {"type": "aws:ec2:Vpc"}, "api": {"type": "aws:apigatewayv2:Api"}},
        "outputs": {"url": "${api.apiEndpoint}"},
    }


def test_a_problem_location_is_traced_to_the_file_and_line_of_its_entry(tmp_path):
    program = load_program(project_dir(tmp_path))
    assert program.locate("resources.api.properties.name") == "program/api.yaml:2"
    assert program.locate("outputs.url") == "program/api.yaml:5"
    assert program.locate("config.region") == "Pulumi.yaml:7"
    assert program.locate("variables.vpc") is None
    assert program.locate("Pulumi.example.yaml:libris:x") is None


@pytest.mark.parametrize(
    "compiler",
    ["python assemble.py program/net.yaml", "python3 other.py program/net.yaml", "python3 assemble.py", "cue export"],
)
def test_only_python3_assemble_py_with_parts_can_be_followed(tmp_path, compiler):
    directory = project_dir(tmp_path, PROJECT.replace(COMPILER, compiler))
    assert failure(directory) == (
        "Pulumi.yaml: the compiler must be `python3 assemble.py PART...` for infra/check to follow it, "
        f"not {compiler!r}"
    )


def test_the_compiler_must_be_a_string(tmp_path):
    directory = project_dir(tmp_path, PROJECT.replace(COMPILER, "[python3, assemble.py]"))
    assert failure(directory) == "Pulumi.yaml: runtime.options.compiler must be a string"


def test_the_assembler_is_the_one_in_the_directory_under_check(tmp_path):
    directory = project_dir(tmp_path)
    (directory / "assemble.py").unlink()
    assert failure(directory) == f"assemble.py: not found in {directory}, but the compiler command runs it"


def test_assembly_errors_are_reported_as_assemble_py_words_them(tmp_path):
    directory = project_dir(tmp_path, net=NET, api=NET)
    assert failure(directory) == "resources.vpc is defined twice: in program/net.yaml:2 and in program/api.yaml:2"


def test_a_missing_part_is_reported(tmp_path):
    directory = project_dir(tmp_path, net=NET)
    assert failure(directory) == f"program/api.yaml: no such file in {directory}"


def test_a_yaml_file_the_compiler_command_leaves_out_is_reported(tmp_path):
    directory = project_dir(tmp_path, net=NET, api=API, alarms="resources:\n  alarm:\n    type: x\n")
    assert failure(directory) == (
        "program/alarms.yaml: not listed in the compiler command in Pulumi.yaml, so Pulumi would ignore it"
    )


def test_yaml_that_fools_the_scanner_is_caught_by_the_parser(tmp_path):
    merge = "resources:\n  vpc:\n    type: aws:ec2:Vpc\n  <<: {subnet: {type: aws:ec2:Subnet}}\n"
    directory = project_dir(tmp_path, net=merge, api=API)
    assert failure(directory) == (
        "assemble.py and the YAML parser disagree about the entries of `resources` "
        "(only the parser: ['subnet'], only assemble.py: ['<<']); "
        "write each entry as `name:` two spaces in, without YAML merge keys or anchors"
    )


def test_a_syntax_error_is_reported_in_the_part_that_has_it(tmp_path):
    directory = project_dir(tmp_path, net=NET, api="resources:\n  api:\n    type: [unclosed\n")
    message = failure(directory)
    assert message.startswith("program/api.yaml is not valid YAML: ")
    assert "api.yaml" in message.split(":", 1)[1]  # PyYAML names the file and line too


# ---- the real program ------------------------------------------------------


def test_the_compiler_command_run_as_pulumi_runs_it_prints_the_program_the_checker_checks(pristine_stack):
    """Pulumi splits the command like a shell, runs it in the project directory and parses stdout."""
    compiler = yaml.safe_load((INFRA / "Pulumi.yaml").read_text())["runtime"]["options"]["compiler"]
    result = subprocess.run(shlex.split(compiler), cwd=INFRA, capture_output=True, check=True)
    assert result.stderr == b""
    assert yaml.safe_load(result.stdout) == pristine_stack[0]


def test_the_real_program_is_the_union_of_pulumi_yaml_and_its_parts():
    """What assemble.py's text merge yields equals merging the files' parsed maps: no entry lost, changed or added."""
    program = load_program(INFRA)
    files = [yaml.safe_load((INFRA / name).read_text()) for name in ("Pulumi.yaml", *program.parts)]
    expected = {key: value for key, value in files[0].items() if key not in SECTIONS}
    for section in SECTIONS:
        for doc in files:
            expected.setdefault(section, {}).update(doc.get(section) or {})
    assert program.doc == expected
    assert sum(len(doc.get(section) or {}) for doc in files for section in SECTIONS) == sum(
        len(expected[section]) for section in SECTIONS
    )
