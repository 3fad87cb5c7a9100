"""Many writers on one store, on SQLite and on PostgreSQL: crawls creating one new store at once,
a reprint saved while its original's transaction is still open, one URL saved by two crawls."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage import SaveOutcome, Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality
from tests.test_near_duplicates import SEED, SEED_REPRINT, original_of

CRAWLS = 4
OPEN_TRANSACTION = 1.0  # seconds the first writer keeps its transaction open after linking


def test_crawls_creating_one_new_store_at_once_all_succeed(store_url):
    with ThreadPoolExecutor(CRAWLS) as pool:
        # without the HTTP cache: one cache folder is not yet safe for concurrent jobs (a download
        # may fail with FileNotFoundError), and a PostgreSQL store's would land in the working directory
        results = list(pool.map(lambda _: newscrawl("crawl", "jfmi", "--replay", "--db", store_url,
                                                    "-s", "HTTPCACHE_ENABLED=False"), range(CRAWLS)))
    assert [result.returncode for result in results] == [0] * CRAWLS, [r.stderr[-800:] for r in results]
    store = Store(store_url, create=False)
    try:
        assert store.totals().articles == len(quality("jfmi")["articles"])
        runs = store.recent_runs()
        assert [run.status for run in runs] == ["finished"] * CRAWLS
        assert sum(run.counts.errors for run in runs) == 0
        # each article is new for one crawl, and unchanged for those that fetched it too (the others
        # found it stored already and skipped it); none is taken for a duplicate of itself
        assert sum(run.counts.articles_new for run in runs) == store.totals().articles
        assert sum(run.counts.duplicates for run in runs) == 0
        histories = [[fetch.outcome for fetch in store.fetch_history(store.find_article(url=article["url"]).id)]
                     for article in store.articles()]
        assert all(sorted(history) == ["new"] + ["unchanged"] * (len(history) - 1) for history in histories)
        assert sum(len(history) - 1 for history in histories) == sum(run.counts.articles_unchanged for run in runs)
    finally:
        store.close()


def _save_while_another_writer_holds_its_transaction(store_url, first, second) -> SaveOutcome:
    """Saves `first` through one store, keeping its transaction open a while once the article is
    linked, and meanwhile `second` through another store (another connection, as another process);
    returns the outcome of saving `second`."""
    writer, other = Store(store_url), Store(store_url)
    linked = threading.Event()
    add = writer._near_duplicates.add

    def add_then_linger(session, article, keys=None):
        copies = add(session, article, keys)
        linked.set()
        time.sleep(OPEN_TRANSACTION)
        return copies

    writer._near_duplicates.add = add_then_linger
    thread = threading.Thread(target=writer.save_article, args=(first,))
    thread.start()
    try:
        assert linked.wait(30)
        return other.save_article(second)
    finally:
        thread.join()
        writer.close()
        other.close()


@pytest.mark.parametrize("first, second", [(SEED, SEED_REPRINT), (SEED_REPRINT, SEED)],
                         ids=["original-first", "reprint-first"])
def test_a_reprint_saved_in_an_overlapping_transaction_is_linked(store_url, first, second):
    assert _save_while_another_writer_holds_its_transaction(store_url, first, second) is SaveOutcome.NEW
    store = Store(store_url, create=False)
    try:
        assert original_of(store, SEED_REPRINT.url) == SEED.url
        assert original_of(store, SEED.url) is None
    finally:
        store.close()


def test_one_url_saved_by_two_overlapping_writers_is_new_then_unchanged(store_url):
    assert _save_while_another_writer_holds_its_transaction(store_url, SEED, SEED) is SaveOutcome.UNCHANGED
    store = Store(store_url, create=False)
    try:
        [article] = store.articles()
        history = store.fetch_history(store.find_article(url=article["url"]).id)
        assert [fetch.outcome for fetch in history] == ["new", "unchanged"]
    finally:
        store.close()
