import pytest

from libris_tools.log import Failure
from libris_tools.pinning import check, logparse

DEBIAN_PREFIX = "%m [%p] %q%u@%d "
LOG = (
    b"2026-11-26 22:02:25.854 UTC [4103] libris_proxy@postgres LOG:  statement: select 1\n"
    b"2026-11-26 22:02:25.900 UTC [4104] libris_proxy@lib LOG:  execute sqlx_s_1: SELECT id\n"
    b"\t  FROM books\n"
    b"2026-11-26 22:02:25.901 UTC [4104] libris_proxy@lib DETAIL:  parameters: $1 = '5'\n"
    b"2026-11-26 22:02:25.950 UTC [4105] postgres@postgres LOG:  statement: SET work_mem = '1GB'\n"
    b"2026-11-26 22:02:26.000 UTC [4106] libris_proxy@lib ERROR:  syntax error\n"
    b"2026-11-26 22:02:26.001 UTC [4106] libris_proxy@lib STATEMENT:  SET x\n"
    b"2026-11-26 22:02:26.100 UTC [99] LOG:  checkpoint starting: time\n"
)


def test_the_prefix_regex_reads_user_database_and_level():
    m = logparse.prefix_regex(DEBIAN_PREFIX).match(
        "2026-11-26 22:02:25.854 UTC [4103] libris_proxy@postgres LOG:  statement: select 1")
    assert (m.group("user"), m.group("db"), m.group("level"), m.group("msg")) == (
        "libris_proxy", "postgres", "LOG", "statement: select 1")


def test_a_prefix_without_the_user_cannot_be_checked():
    with pytest.raises(Failure, match="has no %u"):
        logparse.prefix_regex("%m [%p] ")


def test_the_q_escape_makes_the_session_part_optional():
    rx = logparse.prefix_regex(DEBIAN_PREFIX)
    m = rx.match("2026-11-26 22:02:26.100 UTC [99] LOG:  checkpoint starting: time")
    assert m and m.group("user") is None


def test_continuation_lines_belong_to_the_entry_above():
    entries = logparse.entries(LOG, logparse.prefix_regex(DEBIAN_PREFIX))
    assert entries[1].message() == "execute sqlx_s_1: SELECT id\n  FROM books"
    assert len(entries[1].lines) == 2


def test_only_the_roles_statement_and_execute_lines_count():
    entries = logparse.entries(LOG, logparse.prefix_regex(DEBIAN_PREFIX))
    found = [(sql, name) for _, sql, name in logparse.statements(entries, "libris_proxy")]
    assert found == [("select 1", None), ("SELECT id\n  FROM books", "sqlx_s_1")]
    only_lib = [sql for _, sql, _ in logparse.statements(entries, "libris_proxy", "lib")]
    assert only_lib == ["SELECT id\n  FROM books"]


def test_the_report_flags_pinning_and_ignores_pgbouncers_own_statements():
    data = LOG + (
        b"2026-11-26 22:02:27.000 UTC [4107] libris_proxy@lib LOG:  statement: SET application_name='psql';\n"
        b"2026-11-26 22:02:27.100 UTC [4107] libris_proxy@lib LOG:  statement: select 1 /* pgbouncer server_check_query */\n"
        b"2026-11-26 22:02:27.200 UTC [4107] libris_proxy@lib LOG:  execute <unnamed>: SET LOCAL lock_timeout = 1\n"
    )
    status, lines = check.report(data, DEBIAN_PREFIX, "libris_proxy")
    assert status == 1
    assert lines[0].startswith("pinning-check: PINNING [SET LOCAL]: ")
    assert lines[-1] == ("pinning-check: 3 statements from libris_proxy, 1 pinning "
                         "(ignored: 1 PgBouncer parameter syncs, 1 PgBouncer health checks)")


def test_a_clean_log_passes_and_an_empty_one_fails():
    assert check.report(LOG, DEBIAN_PREFIX, "libris_proxy")[0] == 0
    status, lines = check.report(b"", DEBIAN_PREFIX, "libris_proxy", "lib")
    assert status == 1 and "no statement from libris_proxy in database lib" in lines[-1]


def test_a_marker_is_parsed_or_refused():
    assert check.parse_marker("pglog:12:345:/var/log/pg.log") == (12, 345, "/var/log/pg.log")
    with pytest.raises(Failure) as refused:
        check.parse_marker("12:345")
    assert refused.value.code == 2


def test_the_log_is_read_from_the_marker_and_across_a_copytruncate_rotation(tmp_path):
    log = tmp_path / "pg.log"
    log.write_bytes(b"old\nnew\n")
    inode = log.stat().st_ino
    assert check.since_marker(inode, 4, str(log), str(log)) == b"new\n"
    (tmp_path / "pg.log.1").write_bytes(b"old\nnew\n")
    log.write_bytes(b"a\n")  # truncated by logrotate, shorter than the marker's offset
    assert check.since_marker(inode, 4, str(log), str(log)) == b"new\na\n"
