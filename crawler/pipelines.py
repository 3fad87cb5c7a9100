"""Item pipelines, in order: extract -> drop empty pages -> store (with dedup)."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import task
from w3lib.url import canonicalize_url

from crawler.extract import SiteRules
from crawler.extraction_pool import ExtractionPool, worker_count
from crawler.items import ArticleItem
from crawler.outcomes import STORE_ERROR, STORE_FAILED
from storage import ArticleRecord, SaveOutcome, Store, StoreError

logger = logging.getLogger(__name__)


class ExtractArticle:
    """Fills the item's article fields (and near-duplicate keys) from its HTML with the spider's
    site rules, in the worker processes of an ExtractionPool (NEWSCRAWL_EXTRACT_WORKERS).

    A page that extraction fails on (a site module's broken selector, a parser fault) is
    counted in ``newscrawl/errors/extraction``, logged with its URL at WARNING and
    dropped, and the crawl goes on: the page is not stored, so the next crawl fetches
    and extracts it again."""

    def __init__(self, crawler, pool: ExtractionPool):
        self.crawler = crawler
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, ExtractionPool(worker_count(crawler.settings.get("NEWSCRAWL_EXTRACT_WORKERS"))))

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        rules = getattr(self.crawler.spider, "extraction_rules", SiteRules())
        try:
            article, item.near_duplicate_keys = await self.pool.extract([item.html, *item.more_pages], item.url,
                                                                        rules)
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
    links near-duplicates (the same story reprinted elsewhere) into clusters.

    Articles are written in batches, one transaction each, of NEWSCRAWL_WRITE_BATCH_SIZE
    articles or those of NEWSCRAWL_WRITE_BATCH_SECONDS, whichever comes first, and the
    last batch when the crawl closes. A crawl killed outright loses its unwritten batch:
    those articles are not stored, so the next crawl fetches them again."""

    def __init__(self, crawler, db_url: str, near_duplicate_threshold: float, batch_size: int,
                 batch_seconds: float):
        self.crawler = crawler
        self.db_url = db_url
        self.stats = crawler.stats
        self.near_duplicate_threshold = near_duplicate_threshold
        self.batch_size = max(batch_size, 1)
        self.batch_seconds = batch_seconds
        self.store: Store | None = None
        self.batch: list[ArticleItem] = []
        self.timer = task.LoopingCall(self.write_batch)
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(crawler, settings["NEWSCRAWL_DB"],
                   settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"),
                   settings.getint("NEWSCRAWL_WRITE_BATCH_SIZE"), settings.getfloat("NEWSCRAWL_WRITE_BATCH_SECONDS"))

    def open_spider(self) -> None:
        self.store = Store(self.db_url, near_duplicate_threshold=self.near_duplicate_threshold)
        self.timer.start(self.batch_seconds, now=False)

    def close_spider(self) -> None:
        self.closing = True
        self.timer.stop()
        self.write_batch()
        self.store.close()

    def process_item(self, item: ArticleItem) -> ArticleItem:
        self.batch.append(item)
        if len(self.batch) >= self.batch_size:
            self.write_batch()
        return item

    def write_batch(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            saved = self._save(batch)
        except (StoreError, SQLAlchemyError) as exc:  # a full disk, a read-only file, a store locked too long
            self.stats.inc_value("newscrawl/articles_unwritten", len(batch))
            self._stop_crawl(exc)
            return
        try:
            for item in batch:
                if item.aliases:  # crawler/aliases.py: the other URLs that led to this article
                    self.store.add_aliases(canonicalize_url(item.url), item.aliases)
        except (StoreError, SQLAlchemyError) as exc:  # the articles are stored; their aliases come with a refetch
            self._stop_crawl(exc)
        for item, result in zip(batch, saved):
            self.stats.inc_value(f"newscrawl/articles_{result.outcome.value}")
            if result.outcome is SaveOutcome.DUPLICATE:
                logger.info("same text as a stored article: %s", item.url)
            elif result.near_duplicate:
                self.stats.inc_value("newscrawl/near_duplicates")
                logger.info("a near-duplicate of a stored article: %s", item.url)

    def _stop_crawl(self, error: Exception) -> None:
        """The store cannot be written: the crawl stops at the first failed write, and is recorded failed."""
        if self.stats.get_value(STORE_ERROR) is None:
            self.stats.set_value(STORE_ERROR, str(error))
            if not self.closing:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=STORE_FAILED))

    def _save(self, batch: list[ArticleItem]) -> list:
        return self.store.save_articles([ArticleRecord(
            url=canonicalize_url(item.url),
            site=item.site,
            title=item.title,
            text=item.text,
            published=item.published,
            author=item.author,
            source=item.source,
            language=item.language,
            html=item.html,
            near_duplicate_keys=item.near_duplicate_keys,
        ) for item in batch], run_id=self.stats.get_value("newscrawl/run_id"))
