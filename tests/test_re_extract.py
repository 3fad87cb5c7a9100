"""Re-extraction: the current rules over the stored raw HTML fix what an older rule got wrong."""

import json
import zlib

import pytest
from sqlalchemy import create_engine, text

from storage import FailedPageRecord, Store
from storage.store import text_hash
from tests.cli_runner import newscrawl
from tests.test_cli import assert_one_line_error

# What a careless old jfmi rule stored: the column's name as title, the font switch and
# the print buttons in the text, no date.
BUGGY_TEXT = "\nBigMiddleSmall\n[Print] [Close]"


@pytest.fixture
def db(jfmi_store):
    return jfmi_store()


def rows(db: str) -> list[tuple]:
    with create_engine(db).connect() as connection:
        return connection.execute(text("SELECT * FROM articles ORDER BY id")).all()


def execute(db: str, statement: str, **params) -> None:
    """Through the store's engine: its connections have the SQL function the search index's
    triggers call (revision 0006)."""
    store = Store(db, create=False)
    try:
        with store.engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        store.close()


def report(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["sites"]["jfmi"]


def test_a_dry_run_reports_and_a_run_restores_what_an_old_rule_got_wrong(db):
    crawled = rows(db)
    for article in crawled[:3]:
        buggy = article.text + BUGGY_TEXT
        execute(db, "UPDATE articles SET title = 'Party Building Trends', published = NULL, text = :text, "
                    "content_hash = :hash WHERE id = :id", text=buggy, hash=text_hash(buggy), id=article.id)
    execute(db, "UPDATE articles SET author = 'Webmaster' WHERE id = :id", id=crawled[3].id)
    corrupted = rows(db)

    dry_run = newscrawl("re-extract", "jfmi", "--dry-run", "--db", db)
    assert dry_run.returncode == 0, dry_run.stderr
    table = dict(line.rsplit(None, 1) for line in dry_run.stdout.splitlines()[1:12])
    assert table == {"checked": str(len(crawled)), "changed": "4", "  title": "3", "  published": "3", "  author": "1",
                     "  source": "0", "  language": "0", "  text": "3", "  content_hash": "3",
                     "now empty, kept": "0", "same text, skipped": "0"}
    assert dry_run.stdout.splitlines()[-1] == "dry run: nothing was changed"
    assert rows(db) == corrupted

    done = report(newscrawl("re-extract", "--json", "--db", db))
    assert (done["checked"], done["changed"]) == (len(crawled), 4)
    assert done["fields"] == {"title": 3, "published": 3, "author": 1, "source": 0, "language": 0,
                              "text": 3, "content_hash": 3}
    assert rows(db) == crawled  # seen times and raw HTML included
    store = Store(db, create=False)
    assert store.search('"BigMiddleSmall"') == []
    first_words = " ".join(crawled[0].text.split()[:6])
    assert [hit.id for hit in store.search(f'"{first_words}"')] == [crawled[0].id]
    store.close()


def test_an_article_the_current_rules_find_empty_is_kept(db):
    [article, *_] = rows(db)
    execute(db, "UPDATE articles SET raw_html = :html WHERE id = :id",
            html=zlib.compress(b"<html><body><p>This page has moved.</p></body></html>"), id=article.id)
    result = newscrawl("re-extract", "jfmi", "--db", db)
    assert f"now empty, kept: {article.url}" in result.stdout.splitlines()
    assert rows(db)[0].text == article.text and rows(db)[0].title == article.title
    assert report(newscrawl("re-extract", "jfmi", "--json", "--db", db))["now_empty"] == [article.url]


def test_a_text_that_another_article_has_is_skipped(db):
    [first, second, *_] = rows(db)
    execute(db, "UPDATE articles SET raw_html = (SELECT raw_html FROM articles WHERE id = :second) "
                "WHERE id = :first", first=first.id, second=second.id)
    done = report(newscrawl("re-extract", "jfmi", "--json", "--db", db))
    assert done["same_text_as"] == {first.url: second.url} and done["changed"] == 0
    assert rows(db)[0].text == first.text


DAMAGED = b"\x28\xb5\x2f\xfd" + b"\x00" * 12  # a Zstandard frame cut short


@pytest.mark.parametrize("table", ["articles", "article_pages", "failed_pages"])
def test_a_page_whose_html_is_damaged_is_named_and_kept_while_the_rest_is_re_extracted(db, table):
    [first, second, *_] = crawled = rows(db)
    damaged_url = second.url
    buggy = first.text + BUGGY_TEXT
    execute(db, "UPDATE articles SET text = :text, content_hash = :hash WHERE id = :id",
            text=buggy, hash=text_hash(buggy), id=first.id)
    if table == "articles":
        execute(db, "UPDATE articles SET raw_html = :blob WHERE id = :id", blob=DAMAGED, id=second.id)
    elif table == "article_pages":  # a further page of the article
        execute(db, "INSERT INTO article_pages (article_id, page, raw_html) VALUES (:id, 2, :blob)",
                blob=DAMAGED, id=second.id)
    else:  # a page a crawl failed to extract, kept to be retried
        damaged_url = second.url + "?kept"
        store = Store(db, create=False)
        store.keep_failed_pages([FailedPageRecord(damaged_url, "jfmi", ("<p>page</p>",), "an error")])
        store.close()
        execute(db, "UPDATE failed_pages SET raw_html = :blob", blob=DAMAGED)
    damaged_row = rows(db)[1]

    result = newscrawl("re-extract", "jfmi", "--db", db)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [error] = result.stderr.strip().splitlines()
    assert error.startswith("newscrawl: the stored HTML of 1 page cannot be read")
    assert f"damaged, kept: the raw HTML stored for {damaged_url} is damaged" in result.stdout
    assert rows(db)[0].text == first.text  # the article after it was re-extracted all the same
    assert rows(db)[1] == damaged_row and rows(db)[2:] == crawled[2:]

    done = newscrawl("re-extract", "jfmi", "--json", "--db", db)
    assert done.returncode == 1
    assert list(json.loads(done.stdout)["sites"]["jfmi"]["damaged"]) == [damaged_url]


def test_an_unknown_site(db):
    assert_one_line_error(newscrawl("re-extract", "jfmi", "nosuchsite", "--db", db), "unknown site 'nosuchsite'")
