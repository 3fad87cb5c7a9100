"""Schema migrations: a store from the first revision upgrades with nothing lost; until then
every command refuses it untouched; a store from a newer newscrawl is never written to."""

import json
import zlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, text

from storage import Store, migrations, search_text, tables
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality

UPGRADE_ADVICE = "run `newscrawl db upgrade`"

# Rows as newscrawl 0.1 (schema 0001) wrote them, in SQLite's own text forms.
OLD_ARTICLES = [
    {"id": 1, "url": "https://www.rocar.net/en/menu139/newsDetail/101.html", "site": "rocar",
     "title": "Party committee holds a study session", "published": "2021-06-30", "author": None,
     "source": "ROCAR", "language": "en",
     "text": "The party committee met on Tuesday.\nOver 60 people attended the session.",
     "content_hash": "a" * 64, "raw_html": zlib.compress("<p>The party committee met</p>".encode()),
     "first_seen": "2026-01-02 03:04:05.123456", "last_seen": "2026-02-03 04:05:06.000001"},
    {"id": 2, "url": "http://www.hnjgdj.gov.cn/sxdt/202309/t20230901_1.html", "site": "henan",
     "title": "郑州市直机关举办2023年党务干部培训班", "published": "2023-09-01", "author": "王喆",
     "source": "郑州市直机关工委", "language": "zh",
     "text": "9月1日，郑州市直机关举办党务干部培训班。\n主讲人：王喆。",
     "content_hash": "b" * 64, "raw_html": zlib.compress("<p>郑州市直机关</p>".encode()),
     "first_seen": "2026-01-02 03:04:05.000000", "last_seen": "2026-01-02 03:04:05.000000"},
    {"id": 3, "url": "https://www.rocar.net/en/menu139/newsDetail/102.html", "site": "rocar",
     "title": "An undated notice", "published": None, "author": None, "source": None, "language": None,
     "text": "A notice without a date line.", "content_hash": "c" * 64, "raw_html": zlib.compress(b""),
     "first_seen": "2026-01-05 00:00:00.000000", "last_seen": "2026-01-05 00:00:00.000000"},
]
OLD_RUNS = [
    {"id": 1, "spider": "rocar", "started_at": "2026-01-02 03:00:00.000000",
     "finished_at": "2026-01-02 03:10:00.000000", "status": "finished", "pages": 11, "articles_new": 2,
     "articles_updated": 0, "articles_unchanged": 0, "duplicates": 0, "empty_pages": 1, "errors": 0},
    {"id": 2, "spider": "henan", "started_at": "2026-01-02 03:00:00.000000",
     "finished_at": "2026-01-02 03:01:00.000000", "status": "shutdown", "pages": 3, "articles_new": 1,
     "articles_updated": 0, "articles_unchanged": 0, "duplicates": 0, "empty_pages": 0, "errors": 2},
]


def insert(connection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    connection.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                            f"VALUES ({', '.join(':' + name for name in columns)})"), rows)


def rows(url: str, table: str, columns: list[str]) -> list[dict]:
    engine = create_engine(url)
    with engine.connect() as connection:
        result = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id"))
        found = [dict(row._mapping) for row in result]
    engine.dispose()
    return found


@pytest.fixture
def old_store(tmp_path):
    """A store at the first schema revision, filled the way newscrawl 0.1 filled it."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    migrations.upgrade(engine, "0001")
    with engine.begin() as connection:
        insert(connection, "articles", OLD_ARTICLES)
        insert(connection, "crawl_runs", OLD_RUNS)
    engine.dispose()
    return path


@pytest.mark.parametrize("command", [["stats"], ["stats", "--runs"], ["export"],
                                     ["export", "--format", "csv"], ["crawl", "rocar", "--replay"]])
def test_every_command_refuses_an_old_store_untouched(old_store, command):
    before = old_store.read_bytes()
    result = newscrawl(*command, "--db", f"sqlite:///{old_store}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert UPGRADE_ADVICE in result.stderr and "(0001)" in result.stderr
    assert result.stdout == ""
    assert old_store.read_bytes() == before


def test_db_upgrade_keeps_every_row_and_column(old_store):
    url = f"sqlite:///{old_store}"
    result = newscrawl("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr
    assert f"upgraded {url}" in result.stdout
    assert rows(url, "articles", list(OLD_ARTICLES[0])) == OLD_ARTICLES
    assert rows(url, "crawl_runs", list(OLD_RUNS[0])) == OLD_RUNS
    # the columns revision 0002 added start empty
    assert [row["duplicate_of"] for row in rows(url, "articles", ["id", "duplicate_of"])] == [None] * 3
    assert [row["error"] for row in rows(url, "crawl_runs", ["id", "error"])] == [None] * 2
    assert newscrawl("db", "upgrade", "--db", url).stdout.strip() == f"{url} is up to date"


def test_old_rows_are_searchable_after_the_upgrade(old_store):
    url = f"sqlite:///{old_store}"
    assert newscrawl("db", "upgrade", "--db", url).returncode == 0
    engine = create_engine(url)
    with engine.connect() as connection:
        def matching(query):
            return connection.execute(text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q "
                                           "ORDER BY rowid"), {"q": query}).scalars().all()
        assert matching("committee") == [1]
        assert matching("王喆") == [2]
        assert matching("title:notice") == [3]
        assert matching("notice OR attended") == [1, 3]
    engine.dispose()


def test_commands_read_the_old_rows_after_the_upgrade(old_store):
    url = f"sqlite:///{old_store}"
    assert newscrawl("db", "upgrade", "--db", url).returncode == 0

    stats = json.loads(newscrawl("stats", "--json", "--db", url).stdout)
    sites = {site["site"]: site for site in stats["sites"]}
    assert (sites["rocar"]["articles"], sites["henan"]["articles"]) == (2, 1)
    assert sites["rocar"]["no_body"] == 1
    assert sites["henan"]["failed"] == 1 and sites["henan"]["last_success"] is None
    assert sites["henan"]["last_outcome"] == "shutdown"  # as newscrawl 0.1 recorded an interrupted crawl

    exported = [json.loads(line) for line in newscrawl("export", "--db", url).stdout.splitlines()]
    henan = next(article for article in exported if article["site"] == "henan")
    old_henan = OLD_ARTICLES[1]
    assert [henan[name] for name in ("title", "author", "published", "text")] == [
        old_henan[name] for name in ("title", "author", "published", "text")]
    assert henan["duplicate_of"] is None
    assert len(exported) == 3

    crawl = newscrawl("crawl", "rocar", "--replay", "--db", url)
    assert crawl.returncode == 0, crawl.stderr
    after = rows(url, "articles", list(OLD_ARTICLES[0]))
    assert after[:3] == OLD_ARTICLES and len(after) == 3 + len(quality("rocar")["articles"])


def test_a_store_from_a_newer_newscrawl_is_refused_by_db_upgrade_untouched(old_store):
    engine = create_engine(f"sqlite:///{old_store}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    before = old_store.read_bytes()
    for command in (["db", "upgrade"], ["stats"]):
        result = newscrawl(*command, "--db", f"sqlite:///{old_store}")
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "written by a newer newscrawl (schema 9999)" in result.stderr
        assert old_store.read_bytes() == before


def test_the_tables_match_the_migrations(tmp_path):
    """Changing storage/tables.py without a migration (or the reverse) fails here."""
    engine = create_engine(f"sqlite:///{tmp_path / 'head.db'}")
    migrations.upgrade(engine)
    def not_fts(name, kind, _parent):  # FTS5's virtual table and its shadow tables: raw SQL in 0002
        return not (kind == "table" and name.startswith("articles_fts"))

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": not_fts})
        differences = compare_metadata(context, tables.metadata)
    engine.dispose()
    assert differences == []


def test_the_schema_version_is_read_as_alembic_reads_it(tmp_path):
    """Stores are checked without loading Alembic: the same head and the same current revision."""
    from alembic.script import ScriptDirectory

    assert migrations.head_revision() == ScriptDirectory.from_config(migrations._config()).get_current_head()
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    assert migrations.current_revision(engine) is None
    migrations.upgrade(engine, "0002")
    with engine.connect() as connection:
        assert migrations.current_revision(engine) == MigrationContext.configure(connection).get_current_revision()
    engine.dispose()


def test_0009_adds_the_page_tables_to_a_filled_0008_store_and_downgrades(tmp_path):
    """Upgrading from 0008 keeps every article; the tables of failed and further pages start empty
    and go again with a downgrade, which keeps the articles too."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    event.listen(engine, "connect", search_text.register_sql_function)  # the search index's triggers call it
    migrations.upgrade(engine, "0008")
    with engine.begin() as connection:
        insert(connection, "articles", OLD_ARTICLES)
    result = newscrawl("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr
    assert rows(url, "articles", list(OLD_ARTICLES[0])) == OLD_ARTICLES
    store = Store(url, create=False)
    assert [(article.url, article.more_pages) for article in store.stored_pages("rocar")] == [
        (OLD_ARTICLES[0]["url"], ()), (OLD_ARTICLES[2]["url"], ())]
    assert store.failed_page_counts() == {}
    store.close()

    command.downgrade(migrations._config(engine), "0008")
    assert migrations.current_revision(engine) == "0008"
    assert not {"article_pages", "failed_pages", "failed_page_pages"} & set(inspect(engine).get_table_names())
    assert rows(url, "articles", list(OLD_ARTICLES[0])) == OLD_ARTICLES
    engine.dispose()


def test_0011_stores_the_postgresql_search_document_of_every_article_and_downgrades(postgres):
    """Upgrading a filled 0010 store: every article gets its tsvector column, search reads it and
    ranks as before; the expression index is gone, and comes back with a downgrade."""
    from alembic import command

    url = postgres.new_database()
    engine = create_engine(url)
    migrations.upgrade(engine, "0010")
    english = [article for article in OLD_ARTICLES if article["language"] != "zh"]
    with engine.begin() as connection:
        insert(connection, "articles", [{**article, "raw_html": b""} for article in english])
    result = newscrawl("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr

    with engine.connect() as connection:
        stored = connection.execute(text(  # what 0008's index held, for every article
            "SELECT id, search_document::text, search_document = setweight(to_tsvector('english', title), 'A') "
            "|| setweight(to_tsvector('english', text), 'B') FROM articles ORDER BY id")).all()
    assert [(id_, same) for id_, _, same in stored] == [(1, True), (3, True)]
    assert "'parti':1A,8B" in stored[0][1]  # stemmed, in the title (A) and in the text (B), placed
    indexes = {index["name"] for index in inspect(engine).get_indexes("articles")}
    assert "ix_articles_search_document" in indexes and "ix_articles_search" not in indexes
    store = Store(url, create=False)
    assert [hit.url for hit in store.search("party")] == [english[0]["url"]]
    assert [hit.url for hit in store.search('"undated notice"')] == [english[1]["url"]]
    store.close()

    command.downgrade(migrations._config(engine), "0010")
    assert "search_document" not in {column["name"] for column in inspect(engine).get_columns("articles")}
    assert "ix_articles_search" in {index["name"] for index in inspect(engine).get_indexes("articles")}
    engine.dispose()
