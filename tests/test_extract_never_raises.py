"""extract() never raises on what a server can send, and the pipeline survives a page that fails anyway."""

import asyncio
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from crawler.extract import Article, SiteRules, extract
from crawler.items import ArticleItem
from crawler.pipelines import ExtractArticle, ExtractionFailedDrop
from spiders.base import NewsSpider

URL = "http://www.example.gov.cn/art/2023/5/18/art_1_2.html"

# Pieces real pages are made of, including the ones that broke extraction on public test sets.
PIECES = [
    "<html>", "</html>", "<head>", "</head>", "<body>", "</body>", "<title>", "</title>",
    "<title>A headline_Column_Site</title>", "<h1>", "</h1>", "<h1>A headline</h1>", "<h1>A<br>head&nbsp;line</h1>",
    "<p>", "</p>", "<div>", "</div>", "<div id='zoom'>", "<h3 id='zoom'>", "<div class='article-content'>",
    "<div class='TRS_Editor'>", "<table>", "</table>", "<tr>", "<td>", "</td>", "<br>", "<font size=3>",
    "<aside>", "</aside>", "<section>", "<form>", "<script>var a = '<p>';</script>", "<style>p {}</style>",
    "<script>", "<style>", "<frameset><frame src='a.html'></frameset>", "<noscript>", "<!-- ContentStart -->",
    "<!--ContentEnd-->", "<meta name='ContentStart'>", "<meta name='PubDate' content='2023-05-18'>",
    "<meta property='article:published_time' content='2023-02-30'>", "<time pubdate datetime='x'>",
    "<script type='application/ld+json'>{\"datePublished\": [1, {\"a\": null}]}</script>",
    "<script type='application/ld+json'>{bad json</script>", "<?xml version='1.0' encoding='gb2312'?>",
    "<!DOCTYPE html>", "<![CDATA[x]]>", "&nbsp;", "&#0;", "&bogus;", "Date: 2023-05-18", "时间：2023年5月18日",
    "Updated 10:33 AM, March 5, 2024", "Published: ", "来源：", "Source: X Author: Y", "<div class='cookie-banner'>",
    "<div role='dialog'>", "Next page", "下一页", "<a href='a_2.html'>2</a>", "\u3000", "\x00", "\x0b", "\ufeff",
]
mangled_html = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=30)), max_size=40).map("".join)
# text of every kind, lone surrogates included
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=200)


def assert_is_article(article):
    assert isinstance(article, Article)
    assert isinstance(article.title, str) and isinstance(article.text, str)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=st.one_of(mangled_html, any_text), as_bytes=st.booleans(),
       rules=st.sampled_from([SiteRules(), SiteRules(title="h1", byline="p", body="div", drop=("script",))]))
def test_extract_never_raises_on_mangled_html(html, as_bytes, rules):
    page = html.encode("utf-8", "surrogatepass") if as_bytes else html
    assert_is_article(extract(page, URL, rules))


@settings(max_examples=50, deadline=None, database=None)
@given(data=st.binary(max_size=300))
def test_extract_never_raises_on_random_bytes(data):
    assert_is_article(extract(data, URL))


@pytest.mark.parametrize("html", [
    "", "   ", "<!-- only a comment -->", b"", b"\xff\xfe", "<html></html>", "<html><head></head></html>",
    "<frameset><frame src='menu.html'><frame src='main.html'></frameset>",
])
def test_pages_without_an_article_give_an_empty_one(html):
    article = extract(html, URL)
    assert (article.title, article.text, article.author) == ("", "", None)


def test_xml_declaration_with_encoding_in_a_str_and_in_bytes():
    page = ("<?xml version='1.0' encoding='gb2312'?><html><head><title>港口新闻_新闻中心</title></head><body>"
            "<h1>港口新闻</h1><p>时间：2023年5月18日</p><div class='TRS_Editor'><p>" + "码头完成了新泊位的建设。" * 10
            + "</p></div></body></html>")
    for html in (page, page.encode("gb2312")):
        article = extract(html, URL)
        assert (article.title, article.published.isoformat()) == ("港口新闻", "2023-05-18")
        assert article.text == "码头完成了新泊位的建设。" * 10


def test_utf8_page_declaring_another_charset_is_read_as_utf8():
    # CMS templates copied from older sites keep their <meta charset=gb2312> over UTF-8 text
    page = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
            "<title>港口新闻</title></head><body><h1>港口新闻</h1><div class='TRS_Editor'><p>"
            + "码头完成了新泊位的建设。" * 10 + "</p></div></body></html>")
    for html in (page, page.encode("utf-8")):
        article = extract(html, URL)
        assert (article.title, article.text) == ("港口新闻", "码头完成了新泊位的建设。" * 10)


def test_control_characters_and_noncharacters_are_left_out_of_the_text():
    page = ("<html><head><title>Harbour opens</title></head><body><h1>Harbour opens</h1><div class='TRS_Editor'>"
            "<p>The new\x00 berth\x1f opened\ufffe on Monday\uffff.</p></div></body></html>")
    for html in (page, page.encode("utf-8")):
        assert extract(html, URL).text == "The new berth opened on Monday."


def test_headline_next_to_a_script_and_a_style():
    # lxml's drop_tree asserted when the date-line search met a <script> beside the headline
    html = ("<html><head><title>Harbour opens</title></head><body><h1>Harbour opens</h1>"
            "<script>track('view')</script><style>.a{}</style><div>Date: 2022-03-04</div>"
            "<article><p>" + "The harbour opened its new quay to ships this week. " * 6 + "</p></article></body></html>")
    article = extract(html, "http://example.org/harbour")
    assert (article.title, article.published.isoformat()) == ("Harbour opens", "2022-03-04")


class BrokenRulesSpider(NewsSpider):
    name = "broken"
    extraction_rules = SiteRules(body="div[[")  # a site module's bad selector: cssselect raises


def test_the_pipeline_counts_logs_and_drops_a_page_that_fails_and_goes_on(caplog):
    crawler = get_crawler(BrokenRulesSpider, {"NEWSCRAWL_EXTRACT_WORKERS": 0,  # in this process
                                                 "NEWSCRAWL_ERRORS_NAMED": 10})
    crawler.spider = BrokenRulesSpider()
    pipeline = ExtractArticle.from_crawler(crawler)
    bad = ArticleItem(url="http://example.org/a/1.html", site="broken", html="<html><body><p>x</p></body></html>")
    with caplog.at_level(logging.WARNING, logger="crawler.errors"), pytest.raises(ExtractionFailedDrop) as dropped:
        asyncio.run(pipeline.process_item(bad))
    assert crawler.stats.get_value("newscrawl/errors/extraction") == 1
    assert f"failed page (extraction): http://example.org/a/1.html: {dropped.value.reason}" in caplog.text
    crawler.spider.extraction_rules = SiteRules()
    good = asyncio.run(pipeline.process_item(ArticleItem(
        url="http://example.org/a/2.html", site="broken",
        html="<html><head><title>T</title></head><body><h1>T</h1></body></html>")))
    assert good.title == "T" and crawler.stats.get_value("newscrawl/errors/extraction") == 1
