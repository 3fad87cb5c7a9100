"""Incremental crawls through the real command.

The ROCAR column is recorded twice: tests/fixtures/rocar, then rocar/later, where
two new articles head list page 1 (pushing the older ones down the pages) and one
article was edited (new text, new ETag and Last-Modified). Replaying one after the
other into one store is what a scheduled crawl sees over time. The replay handler
lists every answer it gives (NEWSCRAWL_REPLAY_LOG): that is what the crawl fetched.
"""

import asyncio
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from w3lib.url import canonicalize_url

from crawler.recordings import ReplayDownloadHandler, load_manifest
from crawler.runner import FIXTURES
from storage import Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality

FIRST = FIXTURES / "rocar"
LATER = FIRST / "later"
COLUMN = "https://www.rocar.net/en/menu139/"
ROBOTS = "https://www.rocar.net/robots.txt"
LIST_PAGES = {COLUMN, COLUMN + "?page=2", COLUMN + "?page=3"}
NEW = {COLUMN + "newsDetail/523.html", COLUMN + "newsDetail/520.html"}
EDITED = COLUMN + "newsDetail/497.html"


class Crawls:
    """Crawls of rocar into one store; each returns what the replay server answered."""

    def __init__(self, folder):
        self.folder = folder
        self.db = f"sqlite:///{folder / 'articles.db'}"
        self.count = 0

    def run(self, recording, *options) -> list[tuple[int, str]]:
        self.count += 1
        log = self.folder / f"replay-{self.count}.log"
        result = newscrawl("crawl", "rocar", "--replay", str(recording), "--db", self.db,
                           "-s", f"NEWSCRAWL_REPLAY_LOG={log}", *options)
        assert result.returncode == 0, result.stderr
        lines = log.read_text(encoding="utf-8").splitlines()
        return [(int(status), url) for status, url in (line.split(" ", 1) for line in lines)]

    def last_run(self):
        store = Store(self.db, create=False)
        try:
            return store.last_run("rocar")
        finally:
            store.close()

    def stored(self) -> dict[str, str]:
        store = Store(self.db, create=False)
        try:
            return {article["url"]: article["text"] for article in store.articles("rocar")}
        finally:
            store.close()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The first recording, then the later one four times: plain, plain again, --full, --refresh.
    For each crawl: (what was fetched, its crawl-run record, the stored texts by URL)."""
    crawls = Crawls(tmp_path_factory.mktemp("incremental"))
    steps = {}
    for name, recording, options in (("first", FIRST, ()), ("later", LATER, ()), ("again", LATER, ()),
                                     ("full", LATER, ("--full",)), ("refresh", LATER, ("--refresh",))):
        fetched = crawls.run(recording, *options)
        steps[name] = (fetched, crawls.last_run(), crawls.stored())
    return steps


def urls(fetched, status=None) -> set[str]:
    return {url for answer, url in fetched if status in (None, answer)}


def test_first_crawl_fetches_and_stores_the_whole_column(history):
    fetched, run, stored = history["first"]
    assert {status for status, _ in fetched} == {200}
    assert set(stored) == {canonicalize_url(url) for url in quality("rocar")["articles"]}
    assert (run.counts.articles_new, run.counts.articles_skipped, run.counts.not_modified) == (7, 0, 0)


def test_repeat_crawl_fetches_only_list_pages_and_new_articles(history):
    fetched, run, stored = history["later"]
    assert urls(fetched) - {ROBOTS} == LIST_PAGES | NEW
    assert set(stored) == {canonicalize_url(url) for url in quality("rocar/later")["articles"]}
    counts = run.counts
    assert (counts.articles_new, counts.articles_updated, counts.articles_unchanged) == (2, 0, 0)
    assert counts.articles_skipped == 7  # every article of the first recording, fetched by none
    assert urls(fetched, 304) == {ROBOTS}  # the list pages changed, robots.txt did not


def test_new_articles_arrive_clean(history):
    _, _, stored = history["later"]
    for url in NEW:
        expected = quality("rocar/later")["articles"][url]
        assert all(text in stored[url] for text in expected["must_include"]), url
        assert not any(text in stored[url] for text in expected["must_exclude"]), url


def test_repeat_crawl_does_not_see_an_edited_article(history):
    _, _, before = history["first"]
    _, _, after = history["later"]
    assert after[EDITED] == before[EDITED]
    assert "over 60 people" in after[EDITED]


def test_unchanged_column_costs_two_304s_and_stops_at_page_1(history):
    fetched, run, stored = history["again"]
    assert fetched == [(304, ROBOTS), (304, COLUMN)]  # page 1 has nothing new: pages 2 and 3 are not asked for
    assert (run.counts.pages, run.counts.not_modified, run.counts.articles_skipped) == (2, 2, 3)
    assert run.counts.articles_new == 0
    assert len(stored) == 9


def test_full_walks_every_list_page_and_fetches_no_article(history):
    fetched, run, _ = history["full"]
    assert set(fetched) == {(304, url) for url in LIST_PAGES | {ROBOTS}}
    assert (run.counts.articles_skipped, run.counts.not_modified) == (9, 4)


def test_refresh_revalidates_every_article_and_updates_the_edited_one(history):
    fetched, run, stored = history["refresh"]
    assert urls(fetched, 200) == {EDITED}
    assert urls(fetched, 304) == LIST_PAGES | {ROBOTS} | set(quality("rocar/later")["articles"]) - {EDITED}
    counts = run.counts
    assert (counts.articles_new, counts.articles_updated, counts.articles_unchanged) == (0, 1, 8)
    assert (counts.articles_skipped, counts.not_modified) == (0, 12)
    assert all(text in stored[EDITED] for text in quality("rocar/later")["articles"][EDITED]["must_include"])
    assert len(stored) == 9


def test_the_crawl_after_one_a_page_cap_stopped_walks_every_list_page(tmp_path):
    """A capped crawl finishes (with a warning) having stored list page 1's articles only: the next
    must not stop at page 1, all stored, and leave the pages the cap kept it from for ever."""
    crawls = Crawls(tmp_path)
    crawls.run(FIRST, "--max-pages", "3")
    capped = crawls.last_run()
    assert capped.status == "finished" and capped.warnings == ("stopped early: closespider_pagecount",)
    assert len(crawls.stored()) < len(quality("rocar")["articles"])
    fetched = crawls.run(FIRST)
    assert LIST_PAGES <= urls(fetched)
    assert set(crawls.stored()) == {canonicalize_url(url) for url in quality("rocar")["articles"]}


def test_since_skips_articles_the_list_dates_earlier(tmp_path):
    crawls = Crawls(tmp_path)
    fetched = crawls.run(LATER, "--since", "2021-04-01")
    recent = NEW | {COLUMN + "newsDetail/511.html", COLUMN + "newsDetail/502.html"}  # listed 2021-07-16 … 2021-04-09
    assert urls(fetched) - {ROBOTS} - LIST_PAGES == recent
    assert set(crawls.stored()) == recent
    assert crawls.last_run().counts.articles_skipped == 5


def test_bad_since_date_is_one_line_and_exit_2(tmp_path):
    result = newscrawl("crawl", "rocar", "--replay", str(LATER), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       "--since", "2021-13-01")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--since" in result.stderr
    assert not (tmp_path / "a.db").exists()


# The replay server answers conditional requests as the site's server would.

RECORDED = next(response for response in load_manifest(FIRST / "manifest.json")[1] if response.url == COLUMN)
ETAG = RECORDED.headers["ETag"]
MODIFIED = parsedate_to_datetime(RECORDED.headers["Last-Modified"])


def http_date(moment) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 200),
    ({"If-None-Match": ETAG}, 304),
    ({"If-None-Match": f'"other", W/{ETAG}'}, 304),  # weak comparison, a list of tags
    ({"If-None-Match": '"other"'}, 200),
    ({"If-Modified-Since": http_date(MODIFIED)}, 304),
    ({"If-Modified-Since": http_date(MODIFIED + timedelta(days=1))}, 304),
    ({"If-Modified-Since": http_date(MODIFIED - timedelta(seconds=1))}, 200),
    ({"If-Modified-Since": "yesterday"}, 200),
    # If-None-Match decides when both are sent
    ({"If-None-Match": '"other"', "If-Modified-Since": http_date(MODIFIED)}, 200),
])
def test_replay_answers_conditional_requests(headers, status):
    crawler = get_crawler(settings_dict={"NEWSCRAWL_REPLAY_DIR": str(FIRST)})
    response = asyncio.run(ReplayDownloadHandler(crawler).download_request(Request(COLUMN, headers=headers)))
    assert response.status == status
    if status == 304:
        assert response.body == b""
        assert response.headers["ETag"].decode() == ETAG
    else:
        assert response.body == RECORDED.body_path.read_bytes()
