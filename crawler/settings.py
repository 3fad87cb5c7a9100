"""Scrapy settings for newscrawl: polite by default.

Two environment variables override the defaults without code:
NEWSCRAWL_DB (any SQLAlchemy URL) and NEWSCRAWL_CONTACT (an e-mail or URL
where site owners can reach whoever runs the crawl; it goes in the User-Agent).
"""

import os

from scrapy.settings import default_settings

from crawler import __version__
from storage import DEFAULT_URL

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# the spider modules' sites, and the [sites.NAME] entries of a sites file (crawler/sites.py);
# a relative path is taken from the working directory, and a missing file has no sites
SPIDER_LOADER_CLASS = "crawler.sites.SiteLoader"
NEWSCRAWL_SITES_FILE = "sites.toml"

NEWSCRAWL_DB = os.environ.get("NEWSCRAWL_DB", DEFAULT_URL)
NEWSCRAWL_CONTACT = os.environ.get("NEWSCRAWL_CONTACT", "https://github.com/newscrawl/newscrawl")
USER_AGENT = f"newscrawl/{__version__} (+{NEWSCRAWL_CONTACT})"

# Two articles are near-duplicates (one story, reprinted) when at least this share of their
# shingles (runs of 5 words, or of 5 Chinese characters) is common to both, their Jaccard
# similarity, and no number differs between them (storage/near_duplicates.py).
NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD = 0.5

# Extraction and near-duplicate fingerprints run in this many worker processes (crawler/extraction_pool.py);
# empty: one per core (less one for the writer process, below), 0: in the crawl's own process.
NEWSCRAWL_EXTRACT_WORKERS = os.environ.get("NEWSCRAWL_EXTRACT_WORKERS", "")
# In a worker, one article's extraction may take this many seconds at most (0: no limit): a hostile page
# within DOWNLOAD_MAXSIZE can keep trafilatura busy for minutes; it fails as extraction does.
NEWSCRAWL_EXTRACT_SECONDS = 60.0
# Articles are written in transactions of up to this many, at least once every this many seconds:
# a crawl killed outright loses at most the articles of its last batch, which the next crawl fetches again.
NEWSCRAWL_WRITE_BATCH_SIZE = 200
NEWSCRAWL_WRITE_BATCH_SECONDS = 1.0
# Batches are written by a process of their own (crawler/store_writer.py); off: by the crawl's own.
NEWSCRAWL_WRITER_PROCESS = True

# Breadth-first, as Scrapy advises for broad crawls: a list page's articles are fetched before the
# list pages it links to. Scrapy's default, depth-first, walks a site's whole pagination first and
# holds every article request of it in memory (50,000 of them for a site of 50,000 articles).
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
# A page's output (one article, or a list page's links) is handled by this many tasks, which Scrapy
# starts for every response however little it yields (scrapy.utils.asyncio._parallel_asyncio): its
# default, 100, cost the crawl's own process 1.7 ms of CPU per page; the articles themselves are
# extracted side by side anyway, each page's in a worker process (crawler/extraction_pool.py).
CONCURRENT_ITEMS = 4

# Politeness: these are small institutional sites.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
RETRY_TIMES = 3
DOWNLOAD_TIMEOUT = 30

# Hostile sites (crawler/middlewares.py). A news page is a few hundred KB; a body larger than
# DOWNLOAD_MAXSIZE, compressed or once decompressed (a gzip bomb), is refused as a failed page.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# a 429/503 with Retry-After is retried after that many seconds, at most this many
NEWSCRAWL_RETRY_AFTER_MAX = 60
# Traps (crawler/traps.py): a list walk ends after this many list pages in a row without a new
# article link, and a run follows at most this many list pages (0: no cap); CLOSESPIDER_PAGECOUNT
# (pages) and DEPTH_LIMIT (links from the start page) are Scrapy's caps, unset by default
NEWSCRAWL_EMPTY_LIST_PAGES = 3
NEWSCRAWL_MAX_LIST_PAGES = 2000
# One article, one URL (crawler/urls.py): query parameters (glob patterns, any case) and
# ;path parameters removed before a URL is asked for; extend with NEWSCRAWL_TRACKING_PARAMS_EXTRA
NEWSCRAWL_TRACKING_PARAMS = [
    "utm_*", "spm", "from", "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
    "jsessionid", "phpsessid", "aspsessionid*", "sid", "sessionid", "session_id",
]
NEWSCRAWL_TRACKING_PARAMS_EXTRA = []
REQUEST_FINGERPRINTER_CLASS = "crawler.urls.PageFingerprinter"
# Failed pages (crawler/errors.py): counted by kind as newscrawl/errors/<kind>; the first
# NEWSCRAWL_ERRORS_NAMED are named at WARNING, instead of Scrapy's error line (and traceback) each
NEWSCRAWL_ERRORS_NAMED = 10
LOG_FORMATTER = "crawler.errors.QuietDownloadErrors"
RETRY_GIVE_UP_LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "crawler.pipelines.ExtractArticle": 100,
    "crawler.pipelines.DropEmptyArticles": 200,
    "crawler.pipelines.StoreArticles": 300,
    "crawler.aliases.RecordAliases": 290,  # closes after StoreArticles: pipelines close in reverse order
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
    "crawler.outcomes.WatchStartPages": 510,
}
# Scrapy's remote control runs Python code sent to a port it opens, and writes job files to the
# user's state folder: not for a scheduled crawler. It is left out of Scrapy's base list rather than
# disabled, as Scrapy imports the module of every extension listed, and this one imports aiohttp
# (0.1 s of every crawl's start).
EXTENSIONS_BASE = {path: order for path, order in default_settings.EXTENSIONS_BASE.items()
                   if not path.endswith(".RemoteControl")}
# How a crawl ends (crawler/outcomes.py): a running crawl records a heartbeat (and its counts so
# far) this often, in seconds (well under the 10 minutes after which a silent run is taken for dead,
# storage/store.py), so that a run whose process was killed is told from one still going;
# after a first Ctrl-C or SIGTERM, the pages being downloaded get this many seconds to arrive.
NEWSCRAWL_HEARTBEAT = 30.0
NEWSCRAWL_SHUTDOWN_GRACE = 5.0

# Incremental crawls (crawler/incremental.py): stored articles are not fetched again,
# and pages that are (list pages, --refresh) are asked for with the validators
# (ETag, Last-Modified) of their copy in the HTTP cache, so an unchanged page is a 304.
SPIDER_MIDDLEWARES = {
    "crawler.incremental.SkipStoredArticles": 550,
    # a callback's output passes them from the highest number down: SkipStoredArticles sees clean URLs
    "crawler.urls.CleanRequestUrls": 600,
    "crawler.aliases.NameArticles": 590,
    "crawler.traps.StopListTraps": 580,
    "crawler.outcomes.WarnArticlelessStartPages": 560,  # sees the spider's links before any is skipped
}
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's cache, which takes its copy only on a 304 (not on a 5xx or a download error)
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "crawler.httpcache.AskTheServer": 900,
    "crawler.incremental.CountNotModified": 950,  # below the cache (900): sees the 304s
    "crawler.archive.WriteWarc": 960,  # when NEWSCRAWL_WARC names a file: what the network answered
    # Hostile sites (crawler/middlewares.py): a response passes them from the highest number down
    "crawler.middlewares.CheckRedirects": 610,  # before RedirectMiddleware (600) follows a redirect
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.DecompressWithinLimits": 590,
    "crawler.middlewares.RefuseNonHtmlPages": 585,
    "crawler.middlewares.ChooseCharset": 584,  # after decompression, before MetaRefreshMiddleware (580) reads
    "crawler.middlewares.RefuseNotFoundPages": 583,  # reads the title in the charset chosen
    "crawler.middlewares.CheckMetaRefreshes": 582,  # before MetaRefreshMiddleware (580) follows a meta refresh
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfter": 550,
    "crawler.middlewares.RobotsTxtServerErrors": 545,  # below RetryAfter: a robots.txt error once retries end
    "crawler.errors.CountFailedPages": 540,  # below RetryAfter: sees a page's failure once, when retries end
}
# a WARC file every response fetched is appended to (`crawl --warc FILE`); none when empty
NEWSCRAWL_WARC = ""
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "crawler.httpcache.RevalidateOnly"
# one SQLite file per store, HTTPCACHE_DIR/<store name>.sqlite (crawler/httpcache.py)
HTTPCACHE_STORAGE = "crawler.httpcache.SqliteCacheStorage"
# beside the default store; `newscrawl crawl` keeps it beside whichever SQLite store it fills
HTTPCACHE_DIR = os.path.abspath("data/httpcache")
# a cached page is never taken on trust: the server is always asked, and may answer 304
DEFAULT_REQUEST_HEADERS = {**default_settings.DEFAULT_REQUEST_HEADERS, "Cache-Control": "max-age=0"}

# `newscrawl crawl SITE --frontier redis://…` (crawler/frontier.py): the workers of a shared crawl
# all stop once its queue has been empty, and every worker idle, for this many seconds.
NEWSCRAWL_FRONTIER_IDLE = 30.0

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
