"""Articles split over pages: which link leads on to the article's next page.

CMSs split long articles as TRS does (6100.html, 6100_2.html, 6100_3.html), with a
page number in the query (?page=2), or say so with rel="next"; the pager under the
text links the next page as "Next page" or "下一页". A link only counts when its URL
continues the article's first page, so a "Next article" or a list's pager is never
taken for the article's continuation.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, urlsplit

# The most pages one article is followed over: a pager that never ends is a trap, not an article.
MAX_ARTICLE_PAGES = 50

_NEXT_TEXT = re.compile(r"^\s*(?:下一页|下页|next(?:\s+page)?)\s*[>»›]*\s*$", re.IGNORECASE)
# A page can only link its next page where it says rel=next, or a link's text starts with "next" or
# 下一页: a search of the raw text spares parsing all the pages that don't (most articles are one page).
_MAY_LINK_NEXT = re.compile(r"rel\s*=[^>]*\bnext\b|>(?:\s|&nbsp;|&#160;)*(?:下一?页|next\b)", re.IGNORECASE)
# rel is a space-separated list of keywords, matched without regard to case (the HTML standard)
_REL_NEXT = ("(//link | //a)[contains(concat(' ', normalize-space(translate(@rel, 'NEXT', 'next')), ' '), ' next ')]"
             "/@href")
_PAGE_PARAMETER = re.compile(r"^(?:page|p|pg|pn|pageno|page_?num(?:ber)?|paged|curpage)$", re.IGNORECASE)


def next_page_url(response, first_url: str) -> str | None:
    """The absolute URL of the article's next page, from a Scrapy response of one of its pages
    whose first page is first_url; None on its last page (or when it has only one)."""
    text = response.text
    # substring tests first: a case-insensitive regex scan costs 0.1 ms a page, these a tenth of that
    if not ("next" in text.lower() or "下页" in text or "下一页" in text) or not _MAY_LINK_NEXT.search(text):
        return None
    hrefs = response.xpath(_REL_NEXT).getall()
    hrefs += [link.attrib.get("href", "") for link in response.css("a[href]")
              if _NEXT_TEXT.match(" ".join(link.css("::text").getall()))]
    for href in hrefs:
        url = response.urljoin(href.strip())
        if url != response.url and continues(first_url, url):
            return url
    return None


def continues(first_url: str, url: str) -> bool:
    """Whether url is a further page of the article whose first page is first_url."""
    first, other = urlsplit(first_url), urlsplit(url)
    if (first.scheme, first.netloc) != (other.scheme, other.netloc):
        return False
    if other.path != first.path:
        stem, extension = posixpath.splitext(first.path)
        return re.fullmatch(re.escape(stem) + r"[_-]\d{1,3}" + re.escape(extension), other.path) is not None
    return any(_PAGE_PARAMETER.match(name) and value.isdigit() for name, value in parse_qsl(other.query))
