"""Pulumi YAML expressions: builtin names, `${...}` interpolation and references.

These follow the pulumi-yaml sources: `$$` is a literal `$`; a reference is a
root name followed by `.name`, `[0]` or `["key"]` parts; a builtin is a
one-key `fn::...` object."""

from __future__ import annotations

import typing

BUILTINS = {
    name.lower(): name
    for name in (
        "fn::invoke fn::join fn::toJSON fn::toBase64 fn::fromBase64 fn::select fn::split "
        "fn::stackReference fn::assetArchive fn::secret fn::unsecret fn::readFile "
        "fn::filebase64 fn::filebase64sha256 fn::sha1 fn::length fn::singleOrNone "
        "fn::pulumiResourceName fn::pulumiResourceType fn::stringAsset fn::fileAsset "
        "fn::remoteAsset fn::fileArchive fn::remoteArchive"
    ).split()
}
ASSET_BUILTINS = {"fn::stringAsset", "fn::fileAsset", "fn::remoteAsset"}
ARCHIVE_BUILTINS = {"fn::fileArchive", "fn::remoteArchive", "fn::assetArchive"}
STRING_RESULT_BUILTINS = {
    "fn::join",
    "fn::toJSON",
    "fn::toBase64",
    "fn::fromBase64",
    "fn::readFile",
    "fn::filebase64",
    "fn::filebase64sha256",
    "fn::sha1",
    "fn::pulumiResourceName",
    "fn::pulumiResourceType",
}
PULUMI_BUILTIN_VARS = {"cwd", "organization", "project", "rootDirectory", "stack"}


class InterpolationError(ValueError):
    pass


def parse_interpolations(text: str) -> list[list]:
    """Return the property-access paths of every ${...} in text.

    Mirrors Pulumi YAML: `$$` is a literal `$`; an access is a root name followed
    by `.name`, `[0]` or `["key"]` parts."""
    refs: list[list] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
        elif text.startswith("${", i):
            i += 2
            path: list = []
            while True:
                if i >= len(text):
                    raise InterpolationError(f"unterminated interpolation in {text!r}")
                ch = text[i]
                if ch == "}":
                    i += 1
                    break
                if ch == ".":
                    i += 1
                elif ch == "[":
                    if text.startswith('["', i):
                        j = i + 2
                        key = []
                        while j < len(text) and text[j] != '"':
                            if text.startswith('\\"', j):
                                key.append('"')
                                j += 2
                            else:
                                key.append(text[j])
                                j += 1
                        if not text.startswith('"]', j):
                            raise InterpolationError(f"bad string subscript in {text!r}")
                        path.append("".join(key))
                        i = j + 2
                    else:
                        end = text.find("]", i)
                        if end < 0:
                            raise InterpolationError(f"missing ] in {text!r}")
                        try:
                            index = int(text[i + 1 : end])
                        except ValueError as exc:
                            raise InterpolationError(f"invalid list index in {text!r}") from exc
                        if not path:
                            raise InterpolationError(f"index without a root name in {text!r}")
                        path.append(index)
                        i = end + 1
                else:
                    j = i
                    while j < len(text) and text[j] not in ".[}":
                        j += 1
                    path.append(text[i:j])
                    i = j
            if not path or path[0] == "":
                raise InterpolationError(f"empty interpolation in {text!r}")
            refs.append(path)
        else:
            i += 1
    return refs


def whole_reference(value: typing.Any) -> list | None:
    """The access path if value is exactly one `${...}` and nothing else."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        try:
            refs = parse_interpolations(value)
        except InterpolationError:
            return None
        if len(refs) == 1 and value.count("${") == 1:
            return refs[0]
    return None


def builtin_of(value: typing.Any) -> tuple[str, typing.Any] | None:
    """(key, argument) if value is a one-key `fn::...` object."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if isinstance(key, str) and key.lower().startswith("fn::"):
            return key, arg
    return None


def fmt_path(path: list) -> str:
    out = str(path[0])
    for part in path[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
