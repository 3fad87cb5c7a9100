"""`newscrawl db copy`: a whole store from SQLite to PostgreSQL and back, resumed after an interruption,
checked table by table."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from storage import copy as store_copy
from storage import Store
from storage.models import Base
from tests.cli_runner import newscrawl
from tests.test_cli import assert_one_line_error

TABLES = [table.name for table in Base.metadata.sorted_tables]


@pytest.fixture
def source(jfmi_store):
    """A replayed jfmi crawl whose first article is made a copy of its last one: a row that
    refers to a later row."""
    url = jfmi_store()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET duplicate_of = (SELECT MAX(id) FROM articles) "
                                "WHERE id = (SELECT MIN(id) FROM articles)"))
    engine.dispose()
    return url


def table_rows(url: str) -> dict[str, int]:
    store = Store(url, create=False)
    try:
        with store.engine.connect() as connection:
            return {name: connection.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar() for name in TABLES}
    finally:
        store.close()


def test_a_store_goes_to_postgresql_and_back_with_everything(source, postgres, tmp_path):
    target = postgres.new_database()
    result = newscrawl("db", "copy", "--db", source, "--to", target)
    assert result.returncode == 0, result.stderr
    assert f"copied {source} to {target}" in result.stdout
    assert "NO" not in result.stdout.split()
    assert table_rows(target) == table_rows(source)
    assert all(table_rows(source)[name] > 0 for name in ("articles", "crawl_runs", "article_fetches"))

    back = f"sqlite:///{tmp_path / 'back.db'}"
    result = newscrawl("db", "copy", "--db", back, "--from", target)
    assert result.returncode == 0, result.stderr
    exported = [newscrawl("export", "--format", "jsonl", "--db", url).stdout for url in (source, target, back)]
    assert exported[0] == exported[1] == exported[2] and exported[0].count("\n") == table_rows(source)["articles"]
    # the copy is a working store: its search index and id sequence follow
    searched = [newscrawl("search", "party", "--json", "--db", url).stdout for url in (source, back)]
    assert searched[0] == searched[1] and '"rank": 1' in searched[0]
    on_postgresql = json.loads(newscrawl("search", "party", "--json", "--db", target).stdout)
    assert on_postgresql and "[party]" in on_postgresql[0]["snippet"].lower() + on_postgresql[0]["title"].lower()
    store = Store(target)
    try:
        new_run = store.start_run("jfmi")
        assert new_run > max(run.id for run in store.recent_runs()[1:])
    finally:
        store.close()


def test_an_interrupted_copy_goes_on_where_it_stopped(source, postgres, monkeypatch):
    target = postgres.new_database()
    monkeypatch.setattr(store_copy, "BATCH", 3)
    seen = []

    def interrupt(table, rows):
        seen.append((table, rows))
        if table == "articles" and rows >= 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store_copy.copy_store(source, target, interrupt)
    assert table_rows(target)["articles"] == 6
    checks = store_copy.copy_store(source, target)
    assert all(check.equal for check in checks), checks
    assert table_rows(target) == table_rows(source)


def test_a_copy_into_another_store_is_refused(source, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert newscrawl("crawl", "rocar", "--replay", "--db", other).returncode == 0
    before = table_rows(other)
    assert_one_line_error(newscrawl("db", "copy", "--db", source, "--to", other), "holds other")
    assert table_rows(other) == before


@pytest.mark.parametrize("arguments, message", [
    (["--to", "sqlite:///x.db", "--from", "sqlite:///y.db"], "not allowed with"),
    ([], "one of the arguments --to --from is required"),
])
def test_db_copy_needs_one_direction(arguments, message):
    result = newscrawl("db", "copy", *arguments)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
