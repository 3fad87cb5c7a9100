"""Incremental crawls: a repeat crawl fetches what is new, and little else.

Spiders say what each request fetches (spiders/base.py: ``meta[PAGE]`` is LIST
or ARTICLE, ``meta[LIST_DATE]`` the date the list shows beside the link).
SkipStoredArticles drops the article requests the crawl does not need and ends
the walk through a column's pagination at the first list page with nothing new.
The pages that are fetched again (list pages, refreshed articles) carry the
validators of the copy in Scrapy's HTTP cache (settings.py), so an unchanged
page costs the server a 304; CountNotModified counts those.

Settings: NEWSCRAWL_REFRESH fetches stored articles again (and walks every list
page), NEWSCRAWL_FULL walks every list page (as does the crawl after one that did
not finish), NEWSCRAWL_SINCE (YYYY-MM-DD) skips the articles a list dates before
that day, NEWSCRAWL_UNTIL those it dates after.
"""

from __future__ import annotations

import logging
from datetime import date

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from w3lib.url import canonicalize_url

from crawler.outcomes import STOPPED_EARLY, store_failed
from crawler.urls import spellings
from spiders.base import ARTICLE, LIST, LIST_DATE, PAGE
from storage import Store, StoreError

logger = logging.getLogger(__name__)


class SkipStoredArticles:
    """Spider middleware: drops requests for stored articles (unless refreshing) and
    for articles listed before NEWSCRAWL_SINCE or after NEWSCRAWL_UNTIL; a list page whose
    articles are all dropped is the last one followed (unless NEWSCRAWL_FULL or NEWSCRAWL_REFRESH),
    except when some were dropped for being too recent: older ones come on later pages."""

    def __init__(self, crawler):
        settings = crawler.settings
        self.stats = crawler.stats
        self.db_url = settings["NEWSCRAWL_DB"]
        self.refresh = settings.getbool("NEWSCRAWL_REFRESH")
        self.full = self.refresh or settings.getbool("NEWSCRAWL_FULL")
        since = settings.get("NEWSCRAWL_SINCE")
        self.since = date.fromisoformat(since) if since else None
        until = settings.get("NEWSCRAWL_UNTIL")
        self.until = date.fromisoformat(until) if until else None
        self.store: Store | None = None
        self.skipped: set[str] = set()  # an article linked from several list pages counts once

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NEWSCRAWL_DB"):
            raise NotConfigured("NEWSCRAWL_DB is not set")
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider) -> None:
        self.store = Store(self.db_url)
        # A run that did not finish (interrupted, failed), or that a page, time, list-page or depth cap stopped early,
        # may have stored a list page's articles without reaching the next page: stopping at the
        # first page with nothing new would skip those forever, so the walk after it goes through
        # every list page.
        previous = self.store.last_run(spider.name, before=self.stats.get_value("newscrawl/run_id"))
        if previous and (previous.status != "finished"
                         or any(warning.startswith(STOPPED_EARLY) for warning in previous.warnings)):
            self.full = True

    def spider_closed(self) -> None:
        self.store.close()

    # A list page's output is judged as a whole: its pagination is followed or not
    # depending on its articles. Both forms, so that no callback is converted.
    def process_spider_output(self, response: Response, result):
        yield from self._filter(list(result))

    async def process_spider_output_async(self, response: Response, result):
        for output in self._filter([output async for output in result]):
            yield output

    def _filter(self, outputs: list) -> list:
        articles = [o for o in outputs if isinstance(o, Request) and o.meta.get(PAGE) == ARTICLE]
        if not articles:
            return outputs
        reasons = {id(request): reason for request, reason in self._not_needed(articles)}
        walk_on = self.full or len(reasons) < len(articles) or "recent" in reasons.values()
        return [o for o in outputs if id(o) not in reasons
                and (walk_on or not isinstance(o, Request) or o.meta.get(PAGE) != LIST)]

    def _not_needed(self, articles: list[Request]):
        urls = {id(request): canonicalize_url(request.url) for request in articles}
        # an article is stored under any spelling of its URL (http/https, index.html), or as an alias
        known = {id(request): spellings(request.url) for request in articles}
        try:
            stored = set() if self.refresh else self.store.stored_urls(set().union(*known.values()))
        except StoreError as exc:  # not this page's fault: the crawl cannot go on
            raise store_failed(self.stats, str(exc)) from None
        for request in articles:
            url = urls[id(request)]
            shown = request.meta.get(LIST_DATE)
            if known[id(request)] & stored:
                reason = "known"
            elif self.since and shown and shown < self.since:
                reason = "old"
            elif self.until and shown and shown > self.until:
                reason = "recent"
            else:
                continue
            if url not in self.skipped:
                self.skipped.add(url)
                self.stats.inc_value(f"newscrawl/skipped_{reason}")
            yield request, reason


class CountNotModified:
    """Downloader middleware below HttpCacheMiddleware: counts the 304 answers,
    which the cache then turns into its stored copy of the page."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 304:
            self.stats.inc_value("newscrawl/not_modified")
        return response
