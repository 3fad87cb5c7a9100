"""Pages extraction fails on are kept (failed_pages) and retried by `newscrawl re-extract` once the
rules are fixed; an article split over pages keeps the HTML of every page, so re-extraction reads
it whole."""

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import ArticleRecord, DamagedPages, FailedPageRecord, Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import write_recording
from tests.test_re_extract import DAMAGED, execute

HOST = "https://failing.example"
ARTICLE = ("<html><head><title>{title}</title></head><body><h1>{title}</h1>"
           "<div class='story'>{paragraphs}</div>{pager}</body></html>")
SITE_MODULE = '''
from crawler.extract import SiteRules
from spiders.base import NewsSpider


class FailingSpider(NewsSpider):
    name = "failing"
    start_urls = ["{HOST}/news/"]
    article_links = r"/news/a\\d+\\.html$"
    extraction_rules = SiteRules(body={body!r})
'''
BROKEN, FIXED = "div[[", "div.story"  # a site module's selector that cssselect cannot parse, and its fix
PARTS = ["the harbour board met on Monday", "dredging starts in the spring", "the works end in two years"]


def paragraphs(part: str) -> str:
    return f"<p>Part: {part}, the board said in a statement to the press this week.</p>" * 3


def write_site(folder: Path) -> None:
    """A recorded site: a one-page article (a1) and one split over two pages (a2, a2_2), and a
    spider module `failing_site` whose body selector is broken; `failing_settings` uses it."""
    write_recording(folder / "site", "failing", {
        f"{HOST}/robots.txt": ("robots.txt", "User-agent: *\nAllow: /\n", "text/plain"),
        f"{HOST}/news/": ("list.html", f"<html><body><a href='{HOST}/news/a1.html'>1</a>"
                                       f"<a href='{HOST}/news/a2.html'>2</a></body></html>", "text/html"),
        f"{HOST}/news/a1.html": ("a1.html", ARTICLE.format(title="Water plan approved", pager="", paragraphs=(
            "<p>The county board approved the water plan for next year after a long debate.</p>" * 4)), "text/html"),
        f"{HOST}/news/a2.html": ("a2.html", ARTICLE.format(title="Harbour works", paragraphs=paragraphs(PARTS[0]),
                                                           pager="<a href='a2_2.html'>Next page</a>"), "text/html"),
        f"{HOST}/news/a2_2.html": ("a2_2.html", ARTICLE.format(
            title="Harbour works", paragraphs=paragraphs(PARTS[1]) + paragraphs(PARTS[2]), pager=""), "text/html"),
    })
    (folder / "failing_settings.py").write_text("from crawler.settings import *  # noqa: F403\n"
                                               "SPIDER_MODULES = ['failing_site']\n")
    use_rules(folder, BROKEN)


def use_rules(folder: Path, body: str) -> None:
    (folder / "failing_site.py").write_text(SITE_MODULE.replace("{HOST}", HOST).format(body=body))
    for cached in folder.glob("__pycache__/failing_site.*"):  # the same size and second as the old one: stale
        cached.unlink()


@pytest.fixture
def site(tmp_path):
    write_site(tmp_path)
    return tmp_path


def run(folder: Path, *args: str, returncode: int = 0):
    """newscrawl with the folder's spider module as the only site."""
    result = newscrawl(*args, "--db", f"sqlite:///{folder / 'articles.db'}",
                       env={"PYTHONPATH": str(folder), "SCRAPY_SETTINGS_MODULE": "failing_settings"})
    assert result.returncode == returncode, result.stderr
    return result


def crawl(folder: Path, returncode: int = 0) -> tuple[dict, str]:
    """The crawl's summary, and what it said on stderr."""
    result = run(folder, "crawl", "failing", "--replay", str(folder / "site"), "--json", returncode=returncode)
    [summary] = json.loads(result.stdout)
    return summary, result.stderr


def re_extract(folder: Path, *options: str) -> dict:
    return json.loads(run(folder, "re-extract", "--json", *options).stdout)["sites"]["failing"]


def query(folder: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(folder / "articles.db")) as connection:
        return connection.execute(sql).fetchall()


def exported(folder: Path) -> dict[str, dict]:
    lines = run(folder, "export").stdout.splitlines()
    return {article["url"]: article for article in map(json.loads, lines)}


def assert_whole(text: str) -> None:
    """The text of both pages of a2, in order."""
    assert [text.index(part) for part in PARTS] == sorted(text.index(part) for part in PARTS)


def test_a_page_extraction_fails_on_is_kept_and_stored_once_the_rules_are_fixed(site):
    summary, log = crawl(site, returncode=1)  # it read no article: a failed crawl, whose pages are kept
    assert (summary["outcome"], summary["error"]) == ("failed", "every article page it asked for failed (2; see "
                                                                "the errors by kind)")
    assert (summary["new"], summary["errors"], summary["errors_by_kind"]) == (0, 2, {"extraction": 2})
    assert query(site, "SELECT url, site FROM failed_pages ORDER BY url") == [
        (f"{HOST}/news/a1.html", "failing"), (f"{HOST}/news/a2.html", "failing")]
    assert query(site, "SELECT page FROM failed_page_pages") == [(2,)]  # a2's second page, kept with it
    for url, reason in query(site, "SELECT url, reason FROM failed_pages"):  # named with the reason kept
        assert reason and f"failed page (extraction): {url}: {reason}" in log
    stats = json.loads(run(site, "stats", "--json").stdout)["sites"]
    assert [(row["site"], row["unextracted"]) for row in stats] == [("failing", 2)]

    still_broken = re_extract(site)
    assert (still_broken["failed_pages"], still_broken["now_stored"]) == (2, [])
    assert set(still_broken["still_failing"]) == {f"{HOST}/news/a1.html", f"{HOST}/news/a2.html"}

    use_rules(site, FIXED)
    before = query(site, "SELECT * FROM failed_pages")
    dry_run = run(site, "re-extract", "--dry-run")
    assert f"failed page now stored: {HOST}/news/a2.html" in dry_run.stdout.splitlines()
    assert query(site, "SELECT * FROM failed_pages") == before and query(site, "SELECT * FROM articles") == []

    fixed = re_extract(site)
    assert (fixed["failed_pages"], sorted(fixed["now_stored"]), fixed["still_failing"]) == (
        2, [f"{HOST}/news/a1.html", f"{HOST}/news/a2.html"], {})
    assert query(site, "SELECT count(*) FROM failed_pages") == [(0,)]
    assert query(site, "SELECT count(*) FROM failed_page_pages") == [(0,)]
    articles = exported(site)
    assert articles[f"{HOST}/news/a2.html"]["title"] == "Harbour works"
    assert_whole(articles[f"{HOST}/news/a2.html"]["text"])
    assert [row["unextracted"] for row in json.loads(run(site, "stats", "--json").stdout)["sites"]] == [0]

    again = re_extract(site)
    assert (again["checked"], again["changed"], again["failed_pages"], again["now_stored"]) == (2, 0, 0, [])
    assert exported(site) == articles


def test_re_extract_reads_every_page_of_an_article_split_over_pages(site):
    use_rules(site, FIXED)
    assert crawl(site)[0]["new"] == 2
    assert query(site, "SELECT a.url, p.page FROM article_pages p JOIN articles a ON a.id = p.article_id") == [
        (f"{HOST}/news/a2.html", 2)]
    [(article_id, text)] = query(site, f"SELECT id, text FROM articles WHERE url = '{HOST}/news/a2.html'")
    assert_whole(text)
    use_rules(site, BROKEN)  # rules that raise: every article reported and kept as it was
    broken = re_extract(site, "failing")
    assert (sorted(broken["extraction_fails"]), broken["changed"]) == (
        [f"{HOST}/news/a1.html", f"{HOST}/news/a2.html"], 0)
    assert query(site, f"SELECT text FROM articles WHERE id = {article_id}") == [(text,)]
    use_rules(site, FIXED)
    execute(f"sqlite:///{site / 'articles.db'}", "UPDATE articles SET text = 'cut short', content_hash = 'x' "
                                                 "WHERE id = :id", id=article_id)
    report = re_extract(site, "failing")
    assert (report["checked"], report["changed"], report["fields"]["text"]) == (2, 1, 1)
    assert query(site, f"SELECT text FROM articles WHERE id = {article_id}") == [(text,)]


def test_a_failed_page_is_replaced_by_its_newest_failure_and_forgotten_once_stored(store_url):
    """On SQLite and on PostgreSQL."""
    store = Store(store_url)
    url = f"{HOST}/news/a3.html"
    store.keep_failed_pages([FailedPageRecord(url, "failing", ("<p>old 1</p>", "<p>old 2</p>"), "first error")])
    store.keep_failed_pages([FailedPageRecord(url, "failing", ("<p>new 1</p>",), "second error")])
    [kept] = store.failed_pages("failing")
    assert (kept.pages, kept.reason, kept.failed_at is not None) == (("<p>new 1</p>",), "second error", True)
    assert store.failed_page_counts() == {"failing": 1}

    # a later crawl stores the article normally: the failure is forgotten, the article keeps its pages
    record = ArticleRecord(url=url, site="failing", title="T", text="The text of page one.\nAnd of page two.",
                           html="<p>1</p>", more_pages=("<p>2</p>", "<p>3</p>"))
    store.save_articles([record])
    assert list(store.failed_pages("failing")) == [] and store.failed_page_counts() == {}
    [stored] = store.stored_pages("failing")
    assert (stored.html, stored.more_pages) == ("<p>1</p>", ("<p>2</p>", "<p>3</p>"))

    # its HTML updated: the further pages are those of the new HTML
    store.save_articles([ArticleRecord(url=url, site="failing", title="T", text="A new text.", html="<p>1b</p>",
                                       more_pages=("<p>2b</p>",))])
    [stored] = store.stored_pages("failing")
    assert (stored.html, stored.more_pages) == ("<p>1b</p>", ("<p>2b</p>",))
    assert not store.forget_failed_page(url)
    store.close()


def test_a_failed_page_whose_html_is_damaged_comes_named_among_the_others(store_url):
    """On SQLite and on PostgreSQL: one unreadable failed page does not stop re-extraction's pass."""
    store = Store(store_url)
    urls = [f"{HOST}/news/a{number}.html" for number in (4, 5, 6)]
    store.keep_failed_pages([FailedPageRecord(url, "failing", (f"<p>{url}</p>", "<p>2</p>"), "an error")
                             for url in urls])
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE failed_page_pages SET raw_html = :blob WHERE failed_page_id = "
                                "(SELECT id FROM failed_pages WHERE url = :url)"), {"blob": DAMAGED, "url": urls[1]})
    kept = list(store.failed_pages("failing"))
    assert [page.url for page in kept] == urls
    assert isinstance(kept[1], DamagedPages) and f"the raw HTML stored for {urls[1]} is damaged" in kept[1].reason
    assert [page.pages for page in (kept[0], kept[2])] == [(f"<p>{urls[0]}</p>", "<p>2</p>"),
                                                           (f"<p>{urls[2]}</p>", "<p>2</p>")]
    store.close()
