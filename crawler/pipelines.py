"""Item pipelines, in order: extract -> drop empty pages -> store (with dedup)."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from w3lib.url import canonicalize_url

from crawler.extract import SiteRules, extract
from crawler.items import ArticleItem
from storage import ArticleRecord, SaveOutcome, Store

logger = logging.getLogger(__name__)


class ExtractArticle:
    """Fills the item's article fields from its HTML with the spider's site rules."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        rules = getattr(self.crawler.spider, "extraction_rules", SiteRules())
        article = extract(item.html, item.url, rules)
        item.title, item.published, item.author = article.title, article.published, article.author
        item.source, item.language, item.text = article.source, article.language, article.text
        return item


class DropEmptyArticles:
    """An article page without a body (a video page, a broken template) is counted, not stored."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if not item.text or not item.title:
            self.stats.inc_value("newscrawl/empty_pages")
            raise DropItem(f"no article body at {item.url}", log_level="INFO")
        return item


class StoreArticles:
    """Saves articles; the store keeps one copy per canonical URL and per text."""

    def __init__(self, db_url: str, stats):
        self.db_url = db_url
        self.stats = stats
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings["NEWSCRAWL_DB"], crawler.stats)

    def open_spider(self) -> None:
        self.store = Store(self.db_url)

    def close_spider(self) -> None:
        self.store.close()

    def process_item(self, item: ArticleItem) -> ArticleItem:
        outcome = self.store.save_article(ArticleRecord(
            url=canonicalize_url(item.url),
            site=item.site,
            title=item.title,
            text=item.text,
            published=item.published,
            author=item.author,
            source=item.source,
            language=item.language,
            html=item.html,
        ))
        self.stats.inc_value(f"newscrawl/articles_{outcome.value}")
        if outcome is SaveOutcome.DUPLICATE:
            logger.info("same text as a stored article: %s", item.url)
        return item
