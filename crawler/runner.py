"""Running crawls in-process: settings for each mode, CrawlerProcess, results."""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from scrapy import Spider
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.ossignal import install_shutdown_handlers, signal_names
from scrapy.utils.project import get_project_settings
from twisted.python.failure import Failure

from crawler.extensions import CrawlRunRecorder, run_counts
from crawler.errors import errors_by_kind
from crawler.outcomes import INTERRUPTED, STORE_ERROR, Outcome, crawl_outcome
from crawler.progress import Progress
from storage import RunCounts, database_file

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
REPLAY_HANDLER = "crawler.recordings.ReplayDownloadHandler"


@dataclass(frozen=True)
class CrawlResult:
    site: str
    outcome: Outcome  # finished (maybe with warnings), failed or interrupted
    counts: RunCounts
    errors_by_kind: dict[str, int] = field(default_factory=dict)  # counts.errors by kind
    store_error: str | None = None  # why the store could not be written, when that stopped the crawl
    interrupted_by: str | None = None  # the signal that stopped it: "SIGINT", "SIGTERM"


def project_settings(db: str | None = None, overrides: dict[str, str] | None = None) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    if db:
        settings.set("NEWSCRAWL_DB", db, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def use_replay(settings: Settings, folder: Path) -> None:
    """Serve every request from recordings: no network, so no politeness delays either (unless
    `-s` sets them: a replay can be paced like a live crawl)."""
    settings.set("NEWSCRAWL_REPLAY_DIR", str(folder), priority="cmdline")
    settings.set("DOWNLOAD_HANDLERS", {"http": REPLAY_HANDLER, "https": REPLAY_HANDLER}, priority="cmdline")
    for name, value in (("AUTOTHROTTLE_ENABLED", False), ("DOWNLOAD_DELAY", 0), ("CONCURRENT_REQUESTS_PER_DOMAIN", 8)):
        if settings.getpriority(name) < SETTINGS_PRIORITIES["cmdline"]:
            settings.set(name, value, priority="cmdline")


def use_warc(settings: Settings, path: Path) -> None:
    """Append every response fetched to a WARC file (crawler/archive.py)."""
    settings.set("NEWSCRAWL_WARC", str(path), priority="cmdline")


def use_incremental(settings: Settings, *, refresh: bool = False, full: bool = False,
                    since: date | None = None, until: date | None = None) -> None:
    """What a repeat crawl fetches again (crawler/incremental.py)."""
    store_file = database_file(settings["NEWSCRAWL_DB"])
    if store_file:  # each SQLite store keeps its HTTP cache beside it (unless -s HTTPCACHE_DIR=… says otherwise)
        settings.set("HTTPCACHE_DIR", str(store_file.resolve().parent / "httpcache"), priority="project")
    settings.set("NEWSCRAWL_REFRESH", refresh, priority="cmdline")
    settings.set("NEWSCRAWL_FULL", full, priority="cmdline")
    settings.set("NEWSCRAWL_SINCE", since.isoformat() if since else None, priority="cmdline")
    settings.set("NEWSCRAWL_UNTIL", until.isoformat() if until else None, priority="cmdline")


def use_article_limit(settings: Settings, articles: int) -> None:
    """End each crawl once it has stored this many articles (new or updated): Scrapy's CloseSpider
    extension closes it with reason "closespider_itemcount", which counts as finished."""
    settings.set("CLOSESPIDER_ITEMCOUNT", articles, priority="cmdline")


def use_recording(settings: Settings, folder: Path) -> None:
    """Save every response, as the server sends it now; ask for plain bodies so the
    recording is readable."""
    settings.set("NEWSCRAWL_RECORD_DIR", str(folder), priority="cmdline")
    settings.set("COMPRESSION_ENABLED", False, priority="cmdline")
    settings.set("HTTPCACHE_ENABLED", False, priority="cmdline")
    settings.set("SPIDER_MIDDLEWARES", {**settings.getdict("SPIDER_MIDDLEWARES"),
                                        "crawler.incremental.SkipStoredArticles": None}, priority="cmdline")
    # below RedirectMiddleware (600), so that 3xx responses are recorded too; failed pages counted by kind
    settings.set("DOWNLOADER_MIDDLEWARES", {"crawler.recordings.RecordResponses": 650,
                                            "crawler.errors.CountFailedPages": 540}, priority="cmdline")
    settings.set("ITEM_PIPELINES", {"crawler.pipelines.ExtractArticle": 100,
                                    "crawler.pipelines.DropEmptyArticles": 200}, priority="cmdline")
    settings.set("EXTENSIONS", {**settings.getdict("EXTENSIONS"), "crawler.extensions.CrawlRunRecorder": None},
                 priority="cmdline")


def site_names(settings: Settings) -> list[str]:
    return sorted(get_spider_loader(settings).list())


def run_crawls(sites: list[str | type[Spider]], settings: Settings, progress: bool = True) -> list[CrawlResult]:
    """Crawl the sites (spider names, or spider classes made on the spot) side by side in one process;
    returns when all are done, or stopped by a signal (see NewsCrawlerProcess)."""
    process = NewsCrawlerProcess(settings)
    # Scrapy installs its signal handlers once the reactor runs: a signal before would end the
    # process (SIGTERM) or unwind whatever runs (Ctrl-C) without recording or reporting anything.
    install_shutdown_handlers(process._signal_shutdown)
    crawlers = [process.create_crawler(site) for site in sites]
    for crawler in crawlers:
        process.crawl(crawler)
    line = Progress(crawlers)
    if progress:
        line.start()
    try:
        with young_collections_every(CRAWL_GC_THRESHOLD):
            process.start()
    finally:
        line.stop()
    results = []
    for crawler in crawlers:
        # (Scrapy's advice: before a crawl has started, read the underscored attributes)
        stats = crawler._stats.get_stats() if crawler._stats else {INTERRUPTED: process.interrupted_by}
        reason = stats.get("finish_reason")
        recorder = crawler.get_extension(CrawlRunRecorder) if crawler._extensions else None
        if recorder:  # a crawl stopped at once (a second signal) never closed: its run is recorded here
            recorder.record_end(reason)
        results.append(CrawlResult(crawler.spidercls.name, crawl_outcome(reason, stats), run_counts(stats),
                                   errors_by_kind(stats), stats.get(STORE_ERROR), stats.get(INTERRUPTED)))
    return results


# The cyclic garbage collector's young generation is collected every CRAWL_GC_THRESHOLD allocations
# of containers during a crawl, not every 700 (Python's default, made for short scripts). Each
# request leaves reference cycles behind (Deferreds, coroutines, tasks) that live a few
# milliseconds, longer than a 700-allocation window: promoted while still in use, once dead they
# waited for a full collection, which scanned 110,000 objects every two seconds, most of them such
# garbage. Measured on the 5,000-page bench: the crawl process spent 1.8 s in the collector at 700
# and 0.25 s at 50,000, 12% of its CPU, for 5 MB more memory.
# Processes forked meanwhile (extraction workers, the store's writer) collect as before: they keep
# little in flight, and the worker measured 3% slower with the crawl's setting.
CRAWL_GC_THRESHOLD = 50_000
_threshold_outside: tuple[int, ...] | None = None  # what young_collections_every replaced


@contextlib.contextmanager
def young_collections_every(allocations: int):
    """Within the block, this process's young generation is collected every `allocations`
    container allocations (gc.set_threshold's first value); the older generations' thresholds
    stay, and processes forked within the block start with the thresholds of before."""
    global _threshold_outside
    _threshold_outside = gc.get_threshold()
    gc.set_threshold(allocations, *_threshold_outside[1:])
    try:
        yield
    finally:
        gc.set_threshold(*_threshold_outside)
        _threshold_outside = None


def _thresholds_of_before() -> None:
    if _threshold_outside is not None:
        gc.set_threshold(*_threshold_outside)


os.register_at_fork(after_in_child=_thresholds_of_before)


class NewsCrawlerProcess(CrawlerProcess):
    """Scrapy's CrawlerProcess, whose first Ctrl-C or SIGTERM stops the crawls within a few seconds.

    Scrapy's own handling stays: the first signal closes every spider with reason "shutdown",
    the second stops the reactor at once. On the first, the requests waiting in the downloader
    (all the scheduler had handed over) are dropped too, and the pages being downloaded get
    NEWSCRAWL_SHUTDOWN_GRACE seconds; each crawl's stats name the signal, so that its run is
    recorded "interrupted", however it ends.
    """

    interrupted_by: str | None = None  # the name of the first signal received

    def _signal_shutdown(self, signum, frame) -> None:
        from twisted.internet import reactor

        super()._signal_shutdown(signum, frame)
        reactor.callFromThread(self._interrupt, signum)

    def _interrupt(self, signum: int) -> None:
        from twisted.internet import reactor

        self.interrupted_by = signal_names[signum]
        for crawler in self.crawlers:  # those still crawling
            if crawler._stats:
                crawler.stats.set_value(INTERRUPTED, self.interrupted_by)
            if crawler._engine:
                _drop_waiting_downloads(crawler.engine.downloader)
        reactor.callLater(self.settings.getfloat("NEWSCRAWL_SHUTDOWN_GRACE"), self._stop_reactor)


def _drop_waiting_downloads(downloader) -> None:
    """Fail every request queued in the downloader but not being downloaded yet, as ignored."""
    for slot in downloader.slots.values():
        while slot.queue:
            request, waiting = slot.queue.popleft()
            waiting.errback(Failure(IgnoreRequest(f"dropped at shutdown: {request.url}")))
