"""Extensions: the crawl-run record kept in the store."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.errors import errors_by_kind, errors_total
from crawler.outcomes import crawl_outcome, store_failed
from storage import RunCounts, Store, StoreError

logger = logging.getLogger(__name__)


def run_counts(stats: dict) -> RunCounts:
    """A crawl's counts from its Scrapy stats (the keys our pipelines set)."""
    return RunCounts(
        pages=stats.get("response_received_count", 0),
        articles_new=stats.get("newscrawl/articles_new", 0),
        articles_updated=stats.get("newscrawl/articles_updated", 0),
        articles_unchanged=stats.get("newscrawl/articles_unchanged", 0),
        duplicates=stats.get("newscrawl/articles_duplicate", 0),
        empty_pages=stats.get("newscrawl/empty_pages", 0),
        # failed pages, each counted once under its kind (crawler/errors.py)
        errors=errors_total(stats),
        # crawler/incremental.py
        articles_skipped=sum(stats.get(f"newscrawl/skipped_{reason}", 0) for reason in ("known", "old", "recent")),
        not_modified=stats.get("newscrawl/not_modified", 0),
    )


class CrawlRunRecorder:
    """Records every crawl in the store: spider, host and pid, start, a heartbeat with the
    counts so far every NEWSCRAWL_HEARTBEAT seconds, and at the end its outcome
    (crawler/outcomes.py), counts, warnings and errors by kind."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.store: Store | None = None
        self.run_id: int | None = None
        self.beat = task.LoopingCall(self.heartbeat)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NEWSCRAWL_DB"):
            raise NotConfigured("NEWSCRAWL_DB is not set")
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        try:
            self.store = Store(self.crawler.settings["NEWSCRAWL_DB"])
            self.run_id = self.store.start_run(spider.name)
        except StoreError as exc:  # the crawl would store nothing either
            if self.store:
                self.store.close()
                self.store = None
            raise store_failed(self.crawler.stats, str(exc)) from None
        # StoreArticles files each article's fetch under this run
        self.crawler.stats.set_value("newscrawl/run_id", self.run_id)
        self.beat.start(self.crawler.settings.getfloat("NEWSCRAWL_HEARTBEAT"), now=False)

    def heartbeat(self) -> None:
        try:
            self.store.heartbeat(self.run_id, run_counts(self.crawler.stats.get_stats()))
        except StoreError as exc:  # the crawl goes on; the pipeline stops it if articles cannot be stored
            logger.warning("%s", exc)

    def spider_closed(self, spider, reason: str) -> None:
        self.record_end(reason)

    def record_end(self, reason: str | None) -> None:
        """Record the run's outcome, once: at spider_closed, or after the crawl was stopped
        before it could close (reason None)."""
        if self.run_id is None or self.store is None:
            return
        if self.beat.running:
            self.beat.stop()
        stats = self.crawler.stats.get_stats()
        outcome = crawl_outcome(reason, stats)
        try:
            self.store.finish_run(self.run_id, outcome.status, run_counts(stats), error=outcome.error,
                                  warnings=outcome.warnings, errors_by_kind=errors_by_kind(stats))
        except StoreError as exc:
            logger.error("the run could not be recorded: %s", exc)
        finally:
            self.store.close()
            self.store = None
