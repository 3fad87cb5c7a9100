"""The store's writes off the reactor: one process of its own writes the crawl's batches.

Most of a batch's work is the database's own (the full-text indexes, B-trees, the commit),
and it was a third of the CPU of the crawl's own process. A thread cannot take it off the
reactor's thread: SQLite takes the GIL back for every row and every call of the search
index's SQL function, and the reactor's thread, always busy, gives the GIL up only every
few milliseconds (a writer thread measured three times slower than writing in the reactor's
thread). So StoreArticles hands each batch to a writer process that owns a Store, and counts
what comes back.

The writer is forked from the crawl when the pipeline opens, before the extraction workers
and their threads, and opens a Store of its own: SQLite allows that in a child process, never
the use of a parent's connection. It ignores SIGINT and SIGTERM, so that they reach the crawl
alone, which writes its last batch and then stops the writer; and it exits by itself, after
the batch it is writing, when the crawl dies without stopping it (kill -9).
With NEWSCRAWL_WRITER_PROCESS off, batches are written in the crawl's own process.
"""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from crawler.forked_pool import exit_when_orphaned, forked_pool
from storage import ArticleRecord, FailedPageRecord, Saved, Store, StoreError

Aliases = list[tuple[str, set[str]]]  # (an article's canonical URL, the other URLs that led to it)


@dataclass
class BatchWritten:
    """What became of a batch: its articles' outcomes, in order (None: they could not be
    written), and the messages of the store's errors."""

    saved: list[Saved] | None = None
    errors: list[str] = field(default_factory=list)


def write_batch(store: Store, records: list[ArticleRecord], failed_pages: list[FailedPageRecord],
                aliases: Aliases, run_id: int | None) -> BatchWritten:
    """Writes the failed pages (first: an article stored in the same batch forgets its failure),
    the articles, then their aliases, each in a transaction of its own. Store errors (a full
    disk, a read-only file, a store locked too long) are returned, not raised."""
    written = BatchWritten()
    try:
        if failed_pages:
            store.keep_failed_pages(failed_pages, run_id=run_id)
    except (StoreError, SQLAlchemyError) as exc:  # counted as failed already; a refetch brings them back
        written.errors.append(_message(exc))
    if not records:
        return written
    try:
        written.saved = store.save_articles(records, run_id)
    except (StoreError, SQLAlchemyError) as exc:
        written.errors.append(_message(exc))
        return written
    try:
        for url, others in aliases:
            store.add_aliases(url, others)
    except (StoreError, SQLAlchemyError) as exc:  # the articles are stored; their aliases come with a refetch
        written.errors.append(_message(exc))
    return written


class StoreWriter:
    """write_batch() on the store at db_url, in a writer process (or in this one, when
    in_process): each batch in the order given, its BatchWritten as a Future."""

    def __init__(self, db_url: str, near_duplicate_threshold: float, in_process: bool = False):
        self._store: Store | None = None
        self._executor: ProcessPoolExecutor | None = None
        self.pid: Future | None = None
        if in_process:
            self._store = Store(db_url, near_duplicate_threshold=near_duplicate_threshold)
        else:
            self._executor = forked_pool(1, _start_writer, (db_url, near_duplicate_threshold, os.getpid()))
            self.pid = self._executor.submit(os.getpid)  # the writer's process id; it is forked now

    def submit(self, records: list[ArticleRecord], failed_pages: list[FailedPageRecord], aliases: Aliases,
               run_id: int | None) -> Future:
        """The batch's BatchWritten, as a future: done already when written in this process."""
        if self._executor is None:
            future = Future()
            future.set_result(write_batch(self._store, records, failed_pages, aliases, run_id))
            return future
        try:
            return self._executor.submit(_write_in_writer, records, failed_pages, aliases, run_id)
        except BrokenProcessPool:  # the writer died before (killed, out of memory): nothing more is written
            future = Future()
            future.set_result(BatchWritten(errors=["the store's writer process died"]))
            return future

    def close(self) -> None:
        """Waits for the batches submitted, then stops the writer (or closes the store)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()


def outcome(future: Future) -> BatchWritten:
    """A finished submit()'s BatchWritten; a writer that died mid-batch is a store error."""
    try:
        return future.result()
    except BrokenProcessPool:
        return BatchWritten(errors=["the store's writer process died"])


# -- in the writer process ---------------------------------------------------------------------

_opens: tuple[str, float] | None = None  # the writer's store: (db_url, near-duplicate threshold)
_store: Store | None = None  # opened with the first batch
_writing = threading.Lock()  # held through a batch: an orphaned writer exits between batches


def _start_writer(db_url: str, near_duplicate_threshold: float, crawl_pid: int) -> None:
    global _opens
    signal.set_wakeup_fd(-1)  # the crawl's event loop listens on that one
    for name in (signal.SIGINT, signal.SIGTERM):  # the crawl, told, stops the writer after its last batch
        signal.signal(name, signal.SIG_IGN)
    exit_when_orphaned(crawl_pid, between=_writing)
    _opens = (db_url, near_duplicate_threshold)


def _write_in_writer(records, failed_pages, aliases, run_id) -> BatchWritten:
    global _store
    with _writing:
        if _store is None:
            db_url, near_duplicate_threshold = _opens
            try:
                _store = Store(db_url, near_duplicate_threshold=near_duplicate_threshold)
            except StoreError as exc:  # e.g. the file went read-only since the crawl checked it
                return BatchWritten(errors=[_message(exc)])
        return write_batch(_store, records, failed_pages, aliases, run_id)


def _message(error: Exception) -> str:
    return str(error) or type(error).__name__
