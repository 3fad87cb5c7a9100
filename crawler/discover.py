"""What a site offers a crawler, read from its home page and robots.txt (`newscrawl discover`).

- feeds: the home page's <link rel="alternate"> to RSS or Atom, each read with feedparser;
- sitemaps: the Sitemap: lines of robots.txt (Scrapy's sitemap_urls_from_robots);
- news lists: the home page and the pages its news-like links lead to (their text or
  URL says news, 新闻, 动态, 公告, ...), each with the article-link pattern its links
  suggest: the largest group of same-host links that differ only in their numbers
  (art_70001.html, art_70002.html, ...), numbers that are the same in every link kept
  as they are (a column's number), the others generalised (\\d{4} for years, else \\d+).
  Its pager (下一页, 2, 3, next, ...) gives the page pattern the same way.

The functions here read responses; the command (crawler/commands/discover.py) fetches.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor

# what the link to a news list says, in its text or its URL
NEWS_WORDS = re.compile(r"新闻|动态|要闻|资讯|通知|公告|快讯|播报|news|press|update|xwzx|xwdt|gzdt|tzgg|zwdt|ywdt",
                        re.IGNORECASE)
# what a pager's links say
PAGER_WORDS = re.compile(r"^\s*(?:\d{1,4}|下一?页|上一?页|尾页|末页|next|prev(?:ious)?|last|[›»>]+)\s*$", re.IGNORECASE)
MIN_ARTICLES = 3  # links of one shape, for a list of articles
_DIGITS = re.compile(r"(\d+)")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DATE = re.compile(r"^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:\d\d)?$")  # 202405, 20240512
_LINKS = LinkExtractor(unique=False)  # every link, in page order


@dataclass(frozen=True)
class NewsList:
    url: str
    article_pattern: str | None  # None when no group of links looks like a list of articles
    articles: list[str]
    page_pattern: str | None


def feed_links(response: Response) -> list[str]:
    """The RSS and Atom feeds a page declares with <link rel="alternate">, as absolute URLs."""
    hrefs = response.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")]'
                           '[contains(@type, "rss") or contains(@type, "atom")]/@href').getall()
    return list(dict.fromkeys(response.urljoin(href.strip()) for href in hrefs))


def list_candidates(response: Response, limit: int = 5) -> list[str]:
    """The page itself, then up to `limit` same-host pages its news-like links lead to."""
    host = urlsplit(response.url).hostname
    found = [response.url]
    for link in _LINKS.extract_links(response):
        if urlsplit(link.url).hostname == host and (NEWS_WORDS.search(link.text) or NEWS_WORDS.search(_path(link.url))) \
                and link.url not in found:
            found.append(link.url)
    return found[:limit + 1]


def read_list(response: Response) -> NewsList:
    """The article-link pattern and page pattern a list page's links suggest."""
    host = urlsplit(response.url).hostname
    links = [link for link in _LINKS.extract_links(response)
             if urlsplit(link.url).hostname == host and link.url != response.url]
    pager = [link.url for link in links if PAGER_WORDS.match(link.text)]
    groups = _groups(link.url for link in links if link.url not in pager)
    articles = max((urls for urls in groups.values() if len(urls) >= MIN_ARTICLES), key=len, default=[])
    page_urls = max(_groups(pager).values(), key=len, default=[])
    return NewsList(response.url, url_pattern(articles) if articles else None, articles,
                    url_pattern(page_urls) if page_urls else None)


def _groups(urls) -> dict[tuple[str, ...], list[str]]:
    """URLs that differ only in their numbers, by their shape (the text between the numbers)."""
    groups = defaultdict(list)
    for url in dict.fromkeys(urls):
        parts = _DIGITS.split(_path(url))
        if len(parts) > 1:  # a link without a number is no article and no page of a list
            groups[tuple(parts[0::2])].append(url)
    return groups


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def url_pattern(urls: list[str]) -> str:
    """A regular expression matching URLs of one shape (searched in the URL, as article patterns are).
    A number that is the same in every URL and looks like an id (col1229, art_1229_) stays as it is;
    years become \\d{4}, other numbers \\d+ (days, months, page numbers and ids change)."""
    split = [_DIGITS.split(_path(url)) for url in urls]
    pattern = []
    for index, part in enumerate(split[0]):
        values = {parts[index] for parts in split}
        if index % 2 == 0:
            pattern.append(re.escape(part))
        elif all(_YEAR.match(value) for value in values):
            pattern.append(r"\d{4}")
        elif len(values) == 1 and len(part) >= 3 and not _DATE.match(part):
            pattern.append(part)
        else:
            pattern.append(r"\d+")
    return "".join(pattern) + "$"
