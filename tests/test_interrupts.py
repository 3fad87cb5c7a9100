"""Crawls stopped by a signal or killed: recorded `interrupted`, and the next crawl makes up for them.

The crawls run live through the real Scrapy downloader, against a recorded site served
slowly on 127.0.0.1 (tests/loopback.py), so that a signal can land in the middle."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from crawler.runner import FIXTURES
from storage import Store
from tests.cli_runner import ROOT
from tests.fixture_sites import quality
from tests.loopback import recorded_site_proxy

SITE = "henan"  # an http site: the loopback proxy serves it (12 responses, 8 articles on 3 list pages)
RESPONSES = 12
pytestmark = pytest.mark.slow  # crawls of a site served slowly on purpose, waited for and signalled
LIVE = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def start_crawl(db: str, proxy: str) -> subprocess.Popen:
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    environment.update(http_proxy=proxy, no_proxy="")
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", SITE, "--db", db, *LIVE],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(requests: list, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until the site has been asked for `count` URLs."""
    deadline = time.monotonic() + timeout
    while len(requests) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the crawl did not get that far"
        time.sleep(0.01)


def stored(db: str) -> set[tuple[str, str]]:
    store = Store(db, create=False)
    try:
        return {(article["url"], article["content_hash"]) for article in store.articles(SITE)}
    finally:
        store.close()


def runs(db: str):
    store = Store(db, create=False)
    try:
        return list(reversed(store.recent_runs()))  # oldest first
    finally:
        store.close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """What one whole crawl of the site stores: {(URL, text hash)}."""
    db = f"sqlite:///{tmp_path_factory.mktemp('whole') / 'articles.db'}"
    with recorded_site_proxy(FIXTURES / SITE) as (proxy, _):
        crawl = start_crawl(db, proxy)
        out, err = crawl.communicate(timeout=300)
    assert crawl.returncode == 0, err
    articles = stored(db)
    assert len(articles) == len(quality(SITE)["articles"])
    return articles


def test_first_sigint_stops_within_seconds_records_interrupted_and_prints_the_summary(tmp_path, uninterrupted):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with recorded_site_proxy(FIXTURES / SITE, delay=0.5) as (proxy, requests):
        crawl = start_crawl(db, proxy)
        wait_for(requests, 4, crawl)
        crawl.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        out, err = crawl.communicate(timeout=60)
        stopped_after = time.monotonic() - signalled
        asked_after_stop = len(requests)
    assert crawl.returncode == 130, err
    assert stopped_after < 5, stopped_after  # the queue was dropped; only the pages in flight arrived
    assert asked_after_stop < RESPONSES
    assert "Traceback" not in err
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["site", "outcome", "pages"] and row.split()[:2] == [SITE, "interrupted"]
    assert f"newscrawl: {SITE} interrupted: stopped by SIGINT" in err
    [run] = runs(db)
    assert (run.status, run.error) == ("interrupted", "stopped by SIGINT")
    assert run.counts.pages == int(row.split()[2]) and run.counts.articles_new == len(stored(db))
    # the next crawl walks every list page again (the interrupted one may not have reached them all)
    with recorded_site_proxy(FIXTURES / SITE) as (proxy, _):
        again = start_crawl(db, proxy)
        assert again.wait(timeout=300) == 0, again.communicate()
    assert stored(db) == uninterrupted


def test_sigterm_is_an_interruption_too(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with recorded_site_proxy(FIXTURES / SITE, delay=0.5) as (proxy, requests):
        crawl = start_crawl(db, proxy)
        wait_for(requests, 3, crawl)
        crawl.terminate()
        out, err = crawl.communicate(timeout=60)
    assert crawl.returncode == 128 + signal.SIGTERM
    assert out.splitlines()[1].split()[1] == "interrupted"
    assert [run.status for run in runs(db)] == ["interrupted"]


def test_second_sigint_stops_at_once_and_the_run_is_still_recorded(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with recorded_site_proxy(FIXTURES / SITE, delay=4) as (proxy, requests):  # answers slower than the grace
        crawl = start_crawl(db, proxy)
        wait_for(requests, 2, crawl)
        crawl.send_signal(signal.SIGINT)
        time.sleep(0.5)
        crawl.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        out, err = crawl.communicate(timeout=60)
        stopped_after = time.monotonic() - signalled
    assert stopped_after < 3, stopped_after
    assert crawl.returncode == 130 and "Traceback" not in err
    assert out.splitlines()[1].split()[:2] == [SITE, "interrupted"]
    [run] = runs(db)
    assert run.status == "interrupted" and run.finished_at is not None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_a_random_point_then_the_same_crawl_equals_an_uninterrupted_one(tmp_path, uninterrupted, seed):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    point = random.Random(seed).randint(2, RESPONSES - 1)  # after this many URLs were asked for
    with recorded_site_proxy(FIXTURES / SITE, delay=0.2) as (proxy, requests):
        crawl = start_crawl(db, proxy)
        wait_for(requests, point, crawl)
        time.sleep(random.Random(seed).uniform(0, 0.2))  # anywhere in the handling of a page
        crawl.kill()  # SIGKILL: no chance to record anything
        crawl.communicate()
    [killed] = runs(db)  # opening the store found the run's process gone
    assert killed.status == "interrupted", (point, killed)
    assert stored(db) <= uninterrupted
    with recorded_site_proxy(FIXTURES / SITE) as (proxy, _):
        again = start_crawl(db, proxy)
        out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert stored(db) == uninterrupted, point
    assert [run.status for run in runs(db)] == ["interrupted", "finished"]
