"""A shared frontier (scrapy-redis): three workers crawl one replayed site into one PostgreSQL store."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from w3lib.url import canonicalize_url

from crawler.runner import FIXTURES
from storage import Store
from tests.cli_runner import ROOT, newscrawl
from tests.fixture_sites import quality
from tests.test_cli import assert_one_line_error

WORKERS = 3
ROBOTS = "https://www.rocar.net/robots.txt"
LIST_PAGES = {"https://www.rocar.net/en/menu139/", "https://www.rocar.net/en/menu139/?page=2",
              "https://www.rocar.net/en/menu139/?page=3"}


def crawl_with_workers(recording, db: str, frontier: str, logs) -> list[tuple[subprocess.CompletedProcess, float]]:
    """WORKERS `newscrawl crawl rocar --frontier` started a moment apart; each worker's result and
    when it ended. Every fetch is written to the worker's replay log."""
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    workers = []
    for log in logs:
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "crawl", "rocar", "--replay", str(recording), "--db", db,
             "--frontier", frontier, "-s", f"NEWSCRAWL_REPLAY_LOG={log}", "-s", "NEWSCRAWL_FRONTIER_IDLE=3",
             # paced as a live crawl would be, so that a worker started later finds work left
             "-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
             # workers in one folder would share data/httpcache, which is not safe for concurrent jobs yet
             "-s", "HTTPCACHE_ENABLED=False"],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(0.3)
    ended = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        ended.append((subprocess.CompletedProcess(worker.args, worker.returncode, out, err), time.time()))
    return ended


def fetched(log) -> list[str]:
    return [line.split(" ", 1)[1] for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


@pytest.mark.slow  # six crawls, paced, each waiting out its idle frontier
def test_workers_share_one_crawl_and_the_next_crawl_starts_fresh(postgres, redis_server, tmp_path):
    db, frontier = postgres.new_database(), redis_server.url()
    first_logs = [tmp_path / f"first-{n}.log" for n in range(WORKERS)]
    ended = crawl_with_workers(FIXTURES / "rocar", db, frontier, first_logs)
    assert [result.returncode for result, _ in ended] == [0] * WORKERS, [r.stderr[-600:] for r, _ in ended]
    pages = [url for log in first_logs for url in fetched(log) if url != ROBOTS]
    articles = {canonicalize_url(url) for url in quality("rocar")["articles"]}
    # every page fetched exactly once, by whichever worker
    assert sorted(pages) == sorted(LIST_PAGES | set(quality("rocar")["articles"]))
    assert sum(1 for log in first_logs if fetched(log)) >= 2  # the work was shared
    # no worker left while the crawl still fetched: each ended after the last page was fetched
    last_fetch = max(log.stat().st_mtime for log in first_logs if log.exists())
    assert all(end >= last_fetch for _, end in ended)

    store = Store(db, create=False)
    try:
        assert {article["url"] for article in store.articles("rocar")} == articles
        [run] = store.recent_runs()  # one run, shared by the workers, with their summed counts
        robots = sum(ROBOTS in fetched(log) for log in first_logs)  # each worker reads robots.txt
        assert (run.status, run.counts.articles_new, run.counts.pages) == ("finished", len(articles),
                                                                           len(pages) + robots)
    finally:
        store.close()

    later_logs = [tmp_path / f"later-{n}.log" for n in range(WORKERS)]
    ended = crawl_with_workers(FIXTURES / "rocar" / "later", db, frontier, later_logs)
    assert [result.returncode for result, _ in ended] == [0] * WORKERS
    store = Store(db, create=False)
    try:
        later = {canonicalize_url(url) for url in quality("rocar/later")["articles"]}
        assert {article["url"] for article in store.articles("rocar")} == articles | later
        runs = store.recent_runs()
        assert len(runs) == 2 and runs[0].status == "finished"
        assert runs[0].counts.articles_new == len(later - articles) > 0
    finally:
        store.close()
    pages = [url for log in later_logs for url in fetched(log) if url != ROBOTS]
    assert len(pages) == len(set(pages))  # once each, again


def test_frontier_takes_one_site_and_a_reachable_redis(tmp_path, redis_server):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    assert_one_line_error(newscrawl("crawl", "rocar", "jfmi", "--replay", "--db", db, "--frontier",
                                    redis_server.url()), "name exactly one")
    assert_one_line_error(newscrawl("crawl", "rocar", "--replay", "--db", db, "--frontier", "redis://127.0.0.1:1/0"),
                          "cannot reach the frontier at redis://127.0.0.1:1/0")
