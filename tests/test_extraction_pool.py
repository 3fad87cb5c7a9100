"""Extraction in worker processes: the same articles as in-process, and a page that extraction
cannot read is one counted error, never a stuck or failed crawl."""

import json
import sqlite3
from contextlib import closing

import pytest

from crawler.extract import extract
from crawler.extraction_pool import ExtractionPool, extract_page
from storage.near_duplicates import Fingerprint
from tests.cli_runner import newscrawl
from tests.fixture_sites import article_pages, spider_class
from tests.test_cli import assert_one_line_error

HOST = "https://pool.example"
ARTICLE = ("<html><head><title>{title}</title></head><body><h1>{title}</h1>"
           "<div class='TRS_Editor'><p>{text}</p></div></body></html>")


def test_a_worker_gives_the_article_and_the_buckets_of_its_text():
    page = article_pages("rocar")[0]
    rules = spider_class("rocar").extraction_rules
    article, keys = extract_page(page.html(), page.recorded.url, rules)
    assert article == extract(page.html(), page.recorded.url, rules)
    assert list(keys) == Fingerprint.of(article.text).band_keys()


def test_workers_below_zero_are_refused():
    with pytest.raises(ValueError, match="NEWSCRAWL_EXTRACT_WORKERS"):
        ExtractionPool(-1)


@pytest.mark.parametrize("setting", ["-1", "two", "1.5"])
def test_a_bad_workers_setting_is_one_line_before_crawling(tmp_path, setting):
    result = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{tmp_path / 'articles.db'}",
                       "-s", f"NEWSCRAWL_EXTRACT_WORKERS={setting}")
    assert_one_line_error(result, f"NEWSCRAWL_EXTRACT_WORKERS is a number of processes (0: none), not {setting!r}")


@pytest.fixture
def site_with_a_broken_page(tmp_path):
    """Two articles, the second an empty page (extraction raises on it)."""
    pages = tmp_path / "site" / "pages"
    pages.mkdir(parents=True)
    bodies = {
        f"{HOST}/robots.txt": ("robots.txt", "User-agent: *\nAllow: /\n", "text/plain"),
        f"{HOST}/news/": ("list.html", f"<html><body><a href='{HOST}/news/a1.html'>1</a>"
                                       f"<a href='{HOST}/news/a2.html'>2</a></body></html>", "text/html"),
        f"{HOST}/news/a1.html": ("a1.html", ARTICLE.format(title="Water plan approved", text=(
            "The county board approved the water plan for next year after a long debate. " * 5)), "text/html"),
        f"{HOST}/news/a2.html": ("a2.html", "", "text/html"),
    }
    responses = []
    for url, (name, body, kind) in bodies.items():
        (pages / name).write_text(body, encoding="utf-8")
        responses.append({"url": url, "status": 200, "headers": {"Content-Type": f"{kind}; charset=utf-8"},
                          "body": f"pages/{name}"})
    (tmp_path / "site" / "manifest.json").write_text(json.dumps({"site": "pool", "responses": responses}))
    (tmp_path / "sites.toml").write_text(f'[sites.pool]\nstart_url = "{HOST}/news/"\n'
                                         "article_pattern = '/news/a\\d+\\.html$'\n")
    return tmp_path


@pytest.mark.parametrize("workers", ["2", "0"])
def test_a_page_extraction_fails_on_is_one_counted_error(site_with_a_broken_page, workers):
    folder = site_with_a_broken_page
    db = folder / "articles.db"
    result = newscrawl("crawl", "pool", "--replay", str(folder / "site"), "--sites-file", str(folder / "sites.toml"),
                       "--db", f"sqlite:///{db}", "--json", "-s", f"NEWSCRAWL_EXTRACT_WORKERS={workers}",
                       "-s", "LOG_LEVEL=WARNING")
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert (summary["outcome"], summary["articles_new"], summary["errors"]) == ("finished", 1, 1)
    assert f"cannot extract an article from {HOST}/news/a2.html: Document is empty" in result.stderr
    assert "Traceback" not in result.stderr
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT url FROM articles").fetchall() == [(f"{HOST}/news/a1.html",)]
