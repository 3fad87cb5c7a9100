"""The shared extraction rules, on the page furniture old Chinese CMSs put inside
the article box (sites.md: "print/close/font-size buttons inside the article box")."""

from datetime import date

import pytest

from crawler.extract import SiteRules, extract

RULES = SiteRules(title="h1", byline=".info", body=".article")


def page(byline: str, body: str, footer: str = "") -> str:
    return f"""<html><head><meta charset="utf-8"><title>T_Column_Site</title></head><body>
    <div class="nav"><a href="/">Home</a> <a href="/news/">News</a></div>
    <h1> A  headline\n over two lines </h1><div class="info">{byline}</div>
    <div class="article">{body}</div><div class="footer">{footer}</div></body></html>"""


PARAGRAPHS = "".join(f"<p>Paragraph {n} of the article, long enough to be read as text by trafilatura.</p>"
                     for n in range(1, 4))


@pytest.mark.parametrize("byline, expected", [
    ("Author:Guangzhou state -owned enterpr Time:2022.08.02", date(2022, 8, 2)),
    ("Time: October 12, 2022<br>Source: Working Committee", date(2022, 10, 12)),
    ("Pubtime:2016-07-27 <a>Big</a><a>Middle</a><a>Small</a>", date(2016, 7, 27)),
    ("时间：2022年10月12日 来源：南阳市直机关工委", date(2022, 10, 12)),
    ("<ul><li>2020-11-27</li><li>Source:Party Affairs Department</li></ul>", date(2020, 11, 27)),
    ("Date: Sept. 3rd, 2021", date(2021, 9, 3)),
])
def test_date_line_formats(byline, expected):
    assert extract(page(byline, PARAGRAPHS), "http://example.org/2023/11-22/1.html", RULES).published == expected


def test_footer_publishdate_and_url_date_are_not_the_article_date():
    html = page("Source: ChemChina", PARAGRAPHS, footer="Produced By CMS publishdate:2022/02/10 15:17:10")
    article = extract(html, "http://example.org/webinfo/2022/02/1.htm", RULES)
    assert article.published is None  # the date line names no date: none beats a wrong one
    assert article.source == "ChemChina"


def test_byline_fields_are_split_at_the_next_label():
    article = extract(page("Source: ChemChina Date: 2022-01-25", PARAGRAPHS), "http://example.org/a", RULES)
    assert (article.source, article.published, article.author) == ("ChemChina", date(2022, 1, 25), None)


def test_title_whitespace_is_normalised():
    assert extract(page("", PARAGRAPHS), "http://example.org/a", RULES).title == "A headline over two lines"


def test_furniture_inside_the_article_box_is_dropped():
    body = ("<p>Share to: <a>WeChat</a> <a>Weibo</a></p><p>字号：<a>大</a> <a>中</a> <a>小</a></p>"
            + PARAGRAPHS + '<p><img alt="说明: C:\\Users\\刘凯\\Desktop\\1副本.jpg"> 说明: C:\\Users\\刘凯\\Desktop\\1副本.jpg</p>'
            "<p>【打印】 【关闭】</p><p>Related Links</p>")
    text = extract(page("", body), "http://example.org/a", RULES).text
    assert text.split("\n") == [f"Paragraph {n} of the article, long enough to be read as text by trafilatura."
                                for n in range(1, 4)]


def test_end_marker_cuts_teasers_and_source_line_becomes_metadata():
    body = (PARAGRAPHS + "<p>Source: Guangzhou Metro</p><p>- END -</p>"
            "<p><strong>An unrelated story title</strong></p><p>Its excerpt, cut short...</p>")
    article = extract(page("Author:Someone Time:2022.08.02", body), "http://example.org/a", RULES)
    assert article.text.endswith("Paragraph 3 of the article, long enough to be read as text by trafilatura.")
    assert "unrelated" not in article.text and "Source" not in article.text
    assert article.source == "Guangzhou Metro" and article.author == "Someone"


def test_a_sentence_mentioning_a_source_stays_in_the_text():
    body = PARAGRAPHS + "<p>The source of the figures, the bureau said: the 2021 census.</p>"
    article = extract(page("", body), "http://example.org/a", RULES)
    assert "2021 census" in article.text and article.source is None


def test_page_without_body_gives_empty_text():
    article = extract(page("Date: 2022-01-29", '<p><video src="a.mp4"></video></p>'), "http://example.org/a", RULES)
    assert article.text == "" and article.title == "A headline over two lines"


def test_language_follows_the_text_not_the_template():
    chinese = "".join(f"<p>第{n}段，市直机关工委组织开展党员志愿服务活动，推动机关党建高质量发展。</p>" for n in range(3))
    assert extract(page("", chinese), "http://example.org/a", RULES).language == "zh"
    assert extract(page("", PARAGRAPHS), "http://example.org/a", RULES).language == "en"
