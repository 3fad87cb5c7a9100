"""The HTTP cache in one SQLite file per store (a Scrapy HTTPCACHE_STORAGE backend).

Incremental crawls ask for pages again with the validators of their cached copy
and take that copy when the server answers 304 (crawler/incremental.py).
Scrapy's filesystem backend writes seven files per page (pickled metadata,
headers, gzipped body...); this one writes one row: status, URL, headers and
the compressed body (storage/compression.py), keyed by the request fingerprint,
in HTTPCACHE_DIR/<store name>.sqlite. Several crawls may use one store at once:
SQLite's write-ahead log and a busy timeout let them share the file; and a cache
file (or a cached body) that is lost or damaged only costs full downloads, never
a crawl.

A cached copy stands in for a page only when the server answers 304: Scrapy's
policy and middleware would also hand it out for a 5xx answer or a download
error, so a repeat crawl of a site that was down looked like a success with no
errors (RevalidateOnly, AskTheServer).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from time import time

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Response
from scrapy.utils.response import response_from_dict

from storage import database_file
from storage.compression import DecompressionError, compressed, decompressed

logger = logging.getLogger(__name__)

_SCHEMA = ("CREATE TABLE IF NOT EXISTS responses (fingerprint BLOB PRIMARY KEY, url TEXT NOT NULL, "
           "status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, stored_at REAL NOT NULL)")
_BUSY_SECONDS = 10.0


def cache_file(folder: str | Path, db_url: str | None) -> Path:
    """Where the cache of the store at db_url lives: named after the store's file."""
    store = database_file(db_url) if db_url else None
    return Path(folder) / f"{store.stem if store else 'responses'}.sqlite"


class RevalidateOnly(RFC2616Policy):
    """Scrapy's RFC 2616 policy, but only a 304 validates the cached copy: a 5xx answer is the
    page's answer (retried, then a failed page), not a reason to take the copy."""

    def is_cached_response_valid(self, cachedresponse: Response, response: Response, request: Request) -> bool:
        return response.status == 304


class AskTheServer(HttpCacheMiddleware):
    """Scrapy's HttpCacheMiddleware without its error recovery: a page whose download fails is
    retried and then failed, not replaced by its cached copy."""

    DOWNLOAD_EXCEPTIONS = ()


class SqliteCacheStorage:
    """Scrapy's cache storage interface (open_spider, close_spider, retrieve_response,
    store_response) over one SQLite file."""

    def __init__(self, settings):
        self.path = cache_file(settings["HTTPCACHE_DIR"], settings.get("NEWSCRAWL_DB"))
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.connection: sqlite3.Connection | None = None
        self._fingerprinter = None

    def open_spider(self, spider: Spider) -> None:
        self._fingerprinter = spider.crawler.request_fingerprinter
        try:
            self.connection = self._opened()
        except (OSError, sqlite3.OperationalError) as exc:  # a folder it cannot make or write
            logger.warning("cannot use the HTTP cache %s (%s): crawling without it, every page in full",
                           self.path, exc)
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one: a cache is only a cache
            logger.warning("the HTTP cache %s is damaged (%s): starting a new one", self.path, exc)
            for path in (self.path, *(self.path.with_name(self.path.name + end) for end in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
            self.connection = self._opened()

    def _opened(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: each page is written at once, so other crawls wait for the file only that long
        connection = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a cache: a power cut may lose the last pages, no more
            connection.execute(_SCHEMA)
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def close_spider(self, spider: Spider) -> None:
        if self.connection is not None:
            self.connection.close()

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        if self.connection is None:
            return None
        try:
            row = self.connection.execute(
                "SELECT url, status, headers, body, stored_at FROM responses WHERE fingerprint = ?",
                (self._fingerprinter.fingerprint(request),)).fetchone()
        except sqlite3.Error as exc:  # the page is fetched in full
            logger.warning("HTTP cache %s unreadable for %s: %s", self.path, request.url, exc)
            return None
        if row is None:
            return None
        url, status, headers, body, stored_at = row
        if 0 < self.expiration_secs < time() - stored_at:
            return None
        try:
            body = decompressed(body)
        except DecompressionError as exc:  # a damaged row: the page is fetched in full
            logger.warning("HTTP cache %s has a damaged body for %s: %s", self.path, request.url, exc)
            return None
        request.meta["cache_timestamp"] = stored_at
        return response_from_dict({"url": url, "status": status, "body": body,
                                   "headers": {name.encode("latin-1"): [value.encode("latin-1") for value in values]
                                               for name, values in json.loads(headers).items()}})

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        if self.connection is None:
            return
        headers = {name.decode("latin-1"): [value.decode("latin-1") for value in values]
                   for name, values in response.headers.items()}
        try:
            self._insert(request, response, headers)
        except sqlite3.Error as exc:  # the next crawl fetches this page in full
            logger.warning("HTTP cache %s not written for %s: %s", self.path, response.url, exc)

    def _insert(self, request: Request, response: Response, headers: dict) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO responses (fingerprint, url, status, headers, body, stored_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self._fingerprinter.fingerprint(request), response.url, response.status, json.dumps(headers),
             compressed(response.body), time()))

