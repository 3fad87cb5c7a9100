"""Fetching the few pages a command looks at (extract, check, discover), politely, without a crawl.

These commands fetch a handful of pages one after the other and need each answer
at once, to print it: a Scrapy crawl (a reactor per process, a spider to carry the
logic in callbacks) would add seconds and indirection for nothing. So this is a
plain urllib fetch that keeps the crawl's manners, from the project settings: its
User-Agent (USER_AGENT), robots.txt (ROBOTSTXT_OBEY, read with Protego, Scrapy's
own robots.txt parser), DOWNLOAD_DELAY between two requests to a host,
DOWNLOAD_TIMEOUT and DOWNLOAD_MAXSIZE. Proxies come from the environment
(http_proxy) as for urllib. Answers are Scrapy responses, so spiders, link
extractors and the extraction read them as in a crawl.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from protego import Protego
from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from crawler.urls import is_http_url


class FetchError(Exception):
    """A page that could not be fetched (network, robots.txt): one line saying why."""


def as_response(url: str, body: bytes, status: int = 200, headers: dict | None = None) -> Response:
    """The Scrapy response (HtmlResponse, XmlResponse, TextResponse, ...) for a page's bytes."""
    headers = Headers(headers or {})
    response_class = responsetypes.from_args(headers=headers, url=url, body=body)
    return response_class(url=url, status=status, headers=headers, body=body, request=Request(url))


def file_response(path: Path, url: str | None = None) -> Response:
    """A saved page as a response for URL (default: the file's file:// URL); OSError if unreadable."""
    return as_response(url or path.resolve().as_uri(), path.read_bytes())


# The rules of a host whose robots.txt answered a server error: RFC 9309 (2.3.1.4) asks a crawler
# that cannot reach it to fetch nothing.
FORBID_ALL = "User-agent: *\nDisallow: /\n"


class PoliteFetcher:
    """Fetches pages one at a time as the crawl would; remembers each host's robots.txt."""

    def __init__(self, settings):
        self.user_agent = settings["USER_AGENT"]
        self.obey_robots = settings.getbool("ROBOTSTXT_OBEY")
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        self.robots: dict[str, Protego] = {}
        self.last_request: dict[str, float] = {}  # host -> time.monotonic() of its last request

    def fetch(self, url: str) -> Response:
        """The answer to GET url (any status, redirects followed). FetchError when robots.txt
        forbids it or no answer came (DNS, connection, timeout)."""
        if not is_http_url(url):
            raise FetchError(f"{url!r} is not an http(s) URL")
        if self.obey_robots and urlsplit(url).path != "/robots.txt" \
                and not self.robots_txt_of(url).can_fetch(url, self.user_agent):
            raise FetchError(f"robots.txt of {urlsplit(url).netloc} forbids {url}")
        return self._get(url)

    def robots_txt_of(self, url: str) -> Protego:
        """The rules of url's host: none when its robots.txt is missing or cannot be had (as Scrapy
        does), everything forbidden when it answered a server error (FORBID_ALL)."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self.robots:
            try:
                answer = self._get(f"{host}/robots.txt")
                if 500 <= answer.status < 600:
                    text = FORBID_ALL
                else:
                    text = answer.body.decode("utf-8", "replace") if answer.status == 200 else ""
            except FetchError:
                text = ""
            self.robots[host] = Protego.parse(text)
        return self.robots[host]

    def _get(self, url: str) -> Response:
        host = urlsplit(url).netloc
        wait = self.last_request.get(host, -self.delay) + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_request[host] = time.monotonic()
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return self._response(answer.geturl(), answer.status, answer.headers, answer)
        except urllib.error.HTTPError as error:  # 4xx, 5xx: an answer all the same
            with error:
                return self._response(error.geturl(), error.code, error.headers, error)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"no answer from {url}: {reason}") from None

    def _response(self, url: str, status: int, headers, stream) -> Response:
        body = stream.read(self.max_size + 1) if self.max_size else stream.read()
        if self.max_size and len(body) > self.max_size:
            raise FetchError(f"{url} is larger than DOWNLOAD_MAXSIZE ({self.max_size} bytes)")
        return as_response(url, body, status, {name: headers.get_all(name) for name in set(headers.keys())})
