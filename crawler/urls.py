"""One article, one URL: the spelling of a URL the crawl asks for, stores and compares.

- clean_url(): tracking and session parameters (NEWSCRAWL_TRACKING_PARAMS, glob
  patterns such as ``utm_*``, plus NEWSCRAWL_TRACKING_PARAMS_EXTRA) and the
  #fragment are removed before a request is made, by CleanRequestUrls;
- page_identity(): http and https, ``dir/``, ``dir`` and ``dir/index.html`` are one
  page; PageFingerprinter gives such requests one fingerprint, so the duplicate
  filter and the HTTP cache take them for one;
- spellings(): the canonical URLs one page may be stored under, which incremental
  crawls look up (crawler/incremental.py).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from weakref import WeakKeyDictionary

from w3lib.url import canonicalize_url, url_query_cleaner

from crawler.literals import module_literals

if TYPE_CHECKING:
    from scrapy import Request

# Scrapy is imported by the classes that need it: `newscrawl show` finds an article by any of
# its URL's spellings with the functions here, and a reading command starts without Scrapy.

_PATH_PARAMETER = re.compile(r";([^;/?#=]+)=[^;/?#]*")  # ;jsessionid=… in a path
_INDEX_PAGE = re.compile(r"/(?:index|default)\.s?html?$", re.IGNORECASE)


def tracking_patterns(settings) -> list[str]:
    """The glob patterns (lower case) of the parameters clean_url() removes."""
    return [pattern.lower() for pattern in (*settings.getlist("NEWSCRAWL_TRACKING_PARAMS"),
                                            *settings.getlist("NEWSCRAWL_TRACKING_PARAMS_EXTRA"))]


def default_tracking_patterns() -> list[str]:
    """tracking_patterns() of the project settings, read from their source without loading them."""
    declared = module_literals("crawler.settings")
    return [pattern.lower() for pattern in (*declared["NEWSCRAWL_TRACKING_PARAMS"],
                                            *declared["NEWSCRAWL_TRACKING_PARAMS_EXTRA"])]


def clean_url(url: str, patterns: list[str]) -> str:
    """url without the query and path parameters whose (case-folded) names match a pattern,
    and without its #fragment; the other parameters keep their order and spelling."""
    def tracking(name: str) -> bool:
        return any(fnmatchcase(name.lower(), pattern) for pattern in patterns)

    parts = urlsplit(url)
    path = _PATH_PARAMETER.sub(lambda match: "" if tracking(match[1]) else match[0], parts.path)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True) if tracking(name)})
    stripped = urlunsplit(parts._replace(path=path))
    return url_query_cleaner(stripped, names, remove=True, unique=False) if names or parts.fragment else stripped


def is_http_url(url: str) -> bool:
    """Whether url is an http(s) URL a request can be made for: with a host, and a port if any in
    range (urlsplit raises on "http://[bad/" and on the port of "http://host:99999/")."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:
        return False


def on_site(url: str, domains: list[str] | None) -> bool:
    """Whether url's host is one of the domains or under one (a spider's allowed_domains; any
    port); True when there are none."""
    host = urlsplit(url).hostname or ""
    return not domains or any(host == domain or host.endswith(f".{domain}") for domain in domains)


def page_identity(url: str) -> str:
    """What is the same for every spelling of one page: the canonical URL without its scheme,
    an index page's file name or a trailing slash. ``//host/news/1.html``"""
    parts = urlsplit(canonicalize_url(url))
    path = _INDEX_PAGE.sub("/", parts.path).rstrip("/") or "/"
    return urlunsplit(("", parts.netloc, path, parts.query, ""))


def spellings(url: str) -> set[str]:
    """The canonical URLs the page at url may be stored under: http and https, with and without
    a trailing slash or index.html."""
    parts = urlsplit(canonicalize_url(url))
    base = _INDEX_PAGE.sub("/", parts.path).rstrip("/")
    a_file = "." in base.rsplit("/", 1)[-1]  # /news/1.html is only itself; /news, /news/ and /news/index.html are one
    paths = {base} if a_file else {base or "/", f"{base}/", f"{base}/index.html", f"{base}/index.htm"}
    return {canonicalize_url(urlunsplit((scheme, parts.netloc, path, parts.query, "")))
            for scheme in ("http", "https") for path in paths}


class PageFingerprinter:
    """REQUEST_FINGERPRINTER_CLASS: Scrapy's fingerprint of the request for page_identity(url)."""

    def __init__(self, crawler=None):
        from scrapy.utils.request import RequestFingerprinter

        self._scrapy = RequestFingerprinter(crawler)
        self._cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def fingerprint(self, request: Request) -> bytes:
        if request not in self._cache:
            self._cache[request] = self._scrapy.fingerprint(request.replace(url=f"http:{page_identity(request.url)}"))
        return self._cache[request]


class CleanRequestUrls:
    """Spider middleware: the start requests and the spider's requests ask for clean_url(url)."""

    def __init__(self, patterns: list[str]):
        from scrapy import Request

        self.patterns = patterns
        self._request_class = Request

    @classmethod
    def from_crawler(cls, crawler):
        return cls(tracking_patterns(crawler.settings))

    def _clean(self, output):
        if isinstance(output, self._request_class):
            url = clean_url(output.url, self.patterns)
            return output if url == output.url else output.replace(url=url)
        return output

    async def process_start(self, start):
        async for output in start:
            yield self._clean(output)

    def process_spider_output(self, response, result):
        for output in result:
            yield self._clean(output)

    async def process_spider_output_async(self, response, result):
        async for output in result:
            yield self._clean(output)
