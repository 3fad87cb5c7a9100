"""Scrapy settings for newscrawl: polite by default.

Two environment variables override the defaults without code:
NEWSCRAWL_DB (any SQLAlchemy URL) and NEWSCRAWL_CONTACT (an e-mail or URL
where site owners can reach whoever runs the crawl; it goes in the User-Agent).
"""

import os

from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS as SCRAPY_REQUEST_HEADERS

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
# empty: one per core, 0: in the crawl's own process.
NEWSCRAWL_EXTRACT_WORKERS = os.environ.get("NEWSCRAWL_EXTRACT_WORKERS", "")
# Articles are written in transactions of up to this many, at least once every this many seconds:
# a crawl killed outright loses at most the articles of its last batch, which the next crawl fetches again.
NEWSCRAWL_WRITE_BATCH_SIZE = 200
NEWSCRAWL_WRITE_BATCH_SECONDS = 1.0

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

ITEM_PIPELINES = {
    "crawler.pipelines.ExtractArticle": 100,
    "crawler.pipelines.DropEmptyArticles": 200,
    "crawler.pipelines.StoreArticles": 300,
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
}

# Incremental crawls (crawler/incremental.py): stored articles are not fetched again,
# and pages that are (list pages, --refresh) are asked for with the validators
# (ETag, Last-Modified) of their copy in the HTTP cache, so an unchanged page is a 304.
SPIDER_MIDDLEWARES = {
    "crawler.incremental.SkipStoredArticles": 550,
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.incremental.CountNotModified": 950,  # below HttpCacheMiddleware (900): sees the 304s
}
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
# one SQLite file per store, HTTPCACHE_DIR/<store name>.sqlite (crawler/httpcache.py)
HTTPCACHE_STORAGE = "crawler.httpcache.SqliteCacheStorage"
# beside the default store; `newscrawl crawl` keeps it beside whichever SQLite store it fills
HTTPCACHE_DIR = os.path.abspath("data/httpcache")
# a cached page is never taken on trust: the server is always asked, and may answer 304
DEFAULT_REQUEST_HEADERS = {**SCRAPY_REQUEST_HEADERS, "Cache-Control": "max-age=0"}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
