"""Running crawls in-process: settings for each mode, CrawlerProcess, results."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scrapy import Spider
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings

from crawler.extensions import run_counts, run_outcome
from crawler.progress import Progress
from storage import RunCounts, database_file

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
REPLAY_HANDLER = "crawler.recordings.ReplayDownloadHandler"


@dataclass(frozen=True)
class CrawlResult:
    site: str
    outcome: str  # "finished", or Scrapy's close reason: "shutdown", ... (crawler.extensions.run_outcome)
    counts: RunCounts


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
    """Serve every request from recordings: no network, so no politeness delays either."""
    settings.set("NEWSCRAWL_REPLAY_DIR", str(folder), priority="cmdline")
    settings.set("DOWNLOAD_HANDLERS", {"http": REPLAY_HANDLER, "https": REPLAY_HANDLER}, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority="cmdline")


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
    settings.set("SPIDER_MIDDLEWARES", {"crawler.incremental.SkipStoredArticles": None}, priority="cmdline")
    # below RedirectMiddleware (600), so that 3xx responses are recorded too
    settings.set("DOWNLOADER_MIDDLEWARES", {"crawler.recordings.RecordResponses": 650}, priority="cmdline")
    settings.set("ITEM_PIPELINES", {"crawler.pipelines.ExtractArticle": 100,
                                    "crawler.pipelines.DropEmptyArticles": 200}, priority="cmdline")
    settings.set("EXTENSIONS", {"crawler.extensions.CrawlRunRecorder": None}, priority="cmdline")


def site_names(settings: Settings) -> list[str]:
    return sorted(get_spider_loader(settings).list())


def run_crawls(sites: list[str | type[Spider]], settings: Settings, progress: bool = True) -> list[CrawlResult]:
    """Crawl the sites (spider names, or spider classes made on the spot) side by side in one process;
    returns when all are done. progress=False draws no progress line, even on a terminal."""
    process = CrawlerProcess(settings)
    crawlers = [process.create_crawler(site) for site in sites]
    for crawler in crawlers:
        process.crawl(crawler)
    line = Progress(crawlers)
    if progress:
        line.start()
    try:
        process.start()
    finally:
        line.stop()
    return [CrawlResult(crawler.spidercls.name,
                        run_outcome(crawler.stats.get_value("finish_reason", "not started")),
                        run_counts(crawler.stats.get_stats()))
            for crawler in crawlers]
