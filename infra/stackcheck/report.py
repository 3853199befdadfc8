"""What a check finds: problems with a code, a place and a message.

The code is what `--self-test` matches a seeded mistake against, so a rule
keeps its codes stable; the message is for the person fixing the stack."""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass, field


@dataclass
class Problem:
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.where}: {self.message}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, where: str, message: str) -> None:
        self.problems.append(Problem(code, where, message))

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}


def close_match(word: str, candidates: typing.Iterable[str]) -> str:
    """A " (did you mean 'x'?)" hint for a message, or "" when nothing is close."""
    best = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {best[0]!r}?)" if best else ""
