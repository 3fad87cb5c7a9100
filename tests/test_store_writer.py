"""The writer process: batches written as in the crawl's own process, in order; a writer that
dies is a store error, never a stuck crawl; a writer whose crawl died exits by itself."""

import dataclasses
import os
import signal
import subprocess
import sys
import time

import pytest

from crawler.store_writer import StoreWriter, outcome
from storage import ArticleRecord, SaveOutcome, Store
from tests.test_near_duplicates import SEED, SEED_REPRINT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def records(count: int, prefix: str) -> list[ArticleRecord]:
    return [dataclasses.replace(SEED, url=f"https://writer.example/{prefix}{number}.html",
                                text=f"{prefix} story number {number} of the writer test, told once.")
            for number in range(count)]


@pytest.mark.parametrize("in_process", [False, True], ids=["writer process", "in process"])
def test_batches_are_written_in_order_with_their_outcomes(store_url, in_process):
    writer = StoreWriter(store_url, 0.5, in_process=in_process)
    try:
        first = writer.submit([SEED, *records(3, "a")], [], [(SEED.url, {"https://writer.example/old-seed"})],
                              None)
        # the same URL again, the same text under another URL, a reprint: each sees the batch before
        second = writer.submit([SEED, dataclasses.replace(SEED, url="https://writer.example/copy.html"),
                                SEED_REPRINT], [], [], None)
        first, second = outcome(first), outcome(second)
    finally:
        writer.close()
    assert first.errors == [] and [saved.outcome for saved in first.saved] == [SaveOutcome.NEW] * 4
    assert [(saved.outcome, saved.near_duplicate) for saved in second.saved] == [
        (SaveOutcome.UNCHANGED, False), (SaveOutcome.DUPLICATE, False), (SaveOutcome.NEW, True)]
    store = Store(store_url, create=False)
    try:
        assert len(list(store.articles())) == 5
        assert store.stored_urls(["https://writer.example/old-seed"]) == {"https://writer.example/old-seed"}
    finally:
        store.close()


def test_a_writer_that_dies_makes_each_later_batch_a_store_error(tmp_path):
    writer = StoreWriter(f"sqlite:///{tmp_path / 'articles.db'}", 0.5)
    try:
        assert outcome(writer.submit(records(2, "a"), [], [], None)).errors == []
        os.kill(writer.pid.result(timeout=30), signal.SIGKILL)  # as the OOM killer would
        lost = outcome(writer.submit(records(2, "b"), [], [], None))
        after = outcome(writer.submit(records(2, "c"), [], [], None))
    finally:
        writer.close()
    assert lost.saved is None and lost.errors == ["the store's writer process died"]
    assert after.saved is None and after.errors == ["the store's writer process died"]


def test_a_writer_whose_crawl_was_killed_exits_by_itself(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    Store(db).close()
    crawl = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom crawler.store_writer import StoreWriter\n"
         f"print(StoreWriter({db!r}, 0.5).pid.result(), flush=True)\ntime.sleep(120)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    writer_pid = int(crawl.stdout.readline())
    crawl.kill()
    crawl.wait()
    deadline = time.monotonic() + 10
    while _running(writer_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(writer_pid)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
