"""The HTTP cache: one SQLite file per store, shared safely by crawls running at once."""

import os
import sqlite3
import subprocess
import sys
import zlib
from contextlib import closing

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.httpcache import SqliteCacheStorage, cache_file
from tests.cli_runner import ROOT, newscrawl

PAGE = "https://news.example.org/a/1.html"
BODY = ("<html><body>" + "<p>A meeting on party building was held in the county.</p>" * 200 + "</body></html>").encode()


def cached_urls(cache) -> set[str]:
    with closing(sqlite3.connect(cache)) as connection:
        return {url for url, in connection.execute("SELECT url FROM responses")}


def test_each_store_has_its_own_cache_file(tmp_path):
    for name, site in (("first", "rocar"), ("second", "jfmi")):
        result = newscrawl("crawl", site, "--replay", "--db", f"sqlite:///{tmp_path / name}.db")
        assert result.returncode == 0, result.stderr
    caches = tmp_path / "httpcache"
    assert sorted(path.name for path in caches.iterdir() if path.suffix == ".sqlite") == ["first.sqlite",
                                                                                       "second.sqlite"]
    assert cached_urls(caches / "first.sqlite") and all("rocar" in url for url in cached_urls(caches / "first.sqlite"))
    assert all("jfmi" in url for url in cached_urls(caches / "second.sqlite"))


@pytest.mark.parametrize("fault", ["damaged file", "folder it cannot make"])
def test_a_cache_it_cannot_use_costs_full_downloads_not_the_crawl(tmp_path, fault):
    caches = tmp_path / "httpcache"
    if fault == "damaged file":
        caches.mkdir()
        (caches / "articles.sqlite").write_text("not a database " * 100)
    else:
        caches.write_text("a file where the cache folder would be")
    result = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{tmp_path / 'articles.db'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[:4] == ["jfmi", "finished", "13", "9"]
    [warning] = [line for line in result.stderr.splitlines() if "HTTP cache" in line]
    assert str(caches) in warning and "Traceback" not in result.stderr
    if fault == "damaged file":  # started afresh
        assert cached_urls(caches / "articles.sqlite")


@pytest.mark.slow
def test_crawls_running_at_once_share_a_store_and_its_cache(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    assert newscrawl("crawl", "rocar", "--replay", "--db", db).returncode == 0  # the store exists
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    crawls = [subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", site, "--replay", "--full",
                                "--db", db], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
              for site in ("4ll", "bluestar", "henan", "rocar")]
    for crawl in crawls:
        out, err = crawl.communicate(timeout=300)
        assert crawl.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err
    urls = cached_urls(tmp_path / "httpcache" / "articles.sqlite")
    assert {site for site in ("4ll", "bluestar", "hnjgdj", "rocar") if any(site in url for url in urls)} == {
        "4ll", "bluestar", "hnjgdj", "rocar"}


@pytest.fixture
def cache(tmp_path):
    settings = {"HTTPCACHE_DIR": str(tmp_path / "httpcache"), "NEWSCRAWL_DB": f"sqlite:///{tmp_path / 'articles.db'}"}
    spider = Spider("news")
    spider.crawler = get_crawler(settings_dict=settings)
    storage = SqliteCacheStorage(spider.crawler.settings)
    storage.open_spider(spider)
    yield storage, spider
    storage.close_spider(spider)


def test_a_cached_page_comes_back_as_it_was_downloaded_and_is_stored_compressed(cache):
    storage, spider = cache
    response = HtmlResponse(PAGE, status=200, body=BODY, headers={"Content-Type": "text/html; charset=utf-8",
                                                                 "ETag": '"v1"'})
    storage.store_response(spider, Request(PAGE), response)

    cached = storage.retrieve_response(spider, Request(PAGE))
    assert (cached.url, cached.status, cached.body) == (PAGE, 200, BODY)
    assert cached.headers["ETag"] == b'"v1"' and cached.headers["Content-Type"] == b"text/html; charset=utf-8"
    with closing(sqlite3.connect(storage.path)) as connection:
        [(stored,)] = connection.execute("SELECT body FROM responses").fetchall()
    assert stored.startswith(b"\x28\xb5\x2f\xfd") and len(stored) < len(BODY) / 10  # a Zstandard frame


def test_pages_an_older_newscrawl_cached_with_zlib_are_still_read(cache):
    storage, spider = cache
    request = Request(PAGE)
    with closing(sqlite3.connect(cache_file(spider.crawler.settings["HTTPCACHE_DIR"],
                                            spider.crawler.settings["NEWSCRAWL_DB"]))) as connection, connection:
        connection.execute("INSERT INTO responses VALUES (?, ?, 200, ?, ?, 1.0e9)",
                           (spider.crawler.request_fingerprinter.fingerprint(request), PAGE,
                            '{"Content-Type": ["text/html"]}', zlib.compress(BODY, 1)))

    cached = storage.retrieve_response(spider, request)
    assert cached.body == BODY and cached.headers["Content-Type"] == b"text/html"


@pytest.mark.parametrize("damaged", [b"\x28\xb5\x2f\xfd" + b"\x00" * 12,  # a Zstandard frame cut short
                                     zlib.compress(BODY, 1)[:-20],  # a zlib stream cut short
                                     b"not compressed at all"], ids=["zstd", "zlib", "neither"])
def test_a_damaged_cached_body_is_a_warning_and_a_full_download(cache, damaged, caplog):
    storage, spider = cache
    request = Request(PAGE)
    with closing(sqlite3.connect(storage.path)) as connection, connection:
        connection.execute("INSERT INTO responses VALUES (?, ?, 200, ?, ?, 1.0e9)",
                           (spider.crawler.request_fingerprinter.fingerprint(request), PAGE,
                            '{"Content-Type": ["text/html"]}', damaged))

    assert storage.retrieve_response(spider, request) is None  # so the page is downloaded again
    assert any(record.levelname == "WARNING" and PAGE in record.getMessage() for record in caplog.records)
