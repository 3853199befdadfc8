"""The program assembler (assemble.py): merging, duplicate names, layout errors, determinism, the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assemble import AssemblyError, Origin, assemble, main
from tests.conftest import INFRA

PROJECT = """\
# The project file's own header comment is not copied.
name: demo
runtime:
  name: yaml
  options:
    compiler: python3 assemble.py program/a.yaml program/b.yaml
description: a demo

config:
  # the region knob
  region:
    type: string
    default: eu-west-1
"""

PART_A = """\
# Part a.
variables:
  base: demo-${pulumi.stack}

resources:
  # The bucket.
  bucket:
    type: aws:s3:Bucket
"""

PART_B = """\
resources:
  "index.html":
    type: aws:s3:BucketObject
    properties:
      bucket: ${bucket}
      content: |
        <h1>hello</h1>
          # indented text in a block scalar, not a comment
# a comment in column 0 inside the section
  policy:
    type: aws:s3:BucketPolicy

outputs:
  name: ${bucket.bucket}
"""


def project_dir(tmp_path: Path, project: str = PROJECT, **parts: str) -> Path:
    """tmp_path with Pulumi.yaml and program/<name>.yaml for each part (default: a and b above)."""
    (tmp_path / "program").mkdir()
    (tmp_path / "Pulumi.yaml").write_text(project)
    for name, text in (parts or {"a": PART_A, "b": PART_B}).items():
        (tmp_path / "program" / f"{name}.yaml").write_text(text)
    return tmp_path


def error(directory: Path, *parts: str) -> str:
    with pytest.raises(AssemblyError) as exc:
        assemble(directory, list(parts))
    return str(exc.value)


def test_the_sections_of_the_project_file_and_the_parts_are_merged_in_the_order_listed(tmp_path):
    program = assemble(project_dir(tmp_path), ["program/a.yaml", "program/b.yaml"])
    doc = yaml.safe_load(program.text)
    assert list(doc) == ["name", "runtime", "description", "config", "variables", "resources", "outputs"]
    assert doc["runtime"]["options"]["compiler"] == "python3 assemble.py program/a.yaml program/b.yaml"
    assert doc["config"] == {"region": {"type": "string", "default": "eu-west-1"}}
    assert doc["variables"] == {"base": "demo-${pulumi.stack}"}
    assert list(doc["resources"]) == ["bucket", "index.html", "policy"]
    assert doc["resources"]["index.html"]["properties"]["content"] == (
        "<h1>hello</h1>\n  # indented text in a block scalar, not a comment\n"
    )
    assert doc["outputs"] == {"name": "${bucket.bucket}"}


def test_comments_inside_sections_are_kept_and_each_part_is_labelled(tmp_path):
    text = assemble(project_dir(tmp_path), ["program/a.yaml", "program/b.yaml"]).text
    assert "  # the region knob\n" in text
    assert "  # from program/a.yaml\n  # The bucket.\n  bucket:\n" in text
    assert "# The project file's own header comment" not in text
    assert "# Part a." not in text


def test_origins_give_the_file_and_line_of_every_entry(tmp_path):
    origins = assemble(project_dir(tmp_path), ["program/a.yaml", "program/b.yaml"]).origins
    assert origins == {
        ("config", "region"): Origin("Pulumi.yaml", 11),
        ("variables", "base"): Origin("program/a.yaml", 3),
        ("resources", "bucket"): Origin("program/a.yaml", 7),
        ("resources", "index.html"): Origin("program/b.yaml", 2),
        ("resources", "policy"): Origin("program/b.yaml", 10),
        ("outputs", "name"): Origin("program/b.yaml", 14),
    }
    assert str(origins[("resources", "policy")]) == "program/b.yaml:10"


def test_a_name_defined_in_two_parts_is_an_error_naming_both_files(tmp_path):
    directory = project_dir(tmp_path, a=PART_A, b="resources:\n  other:\n    type: x\n  bucket:\n    type: y\n")
    assert error(directory, "program/a.yaml", "program/b.yaml") == (
        "resources.bucket is defined twice: in program/a.yaml:7 and in program/b.yaml:4"
    )


def test_a_part_cannot_redefine_what_the_project_file_declares(tmp_path):
    project = PROJECT + "variables:\n  base: x\n"
    directory = project_dir(tmp_path, project, a=PART_A)
    assert error(directory, "program/a.yaml") == (
        "variables.base is defined twice: in Pulumi.yaml:15 and in program/a.yaml:3"
    )


def test_a_name_defined_twice_in_one_file_is_an_error(tmp_path):
    directory = project_dir(tmp_path, a="outputs:\n  url: x\n  'url': y\n")
    assert error(directory, "program/a.yaml") == "outputs.url is defined twice in program/a.yaml (lines 2 and 3)"


def test_a_missing_part_file_is_an_error_naming_it(tmp_path):
    directory = project_dir(tmp_path)
    assert error(directory, "program/a.yaml", "program/nope.yaml") == (
        f"program/nope.yaml: no such file in {directory}"
    )


def test_a_missing_project_file_is_an_error(tmp_path):
    directory = project_dir(tmp_path)
    (directory / "Pulumi.yaml").unlink()
    assert error(directory, "program/a.yaml") == f"Pulumi.yaml: no such file in {directory}"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "no part files given"),
        (["program/a.yaml", "program/a.yaml"], "program/a.yaml is listed twice (Pulumi.yaml is always read first)"),
        (["Pulumi.yaml", "program/a.yaml"], "Pulumi.yaml is listed twice (Pulumi.yaml is always read first)"),
    ],
)
def test_the_parts_are_listed_once_each(tmp_path, parts, message):
    assert error(project_dir(tmp_path), *parts) == message


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("config:\n  x: 1\n", "`config:` is not allowed here; config is declared in Pulumi.yaml, where the Pulumi CLI"),
        ("name: other\n", "unknown top-level key 'name'; a part holds only variables, resources and outputs"),
        ("outputs:\n  a: 1\noutputs:\n  b: 2\n", "`outputs:` appears twice in program/a.yaml"),
        ("outputs: {a: 1}\n", "write the entries of `outputs:` on their own lines, two spaces in"),
        ("---\noutputs:\n  a: 1\n", "expected a top-level `key:` in column 0, got '---'"),
        ("  outputs:\n", "indented text before the first top-level key"),
        ("outputs:\n    a: 1\n", "entries of `outputs:` start with `name:` exactly two spaces in"),
        ("outputs:\n  a: 1\n b: 2\n", "entries of `outputs:` start with `name:` exactly two spaces in"),
        ("outputs:\n  - a\n", "expected an entry `name:` two spaces in, got '- a'"),
        ("outputs:\n  ? a\n  : 1\n", "expected an entry `name:` two spaces in, got '? a'"),
        ("outputs:\n  a:\n  \tb: 1\n", "indent with spaces, not tabs"),
    ],
)
def test_parts_that_break_the_layout_are_refused_with_file_and_line(tmp_path, part, message):
    got = error(project_dir(tmp_path, a=part), "program/a.yaml")
    assert got.startswith("program/a.yaml:"), got
    assert message in got


def test_a_section_with_no_entries_is_left_out(tmp_path):
    directory = project_dir(tmp_path, a="outputs:\n  # url: later\n", b=PART_A)
    doc = yaml.safe_load(assemble(directory, ["program/a.yaml", "program/b.yaml"]).text)
    assert "outputs" not in doc


def test_the_output_is_the_same_bytes_every_time(tmp_path):
    directory = project_dir(tmp_path)
    first = assemble(directory, ["program/a.yaml", "program/b.yaml"])
    (directory / "program" / "c.yaml").write_text("outputs:\n  unlisted: 1\n")  # files not listed play no part
    assert assemble(directory, ["program/a.yaml", "program/b.yaml"]) == first


def test_the_listed_order_decides_the_text_but_not_the_program(tmp_path):
    directory = project_dir(tmp_path)
    forward = assemble(directory, ["program/a.yaml", "program/b.yaml"]).text
    backward = assemble(directory, ["program/b.yaml", "program/a.yaml"]).text
    assert forward != backward
    assert yaml.safe_load(forward) == yaml.safe_load(backward)


def test_the_command_prints_the_program_on_stdout(tmp_path, capsysbinary):
    directory = project_dir(tmp_path)
    assert main(["--dir", str(directory), "program/a.yaml", "program/b.yaml"]) == 0
    out = capsysbinary.readouterr()
    assert out.out.decode() == assemble(directory, ["program/a.yaml", "program/b.yaml"]).text
    assert out.err == b""


def test_the_command_reports_errors_on_stderr_with_status_1(tmp_path, capsys):
    directory = project_dir(tmp_path)
    assert main(["--dir", str(directory), "program/a.yaml", "program/nope.yaml"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"assemble.py: program/nope.yaml: no such file in {directory}\n"


def test_run_as_pulumi_runs_it_in_another_directory_the_output_is_the_same(tmp_path):
    """Pulumi runs the compiler with the project directory as cwd; by default the script's own directory is used."""
    infra_copy = project_dir(tmp_path)
    (infra_copy / "assemble.py").write_text((INFRA / "assemble.py").read_text())
    elsewhere = tmp_path / "program"
    runs = [
        subprocess.run(
            [sys.executable, str(infra_copy / "assemble.py"), "program/a.yaml", "program/b.yaml"],
            cwd=cwd,
            capture_output=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
        ).stdout
        for cwd in (infra_copy, elsewhere)
    ]
    assert runs[0] == runs[1] == assemble(infra_copy, ["program/a.yaml", "program/b.yaml"]).text.encode()


def test_only_newlines_end_lines(tmp_path):
    """A form feed inside a value is not a line break in YAML 1.2, so it must not start a new line here either."""
    directory = project_dir(tmp_path, a="outputs:\r\n  note: a\x0cb\r\n  other: c\r\n")
    program = assemble(directory, ["program/a.yaml"])
    assert set(program.origins) == {("config", "region"), ("outputs", "note"), ("outputs", "other")}
    assert "  note: a\x0cb\n  other: c\n" in program.text
