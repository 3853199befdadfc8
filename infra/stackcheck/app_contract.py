"""What the Rust app says about itself, read from the files it keeps in the repository.

The stack must agree with the app on two things the checker cannot guess:
which settings the functions cannot start without, and which operations
anyone may call. Neither is copied here. The settings come from
`infra/required-settings.json`, which a test in `lambda/` derives from the
Lambda's configuration and keeps up to date; the operations and their
security come from the checked-in spec `openapi/openapi.json`, which a test
in `openapi/` keeps equal to what the app serves."""

from __future__ import annotations

import functools
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SETTINGS_FILE = "infra/required-settings.json"
SPEC_FILE = "openapi/openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Set by Lambda in every function; AWS refuses a function configuration that
# sets any of them (Lambda developer guide, "Defined runtime environment variables").
LAMBDA_RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


@dataclass(frozen=True)
class Mode:
    """One way the binary runs: the LIBRIS_LAMBDA_MODE value that selects it and what it needs per login."""

    switch: str | None
    required: dict[str, frozenset[str]]  # login ("password", "iam") -> variables

    def needs(self) -> frozenset[str]:
        """What a function in this mode must set whichever login the stack's config picks, minus what Lambda sets."""
        every = frozenset().union(*self.required.values()) if self.required else frozenset()
        return every - LAMBDA_RESERVED


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # /books/{id}
    public: bool  # callable without a token


@dataclass(frozen=True)
class AppContract:
    modes: dict[str, Mode] = field(default_factory=dict)
    operations: tuple[Operation, ...] = ()
    problems: tuple[str, ...] = ()  # files that could not be read

    def mode_of(self, switch: typing.Any) -> tuple[str, Mode] | None:
        """The mode a LIBRIS_LAMBDA_MODE value (None: unset) selects, if the binary has it."""
        if switch in (None, "api"):
            name = "api"
        else:
            name = next((n for n, m in self.modes.items() if m.switch == switch), None)
        return (name, self.modes[name]) if name in self.modes else None


def parse_settings(document: typing.Any) -> dict[str, Mode]:
    modes = {}
    for name, entry in (document.get("modes") or {}).items():
        required = {login: frozenset(names) for login, names in (entry.get("required") or {}).items()}
        modes[name] = Mode(switch=entry.get("LIBRIS_LAMBDA_MODE"), required=required)
    return modes


def parse_operations(spec: typing.Any) -> tuple[Operation, ...]:
    """Every operation of an OpenAPI document; public when its effective security allows no credentials."""
    default = spec.get("security")
    out = []
    for path, item in (spec.get("paths") or {}).items():
        for method in METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if not isinstance(op, dict):
                continue
            security = op.get("security", default)
            public = not security or any(requirement == {} for requirement in security)
            out.append(Operation(method.upper(), path, public))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def load(repo: Path = REPO) -> AppContract:
    problems = []
    modes: dict[str, Mode] = {}
    operations: tuple[Operation, ...] = ()
    try:
        modes = parse_settings(json.loads((repo / SETTINGS_FILE).read_text()))
    except (OSError, ValueError, AttributeError) as exc:
        problems.append(f"{SETTINGS_FILE}: {exc}")
    try:
        operations = parse_operations(json.loads((repo / SPEC_FILE).read_text()))
    except (OSError, ValueError, AttributeError) as exc:
        problems.append(f"{SPEC_FILE}: {exc}")
    return AppContract(modes, operations, tuple(problems))
