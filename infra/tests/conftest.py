"""Fixtures: the provider schema, read once from the installed pulumi-aws, and the real stack."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from stackcheck.checker import load_stack
from stackcheck.schema import Schema

INFRA = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def schema() -> Schema:
    return Schema()


@pytest.fixture(scope="session")
def pristine_stack() -> tuple[dict, dict[str, dict]]:
    return load_stack(INFRA)


@pytest.fixture
def real_stack(pristine_stack) -> tuple[dict, dict[str, dict]]:
    """A copy of (Pulumi.yaml, stack files) the test may edit."""
    return copy.deepcopy(pristine_stack)
