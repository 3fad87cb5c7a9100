"""Articles split over pages: fetched in order, joined under page 1's URL, stored once, without the pager."""

import json
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse

from crawler.extract import extract_pages
from crawler.multipage import continues, next_page_url
from tests.cli_runner import newscrawl
from tests.loopback import send, serving

CASE_14 = Path(__file__).parent / "real_world" / "14-multipage-article"


@contextmanager
def serve(pages: dict[str, str]):
    """pages by path (with its query) on 127.0.0.1; anything else is a 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            send(self, 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode("utf-8"))

        def log_message(self, *args):
            pass

    with serving(Handler) as base:
        yield base


def crawl(base: str, tmp_path, article_pattern: str) -> list[dict]:
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    result = newscrawl("crawl", "generic", "--start-url", f"{base}/index.html", "--article-pattern", article_pattern,
                       "--db", db, "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0")
    assert result.returncode == 0, result.stderr
    exported = newscrawl("export", "--db", db)
    return [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]


def test_case_14_trs_style_pages_are_one_article_under_page_1(tmp_path):
    pages = {f"/{path.relative_to(CASE_14)}": path.read_text(encoding="utf-8")
             for path in CASE_14.rglob("*.html")}
    with serve(pages) as base:
        rows = crawl(base, tmp_path, r"/news/\d+\.html$")
    assert [urlsplit(row["url"]).path for row in rows] == ["/news/6100.html"]
    row = rows[0]
    assert (row["title"], row["published"]) == ("Building the Highland Line: A Year on the Mountain", "2021-12-20")
    text = row["text"]
    parts = ["first survey team arrived at the pass", "meltwater flooded the lower section",
             "four hundred metres of finished tunnel"]
    assert all(part in text for part in parts)
    assert [text.index(part) for part in parts] == sorted(text.index(part) for part in parts)  # in page order
    assert "Next page" not in text and "Pages:" not in text


def story_page(n: int, pager: str, story: str = "Quay") -> str:
    return (f"<html><head><title>Quay Opens - Port News</title>{pager if 'link' in pager else ''}</head><body>"
            f"<h1>Quay Opens</h1><div>Date: 2023-05-18</div><div class='story'>"
            f"<p>Part {n} of the story: the new quay opened to ships this week after two years of works.</p>"
            f"<p>More words of part {n}, so that every page holds paragraphs of its own to be read.</p>"
            f"{'' if story == 'Quay' else f'<p>This is the {story} story.</p>'}</div>"
            f"{'' if 'link' in pager else pager}</body></html>")


PAGERS = {  # story: (URL of page n > 1, the pager linking page m from page n)
    "query": ("/query.html?page={n}", "<p><a href='/query.html?page={m}'>下一页</a></p>"),
    "dash": ("/dash-{n}.html", "<p>第{n}页 <a rel='next' href='/dash-{m}.html'>›</a></p>"),
    "link": ("/link_{n}.html", "<link rel='next' href='/link_{m}.html'>"),
}


def test_query_rel_next_and_chinese_pagers_are_followed(tmp_path):
    pages = {"/index.html": "<html><body>" + "".join(f"<a href='/{story}.html'>{story}</a>" for story in PAGERS)
             + "</body></html>"}
    for story, (page_url, pager) in PAGERS.items():
        for n in (1, 2, 3):
            pages[f"/{story}.html" if n == 1 else page_url.format(n=n)] = \
                story_page(n, pager.format(n=n, m=n + 1) if n < 3 else "", story)
    with serve(pages) as base:
        rows = crawl(base, tmp_path, r"/(query|dash|link)\.html$")
    assert sorted(urlsplit(row["url"]).path for row in rows) == ["/dash.html", "/link.html", "/query.html"]
    for row in rows:
        assert row["text"].count("of the story") == 3
        assert row["text"].index("Part 1") < row["text"].index("Part 2") < row["text"].index("Part 3")


def test_a_missing_further_page_keeps_the_pages_fetched(tmp_path):
    pages = {"/index.html": "<html><body><a href='/story.html'>Quay Opens</a></body></html>",
             "/story.html": story_page(1, "<a href='/story_2.html'>Next page</a>")}
    with serve(pages) as base:
        rows = crawl(base, tmp_path, r"/story\.html$")
    assert len(rows) == 1 and "Part 1" in rows[0]["text"]


def test_a_pager_going_round_ends_the_article(tmp_path):
    pages = {"/index.html": "<html><body><a href='/story.html'>Quay Opens</a></body></html>",
             "/story.html": story_page(1, "<a href='/story_2.html'>Next page</a>"),
             "/story_2.html": story_page(2, "<a href='/story_3.html'>Next page</a>"),
             "/story_3.html": story_page(3, "<a href='/story_2.html'>Next page</a>")}
    with serve(pages) as base:
        rows = crawl(base, tmp_path, r"/story\.html$")
    assert len(rows) == 1 and rows[0]["text"].count("of the story") == 3


def response(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode("utf-8"), encoding="utf-8")


def test_next_article_and_list_pagers_are_not_the_next_page():
    body = ("<a href='/news/6101.html'>Next page</a> <a href='/news/6100_2.html'>下一篇</a>"
            "<a href='/news/index_2.html'>Next</a> <a href='http://other.example/news/6100_2.html'>Next</a>")
    assert next_page_url(response("http://example.org/news/6100.html", body), "http://example.org/news/6100.html") is None


@pytest.mark.parametrize("pager", [
    "<a href='6100_2.html'>Next page</a>",
    "<a href='6100_2.html'><span>Next</span> <b>page</b> &raquo;</a>",
    "<a href='6100_2.html'>&nbsp;下一页</a>",
    "<a href='6100_2.html'>\n  下页 &gt;</a>",
    "<a href='6100_2.html' REL='Next'>2</a>",
    "<a rel=next href='6100_2.html'>2</a>",
])
def test_every_form_of_next_page_link_is_found(pager):
    """Pages are only parsed for a pager when their raw text may hold one: every form gets through."""
    body = f"<html><head><title>T</title></head><body><p>Text.</p><div class='pager'>{pager}</div></body></html>"
    url = "http://example.org/news/6100.html"
    assert next_page_url(response(url, body), url) == "http://example.org/news/6100_2.html"


def test_link_rel_next_in_the_head_is_found():
    body = "<html><head><link href='/news/6100.html?page=2' rel='prev next'></head><body><p>Text.</p></body></html>"
    url = "http://example.org/news/6100.html"
    assert next_page_url(response(url, body), url) == "http://example.org/news/6100.html?page=2"


def test_continuation_urls():
    first = "http://example.org/news/t20230518_6100.html"
    assert continues(first, "http://example.org/news/t20230518_6100_2.html")
    assert continues(first, "http://example.org/news/t20230518_6100.html?page=3")
    assert not continues(first, "http://example.org/news/t20230518_6101.html")
    assert not continues(first, "http://example.org/news/t20230518_6100.html?id=3")


def test_pages_are_joined_with_the_first_page_metadata():
    pages = [story_page(1, "<p>Pages: 1 <a href='/s_2.html'>2</a> <a href='/s_2.html'>Next page</a></p>"),
             story_page(2, "<p>Pages: <a href='/s.html'>1</a> 2</p>").replace("2023-05-18", "2023-05-19")]
    article = extract_pages(pages, "http://example.org/s.html")
    assert (article.title, article.published) == ("Quay Opens", date(2023, 5, 18))
    assert [line.split(":")[0] for line in article.text.splitlines()] == [
        "Part 1 of the story", "More words of part 1, so that every page holds paragraphs of its own to be read.",
        "Part 2 of the story", "More words of part 2, so that every page holds paragraphs of its own to be read."]
