"""HTML -> Article: trafilatura for the body, small shared rules for the rest.

``extract(html, url, rules)`` is a pure function, so it can be tested on a
fixture file and re-run over stored HTML. Site modules pass a :class:`SiteRules`
naming the few elements that generic extraction gets wrong on their site.
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
from lxml import html as lxml_html

# Labels of the metadata lines these sites print above (or below) an article:
# "Source:X Date:Y", "Author:X Time:Y", "Pubtime:Y", "时间：Y 来源：X".
# A label must not follow a letter, so a footer's "publishdate:" is no "date:".
_LABELS = {
    "author": r"Author|Editor|Reporter|作者|记者|编辑|责任编辑",
    "source": r"Source|From|来源|稿件来源|信息来源",
    "date": r"Pubtime|Publish(?:ed)? ?(?:time|date|on)|Release time|Date|Time|发布时间|发布日期|时间|日期",
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
    byline = _labelled_fields(_byline_text(tree, rules))
    body_lines = _body_lines(tree, html, url, rules)
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
    text = "\n".join(text_lines)
    return Article(
        title=_title(tree, html, rules),
        published=_published(fields, tree, rules, html, url),
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
    for child in element.iter(*_LINE_BREAKING):
        child.tail = "\n" + (child.tail or "")
    return "\n".join(_clean_line(line) for line in element.text_content().splitlines())


def _clean_line(line: str) -> str:
    return " ".join(line.replace("\u3000", " ").split())


def _byline_text(tree, rules: SiteRules) -> str:
    if not rules.byline:
        return ""
    return "\n".join(_text_of(element) for element in _select(tree, rules.byline))


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


def _published(fields, tree, rules, html: str, url: str) -> date | None:
    if "date" in fields:
        return _parse_date(fields["date"])
    if rules.byline:
        return None  # the site's date line has no date: better none than the footer's
    found = find_date(html, url=url, original_date=True, extensive_search=False)
    return date.fromisoformat(found) if found else None


def _title(tree, html: str, rules: SiteRules) -> str:
    if rules.title:
        for element in _select(tree, rules.title):
            title = _clean_line(element.text_content())
            if title:
                return title
    metadata = trafilatura.extract_metadata(html)
    return _clean_line(metadata.title or "") if metadata else ""


def _language(tree, text: str) -> str | None:
    if not text:
        return None
    if len(_CJK.findall(text)) > len(text) * 0.2:
        return "zh"
    declared = (tree.get("lang") or "").split("-")[0].lower()
    return declared or "en"


# -- body ------------------------------------------------------------------


def _body_lines(tree, html: str, url: str, rules: SiteRules) -> list[str]:
    if rules.body:
        containers = _select(tree, rules.body)
        if not containers:
            return []
        for css in rules.drop:
            for element in _select(containers[0], css):
                element.drop_tree()
        html = "<html><body>" + lxml_html.tostring(containers[0], encoding="unicode") + "</body></html>"
    text = trafilatura.extract(
        html,
        url=url,
        favor_recall=bool(rules.body),  # inside a known container, keep short lines
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
