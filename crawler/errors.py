"""Failed pages, counted once each and by kind.

A page fails when the crawl gives up on it: its download failed after the
retries, its answer was an HTTP error after the retries (or a 3xx that leads
nowhere), it was too large, its
redirects went round in a circle, robots.txt forbade it, it was not an HTML
page, or the spider's callback crashed on it. Each failed page increments the
Scrapy stat ``newscrawl/errors/<kind>`` exactly once; the run's ``errors`` is
the sum of those stats. The first few failed pages are named at WARNING
(NEWSCRAWL_ERRORS_NAMED of them), the rest are only counted.

Kinds: timeout, connection, http_status, too_large, redirect_loop, robots,
extraction (counted by the extraction pipeline), other.

CountFailedPages is a downloader middleware below RetryMiddleware (550), so it
sees a download error or an HTTP error status only when the retries are used
up, and an extension (spider_error signal) for callbacks that crash. The
components that refuse a page themselves (crawler/middlewares.py) count it
with count_failed_page() before they raise IgnoreRequest, since such an
exception bypasses the other middlewares. Any other exception raised while a
response passes the middlewares (Scrapy's redirect to a URL that is none, a
Content-Encoding that does not decode) bypasses them too: the log formatter,
which Scrapy asks about every download error a page ends with, counts those.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadFailedError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError)
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.logformatter import LogFormatter
from twisted.internet import error as twisted_errors
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.outcomes import ARTICLE_PAGES_FAILED, START_FAILURES
from spiders.base import ARTICLE, PAGE

logger = logging.getLogger(__name__)

KINDS = ("timeout", "connection", "http_status", "too_large", "redirect_loop", "robots", "extraction", "other")
STAT_PREFIX = "newscrawl/errors/"
_COUNTED = "newscrawl_failure_counted"  # request meta: CountFailedPages counted the download error it ended with

# Scrapy's download errors (2.19), by kind; twisted's own for the handlers that still raise them
_TIMEOUTS = (DownloadTimeoutError, twisted_errors.TimeoutError, twisted_errors.TCPTimedOutError)
_CONNECTION = (DownloadConnectionRefusedError, CannotResolveHostError, DownloadFailedError, ResponseDataLossError,
               twisted_errors.ConnectError, twisted_errors.ConnectionLost, twisted_errors.ConnectionDone,
               twisted_errors.DNSLookupError, ResponseFailed, ResponseNeverReceived, ConnectionError)
# the message of scrapy.downloadermiddlewares.robotstxt's refusal
_ROBOTS_REFUSAL = "Forbidden by robots.txt"


def errors_total(stats: dict) -> int:
    """The run's failed pages: the sum of the newscrawl/errors/<kind> stats."""
    return sum(value for key, value in stats.items() if key.startswith(STAT_PREFIX))


def errors_by_kind(stats: dict) -> dict[str, int]:
    """The failed pages by kind: {"timeout": 2, "http_status": 1} from the newscrawl/errors/<kind> stats."""
    return {key.removeprefix(STAT_PREFIX): count for key, count in sorted(stats.items())
            if key.startswith(STAT_PREFIX) and count}


def count_failed_page(crawler, url: str, kind: str, reason: str, meta: dict | None = None) -> None:
    """Count one failed page under kind (one of KINDS); name it at WARNING while fewer than
    NEWSCRAWL_ERRORS_NAMED pages have failed, and say once that the rest are only counted.
    meta, the failed request's, says whether it was a start page (its reason is kept) or an
    article page (counted): the crawl's outcome tells of those (crawler/outcomes.py)."""
    stats = crawler.stats
    stats.inc_value(STAT_PREFIX + kind)
    if (meta or {}).get("is_start_request"):
        stats.set_value(START_FAILURES, {**stats.get_value(START_FAILURES, {}), url: f"{kind}: {reason}"})
    if (meta or {}).get(PAGE) == ARTICLE:
        stats.inc_value(ARTICLE_PAGES_FAILED)
    failed, named = errors_total(stats.get_stats()), crawler.settings.getint("NEWSCRAWL_ERRORS_NAMED")
    if failed <= named:
        logger.warning("failed page (%s): %s: %s", kind, url, reason)
    elif failed == named + 1:
        logger.warning("more than %d pages failed: the others are only counted", named)


def kind_of(exception: BaseException) -> str:
    """The kind (one of KINDS) of a download error that ended a page."""
    if isinstance(exception, _TIMEOUTS):
        return "timeout"
    if isinstance(exception, DownloadCancelledError):  # larger than DOWNLOAD_MAXSIZE
        return "too_large"
    if isinstance(exception, _CONNECTION):
        return "connection"
    if isinstance(exception, IgnoreRequest) and str(exception) == _ROBOTS_REFUSAL:
        return "robots"
    return "other"


def is_page(request: Request) -> bool:
    """Whether a request fetches a page of the crawl (not Scrapy's own robots.txt fetch)."""
    return request.callback is not NO_CALLBACK


class CountFailedPages:
    """Downloader middleware, below RetryMiddleware: counts the pages whose download failed for
    good, and those answered with a status other than 2xx once the retries are used up and the
    redirects followed."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_error, signal=signals.spider_error)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        allowed = request.meta.get("handle_httpstatus_list", ())
        # not only 4xx/5xx: a 3xx here led nowhere (a redirect without a Location, a 300, a 304 the
        # cache had no copy for), and Scrapy's HttpErrorMiddleware drops it as silently
        if not 200 <= response.status < 300 and response.status not in allowed and is_page(request) \
                and not request.meta.get("handle_httpstatus_all"):
            count_failed_page(self.crawler, request.url, "http_status", f"HTTP {response.status}",
                              request.meta)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not is_page(request):
            return
        if isinstance(exception, IgnoreRequest) and str(exception) != _ROBOTS_REFUSAL:
            return  # counted by whoever refused the page, if it is a failure
        count_failed_page(self.crawler, request.url, kind_of(exception), _reason(exception), request.meta)
        request.meta[_COUNTED] = True

    def spider_error(self, failure, response: Response) -> None:
        """A callback crashed on the page: counted; Scrapy logs the traceback."""
        count_failed_page(self.crawler, response.url, "other", f"the spider failed: {failure.value!r}",
                          response.request.meta if response.request is not None else None)


def _reason(exception: BaseException) -> str:
    return f"{type(exception).__name__}: {exception}".rstrip(": ")


class QuietDownloadErrors(LogFormatter):
    """Scrapy's log formatter, with download errors at DEBUG: count_failed_page() names the
    first failed pages at WARNING, so a site that is down does not print a traceback a page.
    Scrapy asks it about every download error a page ended with (IgnoreRequest aside), so it
    also counts those no middleware counted: raised while a response went through them."""

    def download_error(self, failure, request, spider, errmsg=None):
        if is_page(request) and not request.meta.get(_COUNTED):
            count_failed_page(spider.crawler, request.url, kind_of(failure.value), _reason(failure.value),
                              request.meta)
        return {**super().download_error(failure, request, spider, errmsg), "level": logging.DEBUG}
