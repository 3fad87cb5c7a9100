"""`newscrawl stats --check`: a site whose last crawl failed, or found far fewer articles, or
found no body in many more pages, or had many more errors than its recent crawls, is named
on a line of its own and the exit status is 1; a healthy store gives 0 and no output."""

import json
from datetime import datetime, timedelta

import pytest

from crawler import health
from storage import RunCounts, Store
from storage.reader import CrawlRunView
from tests.cli_runner import newscrawl

USUAL = RunCounts(pages=30, articles_new=2, articles_skipped=20, errors=1)  # a healthy incremental crawl


def record_runs(store: Store, site: str, runs: list[tuple[str, RunCounts]]) -> None:
    """Crawl runs of a site, oldest first."""
    for status, counts in runs:
        run_id = store.start_run(site)
        store.finish_run(run_id, status, counts)


@pytest.fixture
def db(store):
    record_runs(store, "healthy", [("finished", USUAL)] * 5)
    # one bad run long ago, then fine: only the last run is judged
    record_runs(store, "recovered", [("finished", USUAL), ("shutdown", USUAL)] + [("finished", USUAL)] * 4)
    record_runs(store, "young", [("finished", USUAL), ("finished", RunCounts(pages=2))])  # too few runs to compare
    return store


def check(store) -> tuple[int, list[str]]:
    result = newscrawl("stats", "--check", "--db", store.url)
    assert result.stderr == ""
    return result.returncode, result.stdout.splitlines()


def test_a_healthy_store_exits_0_silently(db):
    assert check(db) == (0, [])


def test_a_failed_last_crawl_is_named(db):
    record_runs(db, "henan", [("finished", USUAL)] * 4 + [("shutdown", USUAL)])
    status, lines = check(db)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("henan: last crawl (run ") and lines[0].endswith("ended shutdown")


def test_a_failed_scheduled_crawl_gives_its_reason(db):
    record_runs(db, "henan", [("finished", USUAL)] * 4)
    # as the scheduler records a crawl process that died before recording anything itself
    db.record_failed_run("henan", datetime.utcnow() + timedelta(seconds=1),
                         "the crawl process exited with code 2: newscrawl: no recordings\nsecond line")
    status, lines = check(db)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("henan: ")
    assert lines[0].endswith("ended failed: the crawl process exited with code 2: newscrawl: no recordings")


def test_far_fewer_articles_found_is_named(db):
    # a changed layout: the list pages still load, but no article link matches any more
    record_runs(db, "rocar", [("finished", USUAL)] * 5 + [("finished", RunCounts(pages=3))])
    status, lines = check(db)
    assert status == 1
    assert [line.split(" (")[0] for line in lines] == ["rocar: last crawl"]
    assert "found 0 articles, far below its recent median of 22" in lines[0]


def test_a_rise_in_pages_without_body_is_named(db):
    broken = RunCounts(pages=30, articles_new=1, empty_pages=5, articles_skipped=18)
    record_runs(db, "jfmi", [("finished", USUAL)] * 5 + [("finished", broken)])
    status, lines = check(db)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("jfmi: ") and "no body in 83% of its article pages, up from a recent median of 0%" in lines[0]


def test_a_rise_in_errors_is_named(db):
    record_runs(db, "4ll", [("finished", USUAL)] * 5 + [("finished", RunCounts(pages=30, articles_skipped=22,
                                                                               errors=9))])
    status, lines = check(db)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("4ll: ") and "had 9 errors, up from a recent median of 1" in lines[0]


def test_one_line_per_problem_and_json(db):
    record_runs(db, "rocar", [("finished", USUAL)] * 5 + [("finished", RunCounts(pages=3, empty_pages=2,
                                                                                 errors=12))])
    status, lines = check(db)
    assert status == 1 and len(lines) == 3 and all(line.startswith("rocar: ") for line in lines)
    result = newscrawl("stats", "--check", "--json", "--db", db.url)
    assert result.returncode == 1
    assert [(p["site"], p["kind"]) for p in json.loads(result.stdout)] == [
        ("rocar", "few_articles"), ("rocar", "no_body"), ("rocar", "errors")]


def test_a_crawl_still_running_is_not_judged(db):
    record_runs(db, "rocar", [("finished", USUAL)] * 5)
    db.start_run("rocar")  # running now, with no counts yet
    assert check(db) == (0, [])


def test_small_ups_and_downs_are_not_problems():
    runs = [_view(RunCounts(pages=30, articles_new=n, articles_skipped=20, errors=e))
            for n, e in ((3, 0), (1, 2), (2, 1), (0, 3), (4, 1))]
    assert health.site_problems("rocar", runs) == []


def _view(counts: RunCounts) -> CrawlRunView:
    return CrawlRunView("rocar", datetime(2026, 1, 1), datetime(2026, 1, 1), "finished", counts, id=1)


def test_check_and_runs_exclude_each_other(db):
    result = newscrawl("stats", "--check", "--runs", "--db", db.url)
    assert result.returncode == 2 and "not allowed with" in result.stderr
