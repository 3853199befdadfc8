import pytest

from libris_tools import paths, pgbouncer, pgbouncer_build
from libris_tools.log import Failure


def test_the_port_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv("PGBOUNCER_PORT", "6470")
    assert pgbouncer.port() == 6470
    monkeypatch.setenv("PGBOUNCER_PORT", "5432")
    with pytest.raises(Failure, match="PostgreSQL's own port"):
        pgbouncer.port()
    monkeypatch.setenv("PGBOUNCER_PORT", "x")
    with pytest.raises(Failure, match="must be a port number"):
        pgbouncer.port()


def test_the_config_pools_transactions_and_drops_to_a_run_user_only_as_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LIBRIS_RUN", str(tmp_path))
    files = pgbouncer.files(6470)
    config = pgbouncer.render_config(6470, files, as_root=False)
    assert "pool_mode = transaction" in config
    assert "listen_port = 6470" in config
    assert f"pidfile = {tmp_path}/pgbouncer/pgbouncer-6470.pid" in config
    assert "max_prepared_statements = 200" in config
    assert "\nuser = " not in config
    monkeypatch.setenv("PGBOUNCER_RUN_USER", "pgb")
    monkeypatch.setattr(pgbouncer.os, "getuid", lambda: 0)
    assert "\nuser = pgb\n" in pgbouncer.render_config(6470, files, as_root=True)


def test_the_health_check_is_the_one_the_pinning_check_ignores():
    from libris_tools.pinning import sqlscan

    config = pgbouncer.render_config(6432, pgbouncer.files(6432), as_root=False)
    assert f"server_check_query = {sqlscan.HEALTH_CHECK}\n" in config


def test_versions_are_read_from_pgbouncers_banner_and_compared():
    assert pgbouncer_build.parse_version("PgBouncer 1.24.1\nlibevent 2.1.12") == (1, 24, 1)
    assert pgbouncer_build.parse_version("nothing") is None
    assert pgbouncer_build.good_enough((1, 21))
    assert not pgbouncer_build.good_enough((1, 18, 0))
    assert not pgbouncer_build.good_enough(None)


def test_the_self_test_role_may_connect_too_so_its_sql_stays_apart_from_the_proxy_roles():
    users = pgbouncer.render_users()
    assert f'"{pgbouncer.PROXY_ROLE}" ""' in users and f'"{pgbouncer.SELFTEST_ROLE}" ""' in users
    assert pgbouncer.SELFTEST_ROLE != pgbouncer.PROXY_ROLE
    assert pgbouncer.SELFTEST_ROLE in pgbouncer.PROXY_ROLE_SQL


def test_the_api_tests_application_role_gets_through_and_the_proxy_role_may_set_it_up():
    assert f'"{pgbouncer.TEST_APP_ROLE}" ""' in pgbouncer.render_users()
    assert f"ALTER ROLE {pgbouncer.PROXY_ROLE} LOGIN CREATEDB CREATEROLE;" in pgbouncer.PROXY_ROLE_SQL
    assert f"GRANT pg_signal_backend TO {pgbouncer.PROXY_ROLE};" in pgbouncer.PROXY_ROLE_SQL, "it drops their databases"
    testkit = (paths.ROOT / "migration" / "src" / "testkit.rs").read_text()
    assert f'pub const APP_ROLE: &str = "{pgbouncer.TEST_APP_ROLE}";' in testkit, "the test kit's role"
