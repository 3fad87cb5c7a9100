import os
import sqlite3
from contextlib import closing

import pytest

from storage import Store
from tests.cli_runner import newscrawl

# Tests run against the project settings, whatever the working directory.
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")


@pytest.fixture
def store(tmp_path):
    """An empty store of the current schema."""
    store = Store(f"sqlite:///{tmp_path / 'articles.db'}")
    yield store
    store.close()


@pytest.fixture(scope="session")
def jfmi_store(tmp_path_factory):
    """A replayed crawl of jfmi, made once: jfmi_store() is the URL of a fresh copy to read or change."""
    crawled = tmp_path_factory.mktemp("jfmi") / "articles.db"
    result = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{crawled}")
    assert result.returncode == 0, result.stderr

    def fresh_copy() -> str:
        copy = tmp_path_factory.mktemp("jfmi-copy") / "articles.db"
        # SQLite's backup: a consistent copy, whatever the crawl left in the WAL
        with closing(sqlite3.connect(crawled)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        return f"sqlite:///{copy}"

    return fresh_copy
