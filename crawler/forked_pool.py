"""Processes forked from the crawl, which share its memory and end with it.

The extraction workers (crawler/extraction_pool.py) and the store's writer
(crawler/store_writer.py) are forked from the crawl, so they share its imported code
and objects until either side writes to them; and they must not outlive it when it
dies without stopping them (kill -9, the OOM killer).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

ORPHAN_CHECK_SECONDS = 1.0


def forked_pool(workers: int, initializer, initargs: tuple) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor of `workers` processes forked from this one, each running
    initializer(*initargs) first. The cyclic garbage collector writes to every object it scans,
    which would copy the pages a child shares with the crawl: the objects made so far are left
    out of its scans (gc.freeze(), as Python's gc documentation advises before a fork), once the
    garbage of any crawl before this one in the process is collected."""
    gc.collect()
    gc.freeze()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=initializer, initargs=initargs)


def exit_when_orphaned(crawl_pid: int, between: contextlib.AbstractContextManager = contextlib.nullcontext()) -> None:
    """In a forked process: ends the process, within ORPHAN_CHECK_SECONDS, once the crawl
    (crawl_pid) is gone; `between` is taken first (a lock held through a unit of work: the
    process then ends between two)."""
    def watch() -> None:
        while os.getppid() == crawl_pid:
            time.sleep(ORPHAN_CHECK_SECONDS)
        with between:
            os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
