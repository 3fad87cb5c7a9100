"""Extraction in worker processes: the same articles as in-process, and a page that extraction
cannot read is one counted error, never a stuck or failed crawl."""

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing

import pytest

from crawler.extract import SiteRules, extract
from crawler.extraction_pool import (MAX_BATCH_PAGES, BatchQueue, ExtractionFailed, ExtractionPool, _start_worker,
                                      extract_batch, extract_page, worker_count)
from storage.near_duplicates import Fingerprint
from tests.cli_runner import newscrawl
from tests.fixture_sites import write_recording
from tests.fixture_sites import article_pages, spider_class
from tests.test_cli import assert_one_line_error

HOST = "https://pool.example"
ARTICLE = ("<html><head><title>{title}</title></head><body><h1>{title}</h1>"
           "<div class='TRS_Editor'><p>{text}</p></div></body></html>")


def test_a_worker_gives_the_article_and_the_buckets_of_its_text():
    page = article_pages("rocar")[0]
    rules = spider_class("rocar").extraction_rules
    article, keys = extract_page([page.html()], page.recorded.url, rules)
    assert article == extract(page.html(), page.recorded.url, rules)
    assert list(keys) == Fingerprint.of(article.text).band_keys()


def test_pages_sent_together_are_extracted_each_on_its_own():
    rocar = article_pages("rocar")[:3]
    rules = spider_class("rocar").extraction_rules
    calls = [([page.html()], page.recorded.url, rules) for page in rocar]
    calls.insert(1, ([rocar[0].html()], rocar[0].recorded.url, SiteRules(body="div[[")))  # a broken selector
    outcomes = extract_batch(calls)
    assert outcomes[0] == extract_page(*calls[0]) and outcomes[2:] == [extract_page(*call) for call in calls[2:]]
    assert isinstance(outcomes[1], ExtractionFailed)  # fails alone


def test_pages_leave_at_once_while_few_batches_are_out_then_together():
    queue = BatchQueue(most_out=2)
    assert queue.add("a") == [["a"]] and queue.add("b") == [["b"]]  # the workers are never kept waiting
    pages = [f"p{n}" for n in range(MAX_BATCH_PAGES + 3)]
    assert [queue.add(page) for page in pages] == [[]] * len(pages)  # two out: the next ones wait
    assert queue.done() == [pages[:MAX_BATCH_PAGES]]  # one back: as many as a batch takes, in order
    assert queue.done() == [pages[MAX_BATCH_PAGES:]]
    assert queue.done() == [] and queue.done() == [] and queue.out == 0
    assert queue.add("c") == [["c"]]
    assert queue.add("d") == [["d"]] and queue.add("e") == [] and queue.drain() == ["e"]


def test_workers_below_zero_are_refused():
    with pytest.raises(ValueError, match="NEWSCRAWL_EXTRACT_WORKERS"):
        ExtractionPool(-1)


@pytest.mark.parametrize("cores, writer_process, workers", [(2, True, 1), (2, False, 2), (8, True, 7), (1, True, 1)])
def test_by_default_a_worker_a_core_less_one_for_the_writer(monkeypatch, cores, writer_process, workers):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert worker_count(None, writer_process) == worker_count("", writer_process) == workers
    assert worker_count("3", writer_process) == 3  # as many as asked for


@pytest.mark.parametrize("setting", ["-1", "two", "1.5"])
def test_a_bad_workers_setting_is_one_line_before_crawling(tmp_path, setting):
    result = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{tmp_path / 'articles.db'}",
                       "-s", f"NEWSCRAWL_EXTRACT_WORKERS={setting}")
    assert_one_line_error(result, f"NEWSCRAWL_EXTRACT_WORKERS is a number of processes (0: none), not {setting!r}")


BROKEN_SITE = f'''
from crawler.extract import SiteRules
from spiders.base import NewsSpider


class BrokenSpider(NewsSpider):
    name = "pool"
    start_urls = ["{HOST}/news/"]
    article_links = r"/news/a\\d+\\.html$"
    extraction_rules = SiteRules(body="div[[")  # a site module's bad selector: extraction raises on every page
'''


def write_pool_site(folder, numbers) -> None:
    """A recording in folder of one list page linking an article page for each number."""
    write_recording(folder, "pool", {
        f"{HOST}/robots.txt": ("robots.txt", "User-agent: *\nAllow: /\n", "text/plain"),
        f"{HOST}/news/": ("list.html", "<html><body>" + "".join(
            f"<a href='{HOST}/news/a{n}.html'>{n}</a>" for n in numbers) + "</body></html>", "text/html"),
        **{f"{HOST}/news/a{n}.html": (f"a{n}.html", ARTICLE.format(title=f"Water plan {n} approved", text=(
            f"The county board approved water plan {n} for next year after a long debate. " * 5)), "text/html")
           for n in numbers},
    })


@pytest.fixture
def site_with_a_broken_rule(tmp_path):
    """A recorded site of two articles and a spider module whose body selector is broken."""
    write_pool_site(tmp_path / "site", (1, 2))
    (tmp_path / "broken_site.py").write_text(BROKEN_SITE)
    return tmp_path


@pytest.mark.parametrize("workers", ["2", "0"])
def test_a_page_extraction_fails_on_is_one_counted_error(site_with_a_broken_rule, workers):
    folder = site_with_a_broken_rule
    db = folder / "articles.db"
    result = newscrawl("crawl", "pool", "--replay", str(folder / "site"), "--db", f"sqlite:///{db}", "--json",
                       "-s", f"NEWSCRAWL_EXTRACT_WORKERS={workers}", "-s", "SPIDER_MODULES=broken_site",
                       "-s", "LOG_LEVEL=WARNING", env={"PYTHONPATH": str(folder)})
    assert result.returncode == 1, result.stderr  # it read no article: a failed crawl
    [summary] = json.loads(result.stdout)
    assert (summary["outcome"], summary["new"], summary["errors"], summary["errors_by_kind"]) == (
        "failed", 0, 2, {"extraction": 2})
    for n in (1, 2):
        assert f"failed page (extraction): {HOST}/news/a{n}.html: " in result.stderr
    assert "Traceback" not in result.stderr
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT count(*) FROM articles").fetchone() == (0,)


def test_a_page_whose_extraction_takes_too_long_fails_alone(tmp_path):
    """A page that keeps a worker busy for many seconds (trafilatura takes minutes over 200,000
    links, well within DOWNLOAD_MAXSIZE) is stopped after NEWSCRAWL_EXTRACT_SECONDS."""
    write_pool_site(tmp_path / "site", (1, 2))
    slow = tmp_path / "site" / "pages" / "a2.html"
    slow.write_text("<html><body><h1>Links</h1>" + "<a href='/x'>a link</a> " * 60_000 + "</body></html>")
    (tmp_path / "pool_site.py").write_text(BROKEN_SITE.replace('extraction_rules = SiteRules(body="div[[")', ""))
    started = time.monotonic()
    result = newscrawl("crawl", "pool", "--replay", str(tmp_path / "site"), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       "--json", "-s", "NEWSCRAWL_EXTRACT_WORKERS=1", "-s", "NEWSCRAWL_EXTRACT_SECONDS=0.5",
                       "-s", "SPIDER_MODULES=pool_site", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert (summary["new"], summary["errors_by_kind"]) == (1, {"extraction": 1})
    assert f"failed page (extraction): {HOST}/news/a2.html: extraction took longer than 0.5 s" in result.stderr
    assert time.monotonic() - started < 30


DYING_SITE = f'''
import os
from pathlib import Path

from crawler.extract import SiteRules
from spiders.base import NewsSpider

CRAWL_PROCESS = os.getpid()
DIED_ONCE = Path(os.environ["DIED_ONCE_MARK"])


class DyingRules(SiteRules):
    def __setstate__(self, state):
        # read in a worker: the first one dies, as if the OOM killer took it
        if os.getpid() != CRAWL_PROCESS and not DIED_ONCE.exists():
            DIED_ONCE.touch()
            os._exit(9)
        for name, value in state.items():
            object.__setattr__(self, name, value)


class DyingSpider(NewsSpider):
    name = "pool"
    start_urls = ["{HOST}/news/"]
    article_links = r"/news/a\\d+\\.html$"
    extraction_rules = DyingRules()
'''


def test_a_worker_that_dies_fails_its_pages_alone_and_a_new_one_takes_the_next(tmp_path):
    pages = 12
    write_pool_site(tmp_path / "site", range(pages))
    (tmp_path / "dying_site.py").write_text(DYING_SITE)
    result = newscrawl("crawl", "pool", "--replay", str(tmp_path / "site"), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       "--json", "-s", "NEWSCRAWL_EXTRACT_WORKERS=1", "-s", "SPIDER_MODULES=dying_site",
                       env={"PYTHONPATH": str(tmp_path), "DIED_ONCE_MARK": str(tmp_path / "died")})
    assert (tmp_path / "died").exists()
    [summary] = json.loads(result.stdout)
    assert summary["outcome"] == "finished" and summary["errors_by_kind"] == {"extraction": summary["errors"]}
    # the pages out with the dead worker (one batch, or two: it had two) fail, each counted once; the rest are stored
    assert 1 <= summary["errors"] <= 2 * MAX_BATCH_PAGES and summary["new"] + summary["errors"] == pages
    assert result.stderr.count("failed page (extraction)") == summary["errors"]
    assert "Traceback" not in result.stderr


FORK_FAILING_SITE = f'''
import errno
import os

from spiders.base import NewsSpider

FAILURES = int(os.environ["FORK_FAILURES"])
_fork = os.fork


def fork_while_short_of_processes():
    # the crawl's first forks fail, as when the user's process limit or memory is reached
    global FAILURES
    if FAILURES:
        FAILURES -= 1
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
    return _fork()


os.fork = fork_while_short_of_processes


class PoolSpider(NewsSpider):
    name = "pool"
    start_urls = ["{HOST}/news/"]
    article_links = r"/news/a\\d+\\.html$"
'''


def test_a_worker_that_cannot_be_started_fails_its_pages_alone_and_the_crawl_goes_on(tmp_path):
    pages, failures = 12, 3  # more failed starts than batches a worker may have out
    write_pool_site(tmp_path / "site", range(pages))
    (tmp_path / "fork_failing_site.py").write_text(FORK_FAILING_SITE)
    result = newscrawl("crawl", "pool", "--replay", str(tmp_path / "site"), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       "--json", "-s", "NEWSCRAWL_EXTRACT_WORKERS=1", "-s", "NEWSCRAWL_WRITER_PROCESS=False",
                       "-s", "SPIDER_MODULES=fork_failing_site",
                       env={"PYTHONPATH": str(tmp_path), "FORK_FAILURES": str(failures)}, timeout=60)
    [summary] = json.loads(result.stdout)
    # each page sent while no worker could be started fails alone, counted once; the rest are stored
    assert summary["outcome"] == "finished" and summary["errors_by_kind"] == {"extraction": failures}
    assert summary["new"] == pages - failures
    assert result.stderr.count("Resource temporarily unavailable") == failures
    assert "Traceback" not in result.stderr


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_worker_ends_on_the_crawls_sigterm_only(tmp_path):
    """systemd's stop and `timeout` send SIGTERM to the crawl's whole process group: a worker keeps
    extracting what it holds, for the crawl to shut the pool down; the pool's own SIGTERM (ending
    the workers of a broken pool, here this process standing for the crawl) ends it."""
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                                   initargs=(os.getpid(),))
    try:
        worker = executor.submit(os.getpid).result(timeout=30)
        holding = executor.submit(_pid_after, 1.0)
        time.sleep(0.2)
        subprocess.run(["kill", "-TERM", str(worker)], check=True)  # sent by another process
        assert holding.result(timeout=30) == worker  # the page it held is extracted, not lost
        os.kill(worker, signal.SIGTERM)  # sent by the crawl
        deadline = time.monotonic() + 10
        while not _exited(worker):
            assert time.monotonic() < deadline, "the worker did not end on the crawl's SIGTERM"
            time.sleep(0.05)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _exited(pid: int) -> bool:
    try:
        status = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return status == "Z"  # a zombie: exited, not yet reaped by the pool
