"""The shared crawling behaviour of every news site spider.

A site module only declares where the news column is and what its links look
like:

    class RocarSpider(NewsSpider):
        name = "rocar"
        start_urls = ["https://www.rocar.net/en/menu139/"]
        article_links = r"/en/menu139/newsDetail/\\d+\\.html$"
        list_links = r"/en/menu139/\\?page=\\d+$"
        extraction_rules = SiteRules(title="h1", byline=".info", body=".content")

List pages are walked through their pagination; every article link on them is
fetched once and yields an ArticleItem. Article pages are leaves: links on them
(teasers, "related news") are not followed, so a crawl stays inside the column.

Every request says what it fetches in ``meta[PAGE]`` (LIST or ARTICLE), and an
article request carries the date its list shows beside the link, if any, in
``meta[LIST_DATE]``: what the crawler needs to crawl incrementally
(crawler/incremental.py), without the spiders knowing about the store.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import dateparser
from scrapy import Request, Spider
from scrapy.linkextractors import LinkExtractor
from w3lib.url import canonicalize_url

from crawler.extract import SiteRules
from crawler.items import ArticleItem
from crawler.multipage import MAX_ARTICLE_PAGES, next_page_url
from spiders.cms_lists import LINKS, JsonList, read_scripted_list, report_list_mechanisms
from spiders.sources import FeedsAndSitemaps

PAGE, LIST, ARTICLE = "newscrawl_page", "list", "article"
# a further page of an article split over pages (crawler/multipage.py): not an article of its own
ARTICLE_CONTINUED = "article_continued"
LIST_DATE = "newscrawl_list_date"
START = "newscrawl_start"  # a start request: its list mechanisms are reported
# How a list page gave a request (`newscrawl check` reports it): LINKS, the page's <a href>
# matched by the patterns, unless the request's meta names another mechanism (spiders/cms_lists.py).
LIST_MECHANISM = "newscrawl_list_mechanism"
# an article's first URL, and the URLs and HTML of its pages so far, while its further pages are fetched
_FIRST_PAGE, _URLS_SO_FAR, _PAGES_SO_FAR = "newscrawl_first_page", "newscrawl_urls_so_far", "newscrawl_pages_so_far"
# list dates come as 2022-08-11, [2023-11-22], 2022.08.02, or a calendar tile: "30" over "2021-06"
_LIST_DATE_SETTINGS = {"STRICT_PARSING": True, "DATE_ORDER": "YMD", "PREFER_DATES_FROM": "past"}


class NewsSpider(FeedsAndSitemaps, Spider):
    article_links: str = ""  # regex an article URL matches
    list_links: str = ""  # regex the column's further list pages match
    list_area: str | None = None  # CSS of the list on list pages, when sidebars link elsewhere
    # (CSS of one entry of the list, CSS of the date shown in the entry), when the list dates its links
    list_dates: tuple[str, str] | None = None
    extraction_rules: SiteRules = SiteRules()
    json_list: JsonList | None = None  # a list the site serves as JSON (spiders/cms_lists.py)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "allowed_domains" not in cls.__dict__:  # by default a site is the hosts of its start URLs, feeds, sitemaps
            cls.allowed_domains = sorted({urlsplit(url).hostname for url in
                                          [*getattr(cls, "start_urls", ()), *cls.feed_urls, *cls.sitemap_urls]})
        cls._articles = LinkExtractor(allow=cls.article_links, restrict_css=cls.list_area or (),
                                      unique=True)
        # an empty pattern would allow every link: a column without pagination has no list links
        cls._list_pages = LinkExtractor(allow=cls.list_links, unique=True) if cls.list_links else None
        cls._record_articles = LinkExtractor(allow=cls.article_links, unique=True)  # a datastore is all list

    async def start(self):
        # Scrapy's default start requests skip the duplicate filter, so the
        # pager's link back to page 1 would fetch it a second time.
        for url in self.start_urls:
            yield Request(url, meta={PAGE: LIST, START: True})
        if self.json_list:
            yield self.json_list.request(self.json_list.first_page, {PAGE: LIST, START: True})
        for request in self.source_requests():  # spiders/sources.py
            yield request

    def list_request(self, url: str, callback) -> Request:
        return Request(url, callback=callback, meta={PAGE: LIST})

    def article_request(self, response, url: str, shown: date | None):
        """A feed's or sitemap's entry, when it is an article: every entry, unless an article pattern says."""
        if not self.article_links or self._articles.matches(url):
            yield self._article(response, url, shown)

    def parse(self, response):
        """A list page: follow its articles and its pagination, those its HTML links and those
        its CMS's scripts write (spiders/cms_lists.py)."""
        scripted = read_scripted_list(response, {PAGE: LIST}, self.json_list, self.article_links)
        linked = list(self._article_requests(response, self._articles)) if scripted.html_links else []
        listed = [*self._article_requests(scripted.records, self._record_articles),
                  *(self._article(response, url, shown) for url, shown in scripted.entries)]
        if response.meta.get(START):
            report_list_mechanisms(self, response, ([LINKS] if linked else []) + scripted.mechanisms,
                                   len(linked) + len(listed))
        for request in [*listed, *scripted.next_pages]:  # `newscrawl check` reports where they came from
            request.meta.setdefault(LIST_MECHANISM, " + ".join(scripted.mechanisms))
        yield from linked + listed
        for link in self._list_pages.extract_links(response) if self._list_pages and scripted.html_links else ():
            yield response.follow(link, callback=self.parse, meta={PAGE: LIST})
        yield from scripted.next_pages

    def _article_requests(self, page, articles: LinkExtractor):
        """Requests for the article links of a list page, with the dates the list shows."""
        dates = self._list_dates(page) if page is not None else {}
        for link in articles.extract_links(page) if page is not None else ():
            yield self._article(page, link, dates.get(canonicalize_url(link.url)))

    def _article(self, page, link, shown: date | None) -> Request:
        """The request for an article a list page (or feed, or sitemap) links, with the date it shows."""
        return page.follow(link, callback=self.parse_article, meta={PAGE: ARTICLE, LIST_DATE: shown})

    def _list_dates(self, response) -> dict[str, date]:
        """The date the list shows beside each link, by canonical URL."""
        if not self.list_dates:
            return {}
        entry_css, date_css = self.list_dates
        dates = {}
        for entry in response.css(entry_css):
            shown = dateparser.parse(" ".join(entry.css(f"{date_css} ::text").getall()),
                                     settings=_LIST_DATE_SETTINGS)
            for href in entry.css("a::attr(href)").getall() if shown else ():
                dates[canonicalize_url(response.urljoin(href))] = shown.date()
        return dates

    def parse_article(self, response):
        """An article page: one item, once the further pages of a split article are fetched, in order."""
        first = response.meta.get(_FIRST_PAGE, response.url)
        urls = [*response.meta.get(_URLS_SO_FAR, ()), response.url]
        pages = [*response.meta.get(_PAGES_SO_FAR, ()), response.text]
        following = next_page_url(response, first) if len(pages) < MAX_ARTICLE_PAGES else None
        if following is None or following in urls:  # the last page, or a pager going round
            yield self._article_item(first, pages)
        else:  # dont_filter: the pages are this article's, whatever else links them
            yield response.follow(following, callback=self.parse_article, errback=self._article_page_failed,
                                  dont_filter=True, meta={PAGE: ARTICLE_CONTINUED, _FIRST_PAGE: first,
                                                          _URLS_SO_FAR: urls, _PAGES_SO_FAR: pages})

    def _article_page_failed(self, failure):
        """A further page could not be fetched: the article is stored with the pages it has."""
        meta = failure.request.meta
        yield self._article_item(meta[_FIRST_PAGE], meta[_PAGES_SO_FAR])

    def _article_item(self, url: str, pages: list[str]) -> ArticleItem:
        return ArticleItem(url=url, site=self.name, html=pages[0], more_pages=pages[1:])
