"""Feeds and sitemaps: article lists a site publishes for machines.

A spider (a site module, or a [sites.NAME] entry) may name, beside or instead of
its start URLs:

    feed_urls = ["https://www.example.gov.cn/rss/news.xml"]       # RSS or Atom
    sitemap_urls = ["https://www.example.gov.cn/robots.txt"]      # a sitemap, a sitemap index, or
                                                                   # robots.txt, whose Sitemap: lines are followed

Every entry of a feed or sitemap is an article, unless the spider has an article
pattern: then only the entries it matches are. Each article request carries the
date the entry gives (news-sitemap publication_date, else lastmod; a feed
entry's published, else updated date) in ``meta[LIST_DATE]``, so --since and the
incremental walk (crawler/incremental.py) treat it as they treat a list's dates.
Feeds and sitemaps are requested as LIST pages.

Parsing is the field's: feedparser for feeds, Scrapy's sitemap utilities
(scrapy.utils.sitemap) for sitemaps and robots.txt.
"""

from __future__ import annotations

import logging
import struct
from datetime import date
from urllib.parse import urlsplit

import feedparser
from lxml.etree import XMLSyntaxError
from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

logger = logging.getLogger(__name__)

# the Google News sitemap extension (https://www.google.com/schemas/sitemap-news/0.9)
NEWS_NAMESPACE = "http://www.google.com/schemas/sitemap-news/0.9"


class NewsSitemap(Sitemap):
    """Scrapy's sitemap parser, also keeping a news sitemap's <news:publication_date>,
    which Scrapy's drops (it keeps the text of an entry's direct children only).

    Iterating gives one dict per entry: loc, and lastmod, publication_date when given.
    """

    def _process_sitemap_element(self, elem):
        published = elem.findtext(f"{{{NEWS_NAMESPACE}}}news/{{{NEWS_NAMESPACE}}}publication_date")
        entry = super()._process_sitemap_element(elem)  # clears elem: read the date first
        if entry is not None and published:
            entry["publication_date"] = published.strip()
        return entry


def entry_date(value: str | None) -> date | None:
    """The day of a W3C datetime (2024-05-12, 2024-05-12T08:30:00+08:00), None if unreadable."""
    try:
        return date.fromisoformat(value.strip()[:10]) if value else None
    except ValueError:
        return None


def sitemap_entries(body: bytes) -> tuple[str, list[tuple[str, date | None]]]:
    """(type, [(URL, date), ...]) of a sitemap's XML: type is "urlset" (article URLs),
    "sitemapindex" (sitemap URLs), or the root tag of something that is no sitemap (no entries)."""
    try:
        sitemap = NewsSitemap(body)
    except (StopIteration, XMLSyntaxError):  # no XML element at all
        return "", []
    if sitemap.type not in ("urlset", "sitemapindex"):
        return sitemap.type, []
    return sitemap.type, [(entry["loc"], entry_date(entry.get("publication_date") or entry.get("lastmod")))
                          for entry in sitemap]


def feed_entries(body: bytes) -> list[tuple[str, date | None]] | None:
    """[(article URL, date), ...] of an RSS or Atom feed; None when the body is no feed."""
    feed = feedparser.parse(body)
    if not feed.entries and (feed.bozo or not feed.version):
        return None
    entries = []
    for entry in feed.entries:
        if entry.get("link"):
            shown = entry.get("published_parsed") or entry.get("updated_parsed")
            entries.append((entry.link, date(*shown[:3]) if shown else None))
    return entries


def is_robots_txt(url: str) -> bool:
    return urlsplit(url).path.endswith("/robots.txt")


def sitemap_body(response: Response, max_size: int = 0) -> bytes | None:
    """The XML of a sitemap response, gunzipped when it is a .xml.gz file (as SitemapSpider does),
    to at most max_size bytes (0: no limit); None when it is larger or broken."""
    if gzip_magic_number(response):
        try:
            return gunzip(response.body, max_size=max_size)
        except (ValueError, OSError, EOFError, struct.error):  # over the size limit, or a broken gzip file
            return None
    return response.body


class FeedsAndSitemaps:
    """Spider mixin (spiders/base.py): requests the spider's feeds and sitemaps, and
    turns their entries into article requests. The spider gives list_request(url, callback)
    and article_request(response, url, date), which say what each request fetches."""

    feed_urls: list[str] = []
    sitemap_urls: list[str] = []

    def source_requests(self):
        """The requests for the spider's feeds and sitemaps."""
        for url in self.feed_urls:
            yield self.list_request(url, self.parse_feed)
        for url in self.sitemap_urls:
            yield self.list_request(url, self.parse_sitemap)

    def parse_feed(self, response: Response):
        entries = feed_entries(response.body)
        if entries is None:
            self.not_a_source(response, "an RSS or Atom feed")
            return
        for url, shown in entries:
            yield from self.article_request(response, url, shown)

    def parse_sitemap(self, response: Response):
        if is_robots_txt(response.url):
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                yield self.list_request(url, self.parse_sitemap)
            return
        body = sitemap_body(response, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        kind, entries = sitemap_entries(body) if body else ("", [])
        if kind == "sitemapindex":
            for url, _ in entries:
                yield self.list_request(response.urljoin(url), self.parse_sitemap)
        elif kind == "urlset":
            for url, shown in entries:
                yield from self.article_request(response, url, shown)
        else:
            self.not_a_source(response, "a sitemap")

    def not_a_source(self, response: Response, expected: str) -> None:
        self.crawler.stats.inc_value("newscrawl/errors/other")
        logger.error("not %s: %s", expected, response.url)
