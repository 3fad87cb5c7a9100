"""Which URL names an article, and which other URLs led to it.

NameArticles (spider middleware) gives each ArticleItem its name: the page's
``<link rel="canonical">`` when that points into the same site and looks like an
article of the site, else the URL it was fetched from; every other URL that led
to the page (the first request's URL, redirect and meta-refresh sources, the
fetched URL when the canonical one differs) becomes an alias of the item.
StoreArticles files an item's aliases with the article, so that an incremental
crawl knows them as stored; RecordAliases files the source of a redirect to a
page fetched already, which Scrapy drops, when the crawl ends.
"""

from __future__ import annotations

import re

from scrapy import signals
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import canonicalize_url

from crawler.items import ArticleItem
from crawler.urls import clean_url, on_site, tracking_patterns
from spiders.base import ARTICLE_CONTINUED, PAGE
from storage import Store


class NameArticles:
    """Spider middleware: an article item's url is its canonical URL, and its aliases the others."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.patterns = tracking_patterns(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result):
        for output in result:
            yield self._name(response, output)

    async def process_spider_output_async(self, response, result):
        async for output in result:
            yield self._name(response, output)

    def _name(self, response, output):
        if not isinstance(output, ArticleItem):
            return output
        if response.meta.get(PAGE) == ARTICLE_CONTINUED:
            # the last page of an article split over pages: the item already has page 1's URL,
            # and this page's URL and canonical link name only this page
            return output
        led_here = [*response.meta.get("redirect_urls", []), response.url, output.url]
        output.url = self._canonical(response) or output.url
        name = canonicalize_url(output.url)
        output.aliases = sorted({canonicalize_url(clean_url(url, self.patterns)) for url in led_here} - {name})
        return output

    def _canonical(self, response) -> str | None:
        """The page's rel=canonical URL when it is on the spider's site and matches its article pattern."""
        if "canonical" not in response.text.lower():  # most pages: no need to parse them here
            return None
        href = (response.css('link[rel="canonical"]::attr(href)').get() or "").strip()
        if not href:
            return None
        url = clean_url(response.urljoin(href), self.patterns)
        spider = self.crawler.spider
        domains = getattr(spider, "allowed_domains", None) or [urlparse_cached(response).hostname]
        article_links = getattr(spider, "article_links", "")
        return url if on_site(url, domains) and (not article_links or re.search(article_links, url)) else None


class RecordAliases:
    """Item pipeline before StoreArticles, so that it closes after StoreArticles has written its
    last batch: the source of a redirect to a page the crawl had fetched already (the duplicate
    filter drops such a redirect) is filed as that page's alias when the crawl ends."""

    def __init__(self, db_url: str, patterns: list[str]):
        self.db_url = db_url
        self.patterns = patterns
        self.store: Store | None = None
        self.redirected: list[tuple[str, list[str]]] = []  # (target URL, the URLs redirected to it)

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler.settings["NEWSCRAWL_DB"], tracking_patterns(crawler.settings))
        crawler.signals.connect(pipeline.request_dropped, signal=signals.request_dropped)
        return pipeline

    def open_spider(self) -> None:
        self.store = Store(self.db_url)

    def close_spider(self) -> None:
        for target, sources in self.redirected:
            self.store.add_aliases(target, {canonicalize_url(clean_url(url, self.patterns)) for url in sources})
        self.store.close()

    def request_dropped(self, request) -> None:
        if request.meta.get("redirect_urls"):
            self.redirected.append((canonicalize_url(request.url), request.meta["redirect_urls"]))
