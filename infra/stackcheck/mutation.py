"""Seeded mistakes: how each rule family proves it can fail.

A Mutation edits an in-memory copy of the real stack (the project document
and the stack files) so that exactly one rule should fire; `--self-test`
applies each to a fresh copy and fails unless a problem with `code` is
reported. Rule modules list theirs in `MUTATIONS`, next to the rules; the
helpers below reach into the places of the program they edit."""

from __future__ import annotations

import typing
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutation:
    title: str
    code: str  # the problem code the mutated stack must be reported with
    apply: typing.Callable[[dict, dict[str, dict]], None]  # (project, stack files), edited in place


def props(doc: dict, name: str) -> dict:
    """The properties of resource `name`."""
    return doc["resources"][name]["properties"]


def env(doc: dict, function: str = "apiFunction") -> dict:
    """The environment variables of a Lambda function."""
    return props(doc, function)["environment"]["variables"]


def statement(doc: dict, resource: str, sid: str) -> dict:
    """The policy statement `sid` of a resource written with fn::toJSON."""
    for st in props(doc, resource)["policy"]["fn::toJSON"]["Statement"]:
        if st.get("Sid") == sid:
            return st
    raise KeyError(sid)


def rename(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def example_stack(stacks: dict[str, dict]) -> dict:
    """The config of Pulumi.example.yaml."""
    return stacks["Pulumi.example.yaml"]["config"]
