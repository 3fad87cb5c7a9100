import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from storage import Store
from tests.cli_runner import newscrawl
from tests.servers import REQUIRED, PostgresServer, RedisServer, ServerUnavailable

# Tests run against the project settings, whatever the working directory.
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")


def _server(server_class):
    """Start a server for the session: a missing one skips its tests, or fails them in CI."""
    try:
        return server_class().start()
    except (ServerUnavailable, ImportError) as exc:
        if REQUIRED:
            pytest.fail(f"{server_class.__name__}: {exc}")
        pytest.skip(f"{server_class.__name__}: {exc}")


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own; postgres.new_database() is the URL of an empty database."""
    server = _server(PostgresServer)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    server = _server(RedisServer)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The URL of a new, empty store: a SQLite file, and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'articles.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty store of the current schema, on SQLite and on PostgreSQL: a copy of one migrated
    once a session, which saves each test the migrations (test_migrations.py tests those)."""
    if request.param == "sqlite":
        path = tmp_path / "articles.db"
        copy_sqlite(request.getfixturevalue("migrated_sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres").new_database(template=request.getfixturevalue("migrated_postgres"))
    store = Store(url)
    yield store
    store.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """The path of an empty SQLite store of the current schema."""
    path = tmp_path_factory.mktemp("migrated") / "articles.db"
    Store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres) -> str:
    """The name of an empty PostgreSQL database of the current schema, nobody connected to it."""
    url = postgres.new_database()
    Store(url).close()
    return url.rsplit("/", 1)[1]


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's backup: a consistent copy, whatever its writers left in the WAL."""
    with closing(sqlite3.connect(source)) as reader, closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)


@pytest.fixture(scope="session")
def jfmi_store(tmp_path_factory):
    """A replayed crawl of jfmi, made once: jfmi_store() is the URL of a fresh copy to read or change."""
    crawled = tmp_path_factory.mktemp("jfmi") / "articles.db"
    result = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{crawled}")
    assert result.returncode == 0, result.stderr

    def fresh_copy() -> str:
        copy = tmp_path_factory.mktemp("jfmi-copy") / "articles.db"
        copy_sqlite(crawled, copy)
        return f"sqlite:///{copy}"

    return fresh_copy
