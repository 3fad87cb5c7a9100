"""A shared frontier (scrapy-redis): three workers crawl one replayed site into one PostgreSQL store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from w3lib.url import canonicalize_url

from crawler.runner import FIXTURES
from storage import Store
from tests.cli_runner import ROOT, newscrawl
from tests.fixture_sites import quality
from tests.servers import RedisServer, ServerUnavailable
from tests.test_cli import assert_one_line_error

WORKERS = 3
ROBOTS = "https://www.rocar.net/robots.txt"
LIST_PAGES = {"https://www.rocar.net/en/menu139/", "https://www.rocar.net/en/menu139/?page=2",
              "https://www.rocar.net/en/menu139/?page=3"}


def start_worker(recording, db: str, frontier: str, log, *settings: str) -> subprocess.Popen:
    """`newscrawl crawl rocar --frontier`, paced, writing every fetch to its replay log."""
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    options = [f"NEWSCRAWL_REPLAY_LOG={log}", "NEWSCRAWL_FRONTIER_IDLE=3",
               # paced as a live crawl would be, so that a worker started later finds work left
               "DOWNLOAD_DELAY=0.3", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
               # one HTTP cache, shared by the workers as by workers started in one folder
               f"HTTPCACHE_DIR={log.parent / 'httpcache'}", *settings]
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "rocar", "--replay", str(recording), "--db", db,
         "--frontier", frontier, *[part for option in options for part in ("-s", option)]],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def crawl_with_workers(recording, db: str, frontier: str, logs) -> list[tuple[subprocess.CompletedProcess, float]]:
    """WORKERS `newscrawl crawl rocar --frontier` started a moment apart; each worker's result and
    when it ended. Every fetch is written to the worker's replay log."""
    workers = []
    for log in logs:
        workers.append(start_worker(recording, db, frontier, log))
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
        assert run.error is None  # never taken for dead on the way, whichever worker ended first
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


@pytest.mark.slow  # two paced crawls
def test_a_shared_run_lives_while_any_worker_works(redis_server, tmp_path, monkeypatch):
    """The worker that started the crawl (whose process the run was recorded under) stops while
    another goes on, and the crawl outlasts the silence after which a run is taken for dead: a
    command that opens the store meanwhile still finds it running."""
    db, frontier = f"sqlite:///{tmp_path / 'articles.db'}", redis_server.url()
    beating = ("NEWSCRAWL_HEARTBEAT=0.3", "DOWNLOAD_DELAY=1")
    starter = start_worker(FIXTURES / "rocar", db, frontier, tmp_path / "starter.log", *beating)
    joiner = start_worker(FIXTURES / "rocar", db, frontier, tmp_path / "joiner.log", *beating)
    deadline = time.monotonic() + 120
    while not (fetched(tmp_path / "starter.log") and fetched(tmp_path / "joiner.log")):  # both at work
        assert time.monotonic() < deadline and starter.poll() is None and joiner.poll() is None
        time.sleep(0.2)
    store = Store(db, create=False)
    starter.terminate()
    starter.communicate(timeout=60)
    monkeypatch.setattr("storage.reader.DEAD_AFTER", timedelta(seconds=1.5))
    time.sleep(2)
    try:
        assert joiner.poll() is None, "the joining worker ran out of work too soon for this test"
        opened_meanwhile = Store(db, create=False)
        [run] = opened_meanwhile.recent_runs()
        opened_meanwhile.close()
        assert (run.status, run.error) == ("running", None)
        joiner.send_signal(signal.SIGINT)  # the last worker out ends the run
        out, err = joiner.communicate(timeout=120)
        assert joiner.returncode == 130, err[-600:]
        [run] = store.recent_runs()
        # as its first worker that did not finish
        assert (run.status, run.error) == ("interrupted", "stopped by SIGTERM")
    finally:
        store.close()


@pytest.mark.slow  # a paced crawl and a Redis server of its own
def test_a_frontier_that_goes_away_fails_the_crawl_and_keeps_what_it_stored(tmp_path):
    """Redis stops mid-crawl: the worker stops (it hung, its engine raising on every request it
    asked for), fails in one line naming the frontier, and keeps the articles it stored; the next
    crawl stores the rest."""
    try:
        frontier = RedisServer().start()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    try:
        worker = start_worker(FIXTURES / "rocar", db, frontier.url(), tmp_path / "worker.log", "DOWNLOAD_DELAY=0.5")
        deadline = time.monotonic() + 120
        while len(fetched(tmp_path / "worker.log")) < 4:  # robots.txt, a list page and articles
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        frontier.stop()
    try:
        out, err = worker.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise
    assert worker.returncode == 1 and "Traceback" not in err, err[-2000:]
    assert err.strip().splitlines()[-1].startswith(f"newscrawl: rocar failed: lost the frontier at {frontier.url()}")
    store = Store(db, create=False)
    try:
        [run] = store.recent_runs()
        kept = len(list(store.articles("rocar")))
        assert run.status == "failed" and "lost the frontier" in run.error
        assert 0 < kept < len(quality("rocar")["articles"]) and run.counts.articles_new == kept
    finally:
        store.close()
    again = newscrawl("crawl", "rocar", "--replay", "--db", db)
    assert again.returncode == 0, again.stderr
    store = Store(db, create=False)
    assert len(list(store.articles("rocar"))) == len(quality("rocar")["articles"])
    store.close()


def test_frontier_takes_one_site_and_a_reachable_redis(tmp_path, redis_server):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    assert_one_line_error(newscrawl("crawl", "rocar", "jfmi", "--replay", "--db", db, "--frontier",
                                    redis_server.url()), "name exactly one")
    assert_one_line_error(newscrawl("crawl", "rocar", "--replay", "--db", db, "--frontier", "redis://127.0.0.1:1/0"),
                          "cannot reach the frontier at redis://127.0.0.1:1/0")
