"""The Scrapy components of a frontier worker (crawler/frontier.py joins the crawl and sets
them): its scheduler, the middleware that seeds the crawl once, and the extension that keeps
the worker in the crawl and the crawl's run up to date. Its own module, as scrapy-redis and
redis are an optional extra that only frontier crawls import.

A frontier that goes away (Redis stopped, the network lost) fails the worker's crawl
(crawler/outcomes.py: FRONTIER_ERROR): it asks for no more requests, lets those in flight
finish and be stored, and closes. (scrapy-redis lets Redis's errors through: raised in Scrapy's
engine loop, each ended the call that asked for the next request, and the crawl waited for ever.)
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from functools import cached_property

from redis import RedisError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured, ScrapyDeprecationWarning
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.errors import errors_by_kind
from crawler.extensions import run_counts
from crawler.frontier import BUSY, HEARTBEAT, LEASE, FrontierCrawl, lease_key, redis_client
from crawler.outcomes import FRONTIER_ERROR, FRONTIER_FAILED, JOINED, crawl_outcome
from storage import RunCounts, Store, StoreError
from storage.reader import shown_url

log = logging.getLogger("newscrawl.frontier")

# scrapy-redis 0.9 passes the spider to Scrapy's stats calls, which Scrapy 2.19 deprecates: two
# warnings in every worker's log that no user can act on.
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")


def lose_frontier(crawler, exc: Exception, *, closing: bool = False) -> str:
    """The frontier cannot be used: fail the crawl with the first error, and close it (unless
    closing already). Returns the crawl's error."""
    if crawler.stats.get_value(FRONTIER_ERROR) is None:
        error = f"lost the frontier at {shown_url(crawler.settings['REDIS_URL'])}: {exc}"
        crawler.stats.set_value(FRONTIER_ERROR, error)
        log.error("%s", error)
        if not closing:
            deferred_from_coro(crawler.engine.close_spider_async(reason=FRONTIER_FAILED))
    return crawler.stats.get_value(FRONTIER_ERROR)


class FrontierScheduler(Scheduler):
    """Scheduler that, once the frontier is lost, queues nothing and has nothing to give."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def _unless_lost(self, call, otherwise, *args):
        if self.crawler.stats.get_value(FRONTIER_ERROR) is not None:
            return otherwise
        try:
            return call(*args)
        except RedisError as exc:
            lose_frontier(self.crawler, exc)
            return otherwise

    def enqueue_request(self, request) -> bool:
        return self._unless_lost(super().enqueue_request, False, request)

    def next_request(self):
        return self._unless_lost(super().next_request, None)

    def has_pending_requests(self) -> bool:
        return self._unless_lost(super().has_pending_requests, False)

    def close(self, reason) -> None:
        self._unless_lost(super().close, None, reason)


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

    @cached_property
    def store(self) -> Store:
        """The store, opened at the first heartbeat and kept until the worker stops (opened again
        at the next use while it cannot be)."""
        return Store(self.crawler.settings["NEWSCRAWL_DB"])

    def beat_run(self) -> None:
        try:
            self.store.heartbeat(self.crawl.run_id)
        except StoreError as exc:  # the crawl goes on; the pipeline stops it if articles cannot be stored
            log.warning("%s", exc)

    def report(self) -> None:
        """Keep the crawl's lease, and say whether this worker has work."""
        try:
            self._report()
        except RedisError as exc:
            lose_frontier(self.crawler, exc)

    def _report(self) -> None:
        if self.crawler.stats.get_value(FRONTIER_ERROR) is not None:
            return
        prefix = self.crawl.prefix
        pipe = self.client.pipeline()
        pipe.expire(lease_key(self.crawl.site), LEASE)
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
        if self.crawler.stats.get_value(FRONTIER_ERROR) is not None:
            return
        prefix = self.crawl.prefix
        try:
            others_busy = any(key != f"{prefix}:busy:{self.crawl.worker}"
                              for key in self.client.scan_iter(f"{prefix}:busy:*"))
            queued = self.client.zcard(f"{prefix}:requests")
            last_activity = float(self.client.get(f"{prefix}:activity") or 0)
        except RedisError as exc:
            lose_frontier(self.crawler, exc)
            return
        if others_busy or queued or time.time() - last_activity < self.idle:
            raise DontCloseSpider  # the engine asks again at its next heartbeat (5 s)

    def spider_closed(self, spider, reason: str) -> None:
        for beat in (self.heartbeat, self.run_beat):
            if beat.running:
                beat.stop()
        try:
            stats = self.crawler.stats.get_stats()
            outcome = crawl_outcome(reason, stats)
            self.store.add_to_run(self.crawl.run_id, run_counts(stats), errors_by_kind=errors_by_kind(stats),
                                  warnings=outcome.warnings)
            try:
                ending = self._leave(outcome)
            except RedisError as exc:  # no worker can tell it is the last: the run ends as this one
                error = lose_frontier(self.crawler, exc, closing=True)
                ending = (outcome.status, outcome.error) if outcome.status != "finished" else ("failed", error)
            if ending:
                self.store.add_to_run(self.crawl.run_id, RunCounts(), status=ending[0], error=ending[1])
        finally:
            if "store" in vars(self):  # opened
                self.store.close()

    def _leave(self, outcome) -> tuple[str, str | None] | None:
        """Leave the crawl; the last worker out clears its keys and returns how its run ends (as
        its first worker that did not finish), the others None."""
        prefix = self.crawl.prefix
        if outcome.status != "finished":
            self.client.rpush(f"{prefix}:failures", json.dumps([outcome.status, outcome.error]))
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(f"{prefix}:busy:{self.crawl.worker}")
        pipe.srem(f"{prefix}:workers", self.crawl.worker)
        pipe.scard(f"{prefix}:workers")
        if pipe.execute()[-1]:
            return None
        failures = self.client.lrange(f"{prefix}:failures", 0, 0)
        status, error = json.loads(failures[0]) if failures else ("finished", None)
        keys = list(self.client.scan_iter(f"{prefix}:*"))
        if self.client.get(lease_key(self.crawl.site)) == self.crawl.crawl_id:
            keys.append(lease_key(self.crawl.site))
        self.client.delete(*keys)
        log.info("frontier crawl %s of %s ended: %s", self.crawl.crawl_id, self.crawl.site, status)
        return status, error
