"""Database URLs: one way to point a URL at another database without losing its query string."""

import os
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def admin_url():
    """The PostgreSQL server the checks create their databases on (TEST_POSTGRES_URL, else the local one)."""
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_SERVER


def with_database(url, name):
    """`url` with its database name replaced by `name`; user, host, port and `?sslmode=…` are kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def with_query(url, query):
    """`url` with `query` (`sslmode=require`) added to whatever query string it has."""
    parts = urlsplit(url)
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit(parts._replace(query=joined))
