"""Kinds of page on which the generic extraction failed in public benchmarks with ground truth
(the Article Extraction Benchmark's news pages, htmldate's date-annotated pages): each kind as a
small page of our own (invented text, the same structure) with its right values."""

from datetime import date

import pytest

from crawler.extract import extract

SENTENCES = ["The harbour board met on Tuesday to weigh the cost of a second quay for the ferries, which have outgrown "
             "the old one since the island's new school opened and the morning crossings began to run full.",
             "Its members asked the engineers for two more surveys of the seabed before any vote on the plans.",
             "A decision is now expected in the spring, after the surveys and a public hearing in the town hall.",
             "Fishermen said the works would close the northern channel for most of a season, and asked for help."]


def page(body: str, head: str = "", title: str = "Harbour Board Delays Quay Vote") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Port News</title>'
            f"{head}</head><body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>{body}"
            "<footer>Copyright 2019-2025 Port News. All rights reserved.</footer></body></html>")


# -- comments inside the text ----------------------------------------------------------------


def react_paragraph(sentence: str) -> str:
    """A paragraph as React renders one: its text in runs split by empty comments, a link among them."""
    words = sentence.split(" ")
    runs = "<!-- -->".join(" " + " ".join(words[i:i + 4]) for i in range(5, len(words), 4))
    return f'<p>{" ".join(words[:3])} <a href="/board.html">{" ".join(words[3:5])}</a>{runs}</p>'


@pytest.mark.parametrize("box", ['<div class="article-content">{}</div>', "<article>{}</article>",
                                 '<div class="story">{}</div>'])
def test_text_split_by_comments_is_read_whole(box):
    paragraphs = f"<p>{SENTENCES[0]}</p>" + "".join(map(react_paragraph, SENTENCES[1:]))
    body = "<h1>Harbour Board Delays Quay Vote</h1>" + box.format(paragraphs)
    assert extract(page(body), "https://news.example.org/2024/03/05/quay.html").text.split("\n") == SENTENCES


# -- the publication day: a UTC timestamp and the site's own calendar ----------------------------

ARTICLE = "<article><h1>Harbour Board Delays Quay Vote</h1>" + "".join(f"<p>{s}</p>" for s in SENTENCES) + "</article>"


def json_ld(published: str) -> str:
    return ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
            f'"headline": "Harbour Board Delays Quay Vote", "datePublished": "{published}"}}</script>')


def og_time(published: str) -> str:
    return f'<meta property="article:published_time" content="{published}">'


@pytest.mark.parametrize("head, url, expected", [
    # an evening story in the Americas is on the next day in UTC; its URL names the site's day
    (json_ld("2024-03-06T02:15:00Z"), "https://news.example.org/2024/03/05/quay.html", date(2024, 3, 5)),
    (og_time("2024-03-06T04:40:00+00:00"), "https://news.example.org/2024/03/05/quay.html", date(2024, 3, 5)),
    # a story published after midnight in Europe or Asia is on the day before in UTC
    (json_ld("2024-03-05T23:01:00.000Z"), "https://news.example.org/2024/03/06/quay/", date(2024, 3, 6)),
    (og_time("2024-03-05 16:30 GMT"), "https://news.example.org/2024-03-06/quay.html", date(2024, 3, 6)),
    # the timestamp's day stands: midday UTC, a timestamp in local time, a URL of another week, no URL date
    (json_ld("2024-03-06T11:00:00Z"), "https://news.example.org/2024/03/05/quay.html", date(2024, 3, 6)),
    (json_ld("2024-03-06T01:15:00+01:00"), "https://news.example.org/2024/03/05/quay.html", date(2024, 3, 6)),
    (json_ld("2024-03-06T02:15:00Z"), "https://news.example.org/2024/02/27/quay.html", date(2024, 3, 6)),
    (json_ld("2024-03-06T02:15:00Z"), "https://news.example.org/news/quay.html", date(2024, 3, 6)),
])
def test_a_utc_timestamp_near_midnight_gives_way_to_the_sites_day_in_the_url(head, url, expected):
    assert extract(page(ARTICLE, head=head), url).published == expected


def test_the_date_line_shown_still_beats_both():
    byline = '<p class="byline">Published: March 4, 2024</p>'
    article = ARTICLE.replace("</h1>", "</h1>" + byline)
    html = page(article, head=json_ld("2024-03-06T02:15:00Z"))
    assert extract(html, "https://news.example.org/2024/03/05/quay.html").published == date(2024, 3, 4)


# -- a paragraph that starts like a share bar --------------------------------------------------


@pytest.mark.parametrize("paragraph", [
    "Shares of the ferry company fell by a tenth on Wednesday after the harbour board delayed its vote.",
    "Shareholders of the ferry company will meet in April to discuss the delay",
    "Share this story with a neighbour who uses the morning crossing, the board asked readers.",
    "Share prices of the ferry company fell on Wednesday after the vote was delayed again",
])
def test_a_paragraph_that_starts_with_share_is_text_and_a_share_bar_is_not(paragraph):
    bar = "<p>Share on <a href='#'>Facebook</a> | <a href='#'>Twitter</a> | <a href='#'>Email</a></p>"
    body = ("<article><h1>Harbour Board Delays Quay Vote</h1>" + f"<p>{paragraph}</p>"
            + "".join(f"<p>{s}</p>" for s in SENTENCES) + bar + "</article>")
    text = extract(page(body), "https://news.example.org/2024/03/05/quay.html").text
    assert text.split("\n") == [paragraph, *SENTENCES]


# -- the date line: another story's teaser beside the headline -----------------------------------


@pytest.mark.parametrize("teaser", [
    "<ul class='ticker'><li><a href='/2020/01/02/rates.html'><span>[ January 2, 2020 ]</span><br>Council sets the "
    "harbour dues for the new year</a></li></ul>",
    "<div class='related'><a href='/culture/'>Culture</a><div><a href='/2019/11/18/festival.html'>Lantern festival "
    "draws record crowds</a></div><div>November 18, 2019</div></div>",
    "<div class='related'><a href='/2019/11/18/festival.html'>港口灯会吸引创纪录的游客前来观赏</a><br>2019-11-18</div>",
])
def test_a_dated_teaser_of_another_story_beside_the_headline_is_not_the_date_line(teaser):
    html = page(f"<article><h1>Harbour Board Delays Quay Vote</h1>{teaser}" + "".join(f"<p>{s}</p>" for s in SENTENCES)
                + "</article>", head=og_time("2020-01-06T09:00:00+01:00"))
    assert extract(html, "https://news.example.org/news/quay.html").published == date(2020, 1, 6)


def test_a_labelled_date_line_with_a_long_linked_source_is_still_the_date_line():
    line = "Source: <a href='/org'>Ministry of Harbours and Inland Waterways</a> Date: 2020-01-03"
    html = page(f'<article><h1>Harbour Board Delays Quay Vote</h1><div class="meta">{line}</div>'
                + "".join(f"<p>{s}</p>" for s in SENTENCES) + "</article>", head=og_time("2020-01-06T09:00:00+01:00"))
    assert extract(html, "https://news.example.org/news/quay.html").published == date(2020, 1, 3)


# -- the date line: the day written first --------------------------------------------------------


def dated(line: str, head: str = "") -> str:
    """An article whose date line (line) sits under its headline; head: declared metadata."""
    return page(f'<article><h1>Harbour Board Delays Quay Vote</h1><div class="meta">{line}</div>'
                + "".join(f"<p>{s}</p>" for s in SENTENCES) + "</article>", head=head)


@pytest.mark.parametrize("line, expected", [
    ("Monday, 6 January 2020", date(2020, 1, 6)),
    ("6 Jan. 2020, 09:15", date(2020, 1, 6)),
    ("Published: 6th of January, 2020", date(2020, 1, 6)),
    ("06.01.2020 | 15:33", date(2020, 1, 6)),
    ("By <a href='/staff/ann'>Ann Lee</a> · 06.01.2020", date(2020, 1, 6)),
    ("<a href='/2020/01/06/quay.html'>6 Jan 2020 18:29</a>", date(2020, 1, 6)),
])
def test_a_date_line_that_writes_the_day_first_beats_the_declared_date(line, expected):
    # the declared date is the first version's, the page shows the day it was published anew
    html = dated(line, head=json_ld("2019-12-14T10:00:00+01:00"))
    assert extract(html, "https://news.example.org/news/quay.html").published == expected


@pytest.mark.parametrize("text", ["31.02.2020", "Version 1.2.2020.3", "6 Smarch 2020"])
def test_what_is_no_day_first_date_leaves_the_declared_one(text):
    html = dated(text, head=json_ld("2019-12-14T10:00:00+01:00"))
    assert extract(html, "https://news.example.org/news/quay.html").published == date(2019, 12, 14)


# -- a body split over several boxes --------------------------------------------------------------

BOX = '<div class="grid"><div class="body body__container article__body">{}</div><div class="ad-rail"></div></div>'
NEWSLETTER = ('<div class="grid"><div class="newsletter"><p>Get our weekly briefing in your inbox.</p>'
              '<a href="/signup">Sign up</a></div></div>')
MORE = [f"Another headline of the week, number {n}, for the reader to click on" for n in range(1, 5)]
RELATED = ('<div class="grid"><div class="body body__container article__body"><p>More from Port News</p><ul>'
           + "".join(f"<li><a href='/news/{n}.html'>{line}</a></li>" for n, line in enumerate(MORE, 1))
           + "</ul></div></div>")
LONG = [s + " " + s.lower() for s in SENTENCES]  # each box holds a good deal of text


def test_a_body_split_over_alike_boxes_is_read_whole_without_what_lies_between():
    boxes = BOX.format("".join(f"<p>{s}</p>" for s in LONG[:2])) + NEWSLETTER \
        + BOX.format("".join(f"<p>{s}</p>" for s in LONG[2:])) + RELATED
    html = page(f"<main><h1>Harbour Board Delays Quay Vote</h1>{boxes}</main>")
    text = extract(html, "https://news.example.org/2024/03/05/quay.html").text
    assert text.split("\n") == LONG  # without the newsletter form between the boxes, or the related links


def test_the_next_story_of_a_page_that_scrolls_on_is_not_gathered_with_the_first():
    story = ('<article><h1>{}</h1><div class="body body__container article__body">{}</div></article>')
    html = page(story.format("Harbour Board Delays Quay Vote", "".join(f"<p>{s}</p>" for s in LONG[:2]))
                + story.format("Ferry Timetable Changes in April", "".join(f"<p>{s}</p>" for s in LONG[2:])))
    text = extract(html, "https://news.example.org/2024/03/05/quay.html").text
    assert LONG[0] in text and LONG[2] not in text


# -- one of several alike named boxes: the article, not a longer list of links ---------------------


def test_of_alike_body_boxes_the_one_with_text_to_read_wins_over_a_longer_list_of_links():
    teasers = "".join(f'<li><a href="/news/{n}.html"><h3>Another story of the day, number {n}, on the front page '
                      f"of the paper this morning</h3><p>Its first lines, cut short for the list...</p></a></li>"
                      for n in range(1, 16))
    json_ld_image = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "ImageObject", '
                     '"contentUrl": "https://img.example.org/' + "a" * 400 + '.jpg"}</script>')
    html = page('<div class="article_content wide"></div>'
                "<h1>Harbour Board Delays Quay Vote</h1>"
                '<div class="article_content narrow">' + "".join(f"<p>{s}</p>" for s in SENTENCES)
                + '<p>Read more on <a href="/harbour/">the harbour</a>.</p></div>'
                '<div class="article_content wide"><h2>On the front page now</h2>'
                f"{json_ld_image}<ul>{teasers}</ul></div>")
    text = extract(html, "https://news.example.org/2024/03/05/quay.html").text
    assert text.split("\n")[:4] == SENTENCES and "front page" not in text


# -- a bare date that is the day of the update after it ------------------------------------------


@pytest.mark.parametrize("line, expected", [
    # the date is the update's: it has the time, the date line no other date
    ("November 28, 2013 -- Updated 0203 GMT (1003 HKT)", date(2013, 11, 27)),
    ("Nov. 28, 2013 · Updated 10:03 a.m. ET", date(2013, 11, 27)),
    # the date is the publication's: it has its own time, or the update its own date
    ("2013-11-26 10:00 Updated: 11:30", date(2013, 11, 26)),
    ("November 26, 2013 | Updated November 28, 2013", date(2013, 11, 26)),
])
def test_a_bare_date_before_an_update_time_is_the_updates_day(line, expected):
    html = dated(line, head='<meta itemprop="datePublished" name="pubdate" content="2013-11-27T08:36:32Z">')
    assert extract(html, "https://news.example.org/2013/11/27/quay/index.html").published == expected


# -- the title: a <title> written for search engines, og:title for what the page shows ------------


def titled(title: str, og_title: str, h1: str, line: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:title" content="{og_title}"></head><body><nav><a href="/">Home</a></nav>'
            f'<article><h1>{h1}</h1><div class="meta">{line}</div>' + "".join(f"<p>{s}</p>" for s in SENTENCES)
            + "</article><footer>Copyright Port News</footer></body></html>")


@pytest.mark.parametrize("og_title, h1, expected", [
    # neither title is shown as it is: the declared one without the site's name <title> ends with too
    ("Analysis: The quay vote is delayed | Port News", "The quay vote is delayed",
     "Analysis: The quay vote is delayed"),
    # what <title> and og:title share is the headline, not a name: it stays
    ("Notices - Publication of the new harbour dues regulation",
     "Publication of the new harbour dues regulation, in full",
     "Notices - Publication of the new harbour dues regulation"),
])
def test_the_declared_title_loses_the_site_name_it_shares_with_the_page_title(og_title, h1, expected):
    title = ("Quay vote put off again as board waits for surveys | Port News" if "Port News" in og_title
             else "Port Authority - Notices - Publication of the new harbour dues regulation")
    assert extract(titled(title, og_title, h1), "https://news.example.org/news/quay.html").title == expected


def test_a_hyphenated_name_is_not_cut_as_a_site_name():
    html = titled("Ferries and quays: Harbour Board Schleswig-Holstein", "Harbour Board Schleswig-Holstein",
                  "Welcome aboard")
    assert extract(html, "https://news.example.org/").title == "Harbour Board Schleswig-Holstein"


def test_the_headline_shown_is_found_by_og_title_when_title_is_written_for_search_engines():
    html = titled("Quay vote put off again as board waits for seabed surveys | Port News",
                  "Harbour board's vote on the quay is delayed", "Harbour board’s vote on the quay is delayed",
                  line="March 4, 2024")
    article = extract(html, "https://news.example.org/news/quay.html")
    assert article.title == "Harbour board’s vote on the quay is delayed"  # as shown, with its curly apostrophe
    assert article.published == date(2024, 3, 4)  # the date line under the headline found


def test_og_title_is_not_cut_to_a_kicker_the_page_shows():
    html = titled("Quay vote put off again as board waits for seabed surveys", "Harbour - Board delays quay vote",
                  "Board delays quay vote").replace("<article>", "<article><p class='kicker'>Harbour</p>")
    assert extract(html, "https://news.example.org/news/quay.html").title != "Harbour"


# -- a post the story quotes from a social network --------------------------------------------------

TWEET = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">The new quay would close our channel for a whole '
         'season. Who pays for that? <a href="https://t.co/abc">pic.twitter.com/abc</a></p>&mdash; North Harbour '
         'Fishers (@northfishers) <a href="https://twitter.com/northfishers/status/1">March 4, 2024</a></blockquote>'
         '<script async src="https://platform.twitter.com/widgets.js"></script>')


@pytest.mark.parametrize("wrapper", ['<div class="social-media-embed">{}</div>',
                                     '<figure class="embed embed--twitter"><div class="embed__inner">{}</div></figure>',
                                     "<div>{}</div>"])
def test_an_embedded_post_the_story_quotes_keeps_its_text(wrapper):
    share = ('<div class="social-share"><a href="https://facebook.com/share">Facebook</a> '
             '<a href="https://twitter.com/share">Twitter</a></div>')
    body = ("<article><h1>Harbour Board Delays Quay Vote</h1>" + share + "".join(f"<p>{s}</p>" for s in SENTENCES[:2])
            + wrapper.format(TWEET) + "".join(f"<p>{s}</p>" for s in SENTENCES[2:]) + "</article>")
    text = extract(page(body), "https://news.example.org/2024/03/05/quay.html").text
    assert "The new quay would close our channel for a whole season. Who pays for that?" in text
    assert text.startswith(SENTENCES[0]) and text.endswith(SENTENCES[-1])
    assert "Facebook" not in text


@pytest.mark.parametrize("title, og_title, expected", [
    # <title> starts with the site's name, which the banner shows: the headline is og:title, inside <title>
    ("Port Authority - Board delays quay vote until spring", "Board delays quay vote until spring",
     "Board delays quay vote until spring"),
    ("Port Authority | Press releases | Board delays quay vote until spring", "Board delays quay vote until spring",
     "Board delays quay vote until spring"),
    # the headline first: the start of <title> the page shows stands, whatever og:title says
    ("Board delays quay vote until spring | Port Authority", "Port Authority: the quay vote is put off",
     "Board delays quay vote until spring"),
])
def test_a_title_that_starts_with_the_site_name_gives_the_headline_og_title_names(title, og_title, expected):
    html = titled(title, og_title, "Board delays quay vote until spring").replace(
        "<nav>", '<div class="banner"><a href="/">Port Authority</a></div><nav>')
    assert extract(html, "https://www.port.example.gov/press/quay.html").title == expected


# -- the title: the site's own name after the headline, where no element shows the headline ------------


@pytest.mark.parametrize("title, og_title, head, expected", [
    # the site's name as its address: "| PORTNEWS.DE" on portnews.de
    ("Board delays quay vote | PORTNEWS.DE", "Board delays quay vote | PORTNEWS.DE", "", "Board delays quay vote"),
    # <title> a shorter headline, og:title the headline with the site's name that og:site_name gives
    ("Board delays quay vote", "Board delays quay vote again, surveys first | Port News",
     '<meta property="og:site_name" content="Port News">', "Board delays quay vote again, surveys first"),
    # after a full-width colon, as Japanese sites write it
    ("港湾委員会が採決を延期　調査待ち：港新聞デジタル", "港湾委員会が採決を延期　調査待ち：港新聞デジタル",
     '<meta property="og:site_name" content="港新聞デジタル">', "港湾委員会が採決を延期 調査待ち"),
])
def test_the_sites_own_name_leaves_a_title_no_element_shows(title, og_title, head, expected):
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:title" content="{og_title}">{head}</head><body><nav><a href="/">Home</a></nav>'
            + "".join(f"<p>{s}</p>" for s in SENTENCES) + "</body></html>")
    assert extract(html, "https://www.portnews.de/news/quay.html").title == expected
