"""Feeds and sitemaps: their parsers, and crawls fed by them through the real downloader
(an invented site, tests/source_site.py, served on 127.0.0.1)."""

import gzip
from datetime import date

import pytest
from w3lib.url import canonicalize_url

from crawler.fetch import as_response
from spiders.sources import feed_entries, sitemap_body, sitemap_entries
from storage import Store
from tests import source_site as site
from tests.cli_runner import newscrawl
from tests.loopback import recorded_site_proxy

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def body(path: str) -> bytes:
    return site.pages()[f"{site.ROOT}{path}"][1].encode("utf-8")


def urls(entries) -> set[str]:
    return {canonicalize_url(url) for url, _ in entries}


def articles(chosen) -> set[str]:
    return {canonicalize_url(site.article_url(number)) for number, _ in chosen}


# -- parsers -------------------------------------------------------------------


def test_news_sitemap_entries_carry_their_publication_date():
    kind, entries = sitemap_entries(body("/sitemap_news.xml"))
    assert kind == "urlset"
    assert entries == [(site.article_url(number), shown) for number, shown in site.IN_SITEMAP]


def test_sitemap_entries_without_news_dates_carry_their_lastmod():
    kind, entries = sitemap_entries(body("/sitemap_pages.xml"))
    assert (kind, entries) == ("urlset", [(site.NOT_AN_ARTICLE, date(2024, 1, 2)), (f"{site.ROOT}/", date(2024, 5, 20))])


def test_sitemap_index_lists_sitemaps_and_html_is_no_sitemap():
    assert sitemap_entries(body("/sitemap_index.xml")) == (
        "sitemapindex", [(f"{site.ROOT}/sitemap_news.xml", None), (f"{site.ROOT}/sitemap_pages.xml", None)])
    assert sitemap_entries(body("/news/index.html"))[1] == []
    assert sitemap_entries(b"not xml at all") == sitemap_entries(b"") == ("", [])


def test_a_gzipped_sitemap_is_read_within_the_size_limit():
    packed = gzip.compress(body("/sitemap_news.xml"))
    response = as_response(f"{site.ROOT}/sitemap_news.xml.gz", packed, headers={"Content-Type": "application/x-gzip"})
    assert sitemap_entries(sitemap_body(response)) == sitemap_entries(body("/sitemap_news.xml"))
    assert sitemap_body(response, max_size=100) is None
    assert sitemap_body(as_response(f"{site.ROOT}/s.xml.gz", packed[:20])) is None  # cut short


def test_feed_entries_carry_their_pubdate_and_html_is_no_feed():
    assert feed_entries(body("/rss.xml")) == [(site.article_url(number), shown) for number, shown in site.IN_FEED]
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>a</title>'
            b'<link href="http://a.example/n/1.html"/><updated>2024-03-04T10:00:00Z</updated></entry></feed>')
    assert feed_entries(atom) == [("http://a.example/n/1.html", date(2024, 3, 4))]
    assert feed_entries(b"<html><body><p>no feed</p></body></html>") is None


# -- crawls --------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return site.write_recording(tmp_path_factory.mktemp("source-site"))


def crawl(recording, tmp_path, *args: str, expect: int = 0):
    """`newscrawl crawl ARGS` against the site on 127.0.0.1: (the store, the URLs asked for)."""
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with recorded_site_proxy(recording) as (proxy, requests):
        result = newscrawl("crawl", *args, "--db", db, *FAST, env={"http_proxy": proxy, "no_proxy": ""},
                           cwd=tmp_path)
    assert result.returncode == expect, result.stderr
    return Store(db, create=False), [canonicalize_url(url) for url in requests]


def stored(store: Store) -> set[str]:
    return {article["url"] for article in store.articles()}


def test_robots_txt_leads_through_the_sitemap_index_to_the_news_sitemaps_articles(recording, tmp_path):
    store, requests = crawl(recording, tmp_path, "generic", "--sitemap", f"{site.ROOT}/robots.txt",
                            "--article-pattern", site.ARTICLE_PATTERN)
    assert stored(store) == articles(site.IN_SITEMAP)
    assert canonicalize_url(site.NOT_AN_ARTICLE) not in requests  # the pattern leaves it out
    assert {article["site"] for article in store.articles()} == {site.HOST}
    assert store.last_run(site.HOST).status == "finished"
    store.close()


def test_without_a_pattern_every_sitemap_entry_is_taken_for_an_article(recording, tmp_path):
    store, requests = crawl(recording, tmp_path, "generic", "--sitemap", f"{site.ROOT}/sitemap_index.xml")
    assert canonicalize_url(site.NOT_AN_ARTICLE) in requests
    assert articles(site.IN_SITEMAP) <= stored(store)
    store.close()


def test_feed_alone_feeds_a_crawl_and_a_second_crawl_fetches_nothing_again(recording, tmp_path):
    store, _ = crawl(recording, tmp_path, "generic", "--feed", f"{site.ROOT}/rss.xml")
    assert stored(store) == articles(site.IN_FEED)
    store.close()
    store, requests = crawl(recording, tmp_path, "generic", "--feed", f"{site.ROOT}/rss.xml")
    assert not articles(site.IN_FEED) & set(requests)
    assert store.last_run(site.HOST).counts.articles_skipped == len(site.IN_FEED)
    store.close()


def test_since_skips_the_entries_a_sitemap_dates_before_it(recording, tmp_path):
    since = date(2024, 5, 15)
    store, requests = crawl(recording, tmp_path, "generic", "--sitemap", f"{site.ROOT}/sitemap_news.xml",
                            "--since", since.isoformat())
    recent = [(number, shown) for number, shown in site.IN_SITEMAP if shown >= since]
    assert 0 < len(recent) < len(site.IN_SITEMAP)
    assert stored(store) == articles(recent)
    assert not (articles(site.IN_SITEMAP) - articles(recent)) & set(requests)
    assert store.last_run(site.HOST).counts.articles_skipped == len(site.IN_SITEMAP) - len(recent)
    store.close()


def test_sites_file_entry_with_feeds_and_sitemaps_and_a_list(recording, tmp_path):
    (tmp_path / "sites.toml").write_text(f"""
[sites.lanshan]
start_url = "{site.ROOT}/news/index.html"
article_pattern = '{site.ARTICLE_PATTERN}'
feed_urls = ["{site.ROOT}/rss.xml"]
sitemap_urls = ["{site.ROOT}/robots.txt"]
""", encoding="utf-8")
    store, _ = crawl(recording, tmp_path, "lanshan")
    assert stored(store) == articles(site.ARTICLES)
    assert store.last_run("lanshan").counts.articles_new == len(site.ARTICLES)
    store.close()


def test_a_feed_that_is_no_feed_is_counted_as_an_error(recording, tmp_path):
    store, _ = crawl(recording, tmp_path, "generic", "--feed", f"{site.ROOT}/news/index.html", expect=0)
    assert store.last_run(site.HOST).counts.errors == 1
    store.close()


@pytest.mark.parametrize("args, message", [
    (["generic"], "or --feed URL or --sitemap URL"),
    (["generic", "--feed", "news.lanshan.example/rss.xml"], "feed URL 'news.lanshan.example/rss.xml' is not an http(s) URL"),
    (["rocar", "--sitemap", "http://a.example/sitemap.xml"], "describe the site 'generic'"),
])
def test_bad_feed_and_sitemap_options_are_one_line_and_exit_2(tmp_path, args, message):
    result = newscrawl("crawl", *args, "--db", f"sqlite:///{tmp_path / 'a.db'}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
