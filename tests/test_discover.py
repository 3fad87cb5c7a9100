"""`newscrawl discover` on the invented site of tests/source_site.py (a feed, a sitemap behind
robots.txt, a news list) served on 127.0.0.1, and the URL patterns it suggests."""

import json
import re
import tomllib

import pytest

from crawler.discover import url_pattern
from crawler.sites import load_sites
from tests import source_site as site
from tests.cli_runner import newscrawl
from tests.loopback import recorded_site_proxy


@pytest.mark.parametrize("urls, pattern", [
    (["http://a.cn/art/2024/5/12/art_1229_70001.html", "http://a.cn/art/2024/5/13/art_1229_70002.html"],
     r"/art/\d{4}/\d+/\d+/art_1229_\d+\.html$"),
    (["http://a.cn/n/202405/t20240512_123.html", "http://a.cn/n/202405/t20240513_124.html"], r"/n/\d+/t\d+_\d+\.html$"),
    (["http://a.cn/col/col1229/index.html?uid=5671&pageNum=2"], r"/col/col1229/index\.html\?uid=5671\&pageNum=\d+$"),
    (["http://a.cn/news/index_1.html"], r"/news/index_\d+\.html$"),
])
def test_url_pattern_keeps_ids_and_generalises_dates_and_counters(urls, pattern):
    assert url_pattern(urls) == pattern
    assert all(re.search(pattern, url) for url in urls)


def test_discover_prints_a_ready_sites_entry_with_the_feed_the_sitemap_and_the_news_list(tmp_path):
    with recorded_site_proxy(site.write_recording(tmp_path / "site")) as (proxy, _):
        result = newscrawl("discover", f"{site.ROOT}/", "-s", "DOWNLOAD_DELAY=0",
                           env={"http_proxy": proxy, "no_proxy": ""})
    assert result.returncode == 0, result.stderr
    assert f"# feed {site.ROOT}/rss.xml: {len(site.IN_FEED)} entries, {len(site.IN_FEED)} match the article pattern" \
        in result.stdout.splitlines()
    entry = tomllib.loads(result.stdout)["sites"]["news-lanshan-example"]
    assert entry["start_url"] == f"{site.ROOT}/news/index.html"
    assert entry["feed_urls"] == [f"{site.ROOT}/rss.xml"]
    assert entry["sitemap_urls"] == [f"{site.ROOT}/sitemap_index.xml"]
    article_urls = [site.article_url(number) for number, _ in site.ARTICLES]
    assert all(re.search(entry["article_pattern"], url) for url in article_urls)
    assert not any(re.search(entry["article_pattern"], url)
                   for url in (site.NOT_AN_ARTICLE, f"{site.ROOT}/", f"{site.ROOT}/news/index_1.html"))
    assert re.search(entry["page_pattern"], f"{site.ROOT}/news/index_1.html")
    # the entry is ready: the sites file takes it as it is
    (tmp_path / "sites.toml").write_text(result.stdout, encoding="utf-8")
    spider = load_sites(tmp_path / "sites.toml")["news-lanshan-example"]
    assert spider.allowed_domains == [site.HOST]


def test_discover_on_a_site_with_nothing_to_offer_exits_1(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "home.html").write_text('<html><body><a href="/about.html">关于</a></body></html>')
    (tmp_path / "site" / "manifest.json").write_text(json.dumps({"site": "bare", "responses": [
        {"url": "http://bare.example/", "headers": {"Content-Type": "text/html"}, "body": "home.html"}]}))
    with recorded_site_proxy(tmp_path / "site") as (proxy, requests):  # robots.txt: 404
        result = newscrawl("discover", "http://bare.example/", "--name", "bare",
                           "-s", "DOWNLOAD_DELAY=0", env={"http_proxy": proxy, "no_proxy": ""})
    assert "http://bare.example/robots.txt" in requests
    assert result.returncode == 1
    assert "found no feed, sitemap or news list" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["www.example.com"], "discover takes the http(s) URL of a home page"),
    (["http://a.example/", "--name", "a.b"], "a site name is letters, digits"),
    (["http://[a/"], "discover takes the http(s) URL of a home page, not 'http://[a/'"),
    (["http://a.example:99999/"], "discover takes the http(s) URL of a home page, not 'http://a.example:99999/'"),
])
def test_discover_bad_input_is_one_line_and_exit_2(args, message):
    result = newscrawl("discover", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
