"""Kinds of page on which the generic extraction missed or garbled the authors, as measured on fundus's
publisher test pages (authors as its parsers give them) and readability's test pages: each kind as a
small page of our own (invented names and text, the same structure) with its right authors, which
extract() gives as one string, the names joined by "; " (as trafilatura gives them)."""

import json

import pytest

from crawler.extract import extract

SENTENCES = ["The harbour board met on Tuesday to weigh the cost of a second quay for the ferries, which have outgrown "
             "the old one since the island's new school opened and the morning crossings began to run full.",
             "Its members asked the engineers for two more surveys of the seabed before any vote on the plans.",
             "A decision is now expected in the spring, after the surveys and a public hearing in the town hall.",
             "Fishermen said the works would close the northern channel for most of a season, and asked for help."]
PARAGRAPHS = "".join(f"<p>{sentence}</p>" for sentence in SENTENCES)
URL = "https://news.example.org/2024/03/05/quay.html"


def page(head: str = "", byline: str = "") -> str:
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Harbour Board Delays Quay Vote | Port News'
            f"</title>{head}</head><body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
            f"<article><h1>Harbour Board Delays Quay Vote</h1>{byline}{PARAGRAPHS}</article>"
            "<footer>Copyright 2019-2025 Port News. All rights reserved.</footer></body></html>")


def json_ld(record: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(record)}</script>'


def news_article(author) -> dict:
    return {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Harbour Board Delays Quay Vote",
            "datePublished": "2024-03-05T09:00:00Z", "author": author,
            "publisher": {"@type": "NewsMediaOrganization", "name": "Port News"}}


# -- authors the page declares: JSON-LD, <meta> ------------------------------------------------


@pytest.mark.parametrize("author, expected", [
    ({"@type": "Person", "name": "Ann Ledger"}, "Ann Ledger"),
    # several authors, as a list of people; initials keep their dots
    ([{"@type": "Person", "name": "Ann Ledger"}, {"@type": "Person", "name": "Tom R. Quill"}], "Ann Ledger; Tom R. Quill"),
    ("Ann Ledger", "Ann Ledger"),
    (["Ann Ledger", "Tom R. Quill"], "Ann Ledger; Tom R. Quill"),
    # a news agency or the desk, as the page names it
    ({"@type": "Organization", "name": "Harbour Press Agency"}, "Harbour Press Agency"),
    ({"@type": "Person", "givenName": "Ann", "familyName": "Ledger"}, "Ann Ledger"),
    # a link to the author's page instead of a name names nobody
    ({"@type": "Person", "name": "https://news.example.org/authors/ann-ledger"}, None),
])
def test_the_articles_json_ld_author(author, expected):
    assert extract(page(json_ld(news_article(author))), URL).author == expected


def test_a_json_ld_author_given_by_reference_to_a_person_of_the_graph():
    graph = {"@context": "https://schema.org", "@graph": [
        {key: value for key, value in news_article({"@id": "https://news.example.org/#/schema/person/1a2b"}).items()
         if key != "@context"},
        {"@type": "Person", "@id": "https://news.example.org/#/schema/person/1a2b", "name": "Ann Ledger",
         "url": "https://news.example.org/authors/ann-ledger"}]}
    assert extract(page(json_ld(graph)), URL).author == "Ann Ledger"


def test_the_articles_author_beats_the_publishers_name_in_the_meta_author_tag():
    head = '<meta name="author" content="Port News Media Group">' + json_ld(news_article({"@type": "Person", "name": "Ann Ledger"}))
    assert extract(page(head), URL).author == "Ann Ledger"


@pytest.mark.parametrize("head, expected", [
    ('<meta name="author" content="Ann Ledger">', "Ann Ledger"),
    ('<meta property="article:author" content="Ann Ledger"><meta property="article:author" content="Tom Quill">',
     "Ann Ledger; Tom Quill"),
    # Facebook reads article:author as a profile's address: no name in it
    ('<meta property="article:author" content="https://www.facebook.com/annledger">', None),
    ('<meta name="parsely-author" content="Ann Ledger">', "Ann Ledger"),
])
def test_the_author_meta_tags(head, expected):
    assert extract(page(head), URL).author == expected


# -- authors the page shows: the byline ----------------------------------------------------------


@pytest.mark.parametrize("byline, expected", [
    ('<p class="byline">By <a rel="author" href="/authors/ann-ledger">Ann Ledger</a></p>', "Ann Ledger"),
    ('<div class="byline">By Ann Ledger and Tom Quill</div>', "Ann Ledger; Tom Quill"),
    ('<span class="author">Ann Ledger, Tom Quill</span>', "Ann Ledger; Tom Quill"),
    # a list with a comma before its "and"
    ('<div class="byline">By Ann Ledger, Tom Quill, and Mia Rudd</div>', "Ann Ledger; Tom Quill; Mia Rudd"),
])
def test_the_byline_the_page_shows(byline, expected):
    assert extract(page(byline=byline), URL).author == expected


@pytest.mark.parametrize("byline, expected", [
    # the byline box is the date line: a source is no author
    ('<div class="byline">Time: 2024-03-05 &nbsp; Source: Harbour Board</div>', None),
    ('<div class="byline">Author: Ann Ledger &nbsp; Time: 2024-03-05</div>', "Ann Ledger"),
    ('<div class="byline">By Ann Ledger | Updated: March 6, 2024</div>', "Ann Ledger"),
    ('<div class="author">Autor: Ann Ledger, Tom Quill 05.03.2024, 15:23</div>', "Ann Ledger; Tom Quill"),
    # the date and time beside the name are no part of it
    ('<p class="byline">By <a rel="author" href="/a/ann">Ann Ledger</a> March 5, 2024 at 9:00 am</p>', "Ann Ledger"),
    ('<p class="byline">Ann Ledger5 Mar 2024</p>', "Ann Ledger"),
])
def test_a_byline_with_labels_dates_and_times(byline, expected):
    assert extract(page(byline=byline), URL).author == expected


# -- the site's own name is the publisher: an author only when nobody else is named ------------------

SITE = '<meta property="og:site_name" content="Port News">'


@pytest.mark.parametrize("head, byline, expected", [
    # the author tag holds the site's name, the byline the reporter's
    (SITE + '<meta name="author" content="Port News">', '<p class="byline">By Ann Ledger</p>', "Ann Ledger"),
    # the site's name as its address, or its host name in a longer name
    ('<meta name="author" content="news.example.org">', '<p class="byline">By Ann Ledger</p>', "Ann Ledger"),
    ('<meta name="author" content="Example News (www.example.org)">', '<p class="byline">By Ann Ledger</p>',
     "Ann Ledger"),
    (json_ld(news_article({"@type": "Organization", "name": "Port News"})),
     '<p class="byline">By Ann Ledger</p>', "Ann Ledger"),
    # the desk beside the reporter in the byline
    (SITE, '<p class="byline">Ann Ledger, Port News</p>', "Ann Ledger"),
    # a reporter's name in a tag of its own, beside the site's name in the common one
    (SITE + '<meta name="author" content="Port News"><meta name="cXenseParse:author" content="Ann Ledger">', "",
     "Ann Ledger"),
    # nobody else named: the site it is
    (SITE + '<meta name="author" content="Port News">', "", "Port News"),
])
def test_the_sites_own_name_gives_way_to_a_reporters(head, byline, expected):
    assert extract(page(head, byline), URL).author == expected


@pytest.mark.parametrize("head, expected", [
    # a login name (a WordPress user's slug) in JSON-LD, the name in <meta name="author">
    (json_ld(news_article({"@type": "Person", "name": "ann-ledger"})) + '<meta name="author" content="Ann Ledger">',
     "Ann Ledger"),
    (json_ld(news_article({"@type": "Person", "name": "ann-ledger"})), "ann-ledger"),  # better than nothing
    # the desk's short sign after each name
    (json_ld(news_article([{"@type": "Person", "name": "Ann Ledger (led)"},
                           {"@type": "Person", "name": "Tom Quill (tq.)"}])), "Ann Ledger; Tom Quill"),
])
def test_login_names_and_desk_signs(head, expected):
    assert extract(page(head), URL).author == expected


# -- Chinese pages: the editors' line in brackets at the body's end ------------------------------------

ZH_PARAGRAPHS = "".join(f"<p>第{n}段正文，记者从市里有关部门了解到，今年以来全市各项工作稳步推进，成效明显。</p>" for n in range(1, 5))


@pytest.mark.parametrize("line, expected", [
    ("（责任编辑：王芳、李明）", "王芳; 李明"),
    ("(责编：王芳)", "王芳"),
    ("【编辑：王芳】", "王芳"),
])
def test_the_editors_line_in_brackets_is_metadata(line, expected):
    html = ("<html><head><title>市里召开安全生产会议_要闻_某某市人民政府</title></head><body><h1>市里召开安全生产会议</h1>"
            "<div class='info'>发布时间：2023-05-18 来源：市应急管理局</div>"
            f"<div class='TRS_Editor'>{ZH_PARAGRAPHS}<p>{line}</p></div></body></html>")
    article = extract(html, "http://www.example.gov.cn/art/2023/5/18/art_1_1.html")
    assert (article.author, article.source) == (expected, "市应急管理局")
    assert article.text.splitlines()[-1].startswith("第4段正文")
