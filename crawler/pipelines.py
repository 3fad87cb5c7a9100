"""Item pipelines, in order: extract -> drop empty pages -> store (with dedup)."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from w3lib.url import canonicalize_url

from crawler.extract import SiteRules, extract_pages
from crawler.items import ArticleItem
from crawler.outcomes import STORE_ERROR, STORE_FAILED
from storage import ArticleRecord, SaveOutcome, Store, StoreError

logger = logging.getLogger(__name__)


class ExtractArticle:
    """Fills the item's article fields from its HTML with the spider's site rules.

    A page that extraction fails on (a site module's broken selector, a parser fault) is
    counted in ``newscrawl/errors/extraction``, logged with its URL at WARNING and
    dropped, and the crawl goes on: the page is not stored, so the next crawl fetches
    and extracts it again."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        rules = getattr(self.crawler.spider, "extraction_rules", SiteRules())
        try:
            article = extract_pages([item.html, *item.more_pages], item.url, rules)
        except Exception as error:  # noqa: BLE001 - one page must not end the crawl
            self.crawler.stats.inc_value("newscrawl/errors/extraction")
            logger.warning("extraction failed at %s: %s: %s", item.url, type(error).__name__, error)
            raise DropItem(f"extraction failed at {item.url}", log_level="DEBUG") from error
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

    def __init__(self, db_url: str, stats, near_duplicate_threshold: float, crawler):
        self.db_url = db_url
        self.stats = stats
        self.crawler = crawler
        self.near_duplicate_threshold = near_duplicate_threshold
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings["NEWSCRAWL_DB"], crawler.stats,
                   crawler.settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"), crawler)

    def open_spider(self) -> None:
        self.store = Store(self.db_url, near_duplicate_threshold=self.near_duplicate_threshold)

    def close_spider(self) -> None:
        self.store.close()

    def process_item(self, item: ArticleItem) -> ArticleItem:
        try:
            return self._store(item)
        except StoreError as exc:
            self._stop_crawl(exc)
            raise DropItem(f"not stored: {item.url}", log_level="DEBUG") from None

    def _stop_crawl(self, error: StoreError) -> None:
        """The store cannot be written (disk full, a read-only file): stop at the first failed write."""
        if self.stats.get_value(STORE_ERROR) is None:
            self.stats.set_value(STORE_ERROR, str(error))
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=STORE_FAILED))

    def _store(self, item: ArticleItem) -> ArticleItem:
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
