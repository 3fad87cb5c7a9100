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
import functools
import json
import logging
import re
import string
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlsplit

import trafilatura
from tld import get_tld
from cssselect import GenericTranslator
from htmldate import find_date
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.metadata import examine_meta, extract_metainfo, extract_title
from trafilatura.settings import Extractor
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, BODY_XPATH
from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

# Labels of the metadata lines these sites print above (or below) an article:
# "Source:X Date:Y", "Author:X Time:Y", "Pubtime:Y", "时间：Y 来源：X".
# A label must not follow a letter, so a footer's "publishdate:" is no "date:".
# An "updated" date is read only so that it never passes for the publication date.
_LABELS = {
    "author": r"Author|Autor|Auteur|Editor|Reporter|作者|记者|编辑|责任编辑|责编",
    "source": r"Source|From|来源|稿件来源|信息来源",
    "updated": r"(?:Last )?(?:Updated|Modified|Edited)(?: on| at)?|最后更新|更新时间|更新日期|更新|修改时间|修改日期|修改",
    "date": r"Pubtime|Publish(?:ed)? ?(?:time|date|on)|Published|Posted(?: on)?|Release time|Date|Time"
            r"|发布时间|发布日期|发表时间|发布于|时间|日期",
    # a page counter ends the field before it and is no field itself: it changes on every visit
    "counter": r"(?:Page )?Views|Hits|Clicks|Reads|阅读次数|浏览次数|点击数|点击量|浏览量|访问量|阅读量|阅读|浏览",
}
# English news sites also print "Published 7:00 AM, Jan 2" and "Updated 3 hours ago" without a colon:
# those labels count when a number follows soon.
_BARE_LABELS = {
    "updated_bare": r"(?:Last )?(?:Updated|Modified|Edited)(?: on| at)?",
    "date_bare": r"Published(?: on| at)?|Posted(?: on| at)?",
}
_LABEL_RE = re.compile(
    r"(?<![A-Za-z])(?:(?:" + "|".join(f"(?P<{field}>{alt})" for field, alt in _LABELS.items())
    + r")\s*[:：]\s*|(?:" + "|".join(f"(?P<{field}>{alt})" for field, alt in _BARE_LABELS.items())
    + r")\s+(?=[^\n]{0,24}?\d))",
    re.IGNORECASE,
)

_MONTHS = {month: number for number, month in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_NUMERIC_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})(?!\d)")
_ENGLISH_DATE = re.compile(
    r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
# "6 January 2020", "Monday, 6 Jan. 2020", "6th of January, 2020": the day first, as British, Indian and
# Commonwealth pages write it
_DAY_MONTH_DATE = re.compile(
    r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(" + "|".join(m[:3] for m in _MONTHS)
    + r")[a-z]*\.?,?\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
# "06.01.2022": the day first, with dots, as continental European pages write it
_DOTTED_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.((?:19|20)\d\d)(?![\d.])")

# One item of a pager under a split article: "Pages: 1 2 3 Next page", "上一页 1 2 3 下一页".
_PAGER_ITEM = r"(?:\d{1,3}|上一页|下一页|首页|尾页|末页|prev(?:ious)?(?: page)?|next(?: page)?|[<>«»‹›])"
# Lines that are page furniture wherever they appear, whatever the site.
_BOILERPLATE_LINES = re.compile(
    r"^(?:"
    # share bars: "Share", "Share to: WeChat Weibo", "Share on Facebook | Twitter"; not a sentence that starts
    # with "Shares" or "Share", which has sentence punctuation or more words
    r"share\b(?:\s+(?:to|this|on|via|with|it|article|story|post|page))*\s*[:：]?(?:\s*[^\s,.;?!]+(?:\s+[^\s,.;?!]+){0,7})?"
    r"|分享到\s*[:：]?.*"
    r"|(?:font(?: size)?\s*[:：]?\s*)?big\s*middle\s*small|字号\s*[:：]?\s*[大中小\s]*"  # font-size switches
    r"|(?:【?\s*(?:打印|关闭|print|close)\s*】?\s*\|?\s*)+"  # print / close buttons
    r"|related (?:links|news|articles)|相关链接|相关新闻"
    r"|(?:(?:pages?|页码|分页)\s*[:：]?\s*)?" + _PAGER_ITEM + r"(?:\s+" + _PAGER_ITEM + r")+"  # "Pages: 1 2 Next page"
    r"|共\s*\d+\s*页.*|第\s*\d+\s*页.*"
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
_BODY_NAMES = frozenset(_CMS_BODIES + _COMMON_BODIES)
# Marks templates put around the body field: <!--ContentStart-->, <!--TRS content
# start-->, Hanweb's <!--ZJEG_RSS.content.begin--><meta name="ContentStart">.
_CONTENT_MARKS = {
    "start": re.compile(r"content[\s._-]*(?:start|begin)|正文开始", re.IGNORECASE),
    "end": re.compile(r"content[\s._-]*end|正文结束", re.IGNORECASE),
}
# A bare date is a date line only alone or nearly ("2022-08-11 10:32"), not in a sentence (a photo caption).
_BARE_DATE_MAX = 40
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


def extract(html: str | bytes, url: str, rules: SiteRules = SiteRules()) -> Article:
    """The article of one page. html is what the server sent, as text or as bytes (UTF-8
    when they are valid UTF-8, else by their BOM or <meta charset>); url is the page's
    address (its date, if any, is the third evidence for the publication date). Never
    raises: a page with nothing to read gives an Article whose title and text are ""."""
    tree = _parse(html)
    if tree is None:
        return Article(title="", published=None, author=None, source=None, language=None, text="")
    headline, shown = (None, "") if rules.title else _shown_headline(tree)
    boxes = {}
    if not rules.body:
        overlays, boxes = _named_elements(tree)
        _drop_overlays(overlays, headline)
        _unhide_headline_wrappers(headline)
    container = _body_container(tree, rules, headline, boxes)
    byline = _labelled_fields(_byline_text(tree, rules, headline, container))
    body_lines = _body_lines(container, tree, url, rules)
    # "Source: Guangzhou Metro" at the end of a body is metadata, not text.
    in_body = {}
    text_lines = []
    for line in body_lines:
        fields = _metadata_fields(line)
        if fields:
            in_body.update({k: v for k, v in fields.items() if k not in in_body})
        else:
            text_lines.append(line)
    fields = {**in_body, **byline}
    declared = _meta_tags(tree)
    records = _json_ld_records(tree)
    site = functools.cache(lambda: _site_names(tree, records, url))  # only some pages need to know it
    if not rules.byline:
        fields = {**_declared_fields(declared), **fields}
    title = _title(tree, rules, shown, declared, site)
    if text_lines[:1] == [title]:  # trafilatura keeps a headline that sits inside the article
        text_lines.pop(0)
    text = "\n".join(text_lines)
    authors = _author_names(fields.get("author", ""))
    if not authors and not rules.byline:
        authors = _news_authors(tree, records, site)
    return Article(
        title=title,
        published=_published(tree, records, [byline, in_body], rules, url),
        author="; ".join(authors) or None,
        source=fields.get("source"),
        language=_language(tree, text),
        text=text,
    )


def extract_pages(pages: list[str | bytes], url: str, rules: SiteRules = SiteRules()) -> Article:
    """One article split over pages (pages[0] is its first page, at url): the first page's
    title and metadata, the text of every page in order. Never raises."""
    first = extract(pages[0], url, rules)
    texts = [first.text] + [extract(page, url, rules).text for page in pages[1:]]
    return replace(first, text="\n".join(text for text in texts if text))


# -- parsing ---------------------------------------------------------------

_XML_DECLARATION = re.compile(r"^[\ufeff\s]*<\?xml[^>]*>")
# What lxml refuses in text: the C0 controls but tab, line feed and carriage return (one byte each
# in UTF-8), and the noncharacters U+FFFE and U+FFFF.
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())
# The page is handed over as UTF-8, whatever a <meta charset> in it says: the text was decoded already.
_UTF8_HTML_PARSER = lxml_html.HTMLParser(encoding="utf-8")


def _parse(html: str | bytes):
    """The page's lxml tree, parsed once for every step; None when it holds no element at all."""
    if isinstance(html, bytes):
        try:  # bytes that are valid UTF-8 are UTF-8, whatever a copied <meta charset=gb2312> says
            html = html.decode("utf-8-sig")
        except UnicodeDecodeError:
            _encoding, html = html_to_unicode(None, html)
    # lxml refuses a document that declares its encoding, and text with control characters (trafilatura
    # copies text into new nodes); lone surrogates cannot be encoded at all. lxml parses bytes faster than str.
    data = _XML_DECLARATION.sub("", html, count=1).encode("utf-8", "replace").translate(None, _CONTROL_BYTES)
    for character in _NONCHARACTERS:
        data = data.replace(character, b"")
    try:
        return lxml_html.document_fromstring(data, parser=_UTF8_HTML_PARSER)
    except (etree.ParserError, ValueError):  # "Document is empty": nothing but comments or spaces
        return None


# -- metadata --------------------------------------------------------------


def _select(tree, css: str) -> list:
    return _compiled(css)(tree)


@functools.lru_cache(maxsize=256)
def _compiled(css: str) -> etree.XPath:
    return etree.XPath(GenericTranslator().css_to_xpath(css))


_LINE_BREAKING = {"br", "p", "div", "li", "tr", "td", "th", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}


def _text_of(element) -> str:
    """The element's text, one line per visual line (<br> and block ends break lines)."""
    if element.tag in ("script", "style"):
        return ""
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
        if _parse_date(_labelled_fields(text).get("date", "")) and not _is_teaser(block, text):
            return text
    return ""


# A link this long is another story's headline, not an author's or a source's name.
_TEASER_LINK_WORDS, _TEASER_LINK_CHARS, _TEASER_LINK_CJK = 4, 25, 10


def _is_teaser(block, text: str) -> bool:
    """Whether a block with a bare date (no label: "Date:", "Source:", "By") is a teaser of another
    story beside the headline (a ticker, a related article: its headline linked, its date beside it)
    rather than the page's date line, whose links name an author or hold the date itself."""
    if _LABEL_RE.search(text):
        return False
    for link in block.iter("a"):
        shown = _clean_line(link.text_content())
        for pattern in _DATE_PATTERNS:  # a permalink shows the date ("13 Oct 2020 18:29"): that is no headline
            shown = pattern.sub("", shown).strip()
        if (len(shown.split()) >= _TEASER_LINK_WORDS or len(shown) >= _TEASER_LINK_CHARS
                or len(_CJK.findall(shown)) >= _TEASER_LINK_CJK):
            return True
    return False


def _outward(node, preceding: bool):
    """The elements beside node, then beside each of its ancestors, nearest first."""
    while node is not None and node.tag != "body":
        yield from (sibling for sibling in node.itersiblings(preceding=preceding) if isinstance(sibling.tag, str))
        node = node.getparent()


def _meta_tags(tree) -> dict[str, str]:
    """content by name (or property) of the page's <meta> tags; the first of a name wins."""
    return {meta.get("name") or meta.get("property"): meta.get("content", "").strip()
            for meta in reversed(tree.xpath("//meta[@content]"))}


def _declared_fields(declared: dict[str, str]) -> dict[str, str]:
    """The source from the government site metadata tag among the page's declared <meta> tags
    (authors: _news_authors; dates: _declared_date)."""
    return {"source": declared["ContentSource"]} if declared.get("ContentSource") else {}


# -- authors ---------------------------------------------------------------

# What a byline puts before the names: "By", and its German, French, Spanish, Dutch, Italian, Nordic words.
_BY = re.compile(r"^(?:by|von|par|por|door|di|av|af)\s+", re.IGNORECASE)
# What separates two names: "A; B", "A, B", "A | B", "A & B", "A and B" (und, og, och, et), "A, B, and C",
# "王芳、李明".
_NAME_SEPARATORS = re.compile(r"\s*(?:[;,|&、，](?:\s*(?:and|und|og|och|et)\s)?|\s(?:and|und|og|och|et)\s)\s*",
                              re.IGNORECASE)
_NOT_A_NAME = re.compile(r"^(?:https?:|www\.)|@\S+\.\w+$", re.IGNORECASE)  # an address or an e-mail
# A name ends before a digit: the date, time or counter that bylines print after it ("Ann Ledger5 Mar 2024");
# and before the desk's short sign that some sites put after it ("Ann Ledger (led)").
_NAME_END = re.compile(r"\s*\d.*|\s*\(\w{1,4}\.?\)$")


def _author_names(text: str) -> list[str]:
    """The names in an author string as a byline or a tag writes it ("By A and B", "A, B 05.03.2024"),
    in order, each once; no date, no address, no e-mail."""
    text = _clean_line(text)
    for pattern in _DATE_PATTERNS:  # before the cut at names: "March 5, 2024" is no name "2024"
        text = pattern.sub("", text)
    names = []
    for name in _NAME_SEPARATORS.split(_BY.sub("", text)):
        name = _NAME_END.sub("", name).strip(" -–—·/:")
        if name and not _NOT_A_NAME.search(name) and name.casefold() not in map(str.casefold, names):
            names.append(name)
    return names


# <meta> names (or properties) that hold the article's authors, compared in lower case, in this order: the
# common one, Open Graph's (a name, or a profile's address), Parse.ly's, Sailthru's, cXense's, Dublin Core's,
# the New York Times's, and articleAuthor.
_AUTHOR_META = ("author", "article:author", "og:article:author", "parsely-author", "sailthru.author",
                "cxenseparse:author", "dc.creator", "dcterms.creator", "byl", "articleauthor")
# <meta> names (lower case) that hold the site's own name.
_SITE_NAME_META = ("og:site_name", "application-name", "publisher")


def _news_authors(tree, records: list[dict], site) -> list[str]:
    """The authors a page names without an "Author:" line: those it declares, from the first place that
    names one (its article's JSON-LD author: people, or an agency, records: _json_ld_records'; its author
    <meta> tags in _AUTHOR_META's order, all the tags of a name: article:author twice for two authors),
    else those its byline shows. The site's own name (site(): _site_names') is the publisher: a place
    that names nothing else gives way to the next that names a person ("Port News" in <meta
    name="author"> to cXenseParse:author, to "By Ann Ledger"; not to "hessenschau.de, Frankfurt,
    Germany"); beside others it stays (a JSON-LD author list of the reporter and the site), but for
    the byline's desk ("Ann Ledger, Port News"). A login name ("ann-ledger") gives way alike."""
    def is_site(name: str) -> bool:  # or a login
        return _is_site_name(name, site()) or bool(_LOGIN_NAME.match(name))

    def places():
        """Each place's names, in order of evidence."""
        article = next((record for record in records if "author" in record), None)
        if article is not None:
            people = {record["@id"]: record for record in records
                      if isinstance(record.get("@id"), str) and len(record) > 1}
            yield _json_ld_names(article["author"], people)
        metas = {}
        for meta in tree.xpath("//meta[@content]"):
            key = (meta.get("name") or meta.get("property") or "").strip().lower()
            if key in _AUTHOR_META:
                metas.setdefault(key, []).extend(_author_names(meta.get("content")))
        yield from (metas.get(name, []) for name in _AUTHOR_META)
        yield [name for name in _shown_authors(tree) if not is_site(name)]  # last: it costs a copy of the page

    site_only = []
    for names in places():
        others = [name for name in names if not is_site(name)]
        if others and (not site_only or any(map(_is_personal_name, others))):
            return names
        site_only = site_only or names
    return site_only


# A login name, as CMSs give it for the author's: lower-case words joined by hyphens or underscores.
_LOGIN_NAME = re.compile(r"^[a-z]+(?:[-_][a-z]+)+$")
# A person's name: two words or more, with no label ("Quelle: dpa"), or two to four Chinese, Japanese or
# Korean characters.
_PERSONAL_NAME = re.compile(r"^[^\s:：]+(?:\s+[^\s:：]+)+$|^[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2,4}$")


def _is_personal_name(name: str) -> bool:
    """Whether a name from a byline is a person's rather than an agency's, a desk's or a button's
    ("APA", "amw", "Follow")."""
    return bool(_PERSONAL_NAME.match(name))


def _site_names(tree, records: list[dict], url: str) -> tuple[set[str], str]:
    """(the names the site goes by, as _name_key()s: its og:site_name, application-name and publisher
    <meta> tags, the publisher and WebSite names of its JSON-LD; the name of its domain: "example"
    for news.example.org)."""
    names = [meta.get("content") for meta in tree.xpath("//meta[@content]")
             if (meta.get("name") or meta.get("property") or "").strip().lower() in _SITE_NAME_META]
    for record in records:
        if isinstance(record.get("publisher"), dict):
            names.append(record["publisher"].get("name"))
        if record.get("@type") == "WebSite":
            names.append(record.get("name"))
    domain = get_tld(url, as_object=True, fail_silently=True)
    return {_name_key(name) for name in names if isinstance(name, str)} - {""}, _name_key(domain.domain if domain else "")


def _name_key(name: str) -> str:
    return _without_noise(name).casefold()


def _is_site_name(name: str, site: tuple[set[str], str]) -> bool:
    """Whether a name is the site's own (site: _site_names'): one of its names, or its domain's name as
    words of it ("mdr.de", "Example News (www.example.org)", "n-tv NACHRICHTEN" on n-tv.de)."""
    site_names, domain = site
    if _name_key(name) in site_names:
        return True
    words = re.findall(r"\w+", name.casefold())
    return bool(domain) and any("".join(words[start:end]) == domain
                                for start in range(len(words)) for end in range(start + 1, len(words) + 1))


def _json_ld_names(author, by_id: dict) -> list[str]:
    """The names of a JSON-LD author: a name, a Person or Organization (by name, or given and family
    name), a reference to one elsewhere in the page ({"@id": ...}: by_id), or a list of these."""
    if isinstance(author, list):
        return list(dict.fromkeys(name for each in author for name in _json_ld_names(each, by_id)))
    if isinstance(author, str):
        return _author_names(author)
    if not isinstance(author, dict):
        return []
    if set(author) == {"@id"}:
        return _json_ld_names(by_id.get(author["@id"]) if isinstance(author["@id"], str) else None, {})
    name = author.get("name")
    if not name and isinstance(author.get("familyName"), str):
        name = " ".join(author[part] for part in ("givenName", "familyName") if isinstance(author.get(part), str))
    return _json_ld_names(name, by_id) if isinstance(name, (str, list)) else []


# The words that trafilatura's AUTHOR_XPATHS look for in an element's names (class, id, rel, itemprop,
# data-testid, data-component) or tag (<author>): a page that has none of them anywhere has no byline
# for those expressions to find, and is spared them (their regular expressions cost a millisecond a page).
_BYLINE_NAMES = etree.XPath("//@class | //@id | //@rel | //@itemprop | //@data-testid | //@data-component | //author")
_BYLINE_WORDS = re.compile(r"author|byl|bbl|writer|screenname|username|zuozhe|bianji|xiaobian|posted-by"
                           r"|submitted-by|channel-name", re.IGNORECASE)


def _shown_authors(tree) -> list[str]:
    """The authors the page shows in its byline (rel="author", class="byline", itemprop="author":
    trafilatura's places for them, and without the places it knows to hold other names). A byline
    with labels names its author by the label ("Author: …"), or before them ("By A | Updated: …"):
    a source is no author ("Time: … Source: …")."""
    names = " ".join(name if isinstance(name, str) else "author" for name in _BYLINE_NAMES(tree))
    if not _BYLINE_WORDS.search(names):
        return []
    shown = extract_metainfo(prune_unwanted_nodes(copy.deepcopy(tree), AUTHOR_DISCARD_XPATHS), AUTHOR_XPATHS,
                             len_limit=120) or ""
    label = _LABEL_RE.search(shown)
    if label:
        shown = _labelled_fields(shown).get("author") or shown[:label.start()]
    return _author_names(shown)


def _labelled_fields(text: str) -> dict[str, str]:
    """{"author": ..., "source": ..., "date": ...} from lines like "Source:X Date:Y"."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        matches = list(_LABEL_RE.finditer(line))
        for match, following in zip(matches, matches[1:] + [None]):
            field = match.lastgroup.removesuffix("_bare")
            value = line[match.end():following.start() if following else None].strip(" |/")
            if value and field not in fields:
                fields[field] = value
        unlabelled = line[:matches[0].start()] if matches else line
        if "date" not in fields and len(unlabelled.strip()) <= _BARE_DATE_MAX and _parse_date(unlabelled) \
                and not _updated_on(line, matches):
            fields["date"] = unlabelled.strip()  # a bare date in the byline, as ROCAR prints it
    return fields


_TIME_OF_DAY = re.compile(r"(?<!\d)\d{1,2}:\d\d(?!\d)")


def _updated_on(line: str, matches: list) -> bool:
    """Whether the bare date that starts a line, without a time of its own, is the day of the
    update that follows it, which has a time but no date: "November 28, 2013 -- Updated 0203 GMT"
    (not "2013-11-27 10:00 Updated: 11:30", not "March 3 | Updated March 5")."""
    if not matches or matches[0].lastgroup.removesuffix("_bare") != "updated" \
            or _TIME_OF_DAY.search(line[:matches[0].start()]):
        return False
    following = matches[1].start() if len(matches) > 1 else None
    return _parse_date(line[matches[0].end():following]) is None


# A metadata line may sit in brackets: "（责任编辑：王芳）", "【编辑：王芳】", "(Source: Xinhua)".
_BRACKETED = re.compile(r"^[（(【\[]\s*(.*?)\s*[）)】\]]$")


def _metadata_fields(line: str) -> dict[str, str]:
    """The fields of a short line that starts with a label, maybe in brackets (not of a sentence
    that mentions a source); {} for any other line."""
    line = _BRACKETED.sub(r"\1", line)
    return _labelled_fields(line) if len(line) <= 120 and _LABEL_RE.match(line) else {}


_DATE_PATTERNS = (_NUMERIC_DATE, _ENGLISH_DATE, _DAY_MONTH_DATE, _DOTTED_DATE)
# where each pattern has the year, month and day
_DATE_ORDERS = ((1, 2, 3), (3, 1, 2), (3, 2, 1), (3, 2, 1))


def _parse_date(text: str) -> date | None:
    for pattern, order in zip(_DATE_PATTERNS, _DATE_ORDERS):
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


def _published(tree, records: list[dict], lines: list[dict[str, str]], rules: SiteRules, url: str) -> date | None:
    """The publication date, by one order of evidence: the page's date line (then a labelled
    line in the body), the publication date the page declares, a date in its URL, htmldate's
    guesses. An "updated" date never counts (the labels keep it apart)."""
    for fields in lines:
        shown = _parse_date(fields.get("date", ""))
        if shown:
            return shown
    if rules.byline:
        return None  # the site's date line has no date: better none than the footer's
    url_date = _parse_url_date(url)
    known = _site_day(_declared_date(tree, records), url_date) or url_date
    if known:
        return known
    # url="": htmldate would otherwise put the URL's date (or the canonical link's) first
    guessed = find_date(tree, url="", original_date=True, extensive_search=True)
    return date.fromisoformat(guessed) if guessed else None


# Where pages declare when they were first published, most explicit first (names compared in lower case).
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "og:published_time", "datepublished",
                   "dc.date.issued", "dcterms.issued", "dc.date.created", "dcterms.created", "pubdate",
                   "publishdate", "publish-date", "publish_date", "publication_date", "sailthru.date",
                   "parsely-pub-date", "article.published", "firstpublisheddate")


def _declared_date(tree, records: list[dict]) -> tuple[date, str] | None:
    """The publication date the page declares, with the text that gives it: JSON-LD datePublished
    (the schema.org record of the article, which real pages keep truer than their Open Graph tags;
    records: _json_ld_records'), <meta> tags, <time pubdate>."""
    declared = next((record["datePublished"] for record in records if isinstance(record.get("datePublished"), str)), "")
    found = _parse_date(declared)
    if found:
        return found, declared
    metas = {}
    for meta in tree.xpath("//meta[@content]"):
        for key in (meta.get("property"), meta.get("name"), meta.get("itemprop")):
            if key:
                metas.setdefault(key.strip().lower(), meta.get("content"))
    for name in _PUBLISHED_META:
        found = _parse_date(metas.get(name) or "")
        if found:
            return found, metas[name]
    for element in tree.xpath('//time[@pubdate] | //*[@itemprop="datePublished"]'):
        declared = element.get("datetime") or element.get("content") or element.text_content()
        found = _parse_date(declared)
        if found:
            return found, declared
    return None


# A time of day in UTC: "2023-11-09T01:09:55Z", "…T23:01:00+00:00", "… 05:30 GMT".
_UTC_TIME = re.compile(r"(?<!\d)(\d{1,2}):\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]00:?00|UTC|GMT)(?![\w:])", re.IGNORECASE)
# How far from UTC a site's clock may be: a UTC hour before this may still be the day before where
# the site is (the Americas), one from the other on the day after (Europe, Asia, Oceania).
_DAY_BEFORE_UNTIL, _DAY_AFTER_FROM = 10, 13


def _site_day(declared: tuple[date, str] | None, url_date: date | None) -> date | None:
    """The declared publication date, on the site's own calendar: a timestamp in UTC late in the
    evening or early in the morning falls on another day than the one the site published it on,
    which its URL names (/2023/11/08/ for "2023-11-09T01:09:55Z")."""
    if declared is None:
        return None
    found, text = declared
    utc = _UTC_TIME.search(text)
    if utc and url_date is not None:
        hour = int(utc.group(1))
        if (url_date - found).days == -1 and hour < _DAY_BEFORE_UNTIL \
                or (url_date - found).days == 1 and hour >= _DAY_AFTER_FROM:
            return url_date
    return found


_JSON_LD = etree.XPath('//script[@type="application/ld+json"]')
_CDATA = re.compile(r"^\s*<!\[CDATA\[|\]\]>\s*$")


def _json_ld_records(tree) -> list[dict]:
    """Every object of the page's JSON-LD blocks, however deep: an article's (an @type with "Article"
    or "Posting") first, the others after them, each group in the page's order."""
    pending, records = [], []
    for script in _JSON_LD(tree):
        try:
            pending.append(json.loads(_CDATA.sub("", script.text or "")))
        except ValueError:
            continue
    while pending:
        node = pending.pop(0)
        if isinstance(node, dict):
            records.append(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return sorted(records, key=lambda record: not _is_article(record))


def _is_article(record: dict) -> bool:
    kind = record.get("@type")
    return any("Article" in str(k) or "Posting" in str(k) for k in (kind if isinstance(kind, list) else [kind]))


# /2023/05/18/, /2023-05-18/, /202305/t20230518_1.html, /2021/0416/
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[/_.-]?(0[1-9]|1[0-2])[/_.-]?(0[1-9]|[12]\d|3[01])(?!\d)")


def _parse_url_date(url: str) -> date | None:
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:  # 2023-02-30
        return None


def _title(tree, rules: SiteRules, shown: str, declared: dict[str, str], site) -> str:
    """The headline: the site's title element, else the headline the page shows, the one it declares
    in its <meta> tags (declared), <title> without the names of column and site, trafilatura's guess
    without the site's own name (site(): _site_names')."""
    if rules.title:
        for element in _select(tree, rules.title):
            title = _clean_line(element.text_content())
            if title:
                return title
    else:
        # the headline the page shows beats the declared one, which a translated page keeps untranslated
        title = shown or _clean_line(declared.get("ArticleTitle", "")) or _without_names(_page_title(tree), declared)
        if title:
            return title
    # trafilatura's title rules (og:title and the like, a lone <h1>, <title>) without the rest of its
    # metadata pass: the page's date is found once, in _published; without the site's name that
    # <title> ends with too ("… | CNN Politics"), or that is the site's
    guessed = _without_shared_end(_clean_line(examine_meta(tree).title or extract_title(tree) or ""), _page_title(tree))
    return _without_ends(guessed, _NAMES_SEPARATORS, lambda part: _is_site_name(part, site())) or guessed


def _without_shared_end(title: str, page_title: str) -> str:
    """title without the names after its last separator (" | ", " - ", not a hyphen) when <title>
    ends with the same names, shorter than what they follow: a site's name, not the headline."""
    cuts = [match for match in _TITLE_SEPARATORS.finditer(title) if match.group() != match.group().strip()]
    if not cuts or title == page_title:
        return title
    cut = cuts[-1].start()
    end = title[cut:]
    return title[:cut] if page_title.endswith(end) and 0 < len(end) < cut else title


def _page_title(tree) -> str:
    return _clean_line(tree.findtext(".//title") or "")


_SOCIAL_TITLE = etree.XPath('//meta[@property="og:title" or @name="og:title" or @name="twitter:title"]/@content')


def _shown_headline(tree) -> tuple:
    """(element, text): the element showing the longest start of <title> cut at a separator,
    and that start: the page's headline without the column and site names that CMSs append
    to <title>; else the same for the title the page gives social networks (og:title), which
    news sites keep as the headline they show when <title> is written for search engines.
    Spaces of any kind (&nbsp;, full-width, <br>) and punctuation do not count in the
    comparison; (None, "") when no element shows either."""
    page_title = _page_title(tree)
    headline, shown = _shown_start(tree, page_title) if page_title else (None, "")
    social = _clean_line(next(iter(_SOCIAL_TITLE(tree)), ""))
    # <title> that starts with the site's name ("Site - Headline"), which the page shows in its banner:
    # og:title, longer, inside <title> after that start, is the headline
    site_first = headline is not None and len(shown) < len(page_title) \
        and len(_without_noise(shown)) < len(_without_noise(social)) \
        and _without_noise(social) in _without_noise(page_title[len(shown):])
    if (headline is None or site_first) and social not in ("", page_title):
        # whole, or without the site's name that <title> ends with too: not cut to a kicker or a section name
        found, _start = _shown_start(tree, social, [len(social), len(_without_shared_end(social, page_title))])
        if found is not None:  # as the page shows it: og:title often has straight quotes for curly ones
            headline, shown = found, _clean_line(found.text_content())
    return headline, shown


def _shown_start(tree, title: str, ends=None) -> tuple:
    """(element, text): the element showing the longest start of title cut at a separator (or at
    one of ends), and that start."""
    starts = {}  # key -> the start of <title> it stands for, the longest start first
    if ends is None:
        ends = [len(title), *(match.start() for match in reversed(list(_TITLE_SEPARATORS.finditer(title))))]
    for end in ends:
        starts.setdefault(_without_noise(title[:end]), title[:end])
    starts.pop("", None)
    body = tree.find("body")
    if not starts or body is None:
        return None, ""
    # Only elements holding a piece of <title> as their own text, and their nearest
    # ancestors, can show it: one look at each text instead of every element's whole text.
    longest = next(iter(starts))
    pieces = set()
    for text in _BODY_TEXTS(body):
        if len(text) > 4 * len(title) + 100:  # a paragraph, not a piece of the headline
            continue
        key = _without_noise(text)
        holder = text.getparent() if key and key in longest else None  # its parent only when needed: it costs
        if holder is not None:
            pieces.add(holder.getparent() if text.is_tail else holder)
    shown_by = {}  # key -> the elements whose whole text is that key
    for piece in pieces:
        for element in [piece, *piece.iterancestors()][:_HEADLINE_DEPTH]:
            if element is None or element is body or not isinstance(element.tag, str) or element.tag in _NOT_SHOWN:
                break
            text = element.text_content()
            if len(text) > 4 * len(title) + 100:  # far longer than <title>, even with spaces and punctuation
                break
            key = _without_noise(text)
            if key in starts:
                shown_by.setdefault(key, set()).add(element)
            elif len(key) > len(longest):
                break
    for key, start in starts.items():
        if key in shown_by:
            return min(shown_by[key], key=_DOCUMENT_POSITION), start
    return None, ""


# Elements that never show the headline, and how far above a piece of it the headline element may be
# (<h1><a><span><b>Head</b>line</span></a></h1>).
_NOT_SHOWN = {"script", "style", "noscript", "template", "title", "option", "textarea"}
_HEADLINE_DEPTH = 5
_BODY_TEXTS = etree.XPath(".//text()[normalize-space()]")
_DOCUMENT_POSITION = etree.XPath("count(preceding::*) + count(ancestor::*)")
# What may differ between <title> and the headline the page shows.
_HEADLINE_NOISE = (" \t\r\n\u00a0\u2002\u2003\u2009\u200b\u3000" + string.punctuation
                   + "，。、：；！？“”‘’（）《》〈〉【】「」『』·—–…")


_NOISE_TABLE = str.maketrans("", "", _HEADLINE_NOISE)


def _without_noise(text: str) -> str:
    return text.translate(_NOISE_TABLE)


def _without_names(title: str, declared: dict[str, str]) -> str:
    """<title> without the column and site names the page declares after it ("" when there are none)."""
    names = {declared.get(name) for name in ("ColumnName", "SiteName", "og:site_name")}
    return _without_ends(title, _TITLE_SEPARATORS, names.__contains__)


# Where a title's end may hold the site's name: after a separator, or a full-width colon ("…：朝日新聞デジタル").
_NAMES_SEPARATORS = re.compile(_TITLE_SEPARATORS.pattern + r"|\s*：\s*")


def _without_ends(title: str, separators: re.Pattern, is_name) -> str:
    """title without the parts after its separators that is_name(part) says are names, from the end
    on; "" when there are none."""
    cuts = [match.start() for match in separators.finditer(title)]
    parts = separators.split(title)
    kept = len(parts)
    while kept > 1 and is_name(parts[kept - 1]):
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


def _body_container(tree, rules: SiteRules, headline, boxes: dict[str, list]):
    """The element holding the article body: the site's, the CMS's (boxes: _named_elements'),
    the table cell of a table-laid page, or None for trafilatura to find."""
    if rules.body:
        containers = _select(tree, rules.body)
        return containers[0] if containers else None
    # but for the boxes an overlay held: they left the tree with it
    boxes = {name: [box for box in found if tree in box.iterancestors()] for name, found in boxes.items()}
    container = _first_body(boxes, _CMS_BODIES)
    if container is None:
        container = _marked_body(tree)
    if container is None:
        container = _first_body(boxes, _COMMON_BODIES)
    if container is None:
        container = _layout_cell(headline)
    if container is None:
        container = _split_body(tree)
    return container


# The text a box must hold to be a part of a body split over several boxes (not a caption or a teaser).
_SPLIT_BODY_PART = 200
# The attribute that marks the <div> gathering them.
_SPLIT_MARK = "data-newscrawl-split"


def _split_body(tree):
    """The article body that the template splits over several alike boxes between ads or
    newsletter forms (<div class="body__container article__body"> twice or more), gathered in
    one <div>: trafilatura reads the first box its rules find, and only that one."""
    for expression in BODY_XPATH:
        found = [element for element in expression(tree) if element is not None]
        if not found:
            continue
        inside = set(found)
        alike = {}
        for element in found:
            if element.get("class") and not any(ancestor in inside for ancestor in element.iterancestors()) \
                    and len(element.text_content().strip()) >= _SPLIT_BODY_PART:
                alike.setdefault((element.tag, element.get("class")), []).append(element)
        parts = max(alike.values(), key=len, default=[])
        if len(parts) < 2 or _headline_between(tree, parts[0], parts[-1]):
            return None  # trafilatura's own choice stands; or the next story, as pages that scroll on add it
        body = lxml_html.Element("div", {_SPLIT_MARK: ""})
        parts[0].addprevious(body)
        body.extend(parts)
        for part in parts:  # else trafilatura, reading the body, would pick the first part again
            part.attrib.pop("class")
        return body
    return None


def _headline_between(tree, first, last) -> bool:
    """Whether an <h1> lies between two elements, in document order (not inside the first)."""
    position = {element: number for number, element in enumerate(tree.iter())}
    return any(position[first] < position[h1] < position[last] and first not in h1.iterancestors()
               for h1 in tree.iter("h1"))


# Tags a named body box never is: templates also put "#zoom" on a heading, or ".article-content" on a link.
_NOT_CONTAINERS = {"h1", "h2", "h3", "h4", "h5", "h6", "a", "li", "button", "label", "option", "title", "img"}


def _named_elements(tree) -> tuple[list, dict[str, list]]:
    """(overlays, boxes), in one look at the page's elements with an id, class or role: the elements
    that may be overlays (by their names or role), and those that _CMS_BODIES and _COMMON_BODIES
    name, by name ("#id", ".class")."""
    overlays, boxes = [], {}
    for element in _NAMED_ELEMENTS(tree):
        overlay_name, body_names = _read_names(element.get("id", ""), element.get("class", ""))
        if overlay_name or element.get("role") in ("dialog", "alertdialog") or element.get("aria-modal") == "true":
            overlays.append(element)
        for name in body_names if element.tag not in _NOT_CONTAINERS else ():
            boxes.setdefault(name, []).append(element)
    return overlays, boxes


# Many elements of a page, and the pages of a site, share their id and class names: each pair is read once.
@functools.lru_cache(maxsize=4096)
def _read_names(element_id: str, classes: str) -> tuple[bool, tuple[str, ...]]:
    """(whether the names are an overlay's, the names of _BODY_NAMES among them) of an element
    with this id and class attribute."""
    names = ("#" + element_id, *("." + name for name in classes.split()))
    return bool(_OVERLAY.search(f"{element_id} {classes}")), tuple(name for name in names if name in _BODY_NAMES)


def _first_body(boxes: dict[str, list], selectors: tuple[str, ...]):
    """The element that the first matching selector names, if it really holds the article:
    a box, not a heading, and not one of many alike boxes (related-article cards). Boxes are
    weighed by the text they give to read: not their links' ("Front page now: …" lists) nor
    their scripts' (JSON-LD)."""
    for selector in selectors:
        found = [(_reading_length(element), element) for element in boxes.get(selector, ())]
        total = sum(length for length, _element in found)
        if total:
            length, element = max(found, key=lambda pair: pair[0])
            if length * 3 >= total * 2:
                return element
    return None


_READ_TEXT = etree.XPath(".//text()[not(ancestor::a or ancestor::script or ancestor::style)]")


def _reading_length(element) -> int:
    """How many characters of text an element gives to read, but for its links, scripts and spaces."""
    return sum(len(text.strip()) for text in _READ_TEXT(element))


# The text a table cell must hold besides the headline to be the article rather than the headline's box.
_LAYOUT_CELL_TEXT = 100


def _layout_cell(headline):
    """The table cell that holds the headline and the text under it, on a page laid out with tables
    (old government and company sites): read as a box, not as a table of navigation and footer cells."""
    if headline is None:
        return None
    shown = len(headline.text_content())
    return next((cell for cell in headline.iterancestors("td", "th")
                 if len(cell.text_content()) > shown + _LAYOUT_CELL_TEXT), None)


# Consent, subscription and app banners and other overlays, by their id or class.
_OVERLAY = re.compile(r"cookie|consent|gdpr|onetrust|didomi|subscri|newsletter|app-?banner|modal|popup|overlay",
                      re.IGNORECASE)
_NAMED_ELEMENTS = etree.XPath("//body//*[@id or @class or @role or @aria-modal]")
# An overlay is short: a longer box with such a class ("article-body paywall") is the article itself.
_OVERLAY_MAX_TEXT = 1500


def _drop_overlays(overlays: list, headline) -> None:
    """Removes the overlays (_named_elements') from the tree, so that neither the body nor the date
    line come from them."""
    keep = {headline, *headline.iterancestors()} if headline is not None else set()
    for element in overlays:
        if element not in keep and element.tag not in ("main", "article") \
                and len(element.text_content()) <= _OVERLAY_MAX_TEXT:
            element.drop_tree()


# Wrappers trafilatura drops whole, as sidebars and forms usually are; around the headline they hold the article.
_DROPPED_WRAPPERS = ("aside", "form", "menu")


def _unhide_headline_wrappers(headline) -> None:
    for wrapper in headline.iterancestors(*_DROPPED_WRAPPERS) if headline is not None else ():
        wrapper.tag = "div"


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


@functools.cache
def _trafilatura_options(in_container: bool) -> Extractor:
    """trafilatura's options for a page's body, made once: making them reads its configuration,
    40 µs a page."""
    return Extractor(
        recall=in_container,  # inside a known container, keep short lines
        fast=in_container,  # and take it: readability's and jusText's second opinions pick parts of it
        comments=False,
        tables=True,
        images=False,
        dedup=False,
    )


# Posts quoted from social networks whose text the page carries (a tweet the story quotes): trafilatura
# drops their wrappers (<div class="social-media-embed">) with the share bars.
_EMBEDDED_POSTS = etree.XPath(
    "//blockquote[" + " or ".join(f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'
                                  for name in ("twitter-tweet", "instagram-media", "tiktok-embed", "bluesky-embed"))
    + "]")


def _unwrap_embedded_posts(page) -> None:
    """Puts each embedded post in the place of the wrappers that hold nothing else, as a plain quote."""
    for post in _EMBEDDED_POSTS(page):
        text, wrapper = _without_noise(post.text_content()), post
        for ancestor in post.iterancestors():
            if ancestor.tag in ("body", "html") or ancestor.getparent() is None \
                    or _without_noise(ancestor.text_content()) != text:
                break
            wrapper = ancestor
        post.attrib.pop("class", None)
        if wrapper is not post:
            post.tail = wrapper.tail
            wrapper.getparent().replace(wrapper, post)


def _body_lines(container, tree, url: str, rules: SiteRules) -> list[str]:
    page = tree
    if container is not None:
        for css in rules.drop:
            for element in _select(container, css):
                if element is not container:
                    element.drop_tree()
        if container.tag in ("td", "th"):
            container.tag = "div"  # a layout cell, not a table: trafilatura would join its <br> lines into one
        page = lxml_html.Element("html")
        etree.SubElement(page, "body").append(copy.deepcopy(container))
    elif rules.body:
        return []
    # Comments go, the text after them stays: React splits a sentence with <!-- -->, and trafilatura,
    # which drops comments itself when it parses a page, loses what follows one in a tree it is given.
    etree.strip_tags(page, etree.Comment, etree.ProcessingInstruction)
    _unwrap_embedded_posts(page)
    # a body gathered from split boxes is read as trafilatura reads a page: its parts hold their related links too
    known = container is not None and container.get(_SPLIT_MARK) is None
    options = copy.copy(_trafilatura_options(in_container=known))
    options.source = url  # as trafilatura's own command line does for each file: it names the page in its log
    text = trafilatura.extract(page, options=options) or ""  # trafilatura works on a copy: the tree is parsed once
    lines = []
    for line in text.splitlines():
        line = _clean_line(line)
        if _END_MARKERS.match(line):
            break
        if line and not _BOILERPLATE_LINES.match(line):
            lines.append(line)
    return lines
