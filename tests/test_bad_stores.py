"""Stores that cannot be used: not a database, damaged, read-only, in a folder that cannot be
written, on a full disk. Every command says so in one line and exits 2; a crawl says so before
fetching anything when it can, and at the first failed write otherwise; nothing is damaged."""

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from storage import ArticleRecord, Store, StoreError
from tests.cli_runner import ROOT, newscrawl
from tests.fixture_sites import quality
from tests.servers import PostgresServer, ServerUnavailable
from tests.test_cli import assert_one_line_error

COMMANDS = [["stats"], ["stats", "--runs"], ["export"], ["search", "party"], ["show", "1"],
            ["re-extract", "jfmi", "--dry-run"], ["db", "upgrade"], ["browse", "--port", "0"],
            ["crawl", "jfmi", "--replay"]]

# A crawl whose SQLite connections may grow the store by a few pages only: a full disk, as SQLite
# reports it ("database or disk is full"), without filling one.
FULL_DISK = """
import sys
import storage.reader as reader
set_pragmas = reader._sqlite_pragmas
def full_disk(connection, record):
    set_pragmas(connection, record)
    cursor = connection.cursor()
    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    cursor.execute(f"PRAGMA max_page_count = {pages + int(sys.argv[1])}")
    cursor.close()
reader._sqlite_pragmas = full_disk
from crawler.cli import main
sys.exit(main(sys.argv[2:]))
"""


def crawled_copy(jfmi_store, folder: Path) -> Path:
    """A store holding jfmi's crawl, everything in the main file (nothing left in a -wal file)."""
    path = Path(jfmi_store().removeprefix("sqlite:///"))
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = folder / "articles.db"
    shutil.copyfile(path, target)
    return target


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture(params=["not a database", "truncated"])
def broken_store(request, tmp_path, jfmi_store) -> Path:
    if request.param == "not a database":
        path = tmp_path / "articles.db"
        path.write_text("site,url\nrocar,https://www.rocar.net/\n" * 100)
    else:
        path = crawled_copy(jfmi_store, tmp_path)
        with path.open("r+b") as file:
            file.truncate(path.stat().st_size // 2)
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_refuses_a_broken_store_in_one_line_untouched(broken_store, command):
    before = broken_store.read_bytes()
    result = newscrawl(*command, "--db", f"sqlite:///{broken_store}")
    assert_one_line_error(result, f"cannot use the store at sqlite:///{broken_store}")
    assert "not a database" in result.stderr or "malformed" in result.stderr
    assert broken_store.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_refuses_another_applications_database_untouched(tmp_path, command):
    """A database with tables but no newscrawl schema: not "a newer newscrawl", and never migrated into."""
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        connection.commit()
    before = path.read_bytes()
    result = newscrawl(*command, "--db", f"sqlite:///{path}")
    assert_one_line_error(result, f"sqlite:///{path} is not a newscrawl store", "users")
    assert path.read_bytes() == before


def test_a_read_only_store_is_read_but_not_crawled_into(tmp_path, jfmi_store):
    path = crawled_copy(jfmi_store, tmp_path)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # as SQLite sees a file it may not write
    replay_log = tmp_path / "replayed.txt"
    crawl = newscrawl("crawl", "jfmi", "--replay", "--db", read_only, "-s", f"NEWSCRAWL_REPLAY_LOG={replay_log}")
    assert_one_line_error(crawl, "attempt to write a readonly database", "read-only")
    assert not replay_log.exists()  # refused before anything was fetched
    stats = newscrawl("stats", "--db", read_only)
    assert stats.returncode == 0 and stats.stdout.splitlines()[1].split()[:2] == ["jfmi", "9"]
    assert newscrawl("export", "--db", read_only).stdout.count("\n") == len(quality("jfmi")["articles"])
    assert integrity(path) == "ok"


def immutable(path: Path) -> bool:
    """Make path immutable (chattr +i: root cannot write it either); False where the file system
    or the container does not allow it."""
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0 \
        if shutil.which("chattr") else False


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_store_the_file_system_refuses_to_write(tmp_path, jfmi_store, what):
    path = crawled_copy(jfmi_store, tmp_path if what == "file" else _folder(tmp_path))
    locked = path if what == "file" else path.parent
    if not immutable(locked):
        pytest.skip("chattr +i is not allowed here")
    try:
        replay_log = tmp_path / "replayed.txt"
        crawl = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{path}",
                          "-s", f"NEWSCRAWL_REPLAY_LOG={replay_log}")
        assert_one_line_error(crawl, "read-only" if what == "file" else "unable to open database file")
        assert not replay_log.exists()
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert integrity(path) == "ok"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    folder.mkdir()
    return folder


def test_a_full_disk_stops_the_crawl_at_the_first_failed_write_and_records_it_failed(tmp_path, jfmi_store):
    path = crawled_copy(jfmi_store, tmp_path)
    db = f"sqlite:///{path}"
    # one article a transaction, so that the articles written before the disk filled are there to count
    full = subprocess.run([sys.executable, "-c", FULL_DISK, "20", "crawl", "4ll", "--replay", "--db", db,
                           "-s", "NEWSCRAWL_WRITE_BATCH_SIZE=1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert_one_line_error(full, "database or disk is full")
    header, row = full.stdout.splitlines()[:2]
    assert row.split()[:2] == ["4ll", "failed"]
    assert integrity(path) == "ok"
    store = Store(db, create=False)
    run = store.last_run("4ll")
    kept = len(list(store.articles("4ll")))
    store.close()
    assert run.status == "failed" and "database or disk is full" in run.error
    assert 0 < kept < len(quality("4ll")["articles"]) and run.counts.articles_new == kept
    # with room again, the next crawl stores the rest
    again = newscrawl("crawl", "4ll", "--replay", "--db", db)
    assert again.returncode == 0, again.stderr
    store = Store(db, create=False)
    assert len(list(store.articles("4ll"))) == len(quality("4ll")["articles"])
    store.close()
    assert integrity(path) == "ok"


def test_db_upgrade_of_a_store_that_is_not_there_makes_none(tmp_path, postgres):
    """A mistyped path, or an empty database: nothing to upgrade, and no new store made of it."""
    mistyped = tmp_path / "artciles.db"
    assert_one_line_error(newscrawl("db", "upgrade", "--db", f"sqlite:///{mistyped}"),
                          f"sqlite:///{mistyped} holds no newscrawl store yet")
    assert not mistyped.exists()
    empty = postgres.new_database()
    assert_one_line_error(newscrawl("db", "upgrade", "--db", empty), "holds no newscrawl store yet")
    engine = create_engine(empty)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of the test's own, to stop and start again."""
    try:
        server = PostgresServer().start()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


def test_a_store_outlives_a_restart_of_its_database_server(own_postgres):
    """A crawl's store keeps connections open: after the server restarted (an upgrade, a
    failover) they are dead, and the store's next read or write takes a new one."""
    store = Store(own_postgres.new_database())
    try:
        store.save_article(ArticleRecord(url="https://example.org/1.html", site="example", title="One",
                                         text="The first story, stored before the restart."))
        own_postgres.stop_server("fast")
        own_postgres.start_server()
        store.save_article(ArticleRecord(url="https://example.org/2.html", site="example", title="Two",
                                         text="The second story, stored after the restart."))
        assert [article["title"] for article in store.articles("example")] == ["One", "Two"]
    finally:
        store.close()


@pytest.mark.slow  # a PostgreSQL server of its own, stopped and started again, and a paced crawl
def test_a_database_server_that_goes_away_stops_the_crawl_as_a_store_failure(own_postgres):
    """PostgreSQL stops mid-crawl: the crawl stops at the first read or write that fails (the
    stored-article check of a list page, here) as it does on a full disk: failed, in one line,
    exit 2, no page counted as failed for it; with the server back, the next crawl stores the rest."""
    db = own_postgres.new_database()
    crawl = subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", "rocar", "--replay", "--db", db,
                              "-s", "DOWNLOAD_DELAY=0.5", "-s", "HTTPCACHE_ENABLED=False", "--json"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not stored_articles(db):  # the first list page's articles are written
        assert crawl.poll() is None and time.monotonic() < deadline
        time.sleep(0.3)
    own_postgres.stop_server("fast")
    out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 2 and "Traceback" not in err and "failed page" not in err
    # the log says the run could not be recorded either (the next command finds it interrupted)
    assert err.strip().splitlines()[-1].startswith(f"newscrawl: cannot use the store at {db}")
    [summary] = json.loads(out)  # what the crawl counted; what the store holds it could not read
    assert (summary["outcome"], summary["errors"], summary["stored"]) == ("failed", 0, None)
    assert summary["new"] > 0 and "cannot use the store" in summary["error"]
    own_postgres.start_server()
    again = newscrawl("crawl", "rocar", "--replay", "--db", db, "--json")
    assert again.returncode == 0, again.stderr
    [summary] = json.loads(again.stdout)
    assert summary["stored"] == len(quality("rocar")["articles"])


def stored_articles(db: str) -> int:
    try:
        store = Store(db, create=False)
    except StoreError:  # the crawl has not made the store yet
        return 0
    try:
        return len(list(store.articles()))
    finally:
        store.close()
