#!/usr/bin/env python3
"""Assembles the Pulumi YAML program from Pulumi.yaml and the part files it lists.

Pulumi YAML has no include mechanism, but its runtime takes the program from
the standard output of a `compiler` command run in the project directory.
Pulumi.yaml names this script and the parts, in order:

    runtime:
      name: yaml
      options:
        compiler: python3 assemble.py program/network.yaml program/api.yaml ...

The output is the whole program: the project file's own keys (name, runtime,
description, ...) followed by the `config`, `variables`, `resources` and
`outputs` maps, each the union of the entries the project file and the parts
declare, in the order they are listed. A name defined twice is an error
naming both places; errors go to stderr with exit status 1, and Pulumi shows
them. Nothing is read from the environment, so the same files always give
the same bytes.

It works on text, with the standard library only (no YAML parser), so the
files keep a simple layout that the scanner enforces:
  * top-level keys start in column 0; a section key (`resources:`) has
    nothing after it on its line and appears once per file;
  * each entry of a section starts with `name:` indented by exactly two
    spaces; everything deeper belongs to the entry above it;
  * parts hold only `variables`, `resources` and `outputs`: config stays in
    Pulumi.yaml, where the Pulumi CLI reads the declarations (types and
    defaults) before the program runs.
Comment lines may appear anywhere. infra/check parses the output with a real
YAML parser and fails if it finds other entries than this scanner did.

Usage: python3 assemble.py [--dir DIR] PART...   (DIR defaults to this script's directory)
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"
SECTIONS = ("config", "variables", "resources", "outputs")
PART_SECTIONS = ("variables", "resources", "outputs")
PARTS_HOLD = "a part holds only variables, resources and outputs"
CONFIG_HOME = "config is declared in Pulumi.yaml, where the Pulumi CLI reads it"

# A top-level key: `name:` in column 0, optionally followed by a value.
TOP_KEY = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(?P<rest>.*))?$")
# An entry of a section: `name:` (plain or quoted) at exactly two spaces.
ENTRY = re.compile(
    r"  (?P<key>\"[^\"\\]*\"|'(?:[^']|'')*'|[^\s#'\"?\[\]{},&*!|>%@`-][^\s]*?|-[^\s]+?)[ \t]*:(?:[ \t]|$)"
)


class AssemblyError(Exception):
    """The parts cannot be assembled; the message names the file and line."""


@dataclass(frozen=True)
class Origin:
    """Where an entry is defined: the file (relative to the project directory) and line."""

    source: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class Source:
    """One scanned file: its project-level blocks and its section bodies."""

    name: str
    blocks: list[list[str]] = field(default_factory=list)  # non-section top-level keys, verbatim
    bodies: dict[str, list[str]] = field(default_factory=dict)  # section -> lines under it
    entries: dict[str, dict[str, int]] = field(default_factory=dict)  # section -> name -> line


@dataclass(frozen=True)
class Program:
    text: str  # the YAML program Pulumi runs
    origins: dict[tuple[str, str], Origin]  # (section, name) -> where it is defined


def is_comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def entry_name(raw: str) -> str:
    if raw.startswith('"'):
        return raw[1:-1]
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    return raw


def scan(text: str, name: str, project: bool) -> Source:
    """Split one file (the project file or a part) into top-level blocks and section entries, enforcing the layout."""
    source = Source(name)
    allowed = SECTIONS if project else PART_SECTIONS
    current: list[str] | None = None  # lines of the block or section body being read
    section: str | None = None
    # Only \n (or \r\n) ends a line: str.splitlines() would also split at form feeds and U+2028.
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        where = f"{name}:{number}"
        if line[:1] not in ("", " ", "#"):
            match = TOP_KEY.match(line)
            if match is None:
                raise AssemblyError(f"{where}: expected a top-level `key:` in column 0, got {line!r}")
            key, rest = match.group("key"), match.group("rest") or ""
            if key in SECTIONS:
                if key not in allowed:
                    reason = CONFIG_HOME if key == "config" else PARTS_HOLD
                    raise AssemblyError(f"{where}: `{key}:` is not allowed here; {reason}")
                if key in source.bodies:
                    raise AssemblyError(f"{where}: `{key}:` appears twice in {name}")
                if rest and not rest.lstrip().startswith("#"):
                    raise AssemblyError(f"{where}: write the entries of `{key}:` on their own lines, two spaces in")
                section, current = key, []
                source.bodies[key] = current
                source.entries[key] = {}
            elif project:
                section, current = None, [line]
                source.blocks.append(current)
            else:
                raise AssemblyError(f"{where}: unknown top-level key {key!r}; {PARTS_HOLD}")
            continue
        if current is None:
            if not is_comment_or_blank(line):
                raise AssemblyError(f"{where}: indented text before the first top-level key")
            continue  # the file's header comment
        if section is not None and not is_comment_or_blank(line):
            indent = len(line) - len(line.lstrip(" "))
            if "\t" in line[: indent + 1]:
                raise AssemblyError(f"{where}: indent with spaces, not tabs")
            if indent == 2:
                match = ENTRY.match(line)
                if match is None:
                    raise AssemblyError(f"{where}: expected an entry `name:` two spaces in, got {line.strip()!r}")
                entry = entry_name(match.group("key"))
                entries = source.entries[section]
                if entry in entries:
                    raise AssemblyError(
                        f"{section}.{entry} is defined twice in {name} (lines {entries[entry]} and {number})"
                    )
                entries[entry] = number
            elif indent < 2 or not source.entries[section]:
                raise AssemblyError(f"{where}: entries of `{section}:` start with `name:` exactly two spaces in")
        current.append(line)
    return source


def trimmed(lines: list[str]) -> list[str]:
    """Lines without leading and trailing blank lines."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def read(directory: Path, name: str) -> str:
    path = directory / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssemblyError(f"{name}: no such file in {directory}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssemblyError(f"{name}: cannot read: {exc}") from exc


def assemble(directory: Path, parts: typing.Sequence[str]) -> Program:
    """The program made of directory/Pulumi.yaml and the given parts (paths relative to directory)."""
    if not parts:
        raise AssemblyError("no part files given")
    seen: set[str] = set()
    for part in parts:
        if part == PROJECT_FILE or part in seen:
            raise AssemblyError(f"{part} is listed twice (Pulumi.yaml is always read first)")
        seen.add(part)
    sources = [scan(read(directory, PROJECT_FILE), PROJECT_FILE, project=True)]
    sources += [scan(read(directory, part), part, project=False) for part in parts]

    origins: dict[tuple[str, str], Origin] = {}
    for source in sources:
        for section, entries in source.entries.items():
            for entry, line in entries.items():
                here = Origin(source.name, line)
                first = origins.setdefault((section, entry), here)
                if first is not here:
                    raise AssemblyError(f"{section}.{entry} is defined twice: in {first} and in {here}")

    out = [f"# Assembled by assemble.py from {PROJECT_FILE} and {len(parts)} part(s); edit those, not this output."]
    for block in sources[0].blocks:
        out += trimmed(block)
    for section in SECTIONS:
        if not any(source.entries.get(section) for source in sources):
            continue
        out += ["", f"{section}:"]
        for source in sources:
            if source.entries.get(section):
                out.append(f"  # from {source.name}")
                out += trimmed(source.bodies[section])
    return Program("\n".join(out) + "\n", origins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the Pulumi YAML program assembled from Pulumi.yaml and PARTs.")
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent, help="the project directory")
    parser.add_argument("parts", nargs="+", metavar="PART", help="part file, relative to the project directory")
    args = parser.parse_args(argv)
    try:
        program = assemble(args.dir, args.parts)
    except AssemblyError as exc:
        print(f"assemble.py: {exc}", file=sys.stderr)
        return 1
    # Bytes, not text: the output must not depend on the locale's encoding.
    sys.stdout.buffer.write(program.text.encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
