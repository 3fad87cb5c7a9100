"""The kinds of fault public bug reports found in peer extractors (../shared/cases/real-world/),
each as the reported case (its page copied into tests/real_world/; invented texts) with its
right values, and variations of our own of the same kind."""

from datetime import date
from pathlib import Path

import pytest

from crawler.extract import extract

CASES = Path(__file__).parent / "real_world"

PARAGRAPHS = "".join(f"<p>Paragraph {n} of the article, long enough to be read as text by any extractor at all.</p>"
                     for n in range(1, 5))
ZH_PARAGRAPHS = "".join(f"<p>第{n}段正文，记者从市里有关部门了解到，今年以来全市各项工作稳步推进，成效明显。</p>"
                        for n in range(1, 5))


def page(body: str, title: str = "Harbour Opens New Quay", head: str = "", lang: str = "en") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} - Port News</title>'
            f"{head}</head><body><div class='nav'><a href='/'>Home</a> <a href='/news/'>News</a></div>{body}"
            "<div class='footer'>Copyright 2019-2025 Port News. All rights reserved.</div></body></html>")


def case(name: str, url: str):
    return extract((CASES / f"{name}.html").read_text(encoding="utf-8"), url)


def assert_body(text: str, contains=(), not_contains=()):
    for needle in contains:
        assert needle in text
    for needle in not_contains:
        assert needle not in text


# -- 1. which date is the publication date ------------------------------------------------

def test_case_01_chinese_date_line_beats_header_sidebar_and_footer_dates():
    article = case("01-cn-footer-sidebar-dates", "http://www.example-youth.cn/dfxw/202210/t20221012_5001.html")
    assert (article.title, article.published, article.author) == (
        "青年志愿者走进山区小学开展科普活动", date(2022, 10, 12), "王晓雨")
    assert_body(article.text, ["四十余名青年志愿者", "累计服务学生三千余人次"], ["口袋公园", "版权所有", "网站更新时间"])


def test_case_02_updated_time_before_published_time():
    article = case("02-updated-before-published", "https://www.coastline-herald.example/business/harbor-terminal-approved")
    assert (article.title, article.published) == ("Harbor Authority Approves Second Container Terminal", date(2024, 1, 2))
    assert_body(article.text, ["second container terminal on the eastern pier", "first berth planned to open"],
                ["All rights reserved"])


@pytest.mark.parametrize("date_line, expected", [
    ("更新时间：2023-05-20 发布时间：2023-05-18", date(2023, 5, 18)),
    ("发布时间：2023-05-18 | 最后更新：2023-05-20", date(2023, 5, 18)),
    ("Last updated: 20 May 2023, Published: May 18, 2023", date(2023, 5, 18)),
    ("Modified 2023-05-20 · Posted 2023-05-18", date(2023, 5, 18)),
    ("Published: 2023-05-18", date(2023, 5, 18)),  # a bare "Published:" label
    ("Published on May 18, 2023", date(2023, 5, 18)),
])
def test_an_updated_date_never_wins_over_the_published_one(date_line, expected):
    html = page(f"<h1>Harbour Opens New Quay</h1><div class='time'>{date_line}</div><article>{PARAGRAPHS}</article>")
    assert extract(html, "http://example.org/news/2023/0520/quay.html").published == expected


def test_an_updated_date_alone_leaves_the_declared_publication_date():
    head = ('<meta property="article:modified_time" content="2023-05-20T08:00:00Z">'
            '<meta property="article:published_time" content="2023-05-17T08:00:00Z">')
    html = page(f"<h1>Harbour Opens New Quay</h1><div>Updated 8:00 AM, May 20, 2023</div><article>{PARAGRAPHS}</article>",
                head=head)
    assert extract(html, "http://example.org/news/quay").published == date(2023, 5, 17)


@pytest.mark.parametrize("declared", [
    '<meta property="article:published_time" content="2023-05-17T08:00:00+08:00">',
    '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebPage"},'
    ' {"@type": "NewsArticle", "datePublished": "2023-05-17T08:00:00Z", "dateModified": "2023-05-20"}]}</script>',
    '<meta name="DC.date.issued" content="2023-05-17">',
    '<meta name="PubDate" content="2023-05-17 09:30">',
])
@pytest.mark.parametrize("url", ["http://example.gov.cn/xwzx/202305/t20230518_1.html",
                                 "http://example.org/print/2023/05/18/quay.html"])
def test_declared_publication_metadata_beats_the_date_in_the_url(declared, url):
    html = page(f"<h1>Harbour Opens New Quay</h1><article>{PARAGRAPHS}</article>", head=declared)
    assert extract(html, url).published == date(2023, 5, 17)


def test_time_pubdate_is_declared_metadata():
    html = page(f"<h1>Harbour Opens New Quay</h1><p><time pubdate datetime='2023-05-17'>Wednesday</time></p>"
                f"<article>{PARAGRAPHS}</article>")
    assert extract(html, "http://example.org/2023/05/18/quay.html").published == date(2023, 5, 17)


def test_the_url_date_beats_htmldate_guesses():
    html = page(f"<h1>Harbour Opens New Quay</h1><article>{PARAGRAPHS}<p>Next meeting: 2024-01-09.</p></article>")
    assert extract(html, "http://example.gov.cn/xwzx/202305/t20230518_1.html").published == date(2023, 5, 18)


# -- 2. layout tables -------------------------------------------------------------------

def test_case_04_layout_table_cell_comes_out_as_paragraphs():
    article = case("04-br-font-paragraphs", "http://www.water-bureau.example.gov.cn/news/2021/0416/art_101.html")
    assert (article.title, article.published, article.source) == (
        "Water Bureau Completes Spring Inspection of Reservoirs", date(2021, 4, 16), "Municipal Water Bureau")
    assert article.text.splitlines() == [
        "The municipal water bureau has finished its spring safety inspection of the eleven reservoirs that supply "
        "the city and its surrounding counties.",
        "Inspectors checked dam walls, spillways, monitoring instruments and emergency power supplies, and reviewed "
        "the flood-season duty rosters of every reservoir station.",
        "Minor seepage was found at two small reservoirs in the western hills; repairs have been scheduled before "
        "the rainy season begins in late May.",
        "The bureau reminded station staff to keep water levels below the flood-control limit and to report any "
        "abnormal readings within one hour.",
    ]


def test_case_05_data_table_in_the_body_stays_a_table():
    article = case("05-table-with-links", "http://fgw.example.gov.cn/tzgg/202304/t20230418_7001.html")
    assert (article.title, article.published) == ("一季度全市重点项目建设进展情况通报", date(2023, 4, 18))
    assert_body(article.text, ["滨江污水处理厂扩建工程", "东部快速路二期", "18.5", "中心医院门诊楼改造", "0.6",
                               "确保二季度形成更多实物工作量"], ["网站标识码"])


def test_nested_layout_tables_of_a_chinese_site_and_a_data_table_inside():
    data = ("<table border='1'><tr><th>项目</th><th>进度</th></tr><tr><td>东区水厂</td><td>85%</td></tr>"
            "<tr><td>西区管网</td><td>60%</td></tr></table>")
    body = (f"<table width='1000'><tr><td><a href='/'>首页</a> | <a href='/xw/'>新闻</a></td></tr><tr>"
            "<td width='200'><a href='/about/'>机构概况</a><br><a href='/lx/'>联系我们</a></td><td><table><tr><td>"
            "<div align='center'><strong>全市供水工程建设&nbsp;稳步推进</strong></div>"
            "<div>发布日期：2022年6月1日 信息来源：市水务局</div>"
            + "".join(f"　　第{n}段，今年以来全市供水工程建设稳步推进，各项目进度符合计划安排。<br>" for n in range(1, 4))
            + data + "</td></tr></table></td></tr><tr><td>主办单位：市水务局 地址：人民路1号</td></tr></table>")
    article = extract(page(body, title="全市供水工程建设 稳步推进", lang="zh"), "http://sw.example.gov.cn/xw/1.html")
    assert (article.title, article.published, article.source) == ("全市供水工程建设 稳步推进", date(2022, 6, 1), "市水务局")
    lines = article.text.splitlines()
    assert lines[:3] == [f"第{n}段，今年以来全市供水工程建设稳步推进，各项目进度符合计划安排。" for n in range(1, 4)]
    assert_body(article.text, ["东区水厂", "85%", "西区管网"], ["机构概况", "主办单位", "首页"])


# -- 3. overlays and odd wrappers -----------------------------------------------------------

def test_case_06_cookie_banner_is_not_the_body_and_the_aside_article_is_found():
    article = case("06-cookie-banner", "https://www.metro-transit.example/news/2024/new-bus-routes-rail-hub")
    assert (article.title, article.published) == ("New Bus Routes Connect Three Suburbs to the Rail Hub", date(2024, 2, 19))
    assert_body(article.text, ["Three new bus routes will link the northern suburbs", "every twelve minutes",
                               "no direct bus was available"], ["cookies", "Accept all"])


BANNER = ("<p>We and our 812 partners use cookies to store and access information on your device. "
          "Click Accept to consent to the use of this technology across the web. You can change your mind "
          "at any time by visiting the privacy settings. Published: 2020-01-01.</p><button>Accept</button>")


@pytest.mark.parametrize("banner", [
    f"<div role='dialog' aria-modal='true'>{BANNER}</div>",
    f"<div id='onetrust-consent-sdk'>{BANNER}</div>",
    f"<section class='newsletter-popup'><h2>Subscribe to our newsletter</h2>{BANNER}</section>",
])
@pytest.mark.parametrize("wrapper", ["section", "aside", "form", "main"])
def test_banners_are_never_the_body_and_any_wrapper_holds_the_article(banner, wrapper):
    html = page(f"{banner}<{wrapper} class='story'><h1>Harbour Opens New Quay</h1><p>Date: 2023-05-18</p>"
                f"{PARAGRAPHS}</{wrapper}>")
    article = extract(html, "http://example.org/news/quay")
    assert (article.title, article.published) == ("Harbour Opens New Quay", date(2023, 5, 18))
    assert_body(article.text, [f"Paragraph {n} of the article" for n in range(1, 5)], ["cookies", "Accept", "partners"])


# -- 4. finding the headline ---------------------------------------------------------------

@pytest.mark.parametrize("shown", [
    "Harbour Opens<br>New Quay",
    "Harbour&nbsp;Opens&nbsp;New&nbsp;Quay",
    "Harbour\u3000Opens New Quay",
    "<span>Harbour <span class='hl'>Opens</span></span> <em>New Quay</em>",
    "Harbour Opens New Quay!",
    "  Harbour Opens   New Quay  ",
])
def test_the_shown_headline_is_found_with_its_date_line_and_source(shown):
    html = page(f"<div class='title'><h1>{shown}</h1><div>Date: 2023-05-18 Source: Port Authority</div></div>"
                f"<div class='story'>{PARAGRAPHS}</div><ul><li><a href='/x'>Older news</a> 2023-06-30</li></ul>")
    article = extract(html, "http://example.org/news/quay")
    assert (article.title, article.published, article.source) == ("Harbour Opens New Quay", date(2023, 5, 18),
                                                                  "Port Authority")


def test_chinese_headline_with_full_width_punctuation_and_spaces():
    html = page(f"<h2>“十四五”期间　港口吞吐量<br>稳步增长</h2><p>时间：2023年5月18日　来源：港务局</p>"
                f"<div class='con'>{ZH_PARAGRAPHS}</div>", title="“十四五”期间 港口吞吐量稳步增长_港口新闻", lang="zh")
    article = extract(html, "http://example.gov.cn/gk/1.html")
    assert (article.title, article.published, article.source) == ("“十四五”期间 港口吞吐量稳步增长", date(2023, 5, 18), "港务局")


# -- 5. guarded container selectors --------------------------------------------------------

def test_zoom_on_a_heading_is_not_the_body():
    html = page(f"<h3 id='zoom'>Harbour Opens New Quay</h3><p>Date: 2023-05-18</p><article>{PARAGRAPHS}</article>")
    article = extract(html, "http://example.org/news/quay")
    assert article.title == "Harbour Opens New Quay"
    assert_body(article.text, [f"Paragraph {n} of the article" for n in range(1, 5)])


def test_article_content_on_related_cards_is_not_the_body():
    cards = "".join(f"<div class='card'><a href='/n/{n}'>Teaser {n}</a><div class='article-content'>Short teaser "
                    f"number {n} of another story, cut off in the middle of its...</div></div>" for n in range(1, 5))
    html = page(f"<h1>Harbour Opens New Quay</h1><p>Date: 2023-05-18</p><div class='story'>{PARAGRAPHS}</div>"
                f"<div class='related'>{cards}</div>")
    article = extract(html, "http://example.org/news/quay")
    assert_body(article.text, [f"Paragraph {n} of the article" for n in range(1, 5)])
    assert article.text.splitlines()[0].startswith("Paragraph 1")


def test_a_named_box_that_holds_the_article_is_still_used():
    html = page(f"<h1>Harbour Opens New Quay</h1><p>Date: 2023-05-18</p><div id='zoom'>{PARAGRAPHS}"
                "<p>Short line.</p></div><div class='article-content'><a href='/x'>A related story</a></div>")
    article = extract(html, "http://example.org/news/quay")
    assert article.text.splitlines()[-1] == "Short line."  # inside a known box, short lines are kept


# -- 7. loose text and in-body teasers stay as they pass ----------------------------------

def test_case_07_loose_text_is_kept_once():
    article = case("07-loose-text-duplicated", "https://www.city-library.example/news/weekend-hours")
    assert (article.title, article.published) == ("Library Extends Weekend Opening Hours", date(2022, 9, 7))
    assert_body(article.text, ["until eight in the evening", "The change follows a pilot in the summer holidays",
                               "Walk-in places remain available on the ground floor", "Story time for young children"],
                ["holidaysStudy", "floorChildren"])
    lines = article.text.splitlines()
    assert len(lines) == len(set(lines))


def test_case_09_teaser_authors_in_the_body_box_are_not_the_author():
    article = case("09-related-authors-in-body-box", "http://www.eastbay-port.example/en/news/202303/t20230301_3.html")
    assert (article.title, article.published, article.author) == (
        "Port Opens Cold-Chain Logistics Centre", date(2023, 3, 1), None)
    assert_body(article.text, ["forty thousand tonnes", "two hundred refrigerated containers"],
                ["Inland Rail Operator", "Container Volume Reaches Record", "Liang Wei"])
