"""List pages read the way their CMS writes them (spiders/cms_lists.py): TRS and VSB pagers,
Hanweb datastores with dataproxy.jsp paging, JSON list endpoints; the generic spider crawling
such columns over HTTP on 127.0.0.1, given only a start URL and an article pattern; POST in
record and replay."""

import json
import shutil
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler
from w3lib.url import canonicalize_url

from crawler.recordings import load_recordings, recording_key
from crawler.runner import FIXTURES
from spiders.cms_lists import (DATAPROXY, HANWEB_DATAPROXY, HANWEB_DATASTORE, JSON_PAGE, TRS_PAGER, VSB_PAGER,
                               JsonList, read_scripted_list)
from spiders.generic import GenericSpider
from storage import Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality, site_folder
from tests.loopback import recorded_site_proxy

LIST_META = {"newscrawl_page": "list"}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def html_page(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url, body=f"<html><body>{body}</body></html>".encode(), encoding="utf-8",
                        request=Request(url, meta=dict(LIST_META)))


def next_urls(response) -> list[str]:
    return [request.url for request in read_scripted_list(response, LIST_META).next_pages]


# -- TRS and VSB pagers -------------------------------------------------------------------

TRS_FUNCTION = """<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
if(_nPageCount == null || _nPageCount<=1){ return; }
document.write("<a href=\\"" + _sPageName + "_" + (_nCurrIndex + 1) + "." + _sPageExt + "\\">下一页</a>");
}</script>"""


@pytest.mark.parametrize("url, script, expected", [
    # TRS WCM: pages counted from 0, index.html then index_1.html …
    ("http://a.gov.cn/xw/index.html", 'createPageHTML(3, 0, "index", "html");', ["http://a.gov.cn/xw/index_1.html"]),
    ("http://a.gov.cn/xw/index_1.html", 'createPageHTML(3, 1, "index", "html");', ["http://a.gov.cn/xw/index_2.html"]),
    ("http://a.gov.cn/xw/index_2.html", 'createPageHTML(3, 2, "index", "html");', []),
    ("http://a.gov.cn/xw/", "createPageHTML(1, 0, 'index', 'shtml');", []),
    # the arguments as variables
    ("http://a.gov.cn/xw/index_3.shtml", 'var countPage = 12//共多少页\nvar currentPage = 3;\n'
     'createPageHTML(countPage, currentPage, "index", "shtml");', ["http://a.gov.cn/xw/index_4.shtml"]),
    # TRS Hycloud: (element, pages, current from 1, name, ext, records): list.shtml, list_2.shtml …
    ("http://a.gov.cn/zcwj/list.shtml", "createPageHTML('page_div',8, 1,'list','shtml',118);",
     ["http://a.gov.cn/zcwj/list_2.shtml"]),
    ("http://a.gov.cn/zcwj/list_8.shtml", "createPageHTML('page_div',8, 8,'list','shtml',118);", []),
    # a pager that writes its own links from countPage and currentPage
    ("http://a.gov.cn/xw/index.html", 'var currentPage = 0;//所在页从0开始\nvar nextPage = currentPage+1\n'
     'var countPage = 4//共多少页\nif(countPage>1&&currentPage!=(countPage-1)){document.write("<a href=\\"index_" + '
     'nextPage + ".html\\">下一页</a>");}', ["http://a.gov.cn/xw/index_1.html"]),
    ("http://a.gov.cn/xw/index_3.htm", "var currentPage = 3;\nvar countPage = 4;", []),
])
def test_trs_pager_script_gives_the_next_list_page(url, script, expected):
    response = html_page(url, f"<ul><li>entry</li></ul>{TRS_FUNCTION}<script>{script}</script>")
    assert next_urls(response) == expected
    assert (TRS_PAGER in read_scripted_list(response, LIST_META).mechanisms) == bool(expected)


def test_the_pager_functions_definition_alone_is_no_pager():
    assert next_urls(html_page("http://a.gov.cn/xw/index.html", TRS_FUNCTION)) == []


@pytest.mark.parametrize("url, expected", [
    ("http://www.a.edu.cn/xwzx/xxyw.htm", ["http://www.a.edu.cn/xwzx/xxyw/30.htm"]),  # VSB counts down
    ("http://www.a.edu.cn/xwzx/xxyw/30.htm", ["http://www.a.edu.cn/xwzx/xxyw/29.htm"]),
    ("http://www.a.edu.cn/xwzx/xxyw/1.htm", []),
])
def test_vsb_goto_page_box_gives_the_next_list_page(url, expected):
    pager = ('<span class="p_goto"><input type="text" id="u13_goto" '
             'onkeydown="if(event.keyCode==13){_simple_list_gotopage_fun(31,&quot;u13_goto&quot;,2)}"></span>')
    response = html_page(url, pager)
    assert next_urls(response) == expected
    assert (VSB_PAGER in read_scripted_list(response, LIST_META).mechanisms) == bool(expected)


# -- Hanweb datastores and dataproxy.jsp -----------------------------------------------------

def hanweb_column(records: range, total: int, per_page: int = 3) -> str:
    entries = "".join(f'<record><![CDATA[<li><a href="/art/2024/5/{n}/art_4521_{n}.html">第{n}条</a>'
                      f"<span>2024-05-{n:02d}</span></li>]]></record>" for n in records)
    return f"""<div id="70215"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=12&path=/&columnid=4521&unitid=70215&webname=%E9%87%91&permissiontype=0"></a>]]></nextgroup>
<recordset>{entries}</recordset></datastore></script></div>
<script>$('#70215').jpage({{perPage: {per_page}, totalRecord: {total}, proxyUrl: '/module/web/jpage/dataproxy.jsp'}});</script>"""


def test_datastore_records_are_read_as_html_list_entries():
    found = read_scripted_list(html_page("http://fgw.jinhe.gov.cn/col/col4521/index.html",
                                         hanweb_column(range(1, 4), total=3)), LIST_META)
    assert found.mechanisms == [HANWEB_DATASTORE] and found.next_pages == []  # all records embedded: no POST
    assert found.records.url == "http://fgw.jinhe.gov.cn/col/col4521/index.html"
    assert found.records.css("a::attr(href)").getall() == [f"/art/2024/5/{n}/art_4521_{n}.html" for n in (1, 2, 3)]
    assert found.records.css("span::text").getall() == ["2024-05-01", "2024-05-02", "2024-05-03"]


def test_datastore_with_more_records_asks_dataproxy_as_jpage_does():
    found = read_scripted_list(html_page("http://fgw.jinhe.gov.cn/col/col4521/index.html",
                                         hanweb_column(range(1, 4), total=8)), LIST_META)
    assert found.mechanisms == [HANWEB_DATASTORE, HANWEB_DATAPROXY]
    [request] = found.next_pages
    assert request.method == "POST"
    assert request.url == ("http://fgw.jinhe.gov.cn/module/web/jpage/dataproxy.jsp"
                           "?startrecord=4&endrecord=6&perpage=3")
    form = parse_qs(request.body.decode())
    assert {key: form[key] for key in ("columnid", "unitid", "webid", "path")} == {
        "columnid": ["4521"], "unitid": ["70215"], "webid": ["12"], "path": ["/"]}
    assert "page" not in form  # the nextgroup link's page number is not one of the column's parameters
    assert request.headers["X-Requested-With"] == b"XMLHttpRequest"
    assert request.meta["newscrawl_page"] == "list"


def test_page_parameters_object_adds_what_the_nextgroup_link_lacks():
    column = hanweb_column(range(1, 4), total=8).replace(
        "<script>$('#70215')", "<script>var param_70215 = {col:1,sourceContentType:1,unitid:'70215',"
                               "webname:'金河市发展和改革委员会',permissiontype:0};\n$('#70215')")
    [request] = read_scripted_list(html_page("http://fgw.jinhe.gov.cn/col/col4521/index.html", column),
                                   LIST_META).next_pages
    form = parse_qs(request.body.decode())
    assert (form["col"], form["sourceContentType"], form["webname"]) == (["1"], ["1"], ["金河市发展和改革委员会"])


def dataproxy_answer(request: Request, records: range, total: int) -> XmlResponse:
    entries = "".join(f'<record><![CDATA[<li><a href="/art/2024/5/{n}/art_4521_{n}.html">第{n}条</a></li>]]></record>'
                      for n in records)
    body = f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{total}</totalrecord>' \
           f"<recordset>{entries}</recordset></datastore>"
    return XmlResponse(request.url, body=body.encode(), request=request)


def test_dataproxy_answers_are_walked_group_by_group_up_to_the_total():
    [first] = read_scripted_list(html_page("http://fgw.jinhe.gov.cn/col/col4521/index.html",
                                           hanweb_column(range(1, 4), total=8)), LIST_META).next_pages
    found = read_scripted_list(dataproxy_answer(first, range(4, 7), total=8), LIST_META)
    assert not found.html_links and found.mechanisms == [HANWEB_DATAPROXY]
    assert found.records.css("a::attr(href)").getall() == [f"/art/2024/5/{n}/art_4521_{n}.html" for n in (4, 5, 6)]
    [second] = found.next_pages
    assert urlsplit(second.url).query == "startrecord=7&endrecord=8&perpage=3" and second.body == first.body
    last = read_scripted_list(dataproxy_answer(second, range(7, 9), total=8), LIST_META)
    assert len(last.records.css("a")) == 2 and last.next_pages == []
    empty = read_scripted_list(dataproxy_answer(second, range(0), total=8), LIST_META)
    assert empty.records is None and empty.next_pages == []  # an empty answer ends the walk
    assert DATAPROXY in second.meta


# -- JSON list endpoints ----------------------------------------------------------------------

NEWS_API = JsonList(url="http://fgw.jinhe.gov.cn/api/news?column=4521&pageNo={page}", entries="data.records",
                    link="url", date="pubDate")


def json_page(page: int, entries: list[dict], seen: str | None = None) -> TextResponse:
    request = NEWS_API.request(page, {**LIST_META, **({"newscrawl_json_seen": seen} if seen else {})})
    return TextResponse(request.url, body=json.dumps({"data": {"records": entries}}).encode(), encoding="utf-8",
                        request=request)


def test_json_page_gives_its_article_urls_dates_and_the_next_page():
    found = read_scripted_list(json_page(1, [
        {"url": "/art/2024/5/12/art_4521_70318.html", "pubDate": "2024-05-12 09:10:00"},
        {"url": "http://fgw.jinhe.gov.cn/art/2024/4/26/art_4521_70207.html", "pubDate": 1714089600000},
        {"url": "/art/2024/4/30/art_4522_70251.html", "pubDate": "2024-04-30"},  # another column's
        {"title": "no link"},
    ]), LIST_META, NEWS_API, r"art_4521_\d+\.html$")
    assert found.entries == [("http://fgw.jinhe.gov.cn/art/2024/5/12/art_4521_70318.html", date(2024, 5, 12)),
                             ("http://fgw.jinhe.gov.cn/art/2024/4/26/art_4521_70207.html", date(2024, 4, 26))]
    [following] = found.next_pages
    assert following.url.endswith("pageNo=2") and following.meta[JSON_PAGE] == 2


def test_json_walk_ends_at_an_empty_page_or_one_that_repeats_the_last():
    assert read_scripted_list(json_page(3, []), LIST_META, NEWS_API, "art_").next_pages == []
    entries = [{"url": "/art/2024/5/12/art_4521_70318.html"}]
    second = read_scripted_list(json_page(1, entries), LIST_META, NEWS_API, "art_").next_pages[0]
    repeated = read_scripted_list(json_page(2, entries, seen=second.meta["newscrawl_json_seen"]), LIST_META,
                                  NEWS_API, "art_")
    assert repeated.entries and repeated.next_pages == []  # the endpoint ignores the page number


@pytest.mark.parametrize("fields, message", [
    ({"url": "http://a.gov.cn/api/news", "entries": "data", "link": "url"}, "with {page} in it"),
    ({"url": "ftp://a.gov.cn/{page}", "entries": "data", "link": "url"}, "http(s) URL"),
    ({"url": "http://a.gov.cn/{page}", "entries": "data[", "link": "url"}, "entries 'data[' is not a JMESPath"),
    ({"url": "http://a.gov.cn/{page}", "entries": "data", "link": 3}, "link must be a string"),
    ({"url": "http://a.gov.cn/{page}", "entries": "data", "link": "url", "first_page": "1"}, "whole number"),
])
def test_json_list_declaration_faults_say_what_is_wrong(fields, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")) as fault:
        JsonList(**fields)
    assert "\n" not in str(fault.value)  # one line on stderr, as every bad input (jmespath's run to three)


# -- what the start page's list was read from ------------------------------------------------

@pytest.mark.parametrize("body, start, expected", [
    ("<p>nothing here</p>", True, {"newscrawl/list_mechanism/none": 1}),
    ('<a href="/news/art_1.html">1</a><script>createPageHTML(2, 0, "index", "html");</script>', True,
     {"newscrawl/list_mechanism/links": 1, "newscrawl/list_mechanism/trs_pager": 1}),
    ('<a href="/news/art_1.html">1</a><script>createPageHTML(2, 0, "index", "html");</script>', False, {}),
])
def test_start_page_list_mechanisms_are_counted_once_per_kind(body, start, expected):
    spider_class = GenericSpider.for_site("x", ["http://a.gov.cn/news/index.html"], r"/art_\d+\.html$")
    crawler = get_crawler(spider_class)
    spider = spider_class.from_crawler(crawler)
    url = "http://a.gov.cn/news/index.html"
    page = HtmlResponse(url, body=f"<html><body>{body}</body></html>".encode(), encoding="utf-8",
                        request=Request(url, meta={"newscrawl_page": "list", "newscrawl_start": start}))
    requests = list(spider.parse(page))
    assert {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("newscrawl/list_mechanism/")} == expected
    assert len(requests) == (0 if "nothing" in body else 2)  # the article and index_1.html


# -- POST in recordings -----------------------------------------------------------------------

def test_recordings_key_a_post_by_method_url_and_body_in_any_field_order():
    url = "http://fgw.jinhe.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=6&perpage=3"
    assert recording_key("GET", url) == canonicalize_url(url)  # GETs keep the key old manifests had
    assert recording_key("POST", url, b"columnid=4521&unitid=70215") == recording_key("POST", url,
                                                                                      "unitid=70215&columnid=4521")
    assert recording_key("POST", url, b"columnid=4521") != recording_key("POST", url, b"columnid=4522")
    assert recording_key("POST", url, b"") != recording_key("GET", url)
    recorded = load_recordings(site_folder("jinhe"))
    assert sum(response.method == "POST" for response in recorded.values()) == 2


# -- the generic spider over HTTP on 127.0.0.1 ----------------------------------------------

HENAN_START, HENAN_ARTICLES = "http://www.hnjgdj.gov.cn/sxdt/index.html", r"/\d{4}/\d{2}-\d{2}/\d+\.html$"
JINHE_START = "http://fgw.jinhe.gov.cn/col/col4521/index.html"
JINHE_ARTICLES = r"/art/\d{4}/\d{1,2}/\d{1,2}/art_4521_\d+\.html$"


def generic_crawl(folder: Path, start: str, pattern: str, tmp_path: Path, check: bool = True):
    """`newscrawl crawl generic` with only a start URL and an article pattern, the recorded site
    answering as a proxy on 127.0.0.1: (stored URLs, requested URLs, stderr)."""
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with recorded_site_proxy(folder) as (proxy, requests):
        result = newscrawl("crawl", "generic", "--start-url", start, "--article-pattern", pattern, "--db", db,
                           *FAST, "-s", "LOG_LEVEL=INFO", env={"http_proxy": proxy, "no_proxy": ""}, cwd=tmp_path)
    assert result.returncode == 0 or not check, result.stderr
    store = Store(db, create=False)
    stored = {article["url"] for article in store.articles()}
    store.close()
    return stored, requests, result.stderr


def test_generic_spider_walks_a_trs_column_paged_only_by_create_page_html(tmp_path):
    stored, requests, log = generic_crawl(FIXTURES / "henan", HENAN_START, HENAN_ARTICLES, tmp_path)
    assert stored == {canonicalize_url(url) for url in quality("henan")["articles"]}  # all 8, over 3 list pages
    assert {"http://www.hnjgdj.gov.cn/sxdt/index_1.html", "http://www.hnjgdj.gov.cn/sxdt/index_2.html"} <= set(requests)
    assert "'newscrawl/list_mechanism/trs_pager': 1" in log and "'newscrawl/list_mechanism/links': 1" in log
    assert f"start page {HENAN_START}: 4 article links, list read from links, trs_pager" in log


def test_generic_spider_reads_a_hanweb_column_and_pages_it_through_dataproxy(tmp_path):
    stored, requests, log = generic_crawl(site_folder("jinhe"), JINHE_START, JINHE_ARTICLES, tmp_path)
    assert stored == {canonicalize_url(url) for url in quality("jinhe")["articles"]}  # 3 in the page, 4 by POST
    assert [url for url in requests if "dataproxy.jsp" in url] == [
        "http://fgw.jinhe.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=6&perpage=3",
        "http://fgw.jinhe.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=7&endrecord=7&perpage=3"]
    assert "'newscrawl/list_mechanism/hanweb_datastore': 1" in log
    assert "'newscrawl/list_mechanism/hanweb_dataproxy': 1" in log
    assert not any("/art_4522_" in url for url in requests)  # the sidebar's other column


def test_generic_spider_reads_a_hanweb_column_listed_only_in_its_datastore(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(site_folder("jinhe"), site)
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    manifest["responses"] = [entry for entry in manifest["responses"] if entry.get("method") != "POST"]
    (site / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    records = "".join(f"<record><![CDATA[<li><a href='{urlsplit(url).path}'>{n}</a></li>]]></record>"
                      for n, url in enumerate(quality("jinhe")["articles"]))
    column = site / "pages" / "col-col4521-index.html"
    page = column.read_text(encoding="utf-8")
    page = page[:page.index("<recordset>")] + f"<recordset>{records}</recordset>" + page[page.index("</datastore>"):]
    column.write_text(page, encoding="utf-8")

    stored, requests, log = generic_crawl(site, JINHE_START, JINHE_ARTICLES, tmp_path)
    assert stored == {canonicalize_url(url) for url in quality("jinhe")["articles"]}
    assert not any("dataproxy.jsp" in url for url in requests)  # totalRecord 7, all 7 in the page
    assert "'newscrawl/list_mechanism/hanweb_datastore': 1" in log and "hanweb_dataproxy" not in log


def test_start_page_without_any_article_says_where_its_script_loads_data_from(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(site_folder("jinhe"), site)
    column = site / "pages" / "col-col4521-index.html"
    page = column.read_text(encoding="utf-8")
    page = page[:page.index('<div id="70215">')] + (
        "<ul id='list'></ul><script>$.getJSON('/api/news?column=4521&pageNo=1', function(d){ draw(d); });</script>"
    ) + page[page.index("</div>\n<script type=\"text/javascript\" src=\"/module/web/jpage/jpage.js\">"):]
    column.write_text(page, encoding="utf-8")
    stored, _, log = generic_crawl(site, JINHE_START, JINHE_ARTICLES, tmp_path, check=False)
    assert stored == set()
    assert ("no article link found; its script loads data from "
            "http://fgw.jinhe.gov.cn/api/news?column=4521&pageNo=1: declare it as a JSON list") in log
    assert "'newscrawl/list_mechanism/script_endpoint': 1" in log


def copy_of_jinhe(tmp_path: Path) -> Path:
    site = tmp_path / "jinhe"
    shutil.copytree(site_folder("jinhe"), site)
    return site


def jinhe_sites_file(tmp_path: Path, extra: str = "") -> Path:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(f"[sites.jinhe]\nstart_url = '{JINHE_START}'\narticle_pattern = '{JINHE_ARTICLES}'\n{extra}",
                          encoding="utf-8")
    return sites_file


def replayed(tmp_path: Path, sites_file: Path, folder: Path, *more: str) -> list[str]:
    """A replayed crawl of the sites file's jinhe into tmp_path's store: the answers, as the replay log lists them."""
    log = tmp_path / "replay.log"
    log.unlink(missing_ok=True)
    result = newscrawl("crawl", "jinhe", "--sites-file", str(sites_file), "--replay", str(folder),
                       "--db", f"sqlite:///{tmp_path / 'articles.db'}", "-s", f"NEWSCRAWL_REPLAY_LOG={log}", *more,
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_record_saves_the_dataproxy_posts_and_replay_answers_them(tmp_path):
    sites_file = jinhe_sites_file(tmp_path)
    out = tmp_path / "recorded"
    with recorded_site_proxy(site_folder("jinhe")) as (proxy, _):
        result = newscrawl("record", "jinhe", "--sites-file", str(sites_file), "--out", str(out), *FAST,
                           env={"http_proxy": proxy, "no_proxy": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    posts = [entry for entry in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["responses"]
             if entry.get("method") == "POST"]
    assert [urlsplit(entry["url"]).query for entry in posts] == ["startrecord=4&endrecord=6&perpage=3",
                                                                  "startrecord=7&endrecord=7&perpage=3"]
    assert parse_qs(posts[0]["request_body"])["columnid"] == ["4521"]
    assert (out / posts[1]["body"]).read_bytes() == (site_folder("jinhe") / "pages" / "dataproxy-7-7.xml").read_bytes()

    answers = replayed(tmp_path, sites_file, out)
    assert "200 POST http://fgw.jinhe.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=7&endrecord=7&perpage=3" in answers
    store = Store(f"sqlite:///{tmp_path / 'articles.db'}", create=False)
    assert {article["url"] for article in store.articles("jinhe")} == set(quality("jinhe")["articles"])
    store.close()


def test_repeat_crawl_of_a_hanweb_column_stops_before_dataproxy_when_nothing_is_new(tmp_path):
    sites_file = jinhe_sites_file(tmp_path)
    first = replayed(tmp_path, sites_file, site_folder("jinhe"))
    assert sum(" POST " in line for line in first) == 2
    again = replayed(tmp_path, sites_file, site_folder("jinhe"))
    assert not any("dataproxy.jsp" in line for line in again)  # the column page had nothing new
    full = replayed(tmp_path, sites_file, site_folder("jinhe"), "--full")
    assert sum(" POST " in line for line in full) == 2 and not any("/art/" in line for line in full)


JSON_LIST = """[sites.jinhe.json_list]
url = "http://fgw.jinhe.gov.cn/api/news?column=4521&pageNo={page}"
entries = "data.records"
link = "url"
date = "pubDate"
"""


def jinhe_with_a_json_list(tmp_path: Path) -> Path:
    """The jinhe column as a newer site serves it: an empty list in the page, filled by its script
    from /api/news (3 entries a page); the datastore and dataproxy answers are gone."""
    site = copy_of_jinhe(tmp_path)
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    manifest["responses"] = [entry for entry in manifest["responses"] if entry.get("method") != "POST"]
    column = site / "pages" / "col-col4521-index.html"
    page = column.read_text(encoding="utf-8")
    column.write_text(page[:page.index('<div id="70215">')] + "<ul id='list'></ul><script>$.getJSON("
                      "'/api/news?column=4521&pageNo=1', draw);</script>" + page[page.index("</body>"):],
                      encoding="utf-8")
    urls = list(quality("jinhe")["articles"])
    for number in range(1, 5):
        entries = [{"url": urlsplit(url).path, "title": "…", "pubDate": "2024-05-12 09:10:00"}
                   for url in urls[(number - 1) * 3:number * 3]]
        (site / "pages" / f"api-{number}.json").write_text(json.dumps({"data": {"records": entries}}))
        manifest["responses"].append({"url": f"http://fgw.jinhe.gov.cn/api/news?column=4521&pageNo={number}",
                                      "status": 200, "headers": {"Content-Type": "application/json"},
                                      "body": f"pages/api-{number}.json"})
    (site / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return site


def test_declared_json_list_is_walked_page_by_page_and_stops_at_the_first_with_nothing_new(tmp_path):
    site, sites_file = jinhe_with_a_json_list(tmp_path), jinhe_sites_file(tmp_path, JSON_LIST)
    first = replayed(tmp_path, sites_file, site)
    assert [line for line in first if "/api/" in line] == [
        f"200 http://fgw.jinhe.gov.cn/api/news?column=4521&pageNo={number}" for number in range(1, 5)]
    store = Store(f"sqlite:///{tmp_path / 'articles.db'}", create=False)
    assert {article["url"] for article in store.articles("jinhe")} == set(quality("jinhe")["articles"])
    store.close()
    again = replayed(tmp_path, sites_file, site)
    assert [line for line in again if "/api/" in line] == ["200 http://fgw.jinhe.gov.cn/api/news?column=4521&pageNo=1"]


@pytest.mark.parametrize("table, message", [
    ('[sites.jinhe.json_list]\nurl = "http://a.gov.cn/api?p={page}"\nentries = "data"', "needs url, entries and link"),
    ('[sites.jinhe.json_list]\nurl = "http://a.gov.cn/api"\nentries = "data"\nlink = "u"', "with {page} in it"),
    ('[sites.jinhe.json_list]\nurl = "http://a.gov.cn/{page}"\nentries = "data"\nlink = "u"\npage = 1',
     "json_list: unknown key 'page'"),
    ('[sites.jinhe]\njson_list = "http://a.gov.cn/{page}"', "json_list must be a table"),
])
def test_sites_file_json_list_faults_are_one_line_naming_the_entry(tmp_path, table, message):
    sites_file = jinhe_sites_file(tmp_path)
    sites_file.write_text(sites_file.read_text(encoding="utf-8") + table.replace("[sites.jinhe]\n", ""),
                          encoding="utf-8")
    result = newscrawl("crawl", "jinhe", "--sites-file", str(sites_file), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"newscrawl: {sites_file}: [sites.jinhe]") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
