"""`newscrawl extract` on a saved page and on a URL served on 127.0.0.1, and `newscrawl check`
with a good and a bad pattern, a feed and a sitemap (the invented site of tests/source_site.py)."""

import functools
import json
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from tests import source_site as site
from tests.cli_runner import newscrawl
from tests.fixture_sites import site_folder
from tests.loopback import recorded_site_proxy, serving
from tests.test_outcomes import UnreachableRobots

FAST = ["-s", "DOWNLOAD_DELAY=0"]
ROCAR_PAGE = site_folder("rocar") / "pages" / "en-menu139-newsDetail-441.html"
ROCAR_URL = "https://www.rocar.net/en/menu139/newsDetail/441.html"
ROCAR_GOLDEN = json.loads(ROCAR_PAGE.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """The invented site on 127.0.0.1: (environment for newscrawl, the URLs asked for)."""
    recording = site.write_recording(tmp_path_factory.mktemp("source-site"))
    with recorded_site_proxy(recording) as (address, requests):
        yield {"http_proxy": address, "no_proxy": ""}, requests


# -- extract --------------------------------------------------------------------


def test_extract_a_saved_page_with_its_sites_rules_gives_its_golden_article():
    result = newscrawl("extract", str(ROCAR_PAGE), "--url", ROCAR_URL, "--site", "rocar", "--json")
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["url"] == ROCAR_URL
    assert {key: article[key] for key in ("title", "published", "author", "source", "language")} == \
        {key: ROCAR_GOLDEN[key] for key in ("title", "published", "author", "source", "language")}
    assert article["text"].split("\n") == ROCAR_GOLDEN["paragraphs"]


def test_extract_a_saved_page_without_a_url_reads_it_as_a_file_url(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(site.article_html(101, site.ARTICLES[0][1]), encoding="utf-8")
    result = newscrawl("extract", str(page))
    assert result.returncode == 0, result.stderr
    header, text = result.stdout.split("\n\n", 1)
    fields = dict(line.split(None, 1) for line in header.splitlines())
    assert fields == {"url": page.resolve().as_uri(), "title": "兰山区第101次工作会议召开", "date": "2024-05-20",
                      "author": "-", "source": "兰山区政府办", "language": "zh"}
    assert text.startswith("第101号通讯第1段") and len(text.strip().splitlines()) == 3


def test_extract_a_url_fetches_it_politely_and_prints_its_article(proxy):
    env, requests = proxy
    url = site.article_url(102)
    result = newscrawl("extract", url, "--json", *FAST, env=env)
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert (article["title"], article["published"], article["source"]) == ("兰山区第102次工作会议召开", "2024-05-17",
                                                                          "兰山区政府办")
    assert f"{site.ROOT}/robots.txt" in requests and url in requests


def test_extract_a_file_that_is_no_html_page_is_one_line_and_exit_1(tmp_path):
    page = tmp_path / "program"
    page.write_bytes(bytes(range(256)) * 20)  # as /bin/ls: no text at all
    result = newscrawl("extract", str(page))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"newscrawl: {page.resolve().as_uri()}: not an HTML page (no Content-Type)\n"


@pytest.mark.parametrize("path, message", [
    ("/private/secret.html", "robots.txt of news.lanshan.example forbids"),
    ("/news/missing.html", "answered 404"),
])
def test_extract_a_url_it_may_not_or_cannot_have_is_one_line_and_exit_1(proxy, path, message):
    env, requests = proxy
    result = newscrawl("extract", f"{site.ROOT}{path}", *FAST, env=env)
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    if "robots" in message:
        assert f"{site.ROOT}{path}" not in requests


@pytest.mark.parametrize("args, message", [
    (["no-such-file.html"], "cannot read no-such-file.html"),
    ([str(ROCAR_PAGE), "--site", "nosuchsite"], "unknown site 'nosuchsite'"),
    ([str(ROCAR_PAGE), "--url", "www.rocar.net/x"], "--url takes the http(s) URL"),
    ([str(ROCAR_PAGE), "--url", "http://[rocar/x"], "--url takes the http(s) URL"),
    (["http://[rocar/x"], "'http://[rocar/x' is not an http(s) URL"),  # malformed: urllib raises on it
    (["http://www.rocar.net:99999/x"], "'http://www.rocar.net:99999/x' is not an http(s) URL"),
])
def test_extract_bad_input_is_one_line_and_exit_2(args, message):
    result = newscrawl("extract", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


# -- check ------------------------------------------------------------------------

GOOD = ["generic", "--start-url", f"{site.ROOT}/news/index.html", "--article-pattern", site.ARTICLE_PATTERN,
        "--page-pattern", r"/news/index_\d+\.html$"]


def test_check_counts_the_links_each_pattern_matches_and_extracts_the_first_article(proxy):
    env, _ = proxy
    result = newscrawl("check", *GOOD, *FAST, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert f"start page {site.ROOT}/news/index.html" in lines
    assert "status 200" in lines and "list mechanism links" in lines
    assert any(line.startswith(f"article links {len(site.ARTICLES)} e.g. {site.article_url(101)}") for line in lines)
    assert any(line.startswith(f"list-page links 1 e.g. {site.ROOT}/news/index_1.html") for line in lines)
    assert f"first article {site.article_url(101)}" in lines
    assert "title 兰山区第101次工作会议召开" in lines and "date 2024-05-20" in lines
    assert lines[-1] == f"{site.HOST}: ok"


def test_check_spots_an_article_pattern_that_matches_nothing(proxy):
    env, requests = proxy
    result = newscrawl("check", "generic", "--start-url", f"{site.ROOT}/news/index.html",
                       "--article-pattern", r"/news/\d{4}/art_\d+\.html$", *FAST, env=env)
    assert result.returncode == 1
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "article links 0" in lines
    assert f"! the article pattern matches no link on {site.ROOT}/news/index.html" in lines
    assert result.stderr.startswith("newscrawl: check failed: the article pattern matches no link")
    assert "first article" not in result.stdout


def test_check_spots_a_page_pattern_that_matches_nothing(proxy):
    env, _ = proxy
    result = newscrawl("check", *GOOD[:-1], r"/news/list_\d+\.html$", *FAST, env=env)
    assert result.returncode == 1
    assert "the page pattern matches no link on any start page" in result.stderr


def test_check_spots_article_links_that_are_all_off_the_site(tmp_path):
    """The crawl follows no link off its allowed domains: articles linked on another host (a CDN,
    another name of the server) are none to it."""
    (tmp_path / "news").mkdir()
    handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    with serving(functools.partial(handler, directory=str(tmp_path))) as base:
        elsewhere = base.replace("127.0.0.1", "localhost")
        (tmp_path / "news" / "index.html").write_text(f'<a href="{elsewhere}/news/1.html">one</a>')
        result = newscrawl("check", "generic", "--start-url", f"{base}/news/index.html",
                           "--article-pattern", r"/news/\d+\.html$", *FAST)
    assert result.returncode == 1, result.stdout
    assert result.stderr == ("newscrawl: check failed: every article link found is off the site, which the crawl "
                             "does not follow: localhost\n")
    assert "first article" not in result.stdout


def test_check_spots_a_first_article_that_is_a_page_not_found_page(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "index.html").write_text('<a href="/news/1.html">one</a>')
    (tmp_path / "news" / "1.html").write_text("<html><head><title>404 Not Found</title></head><body><h1>Not Found"
                                              "</h1><p>The requested URL was not found on this server.</p></body>")
    handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    with serving(functools.partial(handler, directory=str(tmp_path))) as base:
        result = newscrawl("check", "generic", "--start-url", f"{base}/news/index.html",
                           "--article-pattern", r"/news/\d+\.html$", *FAST)
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        f"newscrawl: check failed: {base}/news/1.html is a page-not-found page (its title: '404 Not Found'), "
        "which the crawl counts as failed")


def test_check_follows_robots_txt_to_the_sitemaps_and_reads_the_feed(proxy):
    env, _ = proxy
    result = newscrawl("check", "generic", "--feed", f"{site.ROOT}/rss.xml", "--sitemap", f"{site.ROOT}/robots.txt",
                       "--article-pattern", site.ARTICLE_PATTERN, *FAST, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert any(line.startswith(f"entries {len(site.IN_FEED)} e.g.") for line in lines)
    assert any(line.startswith(f"sitemaps listed 2 e.g. {site.ROOT}/sitemap_news.xml") for line in lines)
    assert any(line.startswith(f"article entries {len(site.IN_SITEMAP)} e.g.") for line in lines)


def test_check_a_named_site_from_a_sites_file(proxy, tmp_path):
    env, _ = proxy
    (tmp_path / "sites.toml").write_text(f"""[sites.lanshan]
start_url = "{site.ROOT}/news/index.html"
article_pattern = '{site.ARTICLE_PATTERN}'
""", encoding="utf-8")
    result = newscrawl("check", "lanshan", *FAST, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "lanshan: ok"


@pytest.mark.parametrize("args, message", [
    (["nosuchsite"], "unknown site 'nosuchsite'"),
    (["generic"], "or --feed URL or --sitemap URL"),
    (["rocar", "--start-url", "http://a.example/"], "describe the site 'generic'"),
    (["generic", "--start-url", "http://[a/", "--article-pattern", "x"], "start URL 'http://[a/' is not an http(s) URL"),
    (["generic", "--feed", "http://a.example:99999/rss"], "feed URL 'http://a.example:99999/rss' is not"),
])
def test_check_bad_input_is_one_line_and_exit_2(args, message):
    result = newscrawl("check", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_check_names_the_list_mechanism_of_a_column_paged_by_its_cms_script():
    """henan's column is paged only by TRS's createPageHTML (spiders/cms_lists.py): check says so."""
    with recorded_site_proxy(site_folder("henan")) as (address, _):
        result = newscrawl("check", "henan", *FAST, env={"http_proxy": address, "no_proxy": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "list mechanism links" in lines and "list mechanism trs_pager" in lines
    assert any(line.startswith("list-page links 1 e.g. http://www.hnjgdj.gov.cn/sxdt/index_1.html") for line in lines)


def test_extract_a_url_whose_robots_txt_answers_a_server_error_fetches_nothing():
    handler = type("Robots", (UnreachableRobots,), {"asked": []})
    with serving(handler) as host:
        result = newscrawl("extract", f"{host}/news/1.html", *FAST)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"newscrawl: robots.txt of {host.split('//')[1]} forbids {host}/news/1.html\n"
    assert handler.asked == ["/robots.txt"]
