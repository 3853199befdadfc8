"""The storm's pure parts (figures, parsing, framing, the mix, the table) and its front door, driven by a
stand-in function that speaks the Runtime API."""

import asyncio
import json
import sys
import textwrap
import time
from collections import Counter

import pytest

from libris_tools.net import free_port
from libris_tools.storm import budget, http, load, report, sample, stats
from libris_tools.storm.frontdoor import FrontDoor
from libris_tools.storm.stats import Outcome, Sample


def test_percentiles_are_nearest_rank():
    assert stats.percentile([], 50) is None
    assert stats.percentile([5, 1, 3, 2, 4], 50) == 3
    assert stats.percentile(list(range(1, 101)), 99) == 99
    assert stats.percentile([7], 99) == 7


def test_only_503_is_an_acceptable_5xx():
    assert not stats.bad(503) and stats.failed(503)
    assert stats.bad(500) and stats.bad(502) and stats.bad(0)
    assert not stats.failed(409) and not stats.bad(201)


def test_each_second_counts_what_finished_in_it_and_keeps_its_last_sample():
    outcomes = [Outcome(0.2, 0.010, 200, "get_book"), Outcome(0.9, 0.030, 503, "check_out"),
                Outcome(1.5, 0.020, 201, "check_out"), Outcome(7.0, 1.0, 200, "get_book")]
    samples = [Sample(at=0.1, instances=1), Sample(at=0.8, instances=2), Sample(at=1.2, instances=3)]
    rows = stats.per_second(outcomes, samples, 3)
    assert [r.done for r in rows] == [2, 1, 0]
    assert [r.failed for r in rows] == [1, 0, 0]
    assert rows[0].statuses == Counter({200: 1, 503: 1})
    assert rows[0].p99 == pytest.approx(30.0) and rows[0].p50 == pytest.approx(10.0)
    assert rows[0].sample.instances == 2 and rows[1].sample.instances == 3 and rows[2].sample is None


def test_a_window_summary_takes_peaks_and_counts_cold_starts_inside_it():
    outcomes = [Outcome(t / 10, 0.005, 500 if t == 25 else 200, "list_books") for t in range(40)]
    samples = [Sample(at=s, instances=10 * s, cold_starts=10 * s, servers=40 - s, clients=s) for s in range(4)]
    summary = stats.summarize(outcomes, samples, 1, 3)
    assert summary.requests == 20 and summary.bad == 1 and summary.failed == 1
    assert summary.per_second == 10
    assert summary.max_instances == 20
    assert summary.cold_starts == 20  # 30 at the window's end minus 10 before it
    assert (summary.first_servers, summary.last_servers, summary.max_servers) == (39, 38, 39)


SHOW_POOLS = textwrap.dedent("""\
    database|user|cl_active|cl_waiting|cl_active_cancel_req|cl_waiting_cancel_req|sv_active|sv_active_cancel|sv_being_canceled|sv_idle|sv_used|sv_tested|sv_login|maxwait|maxwait_us|pool_mode|load_balance_hosts
    pgbouncer|pgbouncer|1|0|0|0|0|0|0|0|0|0|0|0|0|statement|
    storm|storm_app|250|48|0|0|32|0|0|0|0|0|0|3|120|transaction|
    """)


def test_show_pools_gives_clients_waiting_and_servers_of_the_storm_database():
    assert sample.parse_show_pools(SHOW_POOLS) == (298, 48, 32, 3)
    assert sample.parse_show_pools("") == (0, 0, 0, 0)


def test_the_budget_leaves_superusers_their_slots_and_the_proxy_its_share():
    assert budget.cluster_settings()["max_connections"] == 43
    assert budget.proxy_cap() == 32
    files = {k: f"/tmp/x.{k}" for k in ("pid", "log", "users")}
    session = budget.bouncer_ini(21633, 21432, "session", 32, 10, files)
    assert "pool_mode = session" in session and "max_db_connections = 32" in session
    assert "query_wait_timeout = 10" in session and "port=21432" in session


def read(data):
    async def go():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return [await http.read_request(reader), await http.read_request(reader)]
    return asyncio.run(go())


def test_requests_with_a_length_or_chunks_are_read_and_a_clean_close_is_none():
    sized, end = read(b"POST /a HTTP/1.1\r\nContent-Length: 3\r\nX-Y: z\r\n\r\nabc")
    assert sized == ("POST", "/a", {"content-length": "3", "x-y": "z"}, b"abc") and end is None
    chunked, _ = read(b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert chunked[3] == b"abcde"
    with pytest.raises(http.BadRequest):
        read(b"GET /half HTTP/1.1\r\nHost")
    assert http.reply(202, b"ok").startswith(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n")


def test_a_user_keeps_its_loans_bounded_and_the_ledger_holds_what_was_acknowledged():
    user, ledger = load.User(3, 10, 100, 50), load.Ledger()
    assert all(book % 10 == 4 for book in user.books) and user.borrower == 4
    loan_id = 1000
    for _ in range(200):
        request = user.next_request()
        assert request.op != "check_out" or len(user.open) < load.MAX_OPEN
        if request.op == "check_out":
            loan_id += 1
            user.record(request, 201, {"id": loan_id, "book_id": request.body["book_id"]}, ledger)
        elif request.op == "return":
            user.record(request, 200, {"id": request.loan}, ledger)
    assert ledger.checked_out and ledger.returned <= ledger.checked_out
    assert set(user.open) == ledger.checked_out - ledger.returned


def test_a_503_on_a_check_out_leaves_nothing_in_the_ledger():
    user, ledger = load.User(0, 1, 10, 1), load.Ledger()
    request = load.Request("check_out", "POST", "/loans", {}, {"book_id": 1, "borrower_id": 1})
    user.record(request, 503, None, ledger)
    assert not ledger.checked_out and not user.open


def test_events_are_http_api_events_signed_by_the_librarian():
    template = {"headers": {"host": "h"}, "requestContext": {"http": {"path": "/", "method": "GET"}}, "cookies": ["a"]}
    request = load.Request("check_out", "POST", "/loans", {}, {"book_id": 1, "borrower_id": 2})
    e = load.event(template, request, "tok")
    assert e["rawPath"] == "/loans" and e["requestContext"]["http"]["method"] == "POST"
    assert e["headers"]["authorization"] == "Bearer tok" and json.loads(e["body"]) == {"book_id": 1, "borrower_id": 2}
    assert "cookies" not in e and template["cookies"] == ["a"]
    assert load.decode({"body": '{"id": 3}'}) == {"id": 3} and load.decode(None) is None


def test_the_table_counts_503s_apart_from_other_failures():
    assert report.counts({"200": 5, "201": 1, "409": 2, "503": 3, "500": 1, "0": 1}) == (6, 2, 3, 2)
    window = {"requests": 12, "per_second": 1.2, "statuses": {"200": 12}, "p50": 3.0, "p95": 9.0, "p99": 12.5,
              "max_instances": 60, "cold_starts": 60, "max_clients": 60, "max_waiting": 2, "max_servers": 30,
              "last_servers": 0}
    result = {"scenario": {"name": "short", "title": "short form", "via": "transaction"}, "windows": {"all": window},
              "checks": {"acknowledged_checkouts": 4, "acknowledged_returns": 2, "lost_checkouts": 0,
                         "lost_returns": 0, "cap": 32, "crashes": 0}}
    text = report.table([result])
    assert "| short form | all | proxy (transaction) | 12 | 1 | 12 | 0 | 0 | 0 | 3 | 9 | 12 | 60 |" in text
    assert "| short form | 4 | 2 | 0 | 32 | 0 |" in text


# A stand-in function: the Runtime API loop, answering {"statusCode": 200} after the event's "sleep"
# seconds, or exiting when the event says so.
FUNCTION = textwrap.dedent("""\
    import json, os, sys, time, urllib.request
    api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
    while True:
        with urllib.request.urlopen(api + "next") as r:
            request_id, event = r.headers["Lambda-Runtime-Aws-Request-Id"], json.loads(r.read())
        if event.get("exit"):
            sys.exit(3)
        time.sleep(event.get("sleep", 0))
        body = json.dumps({"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}).encode()
        urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST"))
    """)


@pytest.fixture
def function(tmp_path):
    path = tmp_path / "bootstrap"
    path.write_text(f"#!{sys.executable}\n{FUNCTION}")
    path.chmod(0o755)
    return path


def test_the_front_door_cold_starts_up_to_its_limit_reuses_warm_instances_and_stops_idle_ones(function, tmp_path):
    async def go():
        with open(tmp_path / "log", "wb") as log_file:
            door = FrontDoor(function, {"PATH": "/usr/bin:/bin"}, 3, 1.0, [free_port() for _ in range(3)], log_file)
            reaper = asyncio.create_task(door.reap())
            answers = await asyncio.gather(*(door.invoke({"sleep": 0.5}) for _ in range(5)))
            assert [status for status, _ in answers] == [200] * 5
            assert door.cold_starts == 3, "five at once on a limit of three: three cold starts, two queued"
            pids = {json.loads(answer["body"])["pid"] for _, answer in answers}
            assert len(pids) == 3
            for _ in range(3):
                assert (await door.invoke({}))[0] == 200
            assert door.cold_starts == 3, "warm instances are reused"
            deadline = time.monotonic() + 10
            while door.gauges()["instances"] and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert door.gauges()["instances"] == 0, "instances idle past idle_stop are stopped"
            assert door.crashes == 0
            assert (await door.invoke({"exit": True}))[0] == 0, "an instance that dies holding a request"
            assert door.crashes == 1
            reaper.cancel()
            await door.close()
    asyncio.run(go())


def test_a_run_fails_on_a_500_a_lost_write_or_a_server_count_above_the_cap():
    from libris_tools.storm.run import failures
    clean = {"scenario": {"name": "short"}, "checks": {"bad_answers": 0, "lost_checkouts": 0, "lost_returns": 0,
                                                        "max_servers": 32, "cap": 32}}
    assert failures(clean) == []
    broken = {**clean, "checks": {"bad_answers": 2, "lost_checkouts": 1, "lost_returns": 0, "max_servers": 33,
                                  "cap": 32}}
    problems = failures(broken)
    assert len(problems) == 3
    assert "2 answers" in problems[0] and "1 check-outs" in problems[1] and "33 server connections" in problems[2]
