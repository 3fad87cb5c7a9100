"""One article, one URL (crawler/urls.py, the url_aliases of the store), and the pieces of the
hostile-site defences that are plain functions: charset choice, Retry-After, error kinds."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError
from scrapy.http import HtmlResponse, Request
from scrapy.http.request import NO_CALLBACK
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.python.failure import Failure

from crawler.errors import CountFailedPages, kind_of
from crawler.extract import extract
from crawler.middlewares import ChooseCharset, choose_encoding, retry_after_seconds
from crawler.settings import NEWSCRAWL_TRACKING_PARAMS
from crawler.urls import PageFingerprinter, clean_url, page_identity, spellings, tracking_patterns
from storage import ArticleRecord

PATTERNS = tracking_patterns(Settings({"NEWSCRAWL_TRACKING_PARAMS": NEWSCRAWL_TRACKING_PARAMS,
                                       "NEWSCRAWL_TRACKING_PARAMS_EXTRA": ["ref_*"]}))


@pytest.mark.parametrize(("url", "clean"), [
    # ../shared/cases/real-world/12-tracking-param-duplicates
    ("http://a.cn/news/7001.html?from=hot_list&utm_source=homepage", "http://a.cn/news/7001.html"),
    ("http://a.cn/news/7002.html?spm=a1b2.c3d4", "http://a.cn/news/7002.html"),
    ("http://a.cn/news/7002.html#comments", "http://a.cn/news/7002.html"),
    # its variations: case, other trackers, session ids in the query and in the path, extended list
    ("http://a.cn/n/1.html?UTM_Campaign=x&fbclid=y&gclid=z", "http://a.cn/n/1.html"),
    ("http://a.cn/n/1.jsp;jsessionid=0A1B2C?id=7", "http://a.cn/n/1.jsp?id=7"),
    ("http://a.cn/n/1.php?PHPSESSID=abc&id=7&sid=9", "http://a.cn/n/1.php?id=7"),
    ("http://a.cn/n/1.html?ref_src=tw&id=7", "http://a.cn/n/1.html?id=7"),
    # what identifies the page stays, in its order and spelling
    ("http://a.cn/list.jsp?page=2&cat=b", "http://a.cn/list.jsp?page=2&cat=b"),
    ("http://a.cn/art.aspx?id=7&fromdate=2024", "http://a.cn/art.aspx?id=7&fromdate=2024"),
    ("http://a.cn/n/1.html", "http://a.cn/n/1.html"),
])
def test_tracking_and_session_parameters_are_removed(url, clean):
    assert clean_url(url, PATTERNS) == clean


def test_http_https_index_html_and_trailing_slash_spellings_are_one_page():
    same = ["http://a.cn/news/", "https://a.cn/news/", "http://a.cn/news", "http://a.cn/news/index.html",
            "https://a.cn/news/index.htm", "http://a.cn/news/default.html"]
    assert {page_identity(url) for url in same} == {"//a.cn/news"}
    assert page_identity("http://a.cn/news/1.html") != page_identity("http://a.cn/news/2.html")
    assert page_identity("http://a.cn/a.jsp?id=1") != page_identity("http://a.cn/a.jsp?id=2")
    fingerprints = PageFingerprinter()
    assert len({fingerprints.fingerprint(Request(url)) for url in same}) == 1
    assert fingerprints.fingerprint(Request("http://a.cn/news/1.html")) != fingerprints.fingerprint(
        Request("http://a.cn/news/2.html"))


def test_the_spellings_a_page_may_be_stored_under():
    assert spellings("https://a.cn/news/1.html") == {"http://a.cn/news/1.html", "https://a.cn/news/1.html"}
    assert "http://a.cn/news/index.html" in spellings("https://a.cn/news/")
    assert "https://a.cn/news/" in spellings("http://a.cn/news/index.html")


def test_aliases_make_urls_known_as_stored(store):
    record = ArticleRecord(url="http://a.cn/news/2.html", site="a", title="T", text="Body text.")
    store.save_article(record)
    assert store.add_aliases(record.url, ["http://a.cn/news/old.html", record.url]) == 1
    assert store.add_aliases("http://a.cn/news/missing.html", ["http://a.cn/x.html"]) == 0
    asked = [f"http://a.cn/other/{i}.html" for i in range(2000)] + ["http://a.cn/news/old.html", record.url]
    assert store.stored_urls(asked) == {"http://a.cn/news/old.html", record.url}  # 2,000+ URLs: in batches


# -- charset: BOM, then header, then meta, unless the declared one does not decode the bytes ----------


def _page(text: str, meta: str | None) -> str:
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return f"<html><head>{head}<title>{text}</title></head><body><p>{text}</p></body></html>"


CHINESE = "县里召开秋季森林防火工作会议，落实护林员巡山制度"


@pytest.mark.parametrize(("header", "body"), [
    ("text/html; charset=utf-8", _page(CHINESE, "gbk").encode("gbk")),  # header wrong, meta right
    ("text/html; charset=gbk", _page(CHINESE, "utf-8").encode("utf-8")),  # header wrong, meta right
    ("text/html; charset=gbk", _page(CHINESE, None).encode("utf-8")),  # header wrong, no meta
    ("text/html; charset=windows-1251", b"\xef\xbb\xbf" + _page(CHINESE, "gbk").encode("utf-8")),  # the BOM wins
    ("text/html", _page(CHINESE, "utf-8").encode("gbk")),  # meta wrong, no header: the detector's guess
    ("text/html", _page(CHINESE, "ContentType").encode("gbk")),  # no usable declaration
    ("text/html; charset=gb2312", _page(CHINESE + "，鎔铸新优势", None).encode("gbk")),  # GBK beyond GB2312
    ("text/html; charset=gbk", _page(CHINESE, "gbk").encode("gbk")),  # all agree
])
def test_a_page_is_read_with_the_charset_that_decodes_it(header, body):
    response = HtmlResponse("http://a.cn/1.html", headers={"Content-Type": header}, body=body)
    read = ChooseCharset().process_response(Request(response.url), response)
    assert CHINESE in read.text and "<html>" in read.text


def test_a_declared_charset_that_decodes_the_page_is_left_to_scrapy():
    body = _page(CHINESE, "gbk").encode("gbk")
    assert choose_encoding("text/html; charset=gbk", body) is None
    assert choose_encoding("text/html", body) is None
    assert choose_encoding("text/html; charset=windows-1251", b"<html>plain ASCII</html>") is None


# -- Retry-After and error kinds -----------------------------------------------------------


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds("120") == 120
    now = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    assert retry_after_seconds(format_datetime(datetime(2026, 1, 1, 0, 0, 30, tzinfo=timezone.utc), usegmt=True),
                               now=now) == 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("\xb2") is None  # "²", a digit to str.isdigit() but not to float()


@pytest.mark.parametrize(("exception", "kind"), [
    (DownloadTimeoutError("took longer than 30 seconds"), "timeout"),
    (ConnectionRefusedError(), "connection"),
    (DNSLookupError(), "connection"),
    (ResponseDataLossError(), "connection"),
    (DownloadCancelledError("larger than download max size"), "too_large"),
    (IgnoreRequest("Forbidden by robots.txt"), "robots"),
    (ValueError("something else"), "other"),
])
def test_download_errors_have_a_kind(exception, kind):
    assert kind_of(exception) == kind


# -- counters are no metadata -----------------------------------------------------------------


@pytest.mark.parametrize(("byline", "author", "source"), [
    ("Date: 2024-03-01 Source: District Parks Office Views: 1234", None, "District Parks Office"),
    ("Date: 2024-03-01 | Source: District Parks Office | Page views: 98 | Author: Li Ming", "Li Ming",
     "District Parks Office"),
    ("发布时间：2024-03-01 来源：县政府办 浏览次数：56", None, "县政府办"),
    ("作者：张三 阅读次数：7 点击数：9 日期：2024-03-01", "张三", None),
    ("日期：2024-03-01 来源：县应急管理局 访问量：1024", None, "县应急管理局"),
])
def test_a_page_counter_never_enters_author_or_source(byline, author, source):
    html = (f"<html><head><title>District Plants Trees</title></head><body><h1>District Plants Trees</h1>"
            f'<div class="info">{byline}</div><div class="article-content"><p>Volunteers planted two thousand '
            f"street trees along eight roads in the district over the past month.</p><p>Most of the new trees "
            f"are native maples and lindens, chosen because they tolerate dry summers.</p></div></body></html>")
    article = extract(html, "http://a.cn/news/1.html")
    assert (article.author, article.source) == (author, source)


def test_the_first_failed_pages_are_named_then_only_counted(caplog):
    crawler = get_crawler(settings_dict={"NEWSCRAWL_ERRORS_NAMED": 2})
    counter = CountFailedPages(crawler)
    with caplog.at_level(logging.WARNING, logger="crawler.errors"):
        counter.process_exception(Request("http://a.cn/1.html"), DownloadTimeoutError("took longer than 30 s"))
        counter.process_response(Request("http://a.cn/2.html"), HtmlResponse("http://a.cn/2.html", status=404))
        counter.spider_error(Failure(KeyError("title")), HtmlResponse("http://a.cn/3.html"))
        counter.process_exception(Request("http://a.cn/4.html"), DNSLookupError())
        counter.process_exception(Request("http://a.cn/5.html"), IgnoreRequest("Filtered offsite request"))
        counter.process_response(Request("http://a.cn/robots.txt", callback=NO_CALLBACK),
                                 HtmlResponse("http://a.cn/robots.txt", status=404))
    assert [record.getMessage() for record in caplog.records] == [
        "failed page (timeout): http://a.cn/1.html: DownloadTimeoutError: took longer than 30 s",
        "failed page (http_status): http://a.cn/2.html: HTTP 404",
        "more than 2 pages failed: the others are only counted",
    ]
    assert crawler.stats.get_stats() == {"newscrawl/errors/timeout": 1, "newscrawl/errors/http_status": 1,
                                         "newscrawl/errors/other": 1, "newscrawl/errors/connection": 1}
