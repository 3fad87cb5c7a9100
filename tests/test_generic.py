"""Sites without a spider module: extraction without site rules, and the generic spider
from the command line and from a sites file, crawling a recorded site served on 127.0.0.1."""

import json
import re
from datetime import date
from pathlib import Path

import pytest
from scrapy.settings import Settings
from w3lib.url import canonicalize_url

from crawler.extract import SiteRules, extract
from crawler.sites import SiteLoader, SitesFileError, load_sites
from storage import Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import (article_pages, as_golden, generic_site_names, quality, quality_gate, site_folder,
                                 site_names)
from tests.loopback import recorded_site_proxy

FLOORS = json.loads((Path(__file__).parent / "quality_floors.json").read_text())

# tests/fixtures/generic/yunling: a municipal SASAC news column on a Hanweb-style CMS
SITE, HOST = "yunling", "gzw.yunling.gov.cn"
START = f"http://{HOST}/col/col1229/index.html"
ARTICLE_PATTERN = r"/art/\d{4}/\d{1,2}/\d{1,2}/art_1229_\d+\.html$"
PAGE_PATTERN = r"/col/col1229/index\.html\?uid=\d+&pageNum=\d+$"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
SITES_FILE = f"""
[sites.{SITE}]
start_url = "{START}"
article_pattern = '{ARTICLE_PATTERN}'
page_pattern = '{PAGE_PATTERN}'
"""

# -- extraction without site rules -----------------------------------------------


@pytest.mark.parametrize("page", article_pages(*generic_site_names()), ids=lambda page: page.id)
def test_generic_site_page_matches_golden_file(page):
    assert page.golden_path.exists(), f"no golden file; run `make goldens` and review {page.golden_path}"
    expected = json.loads(page.golden_path.read_text(encoding="utf-8"))
    assert as_golden(page.extract(), page.recorded.url) == expected


def test_generic_quality_gate_over_every_fixture_site_without_its_rules_stays_above_floors():
    gate = quality_gate(site_names() + generic_site_names(), SiteRules())
    print(f"generic quality gate: {gate}")
    assert gate.precision >= FLOORS["generic_precision"]
    assert gate.recall >= FLOORS["generic_recall"]


PARAGRAPHS = ["　　3月14日，市政府召开全市安全生产工作会议，总结去年工作，部署今年任务。",
              "&nbsp;&nbsp;&nbsp;&nbsp;会议要求，各地各部门要压紧压实安全生产责任，深入开展隐患排查整治。",
              "　　各县（市、区）政府和市直有关部门负责同志参加会议。"]
TEXT = ["3月14日，市政府召开全市安全生产工作会议，总结去年工作，部署今年任务。",
        "会议要求，各地各部门要压紧压实安全生产责任，深入开展隐患排查整治。",
        "各县（市、区）政府和市直有关部门负责同志参加会议。"]
FONT_AND_BR = '<font face="仿宋_GB2312" size="4">' + "<br>\n".join(PARAGRAPHS) + "</font>"


def gov_page(box: str, *, title="全市安全生产工作会议召开_工作动态_某某市人民政府", shown="全市安全生产工作会议召开",
             date_line="<td>发布日期：2023-03-15</td><td>信息来源：市应急管理局</td>", meta="") -> str:
    """An old-CMS government page: nested tables, a sidebar, the date line above the body box."""
    menu = "".join(f'<tr><td><a href="/col/col{n}/index.html">栏目{n}</a> 2023-03-0{n}</td></tr>' for n in range(1, 8))
    return f"""<html><head><meta charset="utf-8"><title>{title}</title>{meta}</head><body>
    <table width="1000"><tr><td>首页 | 政务公开 | 工作动态 | 办事服务 | 互动交流</td></tr></table>
    <table width="1000"><tr><td width="240" valign="top"><table>{menu}</table></td><td valign="top">
      <table><tr><td>当前位置：首页 &gt; 政务公开 &gt; 工作动态</td></tr></table>
      <table width="96%"><tr><td class="title">{shown}</td></tr>
        <tr><td><table class="info"><tr>{date_line}<td>字体：[大 中 小]</td></tr></table></td></tr>
        <tr><td>{box}</td></tr>
        <tr><td>【打印本页】【关闭窗口】</td></tr>
        <tr><td>上一篇：<a href="/art/1.html">市长主持召开常务会议</a></td></tr></table>
    </td></tr></table>
    <table><tr><td>主办：某某市人民政府办公室 网站标识码：1234000001 技术支持：某某网络</td></tr></table>
    </body></html>"""


@pytest.mark.parametrize("box", [
    f'<div class="TRS_Editor">{FONT_AND_BR}</div>',  # TRS WCM
    f'<div id="UCAP-CONTENT">{FONT_AND_BR}</div>',  # Hanweb, Kaipu
    f'<div class="wp_articlecontent">{FONT_AND_BR}</div>',  # WebPlus
    f'<div class="v_news_content">{FONT_AND_BR}</div>',  # VSB
    f'<div id="zoom"><!--ContentStart-->{FONT_AND_BR}<!--ContentEnd--><div>相关链接：<a>另一篇</a></div></div>',
    f'<div id="zoom"><!--ZJEG_RSS.content.begin--><meta name="ContentStart">{FONT_AND_BR}'
    '<meta name="ContentEnd"><!--ZJEG_RSS.content.end--><ul><li>相关阅读：<a>另一篇</a></li></ul></div>',
    f'<td class="bt_content" id="zoom">{FONT_AND_BR}</td>',
])
def test_cms_body_box_in_a_table_layout_gives_its_br_separated_paragraphs_only(box):
    article = extract(gov_page(box), "http://www.example.gov.cn/art/2023/3/16/art_1_1.html")
    assert article.text.split("\n") == TEXT
    assert (article.title, article.published, article.source) == ("全市安全生产工作会议召开", date(2023, 3, 15), "市应急管理局")


def test_plain_trafilatura_is_the_fallback_when_no_cms_marks_the_body():
    page = """<html><head><title>Plant opens - Example Group</title></head><body>
    <nav><a href="/">Home</a> <a href="/news/">News</a></nav><article><h1>Plant opens</h1>
    <p>The group opened its new plant on Monday, after two years of building work in the port area.</p>
    <p>It will employ four hundred people and make parts for the railway industry across the region.</p>
    </article><footer>Copyright Example Group</footer></body></html>"""
    article = extract(page, "http://www.example.com/news/1.html")
    assert article.text.split("\n") == [
        "The group opened its new plant on Monday, after two years of building work in the port area.",
        "It will employ four hundred people and make parts for the railway industry across the region."]
    assert article.title == "Plant opens"


GOV_META = ('<meta name="ArticleTitle" content="全市安全生产工作会议召开"><meta name="PubDate" content="2023-03-16 10:05">'
            '<meta name="ContentSource" content="某某市应急管理局"><meta name="Author" content="王芳">')
BOX = f'<div class="TRS_Editor">{FONT_AND_BR}</div>'


def test_the_date_line_shown_beats_the_pubdate_meta_tag_of_the_publishing_day():
    article = extract(gov_page(BOX, meta=GOV_META), "http://www.example.gov.cn/art/2023/3/16/art_1_1.html")
    assert (article.published, article.source, article.author) == (date(2023, 3, 15), "市应急管理局", "王芳")


def test_government_meta_tags_stand_in_for_a_missing_date_line():
    article = extract(gov_page(BOX, meta=GOV_META, date_line="<td>浏览次数：12</td>"), "http://www.example.gov.cn/a")
    assert (article.published, article.source, article.author) == (date(2023, 3, 16), "某某市应急管理局", "王芳")


@pytest.mark.parametrize("title, shown, meta, expected", [
    ("全市安全生产工作会议召开_工作动态_某某市人民政府", "全市安全生产工作会议召开", "", "全市安全生产工作会议召开"),
    ("Front-line Workers Honoured-Party Building-BAIC", "Front-line Workers Honoured", "", "Front-line Workers Honoured"),
    ("Plant Opens | Example Group", "Plant Opens", "", "Plant Opens"),
    # no element shows the headline: the declared title, else <title> less the declared column and site names
    ("全市安全生产工作会议召开_工作动态_某某市人民政府", "", GOV_META, "全市安全生产工作会议召开"),
    ("全市安全生产工作会议召开_工作动态_某某市人民政府", "",
     '<meta name="ColumnName" content="工作动态"><meta name="SiteName" content="某某市人民政府">', "全市安全生产工作会议召开"),
])
def test_title_is_the_headline_without_the_column_and_site_names_of_title(title, shown, meta, expected):
    assert extract(gov_page(BOX, title=title, shown=shown, meta=meta), "http://www.example.gov.cn/a").title == expected


def test_site_rules_take_precedence_over_cms_marks_and_meta_tags():
    page = gov_page(f'<div class="TRS_Editor"><p>Not this box, though the CMS marks it.</p></div>'
                    f'<div class="mine">{FONT_AND_BR}</div>', meta=GOV_META)
    article = extract(page, "http://www.example.gov.cn/a", SiteRules(title="td.title", byline="table.info",
                                                                    body="div.mine"))
    assert article.text.split("\n") == TEXT
    assert (article.published, article.source, article.author) == (date(2023, 3, 15), "市应急管理局", None)


# -- the generic spider: command line and sites file --------------------------------


def crawl_recorded_site(*args: str, cwd: Path) -> list[str]:
    """A crawl through the real downloader, the recorded site answering as a proxy; the URLs it was asked for."""
    with recorded_site_proxy(site_folder(SITE)) as (proxy, requests):
        result = newscrawl("crawl", *args, *FAST, env={"http_proxy": proxy, "no_proxy": ""}, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return requests


@pytest.fixture(scope="module")
def command_line_crawl(tmp_path_factory):
    """`newscrawl crawl generic ...` of the recorded site: (store, articles by URL, requested URLs)."""
    folder = tmp_path_factory.mktemp("generic")
    db = f"sqlite:///{folder / 'articles.db'}"
    requests = crawl_recorded_site("generic", "--start-url", START, "--article-pattern", ARTICLE_PATTERN,
                                   "--page-pattern", PAGE_PATTERN, "--db", db, cwd=folder)
    store = Store(db, create=False)
    yield store, {article["url"]: article for article in store.articles()}, requests
    store.close()


def test_command_line_crawl_stores_exactly_the_sites_articles_under_its_host(command_line_crawl):
    store, articles, _ = command_line_crawl
    assert set(articles) == {canonicalize_url(url) for url in quality(SITE)["articles"]}
    assert {article["site"] for article in articles.values()} == {HOST}
    run = store.last_run(HOST)
    assert run.status == "finished"
    # robots.txt, 3 list pages, 7 articles; no errors: nothing outside the column was asked for
    assert (run.counts.pages, run.counts.articles_new, run.counts.errors) == (11, 7, 0)


def test_command_line_crawl_stays_in_the_column(command_line_crawl):
    _, _, requests = command_line_crawl
    recorded = {canonicalize_url(entry["url"])
                for entry in json.loads((site_folder(SITE) / "manifest.json").read_text())["responses"]}
    assert {canonicalize_url(url) for url in requests} == recorded  # not the sidebar's other columns


def test_command_line_crawl_stores_clean_articles_with_the_dates_of_their_date_lines(command_line_crawl):
    _, articles, _ = command_line_crawl
    gate = quality(SITE)
    for page in article_pages(SITE):
        article = articles[canonicalize_url(page.recorded.url)]
        golden = json.loads(page.golden_path.read_text(encoding="utf-8"))
        assert (article["title"], str(article["published"])) == (golden["title"], golden["published"])
        text = " ".join(article["text"].split())
        expected = gate["articles"][page.recorded.url]
        assert all(" ".join(wanted.split()) in text for wanted in expected["must_include"]), page.recorded.url
        for unwanted in expected["must_exclude"] + gate["boilerplate"]:
            assert " ".join(unwanted.split()) not in text, (page.recorded.url, unwanted)


def test_sites_file_entry_is_listed_and_crawled_by_its_name(tmp_path):
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(SITES_FILE, encoding="utf-8")
    listed = newscrawl("sites", "--sites-file", str(sites_file))
    assert listed.returncode == 0, listed.stderr
    assert f"{SITE} {START}" in [" ".join(line.split()) for line in listed.stdout.splitlines()]

    db = f"sqlite:///{tmp_path / 'articles.db'}"
    crawl_recorded_site(SITE, "--sites-file", str(sites_file), "--db", db, cwd=tmp_path)
    store = Store(db, create=False)
    assert {article["url"] for article in store.articles(SITE)} == {
        canonicalize_url(url) for url in quality(SITE)["articles"]}
    assert store.last_run(SITE).counts.articles_new == len(quality(SITE)["articles"])
    store.close()


def test_sites_toml_in_the_working_directory_is_read_without_the_option(tmp_path):
    (tmp_path / "sites.toml").write_text(SITES_FILE, encoding="utf-8")
    listed = newscrawl("sites", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert SITE in listed.stdout.split() and "rocar" in listed.stdout.split()


@pytest.mark.parametrize("args, message", [
    (["generic", "--start-url", START], "needs --start-url URL and --article-pattern REGEX"),
    (["generic", "--start-url", START, "--article-pattern", r"art_(\d+"], "not a valid regular expression"),
    (["generic", "--start-url", START, "--article-pattern", "x", "--page-pattern", "[a-"],
     "not a valid regular expression"),
    (["generic", "--start-url", "gzw.yunling.gov.cn/col/", "--article-pattern", "x"], "is not an http(s) URL"),
    (["generic", "--start-url", "http://[gzw/col/", "--article-pattern", "x"], "'http://[gzw/col/' is not an http(s) URL"),
    (["generic", "--start-url", "http://gzw.yunling.gov.cn:99999/col/", "--article-pattern", "x"],
     "is not an http(s) URL"),
    (["generic", "--start-url", START, "--article-pattern", "x", "--allowed-domain", "yunling.example"],
     f"start URL '{START}' is outside the allowed domains (yunling.example)"),  # Scrapy would drop it unsaid
    (["rocar", "--article-pattern", "x"], "describe the site 'generic': name it"),
    (["nosuchsite"], "unknown site 'nosuchsite'"),
    (["yunling", "--sites-file", "missing.toml"], "no sites file at missing.toml"),
])
def test_bad_crawl_input_is_one_line_and_exit_2_before_any_store_is_made(tmp_path, args, message):
    result = newscrawl("crawl", *args, "--db", f"sqlite:///{tmp_path / 'a.db'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("newscrawl: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "a.db").exists()


def test_broken_sites_file_is_one_line_and_exit_2(tmp_path):
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(SITES_FILE.replace("page_pattern", "page_patern"), encoding="utf-8")
    result = newscrawl("crawl", SITE, "--sites-file", str(sites_file), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"newscrawl: {sites_file}: [sites.{SITE}]: unknown key 'page_patern' "
                                     "(keys: start_url, start_urls, article_pattern, page_pattern, allowed_domains, "
                                     "feed_urls, sitemap_urls, json_list)")


@pytest.mark.parametrize("entry, message", [
    ('[sites.a]\nstart_url = "http://a.example/"', "needs start_url (or start_urls) and article_pattern"),
    ('[sites.a]\nstart_urls = "http://a.example/"\narticle_pattern = "x"', "start_urls must be a list of strings"),
    ('[sites.a]\nstart_url = "http://a.example/"\narticle_pattern = "(x"', "is not a valid regular expression"),
    ('[sites.generic]\nstart_url = "http://a.example/"\narticle_pattern = "x"', "and not 'generic'"),
    ('[sites.a]\nstart_url = "http://a.example/', "cannot read sites file"),
])
def test_sites_file_faults_name_the_file_and_entry(tmp_path, entry, message):
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(entry, encoding="utf-8")
    with pytest.raises(SitesFileError, match=re.escape(message)) as fault:
        load_sites(sites_file)
    assert str(fault.value).startswith(f"{sites_file}: [sites." if "cannot" not in message else "cannot")


def test_sites_file_entry_cannot_take_the_name_of_a_spider_module(tmp_path):
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text('[sites.rocar]\nstart_url = "http://a.example/"\narticle_pattern = "x"', encoding="utf-8")
    with pytest.raises(SitesFileError, match=r"\[sites.rocar\] has the name of a spider module"):
        SiteLoader(Settings({"SPIDER_MODULES": ["spiders"], "NEWSCRAWL_SITES_FILE": str(sites_file)}))


def test_sites_file_entry_declares_a_spider_as_a_module_would(tmp_path):
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(SITES_FILE + '\n[sites.two]\nstart_urls = ["http://a.example/n/", "http://b.example/n/"]\n'
                          'article_pattern = "/n/\\\\d+\\\\.html$"\nallowed_domains = ["example"]\n', encoding="utf-8")
    sites = load_sites(sites_file)
    assert sorted(sites) == ["two", SITE]
    spider = sites[SITE]
    assert (spider.name, spider.start_urls, spider.allowed_domains) == (SITE, [START], [HOST])
    assert (spider.article_links, spider.list_links) == (ARTICLE_PATTERN, PAGE_PATTERN)
    assert sites["two"].allowed_domains == ["example"] and sites["two"].list_links == ""
