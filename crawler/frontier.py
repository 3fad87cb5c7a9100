"""A shared frontier: one site crawled by workers on any number of machines, on scrapy-redis.

scrapy-redis's Scheduler and RFPDupeFilter keep the queue of requests and the fingerprints of
those seen in Redis; every worker takes its next request from there. They need no shim on
Scrapy 2.19: we use them by settings alone (not its RedisSpider mixin, whose start_requests
Scrapy 2.16 removed). The glue, here (joining a crawl, a worker's settings) and in
crawler/frontier_worker.py (the worker's Scrapy components):

- a frontier key per crawl: the first worker of a crawl of a site makes a crawl id (its lease,
  ``newscrawl:frontier:SITE``, is kept alive by the workers) and seeds the start requests; the
  workers that join take its id, so their requests go to its queue and fingerprints, and seed
  nothing. The last worker to leave deletes the crawl's keys: the next (incremental) crawl
  starts fresh, and articles stored already are skipped through the store as always;
- workers stay while any of them has work (requests in its downloader or its scraper, a
  non-empty queue), and all stop once the queue has been empty and every worker idle for
  NEWSCRAWL_FRONTIER_IDLE seconds;
- one crawl-run record, made by the first worker, which every worker heartbeats and adds its
  counts to when it stops; the last one gives it its outcome (finished only when every worker
  finished);
- a frontier that goes away fails each worker's crawl, which keeps what it stored.

Politeness: each worker keeps DOWNLOAD_DELAY and CONCURRENT_REQUESTS_PER_DOMAIN to itself, so a
site sees up to that many workers times as many requests: raise DOWNLOAD_DELAY by the number of
workers to keep the load of one crawl.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

from scrapy.settings import SETTINGS_PRIORITIES

from storage import Store
from storage.reader import shown_url

log = logging.getLogger("newscrawl.frontier")

LEASE = 60  # seconds a crawl's id outlives its last worker's heartbeat (a crashed crawl frees its site)
HEARTBEAT = 1.0  # seconds between a worker's reports of its own work
BUSY = 3 * HEARTBEAT  # a worker's report of work is believed for this long
JOIN_TIMEOUT = 30  # seconds a joining worker waits for the first to record the crawl run


class FrontierError(Exception):
    """Redis cannot be used for the frontier; the message says why in one line."""


@dataclass(frozen=True)
class FrontierCrawl:
    redis_url: str
    site: str
    crawl_id: str
    run_id: int
    seeds: bool  # whether this worker started the crawl, and so yields its start requests
    worker: str

    @property
    def prefix(self) -> str:
        return f"newscrawl:frontier:{self.site}:{self.crawl_id}"

    def settings(self) -> dict:
        """The Scrapy settings of a worker of this crawl."""
        return {
            "SCHEDULER": "crawler.frontier_worker.FrontierScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,  # the queue outlives a worker that stops: the others go on
            "SCHEDULER_QUEUE_KEY": f"{self.prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{self.prefix}:dupefilter",
            "REDIS_URL": self.redis_url,
            "NEWSCRAWL_FRONTIER_CRAWL": self,
        }


def lease_key(site: str) -> str:
    return f"newscrawl:frontier:{site}"


def redis_client(url: str):
    try:
        import redis
    except ModuleNotFoundError:
        raise FrontierError("--frontier needs scrapy-redis: pip install 'newscrawl[frontier]'") from None
    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=10)
        client.ping()
    except ValueError as exc:
        raise FrontierError(f"not a Redis URL: {shown_url(url)!r} ({exc})") from None
    except redis.RedisError as exc:
        raise FrontierError(f"cannot reach the frontier at {shown_url(url)}: {exc}") from None
    return client


def join(redis_url: str, site: str, db_url: str) -> FrontierCrawl:
    """Join the running crawl of site in the frontier at redis_url, or start one (recording its
    run in the store at db_url). Raises FrontierError when Redis cannot be used."""
    if importlib.util.find_spec("scrapy_redis") is None:  # the scheduler the settings name
        raise FrontierError("--frontier needs scrapy-redis: pip install 'newscrawl[frontier]'")
    client = redis_client(redis_url)
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    deadline = time.monotonic() + JOIN_TIMEOUT
    while time.monotonic() < deadline:
        crawl_id = uuid.uuid4().hex[:12]
        if client.set(lease_key(site), crawl_id, nx=True, ex=LEASE):
            store = Store(db_url)
            try:
                run_id = store.start_run(site, shared=True)
            finally:
                store.close()
            crawl = FrontierCrawl(redis_url, site, crawl_id, run_id, True, worker)
            client.set(f"{crawl.prefix}:run", run_id, ex=LEASE)
            client.sadd(f"{crawl.prefix}:workers", worker)
            return crawl
        crawl_id = client.get(lease_key(site))
        run_id = crawl_id and client.get(f"newscrawl:frontier:{site}:{crawl_id}:run")
        if run_id:
            crawl = FrontierCrawl(redis_url, site, crawl_id, int(run_id), False, worker)
            client.sadd(f"{crawl.prefix}:workers", worker)
            return crawl
        time.sleep(0.2)  # the first worker is recording its run
    raise FrontierError(f"the crawl of {site} in the frontier at {shown_url(redis_url)} did not record its run "
                        f"within {JOIN_TIMEOUT} s")


def use_frontier(settings, crawl: FrontierCrawl) -> None:
    """Make the crawl a worker of a shared frontier crawl."""
    for name, value in crawl.settings().items():
        settings.set(name, value, priority="cmdline")
    extensions = settings.getdict("EXTENSIONS")
    extensions.update({"crawler.extensions.CrawlRunRecorder": None, "crawler.frontier_worker.FrontierWorker": 500})
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    # A worker takes from the shared queue only what it can download now: what waits in its own
    # downloader (for the politeness delay) is work the other workers cannot take.
    if settings.getpriority("CONCURRENT_REQUESTS") < SETTINGS_PRIORITIES["cmdline"]:
        settings.set("CONCURRENT_REQUESTS", settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), priority="cmdline")
    middlewares = settings.getdict("SPIDER_MIDDLEWARES")
    middlewares["crawler.frontier_worker.SeedOnce"] = 10
    settings.set("SPIDER_MIDDLEWARES", middlewares, priority="cmdline")
