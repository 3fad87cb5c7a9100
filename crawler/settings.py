"""Scrapy settings for newscrawl: polite by default.

Two environment variables override the defaults without code:
NEWSCRAWL_DB (any SQLAlchemy URL) and NEWSCRAWL_CONTACT (an e-mail or URL
where site owners can reach whoever runs the crawl; it goes in the User-Agent).
"""

import os

from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS as SCRAPY_REQUEST_HEADERS

from crawler import __version__

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# the spider modules' sites, and the [sites.NAME] entries of a sites file (crawler/sites.py);
# a relative path is taken from the working directory, and a missing file has no sites
SPIDER_LOADER_CLASS = "crawler.sites.SiteLoader"
NEWSCRAWL_SITES_FILE = "sites.toml"

NEWSCRAWL_DB = os.environ.get("NEWSCRAWL_DB", "sqlite:///data/articles.db")
NEWSCRAWL_CONTACT = os.environ.get("NEWSCRAWL_CONTACT", "https://github.com/newscrawl/newscrawl")
USER_AGENT = f"newscrawl/{__version__} (+{NEWSCRAWL_CONTACT})"

# Two articles are near-duplicates (one story, reprinted) when at least this share of their
# shingles (runs of 5 words, or of 5 Chinese characters) is common to both, their Jaccard
# similarity, and no number differs between them (storage/near_duplicates.py).
NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD = 0.5

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
HTTPCACHE_GZIP = True
# beside the default store; `newscrawl crawl` keeps it beside whichever SQLite store it fills
HTTPCACHE_DIR = os.path.abspath("data/httpcache")
# a cached page is never taken on trust: the server is always asked, and may answer 304
DEFAULT_REQUEST_HEADERS = {**SCRAPY_REQUEST_HEADERS, "Cache-Control": "max-age=0"}

# `newscrawl crawl SITE --frontier redis://…` (crawler/frontier.py): the workers of a shared crawl
# all stop once its queue has been empty, and every worker idle, for this many seconds.
NEWSCRAWL_FRONTIER_IDLE = 30.0

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
