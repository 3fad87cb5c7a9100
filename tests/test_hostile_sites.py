"""Sites that misbehave cannot hurt a crawl: against tests/fault_server.py, every crawl ends,
each failed page is counted once under its kind and named, good pages are stored once, and
the crawl's memory stays bounded.

Each crawl is the real `newscrawl crawl generic` in a subprocess, with short timeouts; its
Scrapy stats are read from its log (STATS_DUMP at INFO), its failed pages from the WARNING
lines of crawler/errors.py, its peak memory from the kernel's high-water marks of the crawl process
and of each of its extraction workers, the largest of them (VmHWM in /proc/PID/status, read while
they run; the workers are forked from the crawl and share most of their pages with it, so a sum
would count those pages again and again). ru_maxrss, and so os.wait4 and Scrapy's `memusage/max`,
would also count this test process, whose size Linux carries over into a child across fork and exec.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.errors import KINDS
from crawler.traps import StopListTraps
from spiders.base import LIST, PAGE
from tests.cli_runner import ROOT, newscrawl
from tests.fault_server import (BOM_TEXT, BOM_TITLE, CHARSET_TEXT, CHARSET_TITLE, FAULTS, GOOD, MANY_LINKS,
                                RETRY_AFTER, fault_server)

MEMORY_BOUND_MB = 400
CRAWL_TIMEOUT = 180  # seconds
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=3",
         "-s", "RETRY_TIMES=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "NEWSCRAWL_ERRORS_NAMED=100",
         "-s", "LOG_LEVEL=DEBUG", "-s", "HTTPCACHE_ENABLED=False"]
_STAT = re.compile(r"'([\w/]+)': (\d+)[,}]")
_FAILED = re.compile(r"failed page \((\w+)\): (\S+): ")


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    stats: dict[str, int]
    failed: dict[str, str]  # path of a failed page's URL -> its kind, as named at WARNING
    peak_rss_mb: float
    stored: dict[str, str]  # path of a stored article's URL -> its title
    aliases: dict[str, str]  # path of an alias -> path of its article's URL

    def errors(self, kind: str) -> int:
        return self.stats.get(f"newscrawl/errors/{kind}", 0)


def crawl(base: str, start: str, pattern: str, db_file, *options: str) -> Crawl:
    """Crawl the fault server from start into the SQLite store db_file; what came of it."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", "generic", "--start-url", base + start,
               "--article-pattern", pattern, "--db", f"sqlite:///{db_file}", *QUICK, *options]
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    logs = db_file.parent / ("crawl" + re.sub(r"[^\w.]+", "-", start))  # beside the store, one per start page
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=stdout, stderr=stderr)
        watchdog = threading.Timer(CRAWL_TIMEOUT, process.kill)  # a crawl that does not end fails the test
        watchdog.start()
        peaks: dict[int, int] = {}  # KiB, by process
        while process.poll() is None:
            for pid in _with_descendants(process.pid):
                peaks[pid] = max(peaks.get(pid, 0), _high_water_kb(pid))
            time.sleep(0.05)
        watchdog.cancel()
    log = err.read_text()
    assert "Dumping Scrapy stats" in log, log[-3000:]
    stats = {name: int(value) for name, value in _STAT.findall(log.split("Dumping Scrapy stats:")[-1])}
    failed = {url.removeprefix(base): kind for kind, url in _FAILED.findall(log)}
    with closing(sqlite3.connect(db_file)) as db:
        stored = {url.removeprefix(base): (title, text) for url, title, text in
                  db.execute("SELECT url, title, text FROM articles")}
        aliases = {alias.removeprefix(base): url.removeprefix(base) for alias, url in db.execute(
            "SELECT url_aliases.url, articles.url FROM url_aliases JOIN articles ON articles.id = article_id")}
    return Crawl(process.returncode, out.read_text(), log, stats, failed, max(peaks.values(), default=0) / 1024, stored,
                 aliases)


def _with_descendants(pid: int) -> list[int]:
    """pid and the processes it started, and theirs (those still running)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(descendant for child in children for descendant in _with_descendants(int(child)))]


def _high_water_kb(pid: int) -> int:
    """The process's peak resident memory so far, in KiB (0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


@pytest.fixture(scope="module")
def server():
    with fault_server() as running:
        yield running


@pytest.fixture(scope="module")
def site_crawl(server, tmp_path_factory):
    """The whole misbehaving site, crawled once, then its list of the stored articles' other
    spellings crawled again into the same store; the server's requests of each crawl."""
    db = tmp_path_factory.mktemp("faults") / "articles.db"
    first = crawl(server.base, "/index.html", r"/news/", db)
    asked_first = len(server.requests)
    again = crawl(server.base, "/again.html", r"/news/", db)
    return first, again, [path for path, _ in server.requests[asked_first:]]


@pytest.fixture(scope="module")
def first(site_crawl) -> Crawl:
    return site_crawl[0]


def assert_bounded(result: Crawl) -> None:
    assert result.peak_rss_mb < MEMORY_BOUND_MB, f"peak RSS {result.peak_rss_mb:.0f} MB"
    assert not re.search(r"\] (?:ERROR|CRITICAL): ", result.stderr), result.stderr[-3000:]  # nothing crashed


# -- every fault: counted once, under its kind, and named ------------------------------


@pytest.mark.parametrize("path", [path for path, kind in FAULTS.items() if kind])
def test_a_failing_page_is_named_with_its_kind_and_not_stored(first, path):
    assert first.failed.get(path) == FAULTS[path]
    assert path not in first.stored


def test_each_failed_page_is_counted_once_by_kind(first):
    expected = Counter(kind for kind in FAULTS.values() if kind)
    assert {kind: first.errors(kind) for kind in KINDS if first.errors(kind)} == expected
    assert len(_FAILED.findall(first.stderr)) == len(first.failed) == sum(expected.values())  # each named once


def test_the_crawl_ends_in_bounded_memory_whatever_the_faults(first):
    assert first.returncode in (0, 1), first.stderr[-2000:]
    assert_bounded(first)


def test_over_size_bodies_are_refused_at_the_default_limit(first):
    """50 MB pages and a 64 MB gzip bomb stop at DOWNLOAD_MAXSIZE (8 MiB by default), not in memory."""
    assert {path for path, kind in first.failed.items() if kind == "too_large"} == {
        "/news/bomb.html", "/news/huge.html", "/news/huge-stream.html"}
    assert "8388608" in first.stderr


def test_good_pages_are_stored_once_each(first):
    stored = set(first.stored)
    dir_page = stored & {"/news/dir/", "/news/dir/index.html"}
    assert len(dir_page) == 1
    assert stored - dir_page == {f"/news/{slug}.html" for slug in GOOD if slug != "dir"} | {
        "/news/charset-header.html", "/news/charset-bom.html", "/news/nested.html", "/news/odd-retry-after.html"}
    for slug, (title, _, sentence) in GOOD.items():
        url = dir_page.pop() if slug == "dir" else f"/news/{slug}.html"
        assert first.stored[url][0] == title and sentence in first.stored[url][1]


def test_a_500_then_ok_page_is_retried_and_stored(first, server):
    assert len(server.asked("/news/flaky.html")) == 2
    assert "/news/flaky.html" in first.stored and "/news/flaky.html" not in first.failed


@pytest.mark.parametrize("path", ["/news/busy.html", "/news/limited.html"])
def test_retry_after_is_waited_for(server, first, path):
    """503 then OK, and 429 every time: the retry comes after the Retry-After seconds."""
    asked = server.asked(path)
    assert len(asked) == 2  # RETRY_TIMES=1
    assert asked[1] - asked[0] >= RETRY_AFTER * 0.9


def test_a_header_charset_that_does_not_decode_the_page_loses_to_the_meta_one(first):
    title, text = first.stored["/news/charset-header.html"]
    assert title == CHARSET_TITLE and CHARSET_TEXT in text


def test_a_byte_order_mark_wins_over_header_and_meta(first):
    title, text = first.stored["/news/charset-bom.html"]
    assert title == BOM_TITLE and BOM_TEXT in text


def test_deeply_nested_malformed_html_is_read(first):
    assert first.stored["/news/nested.html"][0] == "Deep Nesting Survives"


# -- one article, one URL ----------------------------------------------------------------


def test_tracking_parameters_fragments_and_session_ids_are_not_fetched(server, first):
    """Case 12 of ../shared/cases/real-world and its variations: one request per article."""
    assert len(server.asked("/news/good-1.html")) == 1
    assert len(server.asked("/news/good-2.html")) == 1
    assert not [path for path, _ in server.requests if re.search(r"utm_|spm=|from=|fbclid|jsessionid", path, re.I)]


def test_index_html_trailing_slash_and_https_spellings_are_one_page(server, first):
    assert len(server.asked("/news/dir/") + server.asked("/news/dir/index.html")) == 1
    assert not [url for url in first.failed if url.startswith("https:")]  # the https link was not fetched


def test_redirect_and_meta_refresh_sources_are_recorded_as_aliases(first):
    assert first.aliases["/news/old.html"] == "/news/good-4.html"
    assert first.aliases["/news/moved.html"] == "/news/good-3.html"
    assert first.aliases["/news/old-2.html"] == "/news/good-1.html"  # its redirect was dropped as a duplicate


def test_a_canonical_link_on_the_site_names_the_article(first):
    assert "/news/good-5.html?print=1" not in first.stored
    assert first.aliases["/news/good-5.html?print=1"] == "/news/good-5.html"


def test_a_repeat_crawl_knows_every_spelling_of_a_stored_article(site_crawl):
    _, again, asked = site_crawl
    assert not [path for path in asked if path.startswith("/news/")]
    assert again.stats["newscrawl/skipped_known"] >= 8
    assert_bounded(again)


# -- traps and caps ----------------------------------------------------------------------


def test_an_endless_calendar_walk_stops_after_list_pages_without_articles(server, tmp_path):
    asked_before = len(server.requests)
    result = crawl(server.base, "/calendar/2024-01.html", r"/news/", tmp_path / "articles.db",
                   "--page-pattern", r"/calendar/\d{4}-\d\d\.html$", "-s", "NEWSCRAWL_EMPTY_LIST_PAGES=3")
    calendar = [path for path, _ in server.requests[asked_before:] if path.startswith("/calendar/")]
    # January, its two neighbours, and theirs: the third page in a row without an article ends the walk
    assert len(calendar) == 5
    assert result.stats["newscrawl/list_walks_stopped"] >= 1
    assert_bounded(result)


def test_a_pager_showing_the_same_articles_on_every_page_stops_as_an_empty_one(server, tmp_path):
    """Past its last page a pager shows that page again (or the first), forever: a page whose
    article links all came on earlier pages counts as one without articles."""
    asked_before = len(server.requests)
    result = crawl(server.base, "/past-the-end/1.html", r"/news/p-", tmp_path / "articles.db", "--full",
                   "--page-pattern", r"/past-the-end/\d+\.html$", "-s", "NEWSCRAWL_EMPTY_LIST_PAGES=3")
    pager = [path for path, _ in server.requests[asked_before:] if path.startswith("/past-the-end/")]
    assert len(pager) == 4  # page 1, then three pages in a row with nothing it had not linked
    assert len(result.stored) == 2 and result.stats["newscrawl/list_walks_stopped"] == 1


@pytest.mark.parametrize(("option", "list_pages", "articles"), [
    (["--max-list-pages", "4"], 5, 5),  # the start page, then 4
    (["--max-depth", "2"], 3, 2),  # pager/1 -> pager/2 -> pager/3 (and p-1, p-2)
])
def test_caps_end_an_endless_pager(server, tmp_path, option, list_pages, articles):
    asked_before = len(server.requests)
    result = crawl(server.base, "/pager/1.html", r"/news/p-", tmp_path / "articles.db",
                   "--page-pattern", r"/pager/\d+\.html$", *option)
    asked = [path for path, _ in server.requests[asked_before:]]
    assert len([path for path in asked if path.startswith("/pager/")]) == list_pages
    assert len(result.stored) == articles
    assert "127.0.0.1 warning: stopped early: " in result.stderr  # the next crawl walks every list page
    assert_bounded(result)


def test_a_crawl_the_list_page_cap_stopped_says_so_and_the_next_walks_every_list_page(server, tmp_path):
    db = tmp_path / "articles.db"
    capped = crawl(server.base, "/pager/1.html", r"/news/p-", db, "--page-pattern", r"/pager/\d+\.html$",
                   "--max-list-pages", "2")
    warning = "stopped early: the cap of 2 list pages (NEWSCRAWL_MAX_LIST_PAGES)"
    assert f"127.0.0.1 warning: {warning}" in capped.stderr
    with closing(sqlite3.connect(db)) as store:
        assert warning in store.execute("SELECT warnings FROM crawl_runs").fetchone()[0]
    again = crawl(server.base, "/pager/1.html", r"/news/p-", db, "--page-pattern", r"/pager/\d+\.html$",
                  "--max-list-pages", "4")
    assert len(again.stored) == 5  # past the pages stored before, which alone would have ended the walk


def test_the_list_page_cap_counts_pages_not_the_links_to_them():
    """A numbered pager links each page from its neighbours: page 3 is linked from pages 1, 2, 4 and 5."""
    traps = StopListTraps(get_crawler(settings_dict={"NEWSCRAWL_MAX_LIST_PAGES": 3}))

    def list_page(number: int) -> set[str]:
        """The pages of its pager the cap lets through."""
        pager = [Request(f"https://news.example/list_{page}.html", meta={PAGE: LIST})
                 for page in range(max(1, number - 2), number + 3) if page != number]
        url = f"https://news.example/list_{number}.html"
        outputs = traps.process_spider_output(HtmlResponse(url, request=Request(url)), pager)
        return {request.url.rsplit("_", 1)[1] for request in outputs}

    assert list_page(1) == {"2.html", "3.html"}
    # page 1 is the third page; page 3, linked again, is not counted again (Scrapy's dupefilter drops
    # the request); page 4 would be the fourth
    assert list_page(2) == {"1.html", "3.html"}
    assert list_page(3) == {"1.html", "2.html"}


def test_a_page_cap_ends_the_crawl_of_a_list_of_ten_thousand_links_in_bounded_memory(server, tmp_path):
    asked_before = len(server.requests)
    result = crawl(server.base, "/many.html", r"/news/m-", tmp_path / "articles.db", "--max-pages", "30")
    assert result.stats["scheduler/enqueued/memory"] >= MANY_LINKS  # every link was scheduled
    assert len(server.requests) - asked_before < 30 + 2 * 16 + 2  # the cap, what was in flight, robots.txt
    assert 0 < len(result.stored) <= 30 + 2 * 16
    assert_bounded(result)


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_cap_is_a_whole_number(value):
    result = newscrawl("crawl", "generic", "--start-url", "http://127.0.0.1:9/", "--article-pattern", "x",
                       "--max-pages", value)
    assert result.returncode == 2
    assert f"takes a whole number of at least 1, not {value!r}" in result.stderr
