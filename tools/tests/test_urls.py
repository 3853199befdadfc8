from libris_tools import urls


def test_swapping_the_database_keeps_sslmode_and_the_rest_of_the_url():
    url = "postgres://app:secret@db.example:6543/postgres?sslmode=require&application_name=x"
    assert urls.with_database(url, "libris_st_1") == (
        "postgres://app:secret@db.example:6543/libris_st_1?sslmode=require&application_name=x"
    )


def test_swapping_the_database_of_a_url_without_a_path_adds_one():
    assert urls.with_database("postgres://postgres@127.0.0.1:5432", "x") == "postgres://postgres@127.0.0.1:5432/x"


def test_a_query_is_appended_to_an_existing_one():
    assert urls.with_query("postgres://h/db", "sslmode=disable") == "postgres://h/db?sslmode=disable"
    assert urls.with_query("postgres://h/db?a=1", "sslmode=disable") == "postgres://h/db?a=1&sslmode=disable"


def test_admin_url_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("TEST_POSTGRES_URL", raising=False)
    assert urls.admin_url() == urls.DEFAULT_SERVER
    monkeypatch.setenv("TEST_POSTGRES_URL", "postgres://libris_proxy@127.0.0.1:6470/postgres")
    assert urls.admin_url().endswith(":6470/postgres")
