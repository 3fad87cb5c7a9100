"""HTML -> Article: trafilatura for the body, small shared rules for the rest.

``extract(html, url, rules)`` is a pure function, so it can be tested on a
fixture file and re-run over stored HTML. Site modules pass a :class:`SiteRules`
naming the few elements that generic extraction gets wrong on their site.

Where a site gives no rule, extraction falls back on what old Chinese CMSs and
government sites mark anyway: the CMS's body container or its content-start
marks, the headline that <title> carries before its column and site names, the
date line between headline and body, and the government metadata tags
(ArticleTitle, PubDate, ContentSource, Author); trafilatura's heuristics read
pages that have none of these.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass
from datetime import date

import trafilatura
from cssselect import GenericTranslator
from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html

# Labels of the metadata lines these sites print above (or below) an article:
# "Source:X Date:Y", "Author:X Time:Y", "Pubtime:Y", "时间：Y 来源：X".
# A label must not follow a letter, so a footer's "publishdate:" is no "date:".
_LABELS = {
    "author": r"Author|Editor|Reporter|作者|记者|编辑|责任编辑",
    "source": r"Source|From|来源|稿件来源|信息来源",
    "date": r"Pubtime|Publish(?:ed)? ?(?:time|date|on)|Release time|Date|Time|发布时间|发布日期|时间|日期",
    # a page counter ends the field before it and is no field itself: it changes on every visit
    "counter": r"(?:Page )?Views|Hits|Clicks|Reads|阅读次数|浏览次数|点击数|点击量|浏览量|访问量|阅读量|阅读|浏览",
}
_LABEL_RE = re.compile(
    r"(?<![A-Za-z])(?P<label>" + "|".join(f"(?P<{field}>{alt})" for field, alt in _LABELS.items())
    + r")\s*[:：]\s*",
    re.IGNORECASE,
)

_MONTHS = {month: number for number, month in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_NUMERIC_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})(?!\d)")
_ENGLISH_DATE = re.compile(
    r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)

# Lines that are page furniture wherever they appear, whatever the site.
_BOILERPLATE_LINES = re.compile(
    r"^(?:"
    r"share(?: to)?\s*[:：]?.*|分享到\s*[:：]?.*"           # share bars
    r"|(?:font(?: size)?\s*[:：]?\s*)?big\s*middle\s*small|字号\s*[:：]?\s*[大中小\s]*"  # font-size switches
    r"|(?:【?\s*(?:打印|关闭|print|close)\s*】?\s*\|?\s*)+"  # print / close buttons
    r"|related (?:links|news|articles)|相关链接|相关新闻"
    r"|(?:说明\s*[:：]\s*)?[a-z]:\\\S.*"                    # a local Windows image path as alt text
    r")$",
    re.IGNORECASE,
)
# A line that ends the article: everything after it (teasers, ads) is not the article.
_END_MARKERS = re.compile(r"^(?:[-—–]+\s*(?:end|完)\s*[-—–]+|【\s*(?:end|完)\s*】|\(\s*(?:end|完)\s*\))$", re.IGNORECASE)

# Where CMSs put the article body, when a site module names none; the first that
# matches wins, so a container nested in another comes first: TRS WCM, Hanweb and
# Kaipu (#UCAP-CONTENT, #ivs_content), WebPlus, VSB (博达), www.gov.cn, WeChat.
_CMS_BODIES = (".TRS_Editor", ".TRS_UEDITOR", ".trs_editor_view", "#UCAP-CONTENT", "#ivs_content",
               ".wp_articlecontent", ".v_news_content", "#vsb_content", ".pages_content", "#js_content")
# Names many templates give the body box: tried after the CMS's content markers,
# as #zoom (the box the font-size buttons resize) often holds related links too.
# ".content" and "#content" are left out: they are as often the whole page.
_COMMON_BODIES = ("#zoom", ".bt_content", ".article-content", "#article-content", ".article_content")
# Marks templates put around the body field: <!--ContentStart-->, <!--TRS content
# start-->, Hanweb's <!--ZJEG_RSS.content.begin--><meta name="ContentStart">.
_CONTENT_MARKS = {
    "start": re.compile(r"content[\s._-]*(?:start|begin)|正文开始", re.IGNORECASE),
    "end": re.compile(r"content[\s._-]*end|正文结束", re.IGNORECASE),
}
# A date line is short: a longer block (a menu, a list, the body) ends the search for it.
_DATE_LINE_MAX = 200
# What separates the headline from column and site names in <title>:
# "Headline_Column_Site", "Headline-Site", "Headline | Site".
_TITLE_SEPARATORS = re.compile(r"\s*(?:[-_|｜–—]+|::)\s*")

# trafilatura warns about every page it finds empty; we count those pages ourselves.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class SiteRules:
    """What generic extraction gets wrong on one site; each selector is CSS."""

    title: str | None = None  # the element holding the headline
    byline: str | None = None  # element(s) holding the date / source / author lines
    body: str | None = None  # the article container: trafilatura reads only this
    drop: tuple[str, ...] = ()  # elements inside the body that are not the article


@dataclass(frozen=True)
class Article:
    title: str
    published: date | None
    author: str | None
    source: str | None
    language: str | None
    text: str  # paragraphs and in-body headings, one per line; "" when the page has none


def extract(html: str, url: str, rules: SiteRules = SiteRules()) -> Article:
    tree = lxml_html.fromstring(html)
    container = _body_container(tree, rules)
    headline = None if rules.title else _shown_headline(tree)
    byline = _labelled_fields(_byline_text(tree, rules, headline, container))
    body_lines = _body_lines(container, html, url, rules)
    # "Source: Guangzhou Metro" at the end of a body is metadata, not text.
    in_body = {}
    text_lines = []
    for line in body_lines:
        fields = _labelled_fields(line)
        if fields and _is_metadata_line(line):
            in_body.update({k: v for k, v in fields.items() if k not in in_body})
        else:
            text_lines.append(line)
    fields = {**in_body, **byline}
    if not rules.byline:
        fields = {**_declared_fields(tree), **fields}
    title = _title(tree, html, rules, headline)
    if text_lines[:1] == [title]:  # trafilatura keeps a headline that sits inside the article
        text_lines.pop(0)
    text = "\n".join(text_lines)
    return Article(
        title=title,
        published=_published(fields, rules, html, url),
        author=fields.get("author"),
        source=fields.get("source"),
        language=_language(tree, text),
        text=text,
    )


# -- metadata --------------------------------------------------------------


def _select(tree, css: str) -> list:
    return tree.xpath(GenericTranslator().css_to_xpath(css))


_LINE_BREAKING = {"br", "p", "div", "li", "tr", "td", "th", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}


def _text_of(element) -> str:
    """The element's text, one line per visual line (<br> and block ends break lines)."""
    element = copy.deepcopy(element)  # extraction must not change the tree it reads
    for code in list(element.iter("script", "style")):
        code.drop_tree()
    for child in element.iter(*_LINE_BREAKING):
        child.tail = "\n" + (child.tail or "")
    return "\n".join(_clean_line(line) for line in element.text_content().splitlines())


def _clean_line(line: str) -> str:
    return " ".join(line.replace("\u3000", " ").split())


def _byline_text(tree, rules: SiteRules, headline, container) -> str:
    if rules.byline:
        return "\n".join(_text_of(element) for element in _select(tree, rules.byline))
    return _date_line(headline, container)


def _date_line(headline, container) -> str:
    """The page's date line: the nearest short block that names a date below the headline,
    or else above the body. Looking no further than the body, or than a long block (a menu,
    a list), keeps the sidebars' dated lists and the footer's generation time out."""
    if headline is not None:
        blocks = _outward(headline, preceding=False)
    elif container is not None:
        blocks = _outward(container, preceding=True)
    else:
        return ""
    body = {container, *container.iterancestors()} if container is not None else set()
    for block in blocks:
        text = _text_of(block)
        if block in body or len(text) > _DATE_LINE_MAX:
            return ""
        if "date" in _labelled_fields(text):
            return text
    return ""


def _outward(node, preceding: bool):
    """The elements beside node, then beside each of its ancestors, nearest first."""
    while node is not None and node.tag != "body":
        yield from (sibling for sibling in node.itersiblings(preceding=preceding) if isinstance(sibling.tag, str))
        node = node.getparent()


def _meta_tags(tree) -> dict[str, str]:
    """content by name (or property) of the page's <meta> tags; the first of a name wins."""
    return {meta.get("name") or meta.get("property"): meta.get("content", "").strip()
            for meta in reversed(tree.xpath("//meta[@content]"))}


def _declared_fields(tree) -> dict[str, str]:
    """The government site metadata tags; PubDate is when the page went up, so a date line wins."""
    declared = _meta_tags(tree)
    fields = {"date": declared.get("PubDate"), "source": declared.get("ContentSource"),
              "author": declared.get("Author")}
    return {field: value for field, value in fields.items() if value}


def _labelled_fields(text: str) -> dict[str, str]:
    """{"author": ..., "source": ..., "date": ...} from lines like "Source:X Date:Y"."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        matches = list(_LABEL_RE.finditer(line))
        for match, following in zip(matches, matches[1:] + [None]):
            field = next(name for name in _LABELS if match.group(name))
            value = line[match.end():following.start() if following else None].strip(" |/")
            if value and field not in fields:
                fields[field] = value
        unlabelled = line[:matches[0].start()] if matches else line
        if "date" not in fields and _parse_date(unlabelled):
            fields["date"] = unlabelled.strip()  # a bare date in the byline, as ROCAR prints it
    return fields


def _is_metadata_line(line: str) -> bool:
    """A short line made only of labelled fields (not a sentence that mentions a source)."""
    first = _LABEL_RE.search(line)
    return bool(first) and first.start() == 0 and len(line) <= 120


def _parse_date(text: str) -> date | None:
    for pattern, order in ((_NUMERIC_DATE, (1, 2, 3)), (_ENGLISH_DATE, (3, 1, 2))):
        match = pattern.search(text)
        if not match:
            continue
        year, month, day = (match.group(i) for i in order)
        month = _MONTHS[next(m for m in _MONTHS if m.startswith(month.lower()[:3]))] \
            if not month.isdigit() else int(month)
        try:
            return date(int(year), month, int(day))
        except ValueError:
            continue
    return None


def _published(fields, rules, html: str, url: str) -> date | None:
    if "date" in fields:
        return _parse_date(fields["date"])
    if rules.byline:
        return None  # the site's date line has no date: better none than the footer's
    found = find_date(html, url=url, original_date=True, extensive_search=False)
    return date.fromisoformat(found) if found else None


def _title(tree, html: str, rules: SiteRules, headline) -> str:
    if rules.title:
        for element in _select(tree, rules.title):
            title = _clean_line(element.text_content())
            if title:
                return title
    else:
        declared = _meta_tags(tree)
        shown = _clean_line(headline.text_content()) if headline is not None else ""
        # the headline the page shows beats the declared one, which a translated page keeps untranslated
        title = shown or _clean_line(declared.get("ArticleTitle", "")) or _without_names(_page_title(tree), declared)
        if title:
            return title
    metadata = trafilatura.extract_metadata(html)
    return _clean_line(metadata.title or "") if metadata else ""


def _page_title(tree) -> str:
    return _clean_line(tree.findtext(".//title") or "")


def _shown_headline(tree):
    """The element showing the longest start of <title> cut at a separator: the page's headline
    without the column and site names that CMSs append to <title>."""
    title = _page_title(tree)
    for end in [len(title), *(match.start() for match in reversed(list(_TITLE_SEPARATORS.finditer(title))))]:
        shown = tree.xpath("//body//*[normalize-space()=$text]", text=title[:end]) if title[:end] else []
        if shown:
            return shown[0]
    return None


def _without_names(title: str, declared: dict[str, str]) -> str:
    """<title> without the column and site names the page declares after it ("" when there are none)."""
    names = {declared.get(name) for name in ("ColumnName", "SiteName", "og:site_name")}
    cuts = [match.start() for match in _TITLE_SEPARATORS.finditer(title)]
    parts = _TITLE_SEPARATORS.split(title)
    kept = len(parts)
    while kept > 1 and parts[kept - 1] in names:
        kept -= 1
    return title[:cuts[kept - 1]] if kept < len(parts) else ""


def _language(tree, text: str) -> str | None:
    if not text:
        return None
    if len(_CJK.findall(text)) > len(text) * 0.2:
        return "zh"
    declared = (tree.get("lang") or "").split("-")[0].lower()
    return declared or "en"


# -- body ------------------------------------------------------------------


def _body_container(tree, rules: SiteRules):
    """The element holding the article body: the site's, the CMS's, or None for trafilatura to find."""
    if rules.body:
        containers = _select(tree, rules.body)
        return containers[0] if containers else None
    container = _first_body(tree, _CMS_BODIES)
    if container is None:
        container = _marked_body(tree)
    if container is None:
        container = _first_body(tree, _COMMON_BODIES)
    return container


def _first_body(tree, selectors: tuple[str, ...]):
    for css in selectors:
        found = [element for element in _select(tree, css) if element.text_content().strip()]
        if found:
            return max(found, key=lambda element: len(element.text_content()))
    return None


def _marked_body(tree):
    """What lies between the template's content-start and content-end marks, gathered in one <div>."""
    start = next((node for node in tree.iter(etree.Comment, "meta") if _is_content_mark(node, "start")), None)
    if start is None:
        return None
    marked = []
    for sibling in start.itersiblings():
        if _is_content_mark(sibling, "end"):
            break
        marked.append(sibling)
    body = lxml_html.Element("div")
    body.text, start.tail = start.tail, None
    start.addnext(body)
    body.extend(marked)
    return body


def _is_content_mark(node, which: str) -> bool:
    if node.tag is etree.Comment:  # a short one: not markup commented out
        return len(node.text or "") < 40 and bool(_CONTENT_MARKS[which].search(node.text or ""))
    return node.tag == "meta" and node.get("name") == f"Content{which.title()}"


def _body_lines(container, html: str, url: str, rules: SiteRules) -> list[str]:
    if container is not None:
        for css in rules.drop:
            for element in _select(container, css):
                element.drop_tree()
        if container.tag in ("td", "th"):
            container.tag = "div"  # a layout cell, not a table: trafilatura would join its <br> lines into one
        html = "<html><body>" + lxml_html.tostring(container, encoding="unicode") + "</body></html>"
    elif rules.body:
        return []
    text = trafilatura.extract(
        html,
        url=url,
        favor_recall=container is not None,  # inside a known container, keep short lines
        include_comments=False,
        include_tables=True,
        include_images=False,
        deduplicate=False,
    ) or ""
    lines = []
    for line in text.splitlines():
        line = _clean_line(line)
        if _END_MARKERS.match(line):
            break
        if line and not _BOILERPLATE_LINES.match(line):
            lines.append(line)
    return lines
