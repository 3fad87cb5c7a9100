"""A shared frontier: one site crawled by workers on any number of machines, on scrapy-redis.

scrapy-redis's Scheduler and RFPDupeFilter keep the queue of requests and the fingerprints of
those seen in Redis; every worker takes its next request from there. They need no shim on
Scrapy 2.19: we use them by settings alone (not its RedisSpider mixin, whose start_requests
Scrapy 2.16 removed). The glue here:

- a frontier key per crawl: the first worker of a crawl of a site makes a crawl id (its lease,
  ``newscrawl:frontier:SITE``, is kept alive by the workers) and seeds the start requests; the
  workers that join take its id, so their requests go to its queue and fingerprints, and seed
  nothing. The last worker to leave deletes the crawl's keys: the next (incremental) crawl
  starts fresh, and articles stored already are skipped through the store as always;
- workers stay while any of them has work (requests in its downloader or its scraper, a
  non-empty queue), and all stop once the queue has been empty and every worker idle for
  NEWSCRAWL_FRONTIER_IDLE seconds;
- one crawl-run record, made by the first worker, to which every worker adds its counts when
  it stops; the last one gives it its outcome (finished only when every worker finished).

Politeness: each worker keeps DOWNLOAD_DELAY and CONCURRENT_REQUESTS_PER_DOMAIN to itself, so a
site sees up to that many workers times as many requests: raise DOWNLOAD_DELAY by the number of
workers to keep the load of one crawl.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES
from twisted.internet import task

from crawler.errors import errors_by_kind
from crawler.extensions import run_counts
from crawler.outcomes import JOINED, crawl_outcome
from storage import RunCounts, Store, StoreError
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
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,  # the queue outlives a worker that stops: the others go on
            "SCHEDULER_QUEUE_KEY": f"{self.prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{self.prefix}:dupefilter",
            "REDIS_URL": self.redis_url,
            "NEWSCRAWL_FRONTIER_CRAWL": self,
        }


def _lease_key(site: str) -> str:
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
        if client.set(_lease_key(site), crawl_id, nx=True, ex=LEASE):
            store = Store(db_url)
            try:
                run_id = store.start_run(site, shared=True)
            finally:
                store.close()
            crawl = FrontierCrawl(redis_url, site, crawl_id, run_id, True, worker)
            client.set(f"{crawl.prefix}:run", run_id, ex=LEASE)
            client.sadd(f"{crawl.prefix}:workers", worker)
            return crawl
        crawl_id = client.get(_lease_key(site))
        run_id = crawl_id and client.get(f"newscrawl:frontier:{site}:{crawl_id}:run")
        if run_id:
            crawl = FrontierCrawl(redis_url, site, crawl_id, int(run_id), False, worker)
            client.sadd(f"{crawl.prefix}:workers", worker)
            return crawl
        time.sleep(0.2)  # the first worker is recording its run
    raise FrontierError(f"the crawl of {site} in the frontier at {shown_url(redis_url)} did not record its run "
                        f"within {JOIN_TIMEOUT} s")


class SeedOnce:
    """Spider middleware: only the worker that started the crawl yields the start requests
    (they skip the duplicate filter, so every worker's would all be fetched)."""

    def __init__(self, crawl: FrontierCrawl, stats):
        self.crawl = crawl
        if not crawl.seeds:  # its outcome does not hang on start pages it never asks for
            stats.set_value(JOINED, True)

    @classmethod
    def from_crawler(cls, crawler):
        crawl = crawler.settings.get("NEWSCRAWL_FRONTIER_CRAWL")
        if crawl is None:
            raise NotConfigured("not a frontier crawl")
        return cls(crawl, crawler.stats)

    async def process_start(self, start):
        if self.crawl.seeds:
            async for request in start:
                yield request


class FrontierWorker:
    """Extension: keeps a worker alive while the crawl has work anywhere, heartbeats the shared
    crawl run (every NEWSCRAWL_HEARTBEAT seconds, so that it is not taken for dead while any
    worker works), and adds its counts to the run when it stops (in place of CrawlRunRecorder)."""

    def __init__(self, crawler, crawl: FrontierCrawl, idle: float):
        self.crawler = crawler
        self.crawl = crawl
        self.idle = idle
        self.client = redis_client(crawl.redis_url)
        self.heartbeat = task.LoopingCall(self.report)
        self.run_beat = task.LoopingCall(self.beat_run)

    @classmethod
    def from_crawler(cls, crawler):
        crawl = crawler.settings.get("NEWSCRAWL_FRONTIER_CRAWL")
        if crawl is None:
            raise NotConfigured("not a frontier crawl")
        extension = cls(crawler, crawl, crawler.settings.getfloat("NEWSCRAWL_FRONTIER_IDLE"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        self.crawler.stats.set_value("newscrawl/run_id", self.crawl.run_id)  # StoreArticles files fetches under it
        self.report()
        self.heartbeat.start(HEARTBEAT, now=False)
        self.run_beat.start(self.crawler.settings.getfloat("NEWSCRAWL_HEARTBEAT"), now=False)

    def beat_run(self) -> None:
        store = None
        try:
            store = Store(self.crawler.settings["NEWSCRAWL_DB"])
            store.heartbeat(self.crawl.run_id)
        except StoreError as exc:  # the crawl goes on; the pipeline stops it if articles cannot be stored
            log.warning("%s", exc)
        finally:
            if store:
                store.close()

    def report(self) -> None:
        """Keep the crawl's lease, and say whether this worker has work."""
        prefix = self.crawl.prefix
        pipe = self.client.pipeline()
        pipe.expire(_lease_key(self.crawl.site), LEASE)
        pipe.expire(f"{prefix}:run", LEASE)
        engine = self.crawler.engine
        if not engine.spider_is_idle():
            pipe.set(f"{prefix}:busy:{self.crawl.worker}", 1, px=int(BUSY * 1000))
            pipe.set(f"{prefix}:activity", time.time())
        pipe.execute()
        # An idle engine asks its scheduler for requests only at its own heartbeat, every 5 s; a
        # worker with nothing in flight asks now, so that requests other workers queued start at once.
        slot = getattr(engine, "_slot", None)
        if slot is not None and not engine.downloader.active and engine.scheduler.has_pending_requests():
            slot.nextcall.schedule()

    def spider_idle(self, spider) -> None:
        prefix = self.crawl.prefix
        others_busy = any(key != f"{prefix}:busy:{self.crawl.worker}"
                          for key in self.client.scan_iter(f"{prefix}:busy:*"))
        queued = self.client.zcard(f"{prefix}:requests")
        last_activity = float(self.client.get(f"{prefix}:activity") or 0)
        if others_busy or queued or time.time() - last_activity < self.idle:
            raise DontCloseSpider  # the engine asks again at its next heartbeat (5 s)

    def spider_closed(self, spider, reason: str) -> None:
        for beat in (self.heartbeat, self.run_beat):
            if beat.running:
                beat.stop()
        prefix = self.crawl.prefix
        store = Store(self.crawler.settings["NEWSCRAWL_DB"])
        try:
            stats = self.crawler.stats.get_stats()
            outcome = crawl_outcome(reason, stats)
            store.add_to_run(self.crawl.run_id, run_counts(stats), errors_by_kind=errors_by_kind(stats),
                             warnings=outcome.warnings)
            if outcome.status != "finished":  # the shared run ends as its first worker that did not finish
                self.client.rpush(f"{prefix}:failures", json.dumps([outcome.status, outcome.error]))
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(f"{prefix}:busy:{self.crawl.worker}")
            pipe.srem(f"{prefix}:workers", self.crawl.worker)
            pipe.scard(f"{prefix}:workers")
            remaining = pipe.execute()[-1]
            if remaining == 0:  # the last worker out ends the run and clears the crawl's keys
                failures = self.client.lrange(f"{prefix}:failures", 0, 0)
                status, error = json.loads(failures[0]) if failures else ("finished", None)
                store.add_to_run(self.crawl.run_id, RunCounts(), status=status, error=error)
                keys = list(self.client.scan_iter(f"{prefix}:*"))
                if self.client.get(_lease_key(self.crawl.site)) == self.crawl.crawl_id:
                    keys.append(_lease_key(self.crawl.site))
                self.client.delete(*keys)
                log.info("frontier crawl %s of %s ended: %s", self.crawl.crawl_id, self.crawl.site, status)
        finally:
            store.close()


def use_frontier(settings, crawl: FrontierCrawl) -> None:
    """Make the crawl a worker of a shared frontier crawl."""
    for name, value in crawl.settings().items():
        settings.set(name, value, priority="cmdline")
    extensions = settings.getdict("EXTENSIONS")
    extensions.update({"crawler.extensions.CrawlRunRecorder": None, "crawler.frontier.FrontierWorker": 500})
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    # A worker takes from the shared queue only what it can download now: what waits in its own
    # downloader (for the politeness delay) is work the other workers cannot take.
    if settings.getpriority("CONCURRENT_REQUESTS") < SETTINGS_PRIORITIES["cmdline"]:
        settings.set("CONCURRENT_REQUESTS", settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), priority="cmdline")
    middlewares = settings.getdict("SPIDER_MIDDLEWARES")
    middlewares["crawler.frontier.SeedOnce"] = 10
    settings.set("SPIDER_MIDDLEWARES", middlewares, priority="cmdline")
