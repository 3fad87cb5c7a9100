"""Extraction off the reactor: worker processes turn HTML into an article and its fingerprint.

Extraction and the near-duplicate fingerprint are most of a crawl's CPU and are
pure functions of the page, so they run in a pool of worker processes, one per
core by default (setting NEWSCRAWL_EXTRACT_WORKERS; 0 runs them in the crawl's
own process). The reactor's thread only downloads, schedules and writes.

Pages travel to the workers in batches: a message costs the two processes about
0.1 ms of CPU, so a 10 KB page sent alone costs them 0.12 ms, and 0.03 ms in a
batch of eight. A batch leaves at once while fewer than BATCHES_PER_WORKER are
out per worker (so a page is never held back while a worker is idle, and a worker
never waits for the reactor between two); otherwise the pages that come meanwhile
wait and leave together, MAX_BATCH_PAGES at most.

In a worker, one article's extraction may take NEWSCRAWL_EXTRACT_SECONDS at most
(a SIGALRM timer): a hostile page within DOWNLOAD_MAXSIZE can keep trafilatura
busy for minutes (200,000 links: two), and the pages behind it would wait. Such a
page fails as extraction does.

Workers are forked from the crawl when the first article comes (a crawl that
finds none starts no process), so they share its imported code. They ignore
SIGINT, and SIGTERM from anyone but the crawl, so that Ctrl-C, systemd's stop or
`timeout` reach the crawl alone, which finishes its items and then shuts the pool
down; and they exit by themselves when the crawl dies without doing so (kill -9,
the OOM killer), rather than outlive it.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer

from crawler.extract import Article, SiteRules, extract_pages
from crawler.forked_pool import exit_when_orphaned, forked_pool
from storage.near_duplicates import band_keys

# What a page yields: its article, and the near-duplicate index's (band, bucket) keys of its text.
Extracted = tuple[Article, tuple[tuple[int, str], ...]]
Call = tuple[list[str], str, SiteRules]  # extract_page's arguments
BATCHES_PER_WORKER = 2  # one being extracted, the next waiting in its pipe
MAX_BATCH_PAGES = 16


class ExtractionFailed(Exception):
    """Extraction raised on a page; the message is its reason. (What extraction raises, lxml's
    errors among them, cannot always cross from a worker process: this always can.)"""


def extract_article(pages: list[str], url: str, rules: SiteRules) -> Article:
    """An article's pages (HTML; more than one when it is split over pages) -> its Article;
    ExtractionFailed on a page extraction cannot read."""
    try:
        return extract_pages(pages, url, rules)
    except Exception as exc:
        raise ExtractionFailed(str(exc) or type(exc).__name__) from None


def extract_page(pages: list[str], url: str, rules: SiteRules) -> Extracted:
    """An article's pages -> (Article, band keys); ExtractionFailed on a page extraction cannot read."""
    article = extract_article(pages, url, rules)
    return article, tuple(band_keys(article.text))


def extract_batch(calls: list[Call]) -> list[Extracted | Exception]:
    """extract_page() of each call, in order; a page's exception is returned in its place, so
    that it fails alone."""
    outcomes = []
    for pages, url, rules in calls:
        try:
            with _time_limit(_page_seconds):
                outcome = extract_page(pages, url, rules)
        except Exception as exc:  # the limit's too: it may come as the page's extraction ends
            outcome = exc
        outcomes.append(outcome)
    return outcomes


_page_seconds = 0.0  # in a worker, how long one article's extraction may take (0: no limit)


@contextmanager
def _time_limit(seconds: float):
    """ExtractionFailed in the block once it has run for `seconds` (a SIGALRM timer: the main thread
    of a worker process only; none when 0)."""
    if seconds <= 0:
        yield
        return

    def too_long(signum, frame):
        raise ExtractionFailed(f"extraction took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def worker_count(setting, writer_process: bool = False) -> int:
    """The number of workers NEWSCRAWL_EXTRACT_WORKERS asks for: empty (or unset) means one per
    core this process may run on, less one for the store's writer process when there is one
    (measured on 2 cores: one worker beside the writer is faster than two, and 30 MB lighter);
    ValueError, saying so, for anything but a whole number >= 0."""
    if setting in (None, ""):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(cores - writer_process, 1)
    if isinstance(setting, int) or str(setting).strip().isdigit():
        return int(setting)
    raise ValueError(f"NEWSCRAWL_EXTRACT_WORKERS is a number of processes (0: none), not {setting!r}")


class BatchQueue:
    """When pages leave for the workers, and with which others: at once while fewer than
    `most_out` batches are out, else together with those that come meanwhile, once one is
    done (MAX_BATCH_PAGES a batch at most). Entries are anything; batches keep their order."""

    def __init__(self, most_out: int):
        self.most_out = most_out
        self.waiting: list = []
        self.out = 0

    def add(self, entry) -> list[list]:
        """Adds a page; returns the batches to send now."""
        self.waiting.append(entry)
        return self._leaving()

    def done(self) -> list[list]:
        """One batch is back (or failed to leave); returns the batches to send now."""
        self.out -= 1
        return self._leaving()

    def drain(self) -> list:
        """The pages still waiting, which will not leave."""
        waiting, self.waiting = self.waiting, []
        return waiting

    def _leaving(self) -> list[list]:
        batches = []
        while self.waiting and self.out < self.most_out:
            batches.append(self.waiting[:MAX_BATCH_PAGES])
            del self.waiting[:MAX_BATCH_PAGES]
            self.out += 1
        return batches


class ExtractionPool:
    """extract_page() in `workers` processes (in-process when 0), awaited from the reactor."""

    def __init__(self, workers: int, page_seconds: float = 0.0):
        if workers < 0:
            raise ValueError(f"NEWSCRAWL_EXTRACT_WORKERS is a number of processes (0: none), not {workers!r}")
        self.workers = workers
        self.page_seconds = page_seconds  # in the workers: NEWSCRAWL_EXTRACT_SECONDS
        self._executor: ProcessPoolExecutor | None = None
        self._queue = BatchQueue(BATCHES_PER_WORKER * workers)  # of (Call, its result's Deferred)

    async def extract(self, pages: list[str], url: str, rules: SiteRules) -> Extracted:
        """The page's (Article, band keys); ExtractionFailed when extraction raised, BrokenProcessPool
        when the worker died, OSError when none could be forked."""
        if not self.workers:
            return extract_page(pages, url, rules)
        result = defer.Deferred()
        self._send(self._queue.add(((pages, url, rules), result)))
        return await maybe_deferred_to_future(result)

    def _send(self, batches: list[list[tuple[Call, defer.Deferred]]]) -> None:
        from twisted.internet import reactor  # the one Scrapy installed: importing it earlier would install another

        while batches:
            batch = batches.pop(0)
            try:
                if self._executor is None:
                    self._executor = forked_pool(self.workers, _start_worker, (os.getpid(), self.page_seconds))
                executor = self._executor
                future = executor.submit(extract_batch, [call for call, _ in batch])
            # A worker died earlier (BrokenProcessPool), or none could be forked (OSError: the
            # process limit, memory): the batch fails, its place is given back, a new pool takes
            # the next. Left out, it would keep its place for good, and the crawl would wait forever.
            except Exception as exc:
                if self._executor is not None:
                    self._drop(self._executor)
                _answer(batch, [exc] * len(batch))
                batches += self._queue.done()
                continue
            future.add_done_callback(lambda done, batch=batch, executor=executor: reactor.callFromThread(
                self._batch_done, done, batch, executor))

    def _batch_done(self, done: Future, batch: list[tuple[Call, defer.Deferred]], executor) -> None:
        try:
            outcomes = done.result()
        except CancelledError:  # the pool was shut down first
            outcomes = None
        except BrokenProcessPool as exc:  # a worker died (killed, out of memory): its pages fail, a new pool takes the next
            self._drop(executor)
            outcomes = [exc] * len(batch)
        except Exception as exc:  # the batch's answer could not cross from the worker
            outcomes = [exc] * len(batch)
        _answer(batch, outcomes)
        self._send(self._queue.done())

    def _drop(self, executor: ProcessPoolExecutor) -> None:
        if self._executor is executor:
            self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Waits for the pages being extracted, drops those not started, stops the workers."""
        _answer(self._queue.drain(), None)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _answer(batch: list[tuple[Call, defer.Deferred]], outcomes: list | None) -> None:
    """Fires each page's result with its outcome (an exception: its errback); cancels them all
    when there are no outcomes."""
    for index, (_, result) in enumerate(batch):
        if outcomes is None:
            result.cancel()
        elif isinstance(outcomes[index], BaseException):
            result.errback(outcomes[index])
        else:
            result.callback(outcomes[index])


def deferred_from_future(future: Future) -> defer.Deferred:
    """A Deferred fired in the reactor's thread with the (concurrent.futures) future's result, or
    its exception; the future may run in any thread or process."""
    from twisted.internet import reactor  # the one Scrapy installed: importing it earlier would install another

    deferred = defer.Deferred()

    def done(finished: Future) -> None:
        if finished.cancelled():
            reactor.callFromThread(deferred.cancel)
        elif finished.exception() is not None:
            reactor.callFromThread(deferred.errback, finished.exception())
        else:
            reactor.callFromThread(deferred.callback, finished.result())

    future.add_done_callback(done)
    return deferred


def _start_worker(crawl_pid: int, page_seconds: float = 0.0) -> None:
    """In a new worker: leave the crawl's signals to the crawl, end with it, and give each
    article's extraction page_seconds at most."""
    global _page_seconds
    _page_seconds = page_seconds
    signal.set_wakeup_fd(-1)  # the crawl's event loop listens on that one
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "sigwaitinfo"):  # not on macOS, where any SIGTERM ends a worker
        # SIGTERM is taken by a thread of its own, which needs it blocked in every thread (they
        # inherit this mask). Taken rather than handled: a handler cannot tell who sent it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        threading.Thread(target=_end_on_sigterm_from, args=(crawl_pid,), daemon=True).start()
    else:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    exit_when_orphaned(crawl_pid)


def _end_on_sigterm_from(crawl_pid: int) -> None:
    """Ends the worker on a SIGTERM the crawl sends (its pool ending the workers of a broken pool,
    which it then waits for); ignores one from anyone else. systemd's stop and `timeout` signal
    the crawl's whole process group: the crawl, told too, shuts the pool down once the workers have
    extracted the pages they hold, which would otherwise die with them and be counted as failed."""
    while True:
        if signal.sigwaitinfo({signal.SIGTERM}).si_pid == crawl_pid:
            os._exit(128 + signal.SIGTERM)
