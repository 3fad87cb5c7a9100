"""The shared crawling behaviour of every news site spider.

A site module only declares where the news column is and what its links look
like:

    class RocarSpider(NewsSpider):
        name = "rocar"
        allowed_domains = ["www.rocar.net"]
        start_urls = ["https://www.rocar.net/en/menu139/"]
        article_links = r"/en/menu139/newsDetail/\\d+\\.html$"
        list_links = r"/en/menu139/\\?page=\\d+$"
        extraction_rules = SiteRules(title="h1", byline=".info", body=".content")

List pages are walked through their pagination; every article link on them is
fetched once and yields an ArticleItem. Article pages are leaves: links on them
(teasers, "related news") are not followed, so a crawl stays inside the column.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.linkextractors import LinkExtractor

from crawler.extract import SiteRules
from crawler.items import ArticleItem


class NewsSpider(Spider):
    article_links: str = ""  # regex an article URL matches
    list_links: str = ""  # regex the column's further list pages match
    list_area: str | None = None  # CSS of the list on list pages, when sidebars link elsewhere
    extraction_rules: SiteRules = SiteRules()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._articles = LinkExtractor(allow=cls.article_links, restrict_css=cls.list_area or (),
                                      unique=True)
        # an empty pattern would allow every link: a column without pagination has no list links
        cls._list_pages = LinkExtractor(allow=cls.list_links, unique=True) if cls.list_links else None

    async def start(self):
        # Scrapy's default start requests skip the duplicate filter, so the
        # pager's link back to page 1 would fetch it a second time.
        for url in self.start_urls:
            yield Request(url)

    def parse(self, response):
        """A list page: follow its articles and its pagination."""
        for link in self._articles.extract_links(response):
            yield response.follow(link, callback=self.parse_article)
        for link in self._list_pages.extract_links(response) if self._list_pages else ():
            yield response.follow(link, callback=self.parse)

    def parse_article(self, response):
        yield ArticleItem(url=response.url, site=self.name, html=response.text)
