"""Item pipelines, in order: extract -> drop empty pages -> store (with dedup)."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import task
from w3lib.url import canonicalize_url

from crawler.errors import count_failed_page
from crawler.extract import SiteRules
from crawler.extraction_pool import ExtractionPool, worker_count
from crawler.items import ArticleItem
from crawler.outcomes import STORE_ERROR, STORE_FAILED
from storage import ArticleRecord, FailedPageRecord, SaveOutcome, Store, StoreError

logger = logging.getLogger(__name__)


class ExtractionFailedDrop(DropItem):
    """The item is dropped because extraction failed on its page; StoreArticles keeps the page
    (all its pages) as a failed page, with this reason, for `newscrawl re-extract`."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"extraction failed at {url}", log_level="DEBUG")  # count_failed_page() names it
        self.reason = reason


class ExtractArticle:
    """Fills the item's article fields (and near-duplicate keys) from its HTML with the spider's
    site rules, in the worker processes of an ExtractionPool (NEWSCRAWL_EXTRACT_WORKERS).

    A page that extraction fails on (a site module's broken selector, a parser fault) is
    a failed page of kind ``extraction`` (crawler/errors.py: counted once, named in the log
    with its reason) and dropped with ExtractionFailedDrop, and the crawl goes on. Its HTML is
    not lost: StoreArticles keeps it as a failed page, which `newscrawl re-extract` retries
    and the next crawl fetches again (it is not stored as an article)."""

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
            reason = str(exc) or type(exc).__name__
            count_failed_page(self.crawler, item.url, "extraction", reason)
            raise ExtractionFailedDrop(item.url, reason) from None
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
    those articles are not stored, so the next crawl fetches them again.

    Pages extraction failed on (ExtractionFailedDrop) are kept as failed pages, written with
    each batch in one transaction of their own."""

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
        self.failed_pages: list[FailedPageRecord] = []
        self.timer = task.LoopingCall(self.write_batch)
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(crawler, settings["NEWSCRAWL_DB"], settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"),
                       settings.getint("NEWSCRAWL_WRITE_BATCH_SIZE"),
                       settings.getfloat("NEWSCRAWL_WRITE_BATCH_SECONDS"))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

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
        if len(self.batch) + len(self.failed_pages) >= self.batch_size:
            self.write_batch()
        return item

    def item_dropped(self, item, exception) -> None:
        """Scrapy's item_dropped signal: a page extraction failed on joins the batch as a failed page."""
        if isinstance(exception, ExtractionFailedDrop):
            self.failed_pages.append(FailedPageRecord(canonicalize_url(item.url), item.site,
                                                      (item.html, *item.more_pages), exception.reason))
            if len(self.batch) + len(self.failed_pages) >= self.batch_size:
                self.write_batch()

    def write_batch(self) -> None:
        self._write_failed_pages()  # before the articles: an article stored in the same batch forgets its failure
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

    def _write_failed_pages(self) -> None:
        failed, self.failed_pages = self.failed_pages, []
        if failed:
            try:
                self.store.keep_failed_pages(failed, run_id=self.stats.get_value("newscrawl/run_id"))
            except (StoreError, SQLAlchemyError) as exc:  # counted as failed already; a refetch brings them back
                self._stop_crawl(exc)

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
            more_pages=tuple(item.more_pages),
            near_duplicate_keys=item.near_duplicate_keys,
        ) for item in batch], run_id=self.stats.get_value("newscrawl/run_id"))
