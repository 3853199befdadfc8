"""The program Pulumi deploys: Pulumi.yaml alone, or what its `compiler` command assembles.

Pulumi.yaml names `python3 assemble.py PART...` as the YAML runtime's
compiler; Pulumi runs it in the project directory and deploys what it
prints. The checker runs the same assemble.py, from the directory under
check, on the same parts, and parses its output with a real YAML parser, so
it checks the text Pulumi would get. It also refuses what would make the two
differ: another compiler command, a YAML file beside the parts that the
command leaves out, and output whose entries are not the ones assemble.py
found (its text scanner fooled by YAML it does not expect)."""

from __future__ import annotations

import importlib.util
import shlex
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_FILE = "Pulumi.yaml"
ASSEMBLER = "assemble.py"
SECTIONS = ("config", "variables", "resources", "outputs")


class ProgramError(Exception):
    """The program cannot be put together as Pulumi would; the message says why."""


@dataclass(frozen=True)
class Program:
    doc: typing.Any  # the parsed program
    parts: tuple[str, ...] = ()  # part files, as the compiler command lists them
    origins: dict[tuple[str, str], str] = field(default_factory=dict)  # (section, name) -> "file:line"

    def locate(self, where: str) -> str | None:
        """`file:line` of the entry a problem location (`resources.dbProxy.requireTls`) is inside, if known."""
        section, _, rest = where.partition(".")
        name = rest.split(".", 1)[0].split("[", 1)[0]
        return self.origins.get((section, name))


def compiler_command(project: typing.Any) -> str | None:
    runtime = project.get("runtime") if isinstance(project, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    compiler = options.get("compiler") if isinstance(options, dict) else None
    if compiler is not None and not isinstance(compiler, str):
        raise ProgramError(f"{PROJECT_FILE}: runtime.options.compiler must be a string")
    return compiler


def listed_parts(compiler: str) -> tuple[str, ...]:
    """The part files of `python3 assemble.py PART...`, the only compiler command the checker can follow."""
    try:
        argv = shlex.split(compiler)
    except ValueError as exc:
        raise ProgramError(f"{PROJECT_FILE}: cannot split the compiler command: {exc}") from exc
    if argv[:2] != ["python3", ASSEMBLER] or len(argv) < 3:
        raise ProgramError(
            f"{PROJECT_FILE}: the compiler must be `python3 {ASSEMBLER} PART...` for infra/check to follow it, "
            f"not {compiler!r}"
        )
    return tuple(argv[2:])


def load_assembler(directory: Path) -> types.ModuleType:
    """directory/assemble.py, the script the compiler command runs there."""
    path = directory / ASSEMBLER
    if not path.is_file():
        raise ProgramError(f"{ASSEMBLER}: not found in {directory}, but the compiler command runs it")
    name = "_libris_assemble"  # loaded afresh each time: each directory has its own
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ProgramError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def unlisted_yaml(directory: Path, parts: typing.Sequence[str]) -> list[str]:
    """YAML files in the parts' directories that the compiler command leaves out (Pulumi would not deploy them)."""
    listed = {(directory / part).resolve() for part in parts}
    folders = {(directory / part).resolve().parent for part in parts} - {directory.resolve()}
    found = [p for folder in folders for pattern in ("*.yaml", "*.yml") for p in folder.glob(pattern)]
    return sorted(str(p.relative_to(directory.resolve())) for p in found if p.resolve() not in listed)


def parse(directory: Path, parts: typing.Sequence[str], text: str) -> typing.Any:
    """The assembled program, parsed; a syntax error is reported in the file that has it when it is one file's."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        for name in (PROJECT_FILE, *parts):
            with (directory / name).open() as fh:
                try:
                    yaml.safe_load(fh)
                except yaml.YAMLError as own:
                    raise ProgramError(f"{name} is not valid YAML: {own}") from own
        raise ProgramError(f"the assembled program is not valid YAML: {exc}") from exc


def load_program(directory: Path) -> Program:
    with (directory / PROJECT_FILE).open() as fh:
        project = yaml.safe_load(fh)
    compiler = compiler_command(project)
    if compiler is None:
        return Program(project)
    parts = listed_parts(compiler)
    assembler = load_assembler(directory)
    try:
        assembled = assembler.assemble(directory, parts)
    except assembler.AssemblyError as exc:
        raise ProgramError(str(exc)) from exc
    extra = unlisted_yaml(directory, parts)
    if extra:
        raise ProgramError(
            f"{', '.join(extra)}: not listed in the compiler command in {PROJECT_FILE}, so Pulumi would ignore it"
        )
    doc = parse(directory, parts, assembled.text)
    for section in SECTIONS:
        parsed = set((doc.get(section) or {}) if isinstance(doc, dict) else ())
        scanned = {name for sec, name in assembled.origins if sec == section}
        if parsed != scanned:
            raise ProgramError(
                f"{ASSEMBLER} and the YAML parser disagree about the entries of `{section}` "
                f"(only the parser: {sorted(parsed - scanned)}, only {ASSEMBLER}: {sorted(scanned - parsed)}); "
                "write each entry as `name:` two spaces in, without YAML merge keys or anchors"
            )
    origins = {key: str(origin) for key, origin in assembled.origins.items()}
    return Program(doc, parts, origins)
