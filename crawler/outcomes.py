"""How a crawl ended, told truthfully: finished (maybe with warnings), failed or interrupted.

The outcome is a function of Scrapy's close reason and the crawl's stats, so that the
run recorded in the store, the summary and the exit code all say the same. The
components below put in the stats what it needs besides Scrapy's own keys:

- ``newscrawl/start_pages``: {start URL: HTTP status} of the start pages that got an answer
  (WatchStartPages);
- ``newscrawl/start_page_failures``: {start URL: "kind: reason"} of the start pages that failed
  otherwise (forbidden by robots.txt, no answer, redirected off the site; crawler/errors.py);
- ``newscrawl/article_pages_failed``: how many of the failed pages were article pages (crawler/errors.py);
- ``newscrawl/warnings``: lines a finished crawl should tell (add_warning), e.g. a start page
  on which the article pattern matched no link (WarnArticlelessStartPages);
- ``newscrawl/errors/<kind>``: failed pages by kind (crawler/errors.py counts and sums them);
- ``newscrawl/interrupted``: the name of the signal that stopped the crawl (crawler/runner.py);
- ``newscrawl/store_error``: why the store could not be written (crawler/pipelines.py);
- ``newscrawl/frontier_error``: why a frontier worker lost its frontier (crawler/frontier_worker.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import CloseSpider

from crawler.urls import on_site
from spiders.base import ARTICLE, PAGE

START_PAGES = "newscrawl/start_pages"
START_FAILURES = "newscrawl/start_page_failures"  # {start URL: "kind: reason"}, kept by crawler/errors.py
ARTICLE_PAGES_FAILED = "newscrawl/article_pages_failed"  # failed pages that were article pages (crawler/errors.py)
# a frontier worker that joined a crawl another worker started: it fetches no start page (crawler/frontier.py)
JOINED = "newscrawl/joined_a_crawl"
WARNINGS = "newscrawl/warnings"
INTERRUPTED = "newscrawl/interrupted"
STORE_ERROR = "newscrawl/store_error"
# the warning of a crawl a page or time cap ended (its close reason after it), or the list-page or depth cap cut short
STOPPED_EARLY = "stopped early: "
STORE_FAILED = "store_failed"  # the close reason of a crawl stopped because the store cannot be written
FRONTIER_ERROR = "newscrawl/frontier_error"  # why a frontier worker lost its frontier (crawler/frontier_worker.py)
FRONTIER_FAILED = "frontier_failed"  # the close reason of a crawl stopped by it
REPLAY_UNRECORDED = "newscrawl/replay_unrecorded"  # crawler/recordings.py

FINISHED, FAILED, INTERRUPTED_STATUS = "finished", "failed", "interrupted"


@dataclass(frozen=True)
class Outcome:
    status: str  # finished, failed or interrupted
    error: str | None = None  # why it failed, or what interrupted it
    warnings: tuple[str, ...] = ()  # what a finished crawl should tell


def store_failed(stats, error: str) -> CloseSpider:
    """The store cannot be used: record why (the first reason given is the crawl's error) and
    return the exception that stops the crawl as failed, to raise where Scrapy takes it (a
    callback, a spider middleware, a spider_opened handler)."""
    if stats.get_value(STORE_ERROR) is None:
        stats.set_value(STORE_ERROR, error)
    return CloseSpider(STORE_FAILED)


def add_warning(stats, warning: str) -> None:
    """One more line for the crawl's warnings (shown in the summary, stats and --json)."""
    stats.set_value(WARNINGS, [*stats.get_value(WARNINGS, []), warning])


def crawl_outcome(reason: str | None, stats: dict) -> Outcome:
    """How the crawl ended, from Scrapy's close reason (None when the crawl was stopped
    before it could close) and its stats."""
    warnings = tuple(stats.get(WARNINGS, ()))
    if stats.get(STORE_ERROR):
        return Outcome(FAILED, stats[STORE_ERROR], warnings)
    if stats.get(FRONTIER_ERROR):
        return Outcome(FAILED, stats[FRONTIER_ERROR], warnings)
    if stats.get(INTERRUPTED) or reason == "shutdown":
        return Outcome(INTERRUPTED_STATUS, f"stopped by {stats.get(INTERRUPTED) or 'a signal'}", warnings)
    if reason is None:
        return Outcome(FAILED, "the crawl stopped before it ended", warnings)
    if reason != FINISHED and not reason.startswith("closespider_"):
        return Outcome(FAILED, f"the crawl was closed: {reason}", warnings)
    pages = stats.get("response_received_count", 0)
    unrecorded = stats.get(REPLAY_UNRECORDED, 0)
    if unrecorded and unrecorded >= pages:
        return Outcome(FAILED, "the recordings hold none of the site's URLs (another --replay folder?)", warnings)
    answered = stats.get(START_PAGES, {})
    # statuses as the spider got them: a 304 the HTTP cache had a copy for came as that copy's 200
    if not stats.get(JOINED) and not any(200 <= status < 300 for status in answered.values()):
        failures = [*(f"{url} answered HTTP {status}" for url, status in answered.items()),
                    *(f"{url} failed ({why})" for url, why in stats.get(START_FAILURES, {}).items()
                      if url not in answered)]
        return Outcome(FAILED, "no start page could be fetched" + (f": {', '.join(failures)}" if failures else
                                                                     " (no answer; see the errors by kind)"),
                       warnings)
    # every article page failed (a firewall refusing them, a broken extraction rule): nothing was read
    # (an article page read is an item, stored or dropped, unless extraction failed on it)
    read = stats.get("item_scraped_count", 0) + stats.get("item_dropped_count", 0) - stats.get(
        "newscrawl/errors/extraction", 0)
    if stats.get(ARTICLE_PAGES_FAILED) and read <= 0:
        return Outcome(FAILED, f"every article page it asked for failed ({stats[ARTICLE_PAGES_FAILED]}; see the "
                               "errors by kind)", warnings)
    if reason not in (FINISHED, "closespider_itemcount"):  # a page/time limit: an intended stop, but partial
        warnings += (f"{STOPPED_EARLY}{reason}",)
    if stats.get("depth/request_ignored_count"):  # Scrapy's DepthMiddleware left links out: partial too
        warnings += (f"{STOPPED_EARLY}{stats['depth/request_ignored_count']} links beyond DEPTH_LIMIT (--max-depth) "
                     "not followed",)
    return Outcome(FINISHED, None, warnings)


class WatchStartPages:
    """Extension: keeps the HTTP status each start page (after redirects) was answered with."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def response_received(self, response, request) -> None:
        if request.meta.get("is_start_request"):
            self.stats.set_value(START_PAGES, {**self.stats.get_value(START_PAGES, {}),
                                               request.url: response.status})


class WarnArticlelessStartPages:
    """Spider middleware, next to the spider: a start page on which the spider found no article
    link that the crawl follows is a warning (the article pattern or the page is wrong), with that
    page's status, and the hosts of the article links it found off the site, if any."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result):
        articles = []
        for output in result:
            if _is_article_request(output):
                articles.append(output.url)
            yield output
        self._check(response, articles)

    async def process_spider_output_async(self, response, result):
        articles = []
        async for output in result:
            if _is_article_request(output):
                articles.append(output.url)
            yield output
        self._check(response, articles)

    def _check(self, response, articles: list[str]) -> None:
        if not response.meta.get("is_start_request"):
            return
        domains = getattr(self.crawler.spider, "allowed_domains", None)
        if any(on_site(url, domains) for url in articles):
            return
        off_site = ", ".join(dict.fromkeys(urlsplit(url).hostname or url for url in articles))
        add_warning(self.crawler.stats, f"the article pattern matched no link on the start page {response.url} "
                                        f"(HTTP {response.status})" + (f" but links off the site, which are not "
                                                                       f"followed: {off_site}" if off_site else ""))


def _is_article_request(output) -> bool:
    return isinstance(output, Request) and output.meta.get(PAGE) == ARTICLE
