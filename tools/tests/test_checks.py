import json

import pytest

from libris_tools import suite
from libris_tools.checks import clients, migrate_cli, rust_client, schemathesis
from libris_tools.checks.st_summary import summarize


def test_applied_migrations_are_counted_from_sea_orm_cli_status():
    status = ("Checking migration status\nMigration 'm20261126_000001_create_library'... Applied\n"
              "Migration 'm20261127_000001_reviews'... Pending\nMigration 'm20261128_000001_x'... Applied\n")
    assert migrate_cli.count_applied(status) == 2
    assert migrate_cli.count_applied("") == 0


def test_the_migration_files_are_found():
    assert migrate_cli.migration_count() >= 1


def test_any_generator_output_on_stderr_or_a_warning_mark_fails_the_client_generation():
    assert not clients.generator_warned("✨ openapi-typescript 7\n", "")
    assert clients.generator_warned("⚠ unused component\n", "")
    assert clients.generator_warned("", "deprecated option\n")


def test_a_warning_line_in_the_rust_clients_build_fails_it():
    assert rust_client.warned("   Compiling libris-client\nwarning: unused import\n")
    assert not rust_client.warned("   Compiling libris-client\n    Finished `dev` profile\n")


NO_FINDINGS = {"distinct": 0, "errors": 0, "by_code": "", "cases": 10, "tests": 3, "failed": 0}


def test_a_clean_schemathesis_run_has_no_problems(tmp_path):
    assert schemathesis.problems_of(NO_FINDINGS, {"all": 0, "negative": 0}, True, False, 600, tmp_path) == []


def test_a_time_out_a_dead_server_and_a_stale_spec_each_fail_the_run(tmp_path):
    problems = schemathesis.problems_of(NO_FINDINGS, {"all": 0, "negative": 124}, False, True, 600, tmp_path)
    assert problems == [f"the server died during the run (see {tmp_path}/server.log)",
                        "openapi/openapi.json is stale", "the run hit its 600 s bound and was interrupted"]


def test_a_failing_status_without_findings_still_fails_and_a_crash_is_named(tmp_path):
    problems = schemathesis.problems_of(NO_FINDINGS, {"all": 1, "negative": 2}, True, False, 600, tmp_path)
    assert problems[0].startswith("Schemathesis reported failures in pass 'all'")
    assert problems[1].startswith("Schemathesis exited with status 2 in pass 'negative'")


def test_the_summary_keeps_one_row_per_distinct_failure_with_a_curl_and_the_servers_cause(tmp_path):
    request = {"method": "POST", "uri": "http://127.0.0.1:1/books", "headers": {"content-type": ["application/json"]},
               "body": {"string": "{}"}}
    response = {"status_code": 500, "headers": {"x-request-id": ["r1"], "content-type": ["application/json"]},
                "content": {"string": "oops"}}
    check = {"name": "not_a_server_error", "status": "failure",
             "failure_info": {"failure": {"title": "Server error", "message": "Received 500", "code": "server_error"}}}
    scenario = {"ScenarioFinished": {"phase": "fuzzing", "recorder": {
        "cases": {"c1": {"value": {"method": "POST", "path": "/books"}}, "c2": {"value": {"method": "POST", "path": "/books"}}},
        "checks": {"c1": [check], "c2": [check]},
        "interactions": {"c1": {"request": request, "response": response}, "c2": {"request": request, "response": response}}}}}
    (tmp_path / "events-all.ndjson").write_text(json.dumps(scenario) + "\n")
    (tmp_path / "server.log").write_text("2026 ERROR request{request_id=r1}: database is gone\n")
    summary = summarize(tmp_path, tmp_path / "failures.txt")
    assert (summary["distinct"], summary["cases"], summary["log_errors"]) == (1, 2, 1)
    report = (tmp_path / "failures.txt").read_text()
    assert "POST /books: not_a_server_error" in report and "seen 2x" in report
    assert "reproduce: curl -i -X POST -H 'content-type: application/json' --data-binary '{}'" in report
    assert "server log: database is gone" in report


def test_the_suite_times_each_step_and_marks_the_one_that_failed():
    steps = suite.Steps()
    steps.run("first", lambda: None)
    with pytest.raises(RuntimeError):
        steps.run("second", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    table = steps.table().splitlines()
    assert table[0].split() == ["step", "seconds", "result"]
    assert table[1].split()[::2] == ["first", "ok"]
    assert table[2].split()[::2] == ["second", "FAILED"]
    assert table[3].startswith("total")
