"""Downloader middlewares that keep a misbehaving site from hurting a crawl.

Each refuses or repairs one kind of bad answer; a refused page is counted as
failed (crawler/errors.py) for its URL before IgnoreRequest ends it, since that
exception goes to no other middleware. Wired in settings.py:

- CheckRedirects (610, above RedirectMiddleware): a redirect back to a URL of
  its own chain, or one more than REDIRECT_MAX_TIMES, fails the page as
  ``redirect_loop``, one off the site or from an article to a list page as
  ``other`` (Scrapy's dupe filter and offsite filter would otherwise drop it
  without a word); CheckMetaRefreshes (582, above MetaRefreshMiddleware) does the
  same for a ``<meta http-equiv="refresh">``.
- DecompressWithinLimits (590, in place of HttpCompressionMiddleware): Scrapy's
  decompression, which stops at DOWNLOAD_MAXSIZE (a gzip bomb is ``too_large``);
  a body that does not decompress fails the page as ``other``.
- RefuseNonHtmlPages (585): a list or article URL that answers with a PDF, an
  image, other bytes or nothing at all fails as ``other`` instead of going to the
  spider.
- ChooseCharset (584): the encoding a page is read with; see choose_encoding().
- RefuseNotFoundPages (583): an article URL answered 200 with a "page not found"
  page (a soft 404: the title says 404, Page Not Found, 页面不存在) fails as
  ``other`` instead of being stored as an article.
- RetryAfter (550, in place of RetryMiddleware): a 429/503 retried after the wait
  its Retry-After asks for, up to NEWSCRAWL_RETRY_AFTER_MAX seconds.
- RobotsTxtServerErrors (545, below RetryAfter): a robots.txt still answered with
  a server error forbids every page of its host.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
import time
from email.utils import parsedate_to_datetime

import charset_normalizer
from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import get_meta_refresh
from twisted.internet.task import deferLater
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding
from w3lib.url import canonicalize_url

from crawler.errors import count_failed_page, is_page
from crawler.fetch import FORBID_ALL
from crawler.urls import on_site
from spiders.base import ARTICLE, ARTICLE_CONTINUED, LIST, PAGE

logger = logging.getLogger(__name__)

_TEXT_TYPE = re.compile(r"^text/|[/+](?:html|xhtml|xml|json)\b")  # what a list or an article page may be
_RETRY_AT = "newscrawl_retry_at"  # request meta: the monotonic time before which a retry waits
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
# where a <title> joins the page's own title with the site's or column's name
_TITLE_PARTS = re.compile(r"\s+[-|–—·]\s+|[_|–—·]")
# a part of the title that names no article but a missing page
_NOT_FOUND = re.compile("|".join([
    r"(?:http\s*)?(?:error\s*)?404(?:\s*error)?(?:\s*错误)?(?:\s*页面)?",  # 404, HTTP Error 404, 404错误页面
    r"(?:404\W*)?(?:(?:the\s+)?(?:page|file|article|document)\s+(?:is\s+|was\s+)?)?not\s+found",  # Page Not Found
    r"(?:404\W*)?(?:抱歉\W*)?您?所?要?(?:访问|查找|请求)?的?(?:页面|网页|文章|信息|内容)(?:不存在|未找到|找不到了?)(?:或已被?删除)?",
]), re.IGNORECASE)


class CheckRedirects:
    """Fails a page whose redirects come back to a URL already in its chain or run too long
    (``redirect_loop``), lead off the spider's allowed_domains, or lead an article to a list
    page the crawl asked for (a deleted article sent back to its column; ``other``): Scrapy would
    drop the redirected request without a word."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES")
        self.list_pages: set[str] = set()  # the list pages asked for, canonical URLs

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get(PAGE) == LIST:
            self.list_pages.add(canonicalize_url(request.url))

    def process_response(self, request: Request, response: Response) -> Response:
        target = self.redirect_target(response) if is_page(request) else None
        if target is None:
            return response
        chain = [*request.meta.get("redirect_urls", []), request.url]
        target = canonicalize_url(target)
        kind = "redirect_loop"
        if target in {canonicalize_url(url) for url in chain}:
            reason = f"redirected back to {target} after {len(chain)} redirects"
        elif len(chain) > self.max_redirects:
            reason = f"more than {self.max_redirects} redirects"
        elif not on_site(target, getattr(self.crawler.spider, "allowed_domains", None)):
            kind, reason = "other", f"redirected off the site, to {target}"
        elif request.meta.get(PAGE) == ARTICLE and target in self.list_pages:
            kind, reason = "other", f"redirected to the list page {target}"
        else:
            return response
        count_failed_page(self.crawler, chain[0], kind, reason, request.meta)
        raise IgnoreRequest(f"{reason}: {chain[0]}")

    def redirect_target(self, response: Response) -> str | None:
        """The absolute URL the response redirects to, if it does (a 3xx with a Location)."""
        location = response.headers.get("Location")
        return response.urljoin(location.decode("latin-1")) if 300 <= response.status < 400 and location else None


class CheckMetaRefreshes(CheckRedirects):
    """CheckRedirects for the redirects a page makes with <meta http-equiv="refresh">, which
    Scrapy's MetaRefreshMiddleware follows as it would (the same tags ignored, the same longest
    delay): between the charset's choice and that middleware."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.enabled = crawler.settings.getbool("METAREFRESH_ENABLED")
        self.ignore_tags = crawler.settings.getlist("METAREFRESH_IGNORE_TAGS")
        self.max_delay = crawler.settings.getint("METAREFRESH_MAXDELAY")

    def redirect_target(self, response: Response) -> str | None:
        if not (self.enabled and isinstance(response, HtmlResponse)):
            return None
        delay, url = get_meta_refresh(response, ignore_tags=self.ignore_tags)
        return url if url and delay < self.max_delay else None


class DecompressWithinLimits(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware (it stops decompressing at DOWNLOAD_MAXSIZE), with the
    pages it refuses counted as failed."""

    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        middleware.crawler = crawler
        return middleware

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as refusal:  # larger than DOWNLOAD_MAXSIZE once decompressed
            count_failed_page(self.crawler, request.url, "too_large", str(refusal), request.meta)
            raise
        except (OSError, EOFError, ValueError) as exc:  # gzip, zlib, brotli and zstd errors
            count_failed_page(self.crawler, request.url, "other",
                              f"the body does not decompress ({type(exc).__name__}: {exc})", request.meta)
            raise IgnoreRequest(f"undecodable body at {request.url}") from None


class RefusePages:
    """The base of middlewares that refuse pages the server answered: refusal() says why a page
    is refused (None: it goes on), and a refused page is a failed page of kind "other"."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def refusal(self, request: Request, response: Response) -> str | None:
        raise NotImplementedError

    def process_response(self, request: Request, response: Response) -> Response:
        reason = self.refusal(request, response)
        if reason is None:
            return response
        count_failed_page(self.crawler, request.url, "other", reason, request.meta)
        raise IgnoreRequest(f"{reason}: {request.url}")


class RefuseNonHtmlPages(RefusePages):
    """A list or article page must be text (HTML, XML); a PDF, an image or an empty answer
    there is a failed page."""

    def refusal(self, request: Request, response: Response) -> str | None:
        if request.meta.get(PAGE) not in (ARTICLE, LIST) or not 200 <= response.status < 300:
            return None
        return refusal_of_page(response)


def refusal_of_page(response: Response) -> str | None:
    """Why a response cannot be read as a list or article page (an empty answer, a PDF, an
    image), or None when it can (the crawl, and `newscrawl extract`)."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
    if not response.body:
        return "an empty answer"
    # Scrapy reads a .html URL as HTML whatever its Content-Type says, so both are asked
    if isinstance(response, TextResponse) and (not content_type or _TEXT_TYPE.search(content_type)):
        return None
    return f"not an HTML page ({content_type or 'no Content-Type'})"


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        codecs.decode(body, encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def choose_encoding(content_type: str | None, body: bytes) -> str | None:
    """The encoding to read an HTML body with (a Python codec name), or None to leave it to Scrapy.

    The byte-order mark wins; then the charset of the Content-Type header, then the page's
    own <meta> declaration, as Scrapy reads them. But a declaration must decode the bytes
    without error: of the declared charsets and UTF-8, those that do are ranked by
    charset-normalizer (the one whose text looks least like noise wins), and when none does,
    charset-normalizer's guess is taken."""
    bom, _ = read_bom(body)
    if bom:
        return bom
    if body.isascii():
        return None
    declared = [resolve_encoding(name) for name in (http_content_type_encoding(content_type),
                                                    html_body_declared_encoding(body)) if name]
    clean = [name for name in dict.fromkeys(_codec(name) for name in [*declared, "utf-8"] if name)
             if _decodes(body, name)]
    if len(clean) == 1:
        chosen = clean[0]
    else:  # none, or several: which reads best
        best = charset_normalizer.from_bytes(body[:65536], cp_isolation=clean or None).best()
        chosen = _codec(best.encoding) if best and _decodes(body, best.encoding) else None
    return None if chosen is None or (declared and chosen == _codec(declared[0])) else chosen


def _codec(name: str | None) -> str | None:
    """The Python codec's own name for an encoding name, None when Python has no such codec."""
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


class ChooseCharset:
    """Reads each HTML page with choose_encoding()'s choice, not garbled by a wrong declaration."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        encoding = choose_encoding(response.headers.get("Content-Type", b"").decode("latin-1"), response.body)
        return response.replace(encoding=encoding) if encoding else response


class RefuseNotFoundPages(RefusePages):
    """An article page whose <title> says the page was not found is a failed page: the server
    answered 200 where it meant 404 (a deleted article, a mistyped link)."""

    def refusal(self, request: Request, response: Response) -> str | None:
        if request.meta.get(PAGE) not in (ARTICLE, ARTICLE_CONTINUED) or not isinstance(response, TextResponse):
            return None
        title = not_found_title(response.text)
        if title is None:
            return None
        return f"a page-not-found page answered with HTTP {response.status} (its title: {title!r})"


def not_found_title(page: str) -> str | None:
    """The page's <title> when it says the page was not found (as one of the parts it joins with
    the site's name), else None."""
    found = _TITLE.search(page, 0, 65536)
    title = " ".join(html.unescape(found.group(1)).split()) if found else ""
    return title if any(_NOT_FOUND.fullmatch(part.strip()) for part in _TITLE_PARTS.split(title)) else None


class RobotsTxtServerErrors:
    """A robots.txt answered with a server error (5xx, once retries are over) becomes one that
    forbids everything, as RFC 9309 (2.3.1.4) asks of a crawler that cannot reach it: Scrapy's
    RobotsTxtMiddleware would read the error page as rules, which allow all. A warning says so;
    `-s ROBOTSTXT_OBEY=False` crawls the site anyway."""

    def process_response(self, request: Request, response: Response) -> Response:
        url = urlparse_cached(request)
        if not (request.meta.get("dont_obey_robotstxt") and url.path == "/robots.txt" and 500 <= response.status < 600):
            return response
        logger.warning("robots.txt of %s answered HTTP %d: taken as forbidding every page (RFC 9309); "
                       "-s ROBOTSTXT_OBEY=False crawls it anyway", url.hostname, response.status)
        return Response(response.url, status=200, body=FORBID_ALL.encode(), request=request)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header value asks to wait: delay-seconds or an HTTP date; None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²": a digit to isdigit(), but not to float()
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfter(RetryMiddleware):
    """Scrapy's RetryMiddleware; a retried answer with Retry-After (429, 503) is asked again only
    after that wait, capped at NEWSCRAWL_RETRY_AFTER_MAX seconds."""

    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSCRAWL_RETRY_AFTER_MAX")

    async def process_request(self, request: Request, spider=None) -> None:
        wait = request.meta.get(_RETRY_AT, 0) - time.monotonic()
        if wait > 0:
            from twisted.internet import reactor  # the one Scrapy installed; importing it earlier would install one

            await maybe_deferred_to_future(deferLater(reactor, wait))

    def process_response(self, request: Request, response: Response, spider=None):
        result = super().process_response(request, response)
        wait = retry_after_seconds(response.headers.get("Retry-After", b"").decode("latin-1"))
        if isinstance(result, Request) and wait:
            result.meta[_RETRY_AT] = time.monotonic() + min(wait, self.max_wait)
        return result
