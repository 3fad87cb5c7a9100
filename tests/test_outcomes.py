"""What a crawl reports about itself: finished, failed or interrupted, warnings, errors by kind;
the exit codes that follow; runs whose process is gone."""

import functools
import json
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.errors import errors_by_kind
from crawler.extensions import run_counts
from crawler.outcomes import (ARTICLE_PAGES_FAILED, INTERRUPTED, START_FAILURES, START_PAGES, STORE_ERROR, WARNINGS, Outcome,
                              WarnArticlelessStartPages, crawl_outcome)
from crawler.runner import FIXTURES
from spiders.base import ARTICLE, LIST, PAGE
from storage import ArticleRecord, RunCounts, Store
from storage.models import CrawlRun
from storage.reader import DEAD_AFTER, utcnow
from tests.cli_runner import newscrawl
from tests.loopback import send, serving

START = "https://www.rocar.net/en/menu139/"
FETCHED = {"response_received_count": 11, START_PAGES: {START: 200}}


# -- the outcome, from the close reason and the stats -------------------------------------


def test_a_crawl_that_fetched_its_start_page_finished():
    assert crawl_outcome("finished", FETCHED) == Outcome("finished")


def test_start_pages_that_all_failed_make_a_failed_crawl_naming_their_status():
    outcome = crawl_outcome("finished", {"response_received_count": 2, START_PAGES: {START: 404}})
    assert outcome == Outcome("failed", f"no start page could be fetched: {START} answered HTTP 404")
    assert crawl_outcome("finished", {"response_received_count": 3,
                                      START_PAGES: {START: 500, START + "?page=2": 200}}).status == "finished"


def test_a_start_page_that_failed_without_an_answer_is_named_with_its_reason():
    stats = {"response_received_count": 1, START_FAILURES: {START: "robots: IgnoreRequest: Forbidden by robots.txt"}}
    assert crawl_outcome("finished", stats).error == (f"no start page could be fetched: {START} failed "
                                                      "(robots: IgnoreRequest: Forbidden by robots.txt)")


def test_nothing_fetched_is_a_failure():
    assert crawl_outcome("finished", {}).status == "failed"
    assert "no answer" in crawl_outcome("finished", {"newscrawl/errors/connection": 2}).error


def test_recordings_without_the_sites_urls_are_a_failure():
    outcome = crawl_outcome("finished", {"response_received_count": 2, "newscrawl/replay_unrecorded": 2,
                                         START_PAGES: {START: 404}})
    assert outcome.status == "failed" and "recordings hold none of the site's URLs" in outcome.error


def test_a_signal_or_scrapys_shutdown_reason_is_an_interruption():
    assert crawl_outcome("shutdown", {**FETCHED, INTERRUPTED: "SIGTERM"}) == Outcome("interrupted",
                                                                                     "stopped by SIGTERM")
    assert crawl_outcome(None, {INTERRUPTED: "SIGINT"}).status == "interrupted"  # stopped before it closed
    assert crawl_outcome("shutdown", FETCHED).status == "interrupted"


def test_a_store_that_could_not_be_written_fails_the_crawl_whatever_else():
    stats = {**FETCHED, STORE_ERROR: "cannot use the store at x: database or disk is full"}
    assert crawl_outcome("store_failed", stats) == Outcome("failed", stats[STORE_ERROR])


def test_warnings_are_kept_and_a_closespider_limit_is_one():
    stats = {**FETCHED, WARNINGS: ["the article pattern matched no link on the start page x (HTTP 200)"]}
    assert crawl_outcome("finished", stats).warnings == tuple(stats[WARNINGS])
    outcome = crawl_outcome("closespider_pagecount", FETCHED)
    assert outcome.status == "finished" and outcome.warnings == ("stopped early: closespider_pagecount",)
    assert crawl_outcome("cancelled", FETCHED).status == "failed"


def test_links_the_depth_limit_left_out_make_a_crawl_stopped_early():
    outcome = crawl_outcome("finished", {**FETCHED, "depth/request_ignored_count": 3})  # Scrapy's DepthMiddleware
    assert outcome.status == "finished"
    assert outcome.warnings == ("stopped early: 3 links beyond DEPTH_LIMIT (--max-depth) not followed",)


def test_errors_are_failed_pages_by_kind_not_error_log_lines():
    stats = {"newscrawl/errors/timeout": 2, "newscrawl/errors/http_status": 1, "newscrawl/errors/robots": 0,
             "log_count/ERROR": 9, "httperror/response_ignored_count": 4}
    assert run_counts(stats).errors == 3
    assert errors_by_kind(stats) == {"http_status": 1, "timeout": 2}


class Stats(dict):
    def get_value(self, key, default=None):
        return self.get(key, default)

    def set_value(self, key, value):
        self[key] = value


def watching(stats: Stats) -> WarnArticlelessStartPages:
    """The middleware, in a crawl of rocar."""
    return WarnArticlelessStartPages(SimpleNamespace(stats=stats, spider=SimpleNamespace(
        allowed_domains=["www.rocar.net"])))


@pytest.mark.parametrize("links", [[], [LIST]])
def test_a_start_page_without_article_links_is_a_warning_with_its_status(links):
    stats = Stats()
    middleware = watching(stats)
    start = HtmlResponse(START, status=200, request=Request(START, meta={"is_start_request": True}))
    output = [Request(START + f"?page={i}", meta={PAGE: page}) for i, page in enumerate(links)]
    assert list(middleware.process_spider_output(start, iter(output))) == output
    assert stats[WARNINGS] == [f"the article pattern matched no link on the start page {START} (HTTP 200)"]
    # an article link on it, or a page that is not a start page: nothing to say
    stats.clear()
    list(middleware.process_spider_output(start, iter([Request(START + "1.html", meta={PAGE: ARTICLE})])))
    later = HtmlResponse(START + "?page=2", request=Request(START + "?page=2"))
    list(middleware.process_spider_output(later, iter([])))
    assert stats == {}


def test_a_start_page_whose_article_links_are_all_off_the_site_is_a_warning_naming_their_hosts():
    stats = Stats()
    start = HtmlResponse(START, status=200, request=Request(START, meta={"is_start_request": True}))
    links = [Request(f"https://{host}/news/{i}.html", meta={PAGE: ARTICLE})
             for i, host in enumerate(["cdn.rocar.com", "rocar.org", "cdn.rocar.com"])]
    list(watching(stats).process_spider_output(start, iter(links)))
    assert stats[WARNINGS] == [f"the article pattern matched no link on the start page {START} (HTTP 200) but "
                               "links off the site, which are not followed: cdn.rocar.com, rocar.org"]


# -- runs in the store ------------------------------------------------------------------


def test_a_run_keeps_its_outcome_warnings_and_errors_by_kind(store):
    run_id = store.start_run("rocar")
    store.finish_run(run_id, "finished", RunCounts(pages=3, errors=3), warnings=["w1"],
                     errors_by_kind={"timeout": 2, "http_status": 1})
    second = store.start_run("rocar")
    store.finish_run(second, "failed", RunCounts(errors=1), error="why", errors_by_kind={"timeout": 1})
    [latest, first] = store.recent_runs()
    assert (first.status, first.warnings, first.errors_by_kind) == ("finished", ("w1",),
                                                                    {"timeout": 2, "http_status": 1})
    assert (latest.status, latest.error, latest.warnings) == ("failed", "why", ())
    [summary] = store.site_summaries()
    assert summary.recent_runs.errors_by_kind == {"http_status": 1, "timeout": 3}
    assert summary.recent_runs.failed == 1 and summary.last_success.id == run_id


def finished_process_id() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_runs_left_running_by_a_gone_process_become_interrupted_when_the_store_is_opened(tmp_path):
    url = f"sqlite:///{tmp_path / 'articles.db'}"
    store = Store(url)
    ours, dead, elsewhere, silent = (store.start_run(site) for site in ("ours", "dead", "elsewhere", "silent"))
    with store._session.begin() as session:
        session.get(CrawlRun, dead).pid = finished_process_id()
        session.get(CrawlRun, elsewhere).host = "another-machine"  # its heartbeat is fresh
        session.get(CrawlRun, silent).host = "another-machine"
        session.get(CrawlRun, silent).heartbeat_at = utcnow() - DEAD_AFTER - timedelta(seconds=1)
    store.close()
    store = Store(url, create=False)  # what every command does
    status = {run.spider: run for run in store.recent_runs()}
    assert {site: run.status for site, run in status.items()} == {
        "ours": "running", "dead": "interrupted", "elsewhere": "running", "silent": "interrupted"}
    assert "ended without recording its end" in status["dead"].error
    summaries = {summary.site: summary for summary in store.site_summaries()}
    assert summaries["dead"].recent_runs.failed == 1  # stats counts it as failed
    # the scheduler that started it knows more, and says it
    assert store.record_failed_run("dead", utcnow() - timedelta(hours=1), "the crawl process was killed by SIGKILL")
    [dead_run] = [run for run in store.recent_runs() if run.spider == "dead"]
    assert (dead_run.status, dead_run.error) == ("failed", "the crawl process was killed by SIGKILL")
    store.close()


def test_a_run_killed_before_its_first_heartbeat_keeps_the_articles_it_stored_in_its_counts(tmp_path):
    """Counts are written at the end and at heartbeats; the articles a killed crawl committed are
    in its crawl history, and its counts say so (never less than a heartbeat said)."""
    url = f"sqlite:///{tmp_path / 'articles.db'}"
    store = Store(url)
    quiet, counted, shared = store.start_run("quiet"), store.start_run("counted"), store.start_run("shared", shared=True)
    store.save_articles([ArticleRecord(url=f"https://example.org/{number}.html", site="quiet", title=f"Story {number}",
                                       text=f"The text of story number {number}, which is its own.")
                         for number in range(3)], run_id=quiet)
    store.save_articles([ArticleRecord(url="https://example.org/0.html", site="quiet", title="Story 0",
                                       text="The text of story number 0, rewritten.")], run_id=quiet)
    store.save_articles([ArticleRecord(url="https://example.org/shared.html", site="shared", title="Shared",
                                       text="The text of a story a frontier worker stored.")], run_id=shared)
    store.heartbeat(counted, RunCounts(pages=12, articles_new=5))
    with store._session.begin() as session:
        for run_id in (quiet, counted):
            session.get(CrawlRun, run_id).pid = finished_process_id()
        session.get(CrawlRun, shared).heartbeat_at = utcnow() - DEAD_AFTER - timedelta(minutes=1)
    store.close()
    store = Store(url, create=False)
    runs = {run.spider: run for run in store.recent_runs()}
    assert {site: run.status for site, run in runs.items()} == {
        "quiet": "interrupted", "counted": "interrupted", "shared": "interrupted"}
    quiet_counts = runs["quiet"].counts
    assert (quiet_counts.pages, quiet_counts.articles_new, quiet_counts.articles_updated) == (4, 3, 1)
    assert (runs["counted"].counts.pages, runs["counted"].counts.articles_new) == (12, 5)
    # a frontier worker adds its own counts when it ends, even after the run was taken for dead
    assert (runs["shared"].counts.pages, runs["shared"].counts.articles_new) == (0, 0)
    store.close()


# -- whole crawls through the command ---------------------------------------------------


@contextmanager
def served(folder):
    """The files of folder over HTTP on 127.0.0.1 (missing ones: 404)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    with serving(handler) as base:
        yield base


LIVE = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]


def generic(db: str, start_url: str, pattern: str = r"/news/\d+\.html$", *options: str):
    return newscrawl("crawl", "generic", "--start-url", start_url, "--article-pattern", pattern,
                     "--db", db, *LIVE, *options)


def test_the_wrong_replay_folder_fails_the_crawl_and_is_no_success(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    result = newscrawl("crawl", "rocar", "--replay", str(FIXTURES / "jfmi"), "--db", db)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].split()[:2] == ["rocar", "failed"]
    assert result.stderr.strip().splitlines()[-1] == ("newscrawl: rocar failed: the recordings hold none of the "
                                                      "site's URLs (another --replay folder?)")
    assert "failed page (http_status): https://www.rocar.net/en/menu139/: HTTP 404" in result.stderr
    [rocar] = json.loads(newscrawl("stats", "--json", "--db", db).stdout)["sites"]
    assert (rocar["last_outcome"], rocar["last_success"], rocar["failed"]) == ("failed", None, 1)


def test_a_start_page_answering_404_fails_the_crawl_with_that_status(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with served(tmp_path) as site:
        result = generic(db, f"{site}/news/", r"\d+\.html$", "--json")
    assert result.returncode == 1
    [summary] = json.loads(result.stdout)
    assert summary["outcome"] == "failed"
    assert summary["error"] == f"no start page could be fetched: {site}/news/ answered HTTP 404"


def test_a_site_that_does_not_answer_fails_the_crawl(tmp_path):
    with served(tmp_path) as site:
        pass  # a port nobody listens on any more
    result = generic(f"sqlite:///{tmp_path / 'articles.db'}", f"{site}/news/")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].split()[1:3] == ["failed", "0"]
    assert f"failed: no start page could be fetched: {site}/news/ failed (connection: " in result.stderr


def test_a_start_page_robots_txt_forbids_fails_the_crawl_saying_so(tmp_path):
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    with served(tmp_path) as site:
        result = generic(f"sqlite:///{tmp_path / 'articles.db'}", f"{site}/news/")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"newscrawl: 127.0.0.1 failed: no start page could be fetched: {site}/news/ failed "
        "(robots: IgnoreRequest: Forbidden by robots.txt)")


def test_an_article_pattern_that_matches_nothing_is_a_warning_naming_the_start_pages_status(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "index.html").write_text('<html><body><a href="/news/story-1.html">one</a></body></html>')
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with served(tmp_path) as site:
        result = generic(db, f"{site}/news/index.html")
    warning = f"the article pattern matched no link on the start page {site}/news/index.html (HTTP 200)"
    assert result.returncode == 0  # it finished: the warning says what to look at
    assert result.stdout.splitlines()[1].split()[1] == "finished"
    assert result.stderr.strip() == f"newscrawl: 127.0.0.1 warning: {warning}"
    [run] = json.loads(newscrawl("stats", "--runs", "--json", "--db", db).stdout)
    assert (run["outcome"], run["warnings"], run["message"]) == ("finished", [warning], f"warning: {warning}")
    assert f"127.0.0.1 warning: {warning}" in newscrawl("stats", "--db", db).stdout


def test_record_that_got_nothing_fails(tmp_path):
    with served(tmp_path) as site:
        pass
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites.nowhere]\nstart_urls = ["{site}/news/"]\narticle_pattern = "html$"\n')
    result = newscrawl("record", "nowhere", "--sites-file", str(sites), "--out", str(tmp_path / "rec"), *LIVE,
                       cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("recorded 0 responses of nowhere") and "failed" in result.stdout
    assert "newscrawl: nowhere failed: no start page could be fetched" in result.stderr


class Crawler:
    """What CrawlRunRecorder uses of a Scrapy crawler."""

    def __init__(self, db: str):
        from scrapy.settings import Settings
        self.settings = Settings({"NEWSCRAWL_DB": db, "NEWSCRAWL_HEARTBEAT": 30})
        self.stats = Stats()
        self.stats.get_stats = lambda: dict(self.stats)


def test_a_running_crawl_beats_with_its_counts_so_far_and_records_its_end_once(tmp_path):
    from crawler.extensions import CrawlRunRecorder
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    crawler = Crawler(db)
    recorder = CrawlRunRecorder(crawler)
    recorder.spider_opened(type("Spider", (), {"name": "rocar"})())
    crawler.stats.update({"response_received_count": 4, "newscrawl/articles_new": 2, "newscrawl/errors/timeout": 1})
    recorder.heartbeat()
    store = Store(db, create=False)
    [run] = store.recent_runs()
    assert (run.status, run.counts.pages, run.counts.articles_new, run.counts.errors) == ("running", 4, 2, 1)
    crawler.stats.update({INTERRUPTED: "SIGINT"})
    recorder.record_end(None)  # stopped before Scrapy could close it
    recorder.record_end("shutdown")  # recorded already: nothing more
    [run] = store.recent_runs()
    assert (run.status, run.error, run.errors_by_kind) == ("interrupted", "stopped by SIGINT", {"timeout": 1})
    assert not recorder.beat.running
    store.close()


def test_a_run_that_cannot_be_recorded_closes_the_crawl_as_a_store_failure(tmp_path):
    from scrapy.exceptions import CloseSpider

    from crawler.extensions import CrawlRunRecorder
    Store(f"sqlite:///{tmp_path / 'articles.db'}").close()
    crawler = Crawler(f"sqlite:///file:{tmp_path / 'articles.db'}?mode=ro&uri=true")
    recorder = CrawlRunRecorder(crawler)
    with pytest.raises(CloseSpider) as closed:
        recorder.spider_opened(type("Spider", (), {"name": "rocar"})())
    assert closed.value.reason == "store_failed"
    assert "attempt to write a readonly database" in crawler.stats[STORE_ERROR]
    assert crawl_outcome("store_failed", dict(crawler.stats)).status == "failed"
    recorder.record_end("store_failed")  # nothing to record, nothing raised


class ValidatedSite(BaseHTTPRequestHandler):
    """A news list and its article, with ETags (so that the crawl caches them), or `failure`'s
    status for every page once it is set (robots.txt stays a 404: one answering a server error
    forbids the whole site)."""

    failure: int | None = None
    pages = {"/news/": '<html><body><a href="/news/1.html">one</a></body></html>',
             "/news/1.html": "<html><head><title>One</title></head><body><h1>One</h1><div class=\"article-content\">"
                             "<p>The harbour ferry now also crosses in the evening, the district said after a "
                             "year of talks with the people who live on both banks.</p></div></body></html>"}

    def do_GET(self):  # noqa: N802
        status = (self.failure if self.path != "/robots.txt" else None) or (200 if self.path in self.pages else 404)
        if status == 200 and self.headers.get("If-None-Match") == '"1"':
            status = 304
        send(self, status, {"ETag": '"1"'}, self.pages[self.path].encode() if status == 200 else b"")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("failure", [500, None])  # None: the server is gone
def test_a_site_that_is_down_fails_the_repeat_crawl_though_its_pages_are_cached(tmp_path, failure):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    handler = type("Site", (ValidatedSite,), {})
    with serving(handler) as site:
        assert generic(db, f"{site}/news/").returncode == 0
        handler.failure = failure
        if failure:
            result = generic(db, f"{site}/news/", r"/news/\d+\.html$", "--json")
    if not failure:  # a port nobody listens on any more
        result = generic(db, f"{site}/news/", r"/news/\d+\.html$", "--json")
    [summary] = json.loads(result.stdout)
    assert (result.returncode, summary["outcome"], summary["errors"]) == (1, "failed", 1)
    why = f"{site}/news/ " + (f"answered HTTP {failure}" if failure else "failed (connection: ")
    assert summary["error"].startswith("no start page could be fetched") and why in summary["error"]


def test_a_start_page_answering_304_unasked_is_no_start_page(tmp_path):
    """A 304 the cache has no copy for (nothing was asked conditionally) has no page in it."""
    handler = type("Site", (ValidatedSite,), {"failure": 304})
    with serving(handler) as site:
        result = generic(f"sqlite:///{tmp_path / 'articles.db'}", f"{site}/news/", r"/news/\d+\.html$", "--json")
    [summary] = json.loads(result.stdout)
    assert (result.returncode, summary["outcome"], summary["errors_by_kind"]) == (1, "failed", {"http_status": 1})
    assert summary["error"] == f"no start page could be fetched: {site}/news/ answered HTTP 304"


class BlockedArticles(BaseHTTPRequestHandler):
    """A news list served, and its articles refused with 403, as a firewall that tells bots apart does."""

    def do_GET(self):  # noqa: N802
        listed = self.path == "/news/"
        body = b'<html><body><a href="/news/1.html">one</a> <a href="/news/2.html">two</a></body></html>' if listed \
            else b"Forbidden"
        send(self, 200 if listed else 403, {}, body)

    def log_message(self, *args):
        pass


def test_a_crawl_whose_every_article_page_failed_is_a_failure():
    stats = {**FETCHED, "newscrawl/errors/http_status": 2, ARTICLE_PAGES_FAILED: 2}
    assert crawl_outcome("finished", stats) == Outcome("failed", "every article page it asked for failed (2; see "
                                                                 "the errors by kind)")
    # one article page read is enough (stored, or dropped as one without text): the others are counted errors
    assert crawl_outcome("finished", {**stats, "item_scraped_count": 1}).status == "finished"
    assert crawl_outcome("finished", {**stats, "item_dropped_count": 1}).status == "finished"
    # but not one extraction failed on: that is one of the failed article pages
    assert crawl_outcome("finished", {**stats, "item_dropped_count": 1, "newscrawl/errors/extraction": 1,
                                      ARTICLE_PAGES_FAILED: 3}).status == "failed"


def test_a_site_that_refuses_every_article_page_fails_the_crawl(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with serving(BlockedArticles) as site:
        result = generic(db, f"{site}/news/", r"/news/\d+\.html$", "--json")
    [summary] = json.loads(result.stdout)
    assert (result.returncode, summary["outcome"], summary["errors_by_kind"]) == (1, "failed", {"http_status": 2})
    assert summary["error"] == "every article page it asked for failed (2; see the errors by kind)"
    [site_stats] = json.loads(newscrawl("stats", "--json", "--db", db).stdout)["sites"]
    assert site_stats["last_success"] is None


class UnreachableRobots(BaseHTTPRequestHandler):
    """A news site whose robots.txt answers with a server error (`status`), its pages served."""

    status = 503
    asked: list[str] = []

    def do_GET(self):  # noqa: N802
        self.asked.append(self.path)
        robots = self.path == "/robots.txt"
        body = b"<html><body>Service Unavailable</body></html>" if robots else \
            b'<html><body><a href="/news/1.html">one</a></body></html>'
        send(self, self.status if robots else 200, {"Content-Type": "text/html"}, body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status", [500, 503])
def test_a_robots_txt_answering_a_server_error_forbids_the_site(tmp_path, status):
    """RFC 9309, 2.3.1.4: a robots.txt that cannot be fetched for a server error means the crawler
    must assume it may fetch nothing (Scrapy took the error page for rules, and crawled all)."""
    handler = type("Robots", (UnreachableRobots,), {"status": status, "asked": []})
    with serving(handler) as site:
        result = generic(f"sqlite:///{tmp_path / 'articles.db'}", f"{site}/news/", r"/news/\d+\.html$", "--json")
    assert handler.asked == ["/robots.txt"]
    [summary] = json.loads(result.stdout)
    assert (result.returncode, summary["outcome"], summary["errors_by_kind"]) == (1, "failed", {"robots": 1})
    assert f"robots.txt of 127.0.0.1 answered HTTP {status}" in result.stderr
