"""What the app says about itself (stackcheck/app_contract.py)."""

from __future__ import annotations

import json

from stackcheck.app_contract import LAMBDA_RESERVED, Operation, load, parse_operations, parse_settings


def test_operations_are_public_when_their_security_allows_no_credentials():
    spec = {
        "paths": {
            "/books": {"get": {}, "post": {"security": [{"bearerAuth": []}]}},
            "/reviews/{id}": {"get": {"security": [{}, {"bearerAuth": []}]}, "parameters": []},
        }
    }
    assert parse_operations(spec) == (
        Operation("GET", "/books", True),
        Operation("POST", "/books", False),
        Operation("GET", "/reviews/{id}", True),
    )
    # A top-level requirement applies to operations that do not set their own.
    assert parse_operations({**spec, "security": [{"bearerAuth": []}]})[0] == Operation("GET", "/books", False)


def test_a_mode_needs_every_login_s_settings_except_what_lambda_sets():
    modes = parse_settings(
        {
            "modes": {
                "api": {
                    "LIBRIS_LAMBDA_MODE": None,
                    "required": {"password": ["DB_HOST", "DB_SECRET_ARN"], "iam": ["DB_HOST", "DB_USER", "AWS_REGION"]},
                }
            }
        }
    )
    assert "AWS_REGION" in LAMBDA_RESERVED
    assert modes["api"].needs() == {"DB_HOST", "DB_SECRET_ARN", "DB_USER"}


def test_the_repository_files_load(tmp_path):
    contract = load()
    assert contract.problems == ()
    assert contract.mode_of(None)[0] == "api"
    assert contract.mode_of("migrate")[0] == "migrate"
    assert contract.mode_of("batch") is None
    assert any(op.public for op in contract.operations) and any(not op.public for op in contract.operations)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "required-settings.json").write_text(json.dumps({"modes": {}}))
    broken = load(tmp_path)
    assert broken.problems and broken.problems[0].startswith("openapi/openapi.json: ")
