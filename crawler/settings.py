"""Scrapy settings for newscrawl: polite by default.

Two environment variables override the defaults without code:
NEWSCRAWL_DB (any SQLAlchemy URL) and NEWSCRAWL_CONTACT (an e-mail or URL
where site owners can reach whoever runs the crawl; it goes in the User-Agent).
"""

import os

from crawler import __version__

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

NEWSCRAWL_DB = os.environ.get("NEWSCRAWL_DB", "sqlite:///data/articles.db")
NEWSCRAWL_CONTACT = os.environ.get("NEWSCRAWL_CONTACT", "https://github.com/newscrawl/newscrawl")
USER_AGENT = f"newscrawl/{__version__} (+{NEWSCRAWL_CONTACT})"

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

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
