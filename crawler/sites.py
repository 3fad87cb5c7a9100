"""The sites file: news columns crawled without a spider module.

    [sites.yunling]
    start_url = "http://www.example.gov.cn/col/col1229/index.html"    # or start_urls = [...]
    article_pattern = '/art/\\d{4}/\\d{1,2}/\\d{1,2}/art_1229_\\d+\\.html$'
    page_pattern = '/col/col1229/index\\.html\\?uid=\\d+&pageNum=\\d+$'  # optional: the list's pagination
    allowed_domains = ["www.example.gov.cn"]                          # optional: the start URLs' hosts
    feed_urls = ["http://www.example.gov.cn/rss.xml"]                 # optional: RSS/Atom feeds of articles
    sitemap_urls = ["http://www.example.gov.cn/robots.txt"]           # optional: sitemaps, or robots.txt naming them

    [sites.yunling.json_list]          # optional: a list the site serves as JSON (spiders/cms_lists.py)
    url = "https://www.example.gov.cn/api/news?column=1229&page={page}"
    entries = "data.list"              # JMESPath: the entries of one page
    link = "url"                       # JMESPath in an entry: the article's URL
    date = "publishTime"               # optional: the date the list gives
    first_page = 1                     # optional

A site may have feeds or sitemaps only (no start URL); their entries are all
articles unless it gives an article_pattern (spiders/sources.py).

SiteLoader, Scrapy's spider loader for this project (settings.SPIDER_LOADER_CLASS),
adds a GenericSpider for each entry of NEWSCRAWL_SITES_FILE to the spider
modules' spiders, so that every command (and `scrapy list`, `scrapy crawl NAME`)
knows these sites by name like any other.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from scrapy.spiderloader import SpiderLoader

from spiders.cms_lists import JsonList
from spiders.generic import GenericSpider

# The site name `newscrawl crawl` takes the start URL and patterns of from its options.
GENERIC = "generic"
_KEYS = ("start_url", "start_urls", "article_pattern", "page_pattern", "allowed_domains", "feed_urls", "sitemap_urls",
         "json_list")
_JSON_LIST_KEYS = ("url", "entries", "link", "date", "first_page")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SitesFileError(Exception):
    """A sites file that cannot be used: one line naming the file, the entry and the fault."""


class SiteLoader(SpiderLoader):
    """The spider modules' spiders and the sites file's entries (a missing file has none)."""

    def __init__(self, settings):
        super().__init__(settings)
        path = settings.get("NEWSCRAWL_SITES_FILE")
        sites = load_sites(Path(path)) if path and Path(path).is_file() else {}
        for name in sites:
            if name in self._spiders:
                raise SitesFileError(f"{path}: [sites.{name}] has the name of a spider module")
        self._spiders.update(sites)


def load_sites(path: Path) -> dict[str, type[GenericSpider]]:
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("sites", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SitesFileError(f"cannot read sites file {path}: {exc}") from None
    if not isinstance(entries, dict):
        raise SitesFileError(f"{path}: `sites` must be a table of [sites.NAME] entries")
    return {name: _site_spider(f"{path}: [sites.{name}]", name, entry) for name, entry in entries.items()}


def _site_spider(where: str, name: str, entry) -> type[GenericSpider]:
    if not _NAME.match(name) or name == GENERIC:
        raise SitesFileError(f"{where}: a site name is letters, digits, '.', '_' and '-', and not {GENERIC!r}")
    if not isinstance(entry, dict):
        raise SitesFileError(f"{where} must be a table")
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise SitesFileError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(_KEYS)})")
    start_url = _string(where, entry, "start_url")
    start_urls = _string_list(where, entry, "start_urls") or ([start_url] if start_url else [])
    article_pattern = _string(where, entry, "article_pattern")
    feed_urls, sitemap_urls = _string_list(where, entry, "feed_urls"), _string_list(where, entry, "sitemap_urls")
    if not (start_urls and article_pattern) and not (feed_urls or sitemap_urls):
        raise SitesFileError(f"{where} needs start_url (or start_urls) and article_pattern, or feed_urls or sitemap_urls")
    try:
        return GenericSpider.for_site(name, start_urls, article_pattern, _string(where, entry, "page_pattern") or "",
                                      _string_list(where, entry, "allowed_domains"), feed_urls, sitemap_urls,
                                      _json_list(where, entry))
    except ValueError as exc:
        raise SitesFileError(f"{where}: {exc}") from None


def _json_list(where: str, entry: dict) -> JsonList | None:
    """The entry's [sites.NAME.json_list] table; ValueError (from JsonList) says what is wrong in it."""
    table = entry.get("json_list")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SitesFileError(f"{where}: json_list must be a table ([sites.NAME.json_list])")
    unknown = sorted(set(table) - set(_JSON_LIST_KEYS))
    if unknown:
        raise SitesFileError(f"{where}: json_list: unknown key {unknown[0]!r} (keys: {', '.join(_JSON_LIST_KEYS)})")
    if not all(key in table for key in ("url", "entries", "link")):
        raise SitesFileError(f"{where}: json_list needs url, entries and link")
    return JsonList(**table)


def _string(where: str, entry: dict, key: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise SitesFileError(f"{where}: {key} must be a string")
    return value


def _string_list(where: str, entry: dict, key: str) -> list[str]:
    values = entry.get(key, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise SitesFileError(f"{where}: {key} must be a list of strings")
    return values
