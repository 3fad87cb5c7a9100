"""Item pipelines, in order: extract -> drop empty pages -> store (with dedup)."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from w3lib.url import canonicalize_url

from crawler.extract import SiteRules
from crawler.extraction_pool import ExtractionPool, default_workers
from crawler.items import ArticleItem
from storage import ArticleRecord, SaveOutcome, Store

logger = logging.getLogger(__name__)


class ExtractArticle:
    """Fills the item's article fields (and near-duplicate keys) from its HTML with the spider's
    site rules, in the worker processes of an ExtractionPool (NEWSCRAWL_EXTRACT_WORKERS)."""

    def __init__(self, crawler, pool: ExtractionPool):
        self.crawler = crawler
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler):
        workers = crawler.settings.get("NEWSCRAWL_EXTRACT_WORKERS")
        return cls(crawler, ExtractionPool(default_workers() if workers in (None, "") else int(workers)))

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        rules = getattr(self.crawler.spider, "extraction_rules", SiteRules())
        try:
            article, item.near_duplicate_keys = await self.pool.extract(item.html, item.url, rules)
        except Exception as exc:  # a page extraction cannot read is one counted error, never a stuck crawl
            self.crawler.stats.inc_value("newscrawl/errors/extraction")
            logger.warning("cannot extract an article from %s: %s", item.url, exc)
            raise DropItem(f"extraction failed at {item.url}", log_level="DEBUG") from None
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
    """Saves articles; the store keeps one copy per canonical URL and per text, and
    links near-duplicates (the same story reprinted elsewhere) into clusters."""

    def __init__(self, db_url: str, stats, near_duplicate_threshold: float):
        self.db_url = db_url
        self.stats = stats
        self.near_duplicate_threshold = near_duplicate_threshold
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings["NEWSCRAWL_DB"], crawler.stats,
                   crawler.settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"))

    def open_spider(self) -> None:
        self.store = Store(self.db_url, near_duplicate_threshold=self.near_duplicate_threshold)

    def close_spider(self) -> None:
        self.store.close()

    def process_item(self, item: ArticleItem) -> ArticleItem:
        url = canonicalize_url(item.url)
        outcome = self.store.save_article(ArticleRecord(
            url=url,
            site=item.site,
            title=item.title,
            text=item.text,
            published=item.published,
            author=item.author,
            source=item.source,
            language=item.language,
            html=item.html,
        ), run_id=self.stats.get_value("newscrawl/run_id"))
        self.stats.inc_value(f"newscrawl/articles_{outcome.value}")
        if outcome is SaveOutcome.DUPLICATE:
            logger.info("same text as a stored article: %s", item.url)
        elif outcome is SaveOutcome.NEW and self.store.near_duplicates(self.store.find_article(url=url)):
            self.stats.inc_value("newscrawl/near_duplicates")
            logger.info("a near-duplicate of a stored article: %s", item.url)
        return item
