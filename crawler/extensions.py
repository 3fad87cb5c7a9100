"""Extensions: the crawl-run record kept in the store."""

from __future__ import annotations

from scrapy import signals
from scrapy.exceptions import NotConfigured

from storage import RunCounts, Store


def run_counts(stats: dict) -> RunCounts:
    """A crawl's counts from its Scrapy stats (the keys our pipelines set)."""
    return RunCounts(
        pages=stats.get("response_received_count", 0),
        articles_new=stats.get("newscrawl/articles_new", 0),
        articles_updated=stats.get("newscrawl/articles_updated", 0),
        articles_unchanged=stats.get("newscrawl/articles_unchanged", 0),
        duplicates=stats.get("newscrawl/articles_duplicate", 0),
        empty_pages=stats.get("newscrawl/empty_pages", 0),
        # failed downloads and spider errors are logged as errors; 4xx/5xx pages are ignored
        errors=stats.get("log_count/ERROR", 0) + stats.get("httperror/response_ignored_count", 0)
        + stats.get("newscrawl/errors/extraction", 0),
        # crawler/incremental.py
        articles_skipped=stats.get("newscrawl/skipped_known", 0) + stats.get("newscrawl/skipped_old", 0),
        not_modified=stats.get("newscrawl/not_modified", 0),
    )


class CrawlRunRecorder:
    """Records every crawl (spider, start, end, outcome, counts) in the store."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.store: Store | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NEWSCRAWL_DB"):
            raise NotConfigured("NEWSCRAWL_DB is not set")
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        self.store = Store(self.crawler.settings["NEWSCRAWL_DB"])
        self.run_id = self.store.start_run(spider.name)
        # StoreArticles files each article's fetch under this run
        self.crawler.stats.set_value("newscrawl/run_id", self.run_id)

    def spider_closed(self, spider, reason: str) -> None:
        self.store.finish_run(self.run_id, reason, run_counts(self.crawler.stats.get_stats()))
        self.store.close()
