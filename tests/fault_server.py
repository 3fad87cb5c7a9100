"""A small news site on 127.0.0.1 whose pages misbehave on purpose (tests/test_hostile_sites.py).

The site: /index.html lists the article URLs of FAULTS (each misbehaves one way)
and of a few good articles, some linked under several spellings (tracking
parameters, a session id, index.html, https); /calendar/YYYY-MM.html is an
endless calendar without articles; /pager/N.html an endless pager with one
article a page; /past-the-end/N.html one showing the same two articles on every
page; /many.html a list of 10,000 article links. What the crawler asked for is kept in ``server.requests`` (path, monotonic time).

Bounded: it listens on 127.0.0.1 only, serves at most MAX_CLIENTS requests at a
time (the others wait), sleeps at most SLOW_SECONDS and sends at most HUGE_BYTES
in one answer, and stops writing when the client hangs up.
"""

from __future__ import annotations

import gzip
import socket
import struct
import sys
import threading
import time
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_CLIENTS = 32
SLOW_SECONDS = 4  # beyond the crawl's DOWNLOAD_TIMEOUT in the tests
HUGE_BYTES = 50 * 1024 * 1024
MANY_LINKS = 10_000
RETRY_AFTER = 1  # seconds asked for by /news/busy.html and /news/limited.html

# The good articles: slug -> (title, date, a sentence only that article has)
GOOD = {
    "good-1": ("Harbour Ferry Adds an Evening Crossing", "2024-03-01", "The evening crossing leaves at nine."),
    "good-2": ("New Library Branch Opens in the Old Mill", "2024-03-02",
               "The mill library holds forty thousand books."),
    "good-3": ("Bus Line 12 Extended to the Airport", "2024-03-03", "Line 12 now reaches the airport terminal."),
    "good-4": ("Schools Get Solar Panels on Their Roofs", "2024-03-04", "Eleven schools now make their own power."),
    "good-5": ("Market Square Reopens After Repaving", "2024-03-05", "The square was repaved with local granite."),
    "flaky": ("Water Works Finish Main Pipe Renewal", "2024-03-06", "The main pipe is now one hundred years younger."),
    "busy": ("City Hall Extends Its Opening Hours", "2024-03-07", "City hall now opens on Saturday mornings."),
    "dir": ("Volunteers Clean the River Banks", "2024-03-08", "Two hundred volunteers filled sixty bags."),
    "not-found": ("Old Town Bell Not Found Yet, Divers Say", "2024-03-10", "The divers will search again in May."),
}
# an article served with a Retry-After header to ignore
ODD_RETRY_AFTER = ("Ferry Timetable Printed in Large Type", "2024-03-09", "The timetable now comes in large type.")
# Chinese articles whose declared charsets disagree with their bytes
CHARSET_TITLE = "县里召开秋季森林防火工作会议"
CHARSET_TEXT = "各乡镇要落实护林员巡山制度，发现火情第一时间处置。"
BOM_TITLE = "全县新建村级便民服务站二十个"
BOM_TEXT = "群众办理社保、医保等业务不出村即可完成。"

# The misbehaving article pages, each with the kind of failure it must be counted as (None: not a failure)
FAULTS = {
    "/news/slow.html": "timeout",
    "/news/reset.html": "connection",
    "/news/truncated.html": "connection",
    "/news/flaky.html": None,  # 500, then the article
    "/news/busy.html": None,  # 503 with Retry-After, then the article
    "/news/limited.html": "http_status",  # 429 with Retry-After, every time
    "/news/missing.html": "http_status",  # 404
    "/news/broken.html": "http_status",  # 500 every time
    "/news/loop-a.html": "redirect_loop",  # -> loop-b -> loop-a
    "/news/offsite.html": "other",  # redirected to another host
    "/news/bomb.html": "too_large",  # 64 MB of spaces in a small gzip body
    "/news/bad-gzip.html": "other",  # Content-Encoding: gzip over bytes that are not
    "/news/huge.html": "too_large",  # 50 MB, Content-Length says so
    "/news/huge-stream.html": "too_large",  # 50 MB without Content-Length
    "/news/report.html": "other",  # a PDF
    "/news/photo.html": "other",  # a JPEG
    "/news/private.html": "robots",  # robots.txt disallows it
    "/news/charset-header.html": None,  # GBK bytes, header says UTF-8, meta says gbk
    "/news/charset-bom.html": None,  # UTF-8 with a BOM, header says windows-1251, meta gbk
    "/news/nested.html": None,  # the article inside 20,000 unclosed elements
    "/news/empty.html": "other",  # 200 with nothing in it
    "/news/moved.html": None,  # meta refresh to good-3
    "/news/old.html": None,  # 301 to good-4
    "/news/old-2.html": None,  # 301 to good-1, which the crawl has fetched already
    "/news/bad-location.html": "other",  # 301 to a URL that is none (http://[bad/), which Scrapy raises on
    "/news/bad-brotli.html": "other",  # Content-Encoding: br over bytes that are not
    "/news/odd-retry-after.html": None,  # the article, with a Retry-After digit that is no ASCII digit
    "/news/no-location.html": "http_status",  # 302 without a Location
    "/news/unasked-304.html": "http_status",  # 304 Not Modified, though nothing cached was named
    "/news/choices.html": "http_status",  # 300 Multiple Choices, which Scrapy does not follow
    "/news/gone.html": "other",  # 200 with a "Page Not Found" page: a soft 404
    "/news/gone-zh.html": "other",  # 200 with a GBK 页面不存在 page
    "/news/withdrawn.html": "other",  # 302 to /index.html, the list that links it: a deleted article
    "/news/refresh-offsite.html": "other",  # a meta refresh to another host
    "/news/refresh-to-list.html": "other",  # a meta refresh to /index.html
}


# good articles linked again under other spellings: tracking parameters and fragments as in
# ../shared/cases/real-world/12-tracking-param-duplicates, a session id, index.html, a canonical
VARIANTS = ["/news/good-1.html?from=hot_list&utm_source=homepage", "/news/good-2.html#comments",
            "/news/good-2.html?spm=a1b2.c3d4", "/news/good-1.html?utm_medium=list&UTM_Campaign=x&fbclid=XyZ",
            "/news/good-1.html;jsessionid=A1B2C3", "/news/dir/", "/news/dir/index.html", "/news/good-5.html?print=1"]


def again_html(base: str) -> str:
    """A list page for a repeat crawl: every spelling of the articles stored by the first."""
    https = base.replace("http://", "https://")
    return list_html([*VARIANTS, "/news/old.html", "/news/old-2.html", "/news/moved.html",
                      f"{https}/news/good-2.html", f"{https}/news/dir/index.htm", "/news/good-3.html",
                      "/news/good-4.html"])


def article_html(title: str, published: str, sentence: str, head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}<title>{title} - Riverside</title></head>'
            f'<body><div class="nav"><a href="/">Home</a></div><h1>{title}</h1>'
            f'<div class="info">Date: {published} Source: Riverside News Office</div>'
            f'<div class="article-content"><p>{sentence}</p>'
            f"<p>The district announced the change on {published} after a year of planning and talks with "
            f"residents, who asked for it at several public meetings.</p>"
            f"<p>Officials said the work stayed within its budget and thanked the people who took part.</p>"
            f"</div></body></html>")


def chinese_html(title: str, text: str, charset: str) -> str:
    return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{title}</title></head><body><h1>{title}</h1><div class=\"info\">发布时间：2022-10-20</div>"
            f'<div class="article-content"><p>{text}</p><p>会议强调，{title}，各单位要高度重视，'
            f"认真抓好落实，确保各项工作取得实效。</p><p>会议要求各部门加强协作，形成工作合力。</p></div></body></html>")


def index_html(base: str) -> str:
    https = base.replace("http://", "https://")
    links = [*(f"/news/{slug}.html" for slug in GOOD if slug not in ("dir", "good-3", "good-4")), *FAULTS,
             # the same articles again, spelled otherwise
             *VARIANTS]
    return ("<html><head><title>News - Riverside</title></head><body><ul>"
            + "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
            + f'</ul><p>Also on our secure site: <a href="{https}/news/good-2.html">a good article</a></p>'
            + "</body></html>")


def list_html(links: list[str]) -> str:
    items = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return f"<html><body><ul>{items}</ul></body></html>"


@cache
def gzip_bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b" " * (64 * 1024 * 1024), compresslevel=9)


def _month(value: str, step: int) -> str:
    year, month = map(int, value.split("-"))
    index = year * 12 + month - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        with self.server.clients:
            self.server.requests.append((self.path, time.monotonic()))
            path = self.path.split("?")[0].split(";")[0].split("#")[0]
            try:
                self.answer(path)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler hung up, as it should on a page too large

    def send(self, status: int, body: bytes | str = b"", content_type: str = "text/html; charset=utf-8",
             headers: dict | None = None) -> None:
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def times_asked(self, path: str) -> int:
        return sum(1 for asked, _ in self.server.requests if asked.split("?")[0] == path)

    def answer(self, path: str) -> None:  # noqa: C901 - one branch per fault, in the order of FAULTS
        slug = path.rsplit("/", 1)[-1].removesuffix(".html")
        if path == "/robots.txt":
            self.send(200, "User-agent: *\nDisallow: /news/private.html\n", "text/plain")
        elif path == "/index.html":
            self.send(200, index_html(self.server.base))
        elif path == "/again.html":
            self.send(200, again_html(self.server.base))
        elif path == "/news/slow.html":
            time.sleep(SLOW_SECONDS)
            self.send(200, article_html("Slow", "2024-01-01", "Too late."))
        elif path in ("/news/reset.html", "/news/truncated.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "20000")
            self.end_headers()
            self.wfile.write(b"<html><body>" + b"a" * 2000)
            self.wfile.flush()
            if path == "/news/reset.html":  # RST instead of FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif path in ("/news/flaky.html", "/news/busy.html") and self.times_asked(path) == 1:
            self.send(500 if slug == "flaky" else 503, "try later",
                      headers={} if slug == "flaky" else {"Retry-After": str(RETRY_AFTER)})
        elif path == "/news/limited.html":
            self.send(429, "slow down", headers={"Retry-After": str(RETRY_AFTER)})
        elif path == "/news/missing.html":
            self.send(404, "not found")
        elif path == "/news/broken.html":
            self.send(500, "broken")
        elif path in ("/news/loop-a.html", "/news/loop-b.html"):
            self.send(302, headers={"Location": "/news/loop-b.html" if slug == "loop-a" else "/news/loop-a.html"})
        elif path == "/news/offsite.html":
            self.send(302, headers={"Location": f"http://localhost:{self.server.server_address[1]}/news/good-2.html"})
        elif path == "/news/bomb.html":
            self.send(200, gzip_bomb(), headers={"Content-Encoding": "gzip"})
        elif path == "/news/bad-gzip.html":
            self.send(200, b"this is not gzip at all" * 10, headers={"Content-Encoding": "gzip"})
        elif path in ("/news/huge.html", "/news/huge-stream.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if path == "/news/huge.html":
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            self.close_connection = True
            chunk = b"<p>" + b"x" * (1024 * 1024 - 3)
            for _ in range(HUGE_BYTES // len(chunk)):
                self.wfile.write(chunk)
        elif path == "/news/report.html":
            self.send(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n" * 50, "application/pdf")
        elif path == "/news/photo.html":
            self.send(200, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 20, "image/jpeg")
        elif path == "/news/bad-location.html":
            self.send(301, headers={"Location": "http://[bad/news/good-1.html"})
        elif path == "/news/bad-brotli.html":
            self.send(200, b"this is not brotli at all" * 10, headers={"Content-Encoding": "br"})
        elif path == "/news/odd-retry-after.html":
            self.send(200, article_html(*ODD_RETRY_AFTER), headers={"Retry-After": "\xb2"})  # "²" in Latin-1
        elif path == "/news/no-location.html":
            self.send(302, "moved")
        elif path == "/news/unasked-304.html":
            self.send(304, headers={"ETag": '"1"'})
        elif path == "/news/choices.html":
            self.send(300, list_html(["/news/good-1.html", "/news/good-2.html"]),
                      headers={"Location": "/news/good-1.html"})
        elif path == "/news/gone.html":
            self.send(200, "<html><head><title>Page Not Found - Riverside</title></head><body><h1>Page Not Found</h1>"
                           "<p>Sorry, the page you asked for has moved or is no longer there. Try the search box "
                           "or go back to the front page of Riverside News.</p></body></html>")
        elif path == "/news/gone-zh.html":
            self.send(200, ("<html><head><title>页面不存在_县人民政府</title></head><body><h1>抱歉，您访问的页面不存在</h1>"
                            "<p>该信息可能已被删除或转移，请返回首页继续浏览本站其他栏目的信息。</p></body></html>").encode("gbk"),
                      "text/html; charset=gbk")
        elif path == "/news/withdrawn.html":
            self.send(302, headers={"Location": "/index.html"})
        elif path in ("/news/refresh-offsite.html", "/news/refresh-to-list.html"):
            target = (f"http://localhost:{self.server.server_address[1]}/news/good-2.html"
                      if slug == "refresh-offsite" else "/index.html")
            self.send(200, f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head></html>')
        elif path == "/news/private.html":
            self.send(200, article_html("Private", "2024-01-01", "Nobody may crawl this."))
        elif path == "/news/charset-header.html":
            self.send(200, chinese_html(CHARSET_TITLE, CHARSET_TEXT, "gbk").encode("gbk"), "text/html; charset=utf-8")
        elif path == "/news/charset-bom.html":
            self.send(200, b"\xef\xbb\xbf" + chinese_html(BOM_TITLE, BOM_TEXT, "gbk").encode("utf-8"),
                      "text/html; charset=windows-1251")
        elif path == "/news/nested.html":
            page = article_html("Deep Nesting Survives", "2024-02-01", "This article sits very deep.")
            self.send(200, page.replace("<h1>", "<div><font><span>" * 20_000 + "<h1>", 1))
        elif path == "/news/empty.html":
            self.send(200, b"")
        elif path == "/news/moved.html":
            self.send(200, '<html><head><meta http-equiv="refresh" content="0; url=/news/good-3.html"></head></html>')
        elif path in ("/news/old.html", "/news/old-2.html"):
            self.send(301, headers={"Location": "/news/good-4.html" if slug == "old" else "/news/good-1.html"})
        elif path.startswith("/news/") and (slug in GOOD or path in ("/news/dir/", "/news/dir/index.html")):
            slug = "dir" if path.startswith("/news/dir/") else slug
            head = '<link rel="canonical" href="/news/good-5.html">' if slug == "good-5" else ""
            self.send(200, article_html(*GOOD[slug], head=head))
        elif path.startswith("/calendar/"):  # an endless calendar: every month links the months around it
            month = slug
            self.send(200, list_html([f"/calendar/{_month(month, -1)}.html", f"/calendar/{_month(month, 1)}.html"]))
        elif path.startswith("/pager/"):  # an endless pager, one new article a page
            page = int(slug)
            self.send(200, list_html([f"/news/p-{page}.html", f"/pager/{page + 1}.html"]))
        elif path.startswith("/past-the-end/"):  # a pager past its last page: that page again, forever
            self.send(200, list_html(["/news/p-1.html", "/news/p-2.html", f"/past-the-end/{int(slug) + 1}.html"]))
        elif path == "/many.html":
            self.send(200, list_html([f"/news/m-{i}.html" for i in range(MANY_LINKS)]))
        elif path.startswith("/news/p-") or path.startswith("/news/m-"):
            self.send(200, article_html(f"Numbered Notice {slug}", "2024-04-01",
                                        f"This notice is number {slug} of a long series."))
        else:
            self.send(404, "not found")


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # more than the crawler's connections: none waits for a second SYN

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a crawler hanging up on a page it refuses is fine
            super().handle_error(request, client_address)

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.clients = threading.BoundedSemaphore(MAX_CLIENTS)
        self.requests: list[tuple[str, float]] = []

    def asked(self, path: str) -> list[float]:
        """When the crawler asked for path (any query string), in order."""
        return [at for asked, at in self.requests if asked.split("?")[0].split(";")[0] == path]


@contextmanager
def fault_server():
    server = FaultServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
