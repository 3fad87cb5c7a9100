"""Item pipelines, in order: extract -> drop empty pages -> store (with dedup)."""

from __future__ import annotations

import logging
from concurrent.futures import Future

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import defer, task
from w3lib.url import canonicalize_url

from crawler.errors import count_failed_page
from crawler.extract import SiteRules
from crawler.extraction_pool import ExtractionPool, deferred_from_future, worker_count
from crawler.items import ArticleItem
from crawler.outcomes import STORE_ERROR, STORE_FAILED
from crawler.store_writer import StoreWriter, outcome
from spiders.base import ARTICLE, PAGE
from storage import ArticleRecord, FailedPageRecord, SaveOutcome

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
        settings = crawler.settings
        return cls(crawler, ExtractionPool(worker_count(settings.get("NEWSCRAWL_EXTRACT_WORKERS"),
                                                        settings.getbool("NEWSCRAWL_WRITER_PROCESS")),
                                           settings.getfloat("NEWSCRAWL_EXTRACT_SECONDS")))

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        rules = getattr(self.crawler.spider, "extraction_rules", SiteRules())
        try:
            article, item.near_duplicate_keys = await self.pool.extract([item.html, *item.more_pages], item.url,
                                                                        rules)
        except Exception as exc:  # a page extraction cannot read is one counted error, never a stuck crawl
            reason = str(exc) or type(exc).__name__
            count_failed_page(self.crawler, item.url, "extraction", reason, {PAGE: ARTICLE})
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

    A writer process writes the batches (crawler/store_writer.py; NEWSCRAWL_WRITER_PROCESS),
    while the crawl goes on downloading and extracting. Articles that come while a batch is
    written wait for it before they join the next one: an article past this pipeline is
    stored or in the batch being filled, as when batches were written in the crawl's own
    process. Counts and logs are made once a batch is written, all before the pipeline closes.

    Pages extraction failed on (ExtractionFailedDrop) are kept as failed pages, written with
    each batch in one transaction of their own."""

    def __init__(self, crawler, db_url: str, near_duplicate_threshold: float, batch_size: int,
                 batch_seconds: float, writer_process: bool):
        self.crawler = crawler
        self.db_url = db_url
        self.stats = crawler.stats
        self.near_duplicate_threshold = near_duplicate_threshold
        self.batch_size = max(batch_size, 1)
        self.batch_seconds = batch_seconds
        self.writer_process = writer_process
        self.writer: StoreWriter | None = None
        self.batch: list[ArticleItem] = []
        self.failed_pages: list[FailedPageRecord] = []
        self.writing: list[tuple[Future, list[str]]] = []  # batches handed to the writer (their URLs), not yet counted
        self.waiting: list[defer.Deferred] = []  # articles waiting for those batches to be written
        self.timer = task.LoopingCall(self.write_batch)
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(crawler, settings["NEWSCRAWL_DB"], settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"),
                       settings.getint("NEWSCRAWL_WRITE_BATCH_SIZE"),
                       settings.getfloat("NEWSCRAWL_WRITE_BATCH_SECONDS"),
                       settings.getbool("NEWSCRAWL_WRITER_PROCESS"))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def open_spider(self) -> None:
        self.writer = StoreWriter(self.db_url, self.near_duplicate_threshold, in_process=not self.writer_process)
        self.timer.start(self.batch_seconds, now=False)

    def close_spider(self) -> None:
        # Synchronous to the end: RecordAliases, which closes next, files aliases of articles stored here.
        self.closing = True
        self.timer.stop()
        self.write_batch()
        self.writer.close()
        self._count_written()

    def process_item(self, item: ArticleItem):
        """The item, once it has joined a batch and that batch, if it filled it, is written;
        a coroutine that does so when the item must wait for the writer."""
        if self.writing:
            return self._join_when_written(item, joined=False)
        self._join(item)
        return self._join_when_written(item, joined=True) if self.writing else item

    async def _join_when_written(self, item: ArticleItem, joined: bool) -> ArticleItem:
        if not joined:
            await self._batches_written()
            self._join(item)
        await self._batches_written()
        return item

    def _join(self, item: ArticleItem) -> None:
        self.batch.append(item)
        if len(self.batch) + len(self.failed_pages) >= self.batch_size:
            self.write_batch()

    async def _batches_written(self) -> None:
        while self.writing:
            waiter = defer.Deferred()
            self.waiting.append(waiter)
            await maybe_deferred_to_future(waiter)

    def item_dropped(self, item, exception) -> None:
        """Scrapy's item_dropped signal: a page extraction failed on joins the batch as a failed page."""
        if isinstance(exception, ExtractionFailedDrop):
            self.failed_pages.append(FailedPageRecord(canonicalize_url(item.url), item.site,
                                                      (item.html, *item.more_pages), exception.reason))
            if len(self.batch) + len(self.failed_pages) >= self.batch_size:
                self.write_batch()

    def write_batch(self) -> defer.Deferred | None:
        """Hands the batch (and the failed pages) to the writer; a Deferred that fires once they
        are written and counted, or None when that is done already."""
        batch, self.batch = self.batch, []
        failed, self.failed_pages = self.failed_pages, []
        if not batch and not failed:
            return None
        aliases = [(canonicalize_url(item.url), item.aliases) for item in batch if item.aliases]
        future = self.writer.submit(self._records(batch), failed, aliases, self.stats.get_value("newscrawl/run_id"))
        self.writing.append((future, [item.url for item in batch]))  # not their pages: memory
        if future.done():
            self._count_written()
            return None
        return deferred_from_future(future).addBoth(lambda _: self._count_written())

    def _count_written(self) -> None:
        """Counts and logs the batches written so far, in their order; then lets the articles
        waiting for them go on."""
        while self.writing and self.writing[0][0].done():
            future, urls = self.writing.pop(0)
            written = outcome(future)
            if written.errors:
                self._stop_crawl(written.errors[0])
            if written.saved is None:
                if urls:
                    self.stats.inc_value("newscrawl/articles_unwritten", len(urls))
                continue
            for url, result in zip(urls, written.saved):
                self.stats.inc_value(f"newscrawl/articles_{result.outcome.value}")
                if result.outcome is SaveOutcome.DUPLICATE:
                    logger.info("same text as a stored article: %s", url)
                elif result.near_duplicate:
                    self.stats.inc_value("newscrawl/near_duplicates")
                    logger.info("a near-duplicate of a stored article: %s", url)
        if not self.writing:
            waiting, self.waiting = self.waiting, []
            for waiter in waiting:
                waiter.callback(None)

    def _stop_crawl(self, error: str) -> None:
        """The store cannot be written: the crawl stops at the first failed write, and is recorded failed."""
        if self.stats.get_value(STORE_ERROR) is None:
            self.stats.set_value(STORE_ERROR, error)
            if not self.closing:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=STORE_FAILED))

    @staticmethod
    def _records(batch: list[ArticleItem]) -> list[ArticleRecord]:
        return [ArticleRecord(
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
        ) for item in batch]
