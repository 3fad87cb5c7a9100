"""One article in full: metadata, its near-duplicate cluster, its crawl history, its text."""

import dataclasses
import json
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from storage import ArticleRecord, Store
from storage.reader import StoredArticle
from tests.cli_runner import newscrawl
from tests.test_cli import assert_one_line_error

ARTICLE = ArticleRecord(url="https://example.org/news/1.html", site="example", title="A meeting",
                        text="First paragraph.\nSecond paragraph.", published=date(2022, 1, 25))
SEED = "http://www.jfmi.com.cn/en_/NewsInformation/PartyBuildingTrends/201610/t20161010_104333.html"


@pytest.fixture(scope="module")
def db(jfmi_store):
    """jfmi crawled, then fetched again: every article has a 'new' and an 'unchanged' fetch."""
    url = jfmi_store()
    assert newscrawl("crawl", "jfmi", "--replay", "--refresh", "--db", url).returncode == 0
    return url


def test_every_save_but_a_duplicate_goes_into_the_crawl_history(store):
    first, second = store.start_run("example"), store.start_run("example")
    store.save_article(ARTICLE, run_id=first)
    store.save_article(ARTICLE, run_id=second)
    store.save_article(dataclasses.replace(ARTICLE, text="First paragraph, corrected."), run_id=second)
    store.save_article(dataclasses.replace(ARTICLE, url="https://mirror.example.org/1.html",
                                           text="First paragraph, corrected."), run_id=second)
    store.save_article(ARTICLE)  # outside a crawl run
    article = store.find_article(url=ARTICLE.url)
    assert [(f.run_id, f.spider, f.outcome) for f in store.fetch_history(article.id)] == [
        (first, "example", "new"), (second, "example", "unchanged"), (second, "example", "updated"),
        (None, None, "updated")]
    assert store.find_article(url="https://mirror.example.org/1.html") is None


def test_an_id_beyond_the_id_column_finds_no_article(store):
    store.save_article(ARTICLE)
    assert store.find_article(article_id=2**31) is None and store.find_article(article_id=2**63) is None
    assert store.find_article(article_id=-2**63 - 1) is None


def test_a_cluster_is_its_root_and_the_root_s_copies(store):
    for number in range(1, 5):
        store.save_article(dataclasses.replace(ARTICLE, url=f"https://example.org/{number}", text=f"Story {number}"))
    with store.engine.begin() as connection:  # what near-duplicate detection records
        connection.execute(text("UPDATE articles SET duplicate_of = 1 WHERE id IN (2, 3)"))
    cluster = {number: [copy.id for copy in store.near_duplicates(store.find_article(article_id=number))]
               for number in range(1, 5)}
    assert cluster == {1: [2, 3], 2: [1, 3], 3: [1, 2], 4: []}


def test_show_by_a_non_canonical_url_prints_metadata_history_and_text(db):
    result = newscrawl("show", SEED.replace("http://www.jfmi", "HTTP://WWW.JFMI") + "#top", "--db", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"url           {SEED}" in lines and "published     2016-07-27" in lines
    assert not any(line.startswith("raw_html") for line in lines)
    assert "near-duplicates: none" in lines
    history = lines[lines.index("crawl history:") + 2:][:2]
    with create_engine(db).connect() as connection:
        runs = connection.execute(text("SELECT id FROM crawl_runs ORDER BY id")).scalars().all()
    assert [line.split()[3:] for line in history] == [[str(runs[0]), "jfmi", "new"],
                                                      [str(runs[1]), "jfmi", "unchanged"]]
    assert lines[-4].startswith("On April 29, the Party Committee of JFMI held the education mobilization meeting")


def test_show_json_by_id_lists_the_cluster(jfmi_store):
    db = jfmi_store()
    with create_engine(db).begin() as connection:  # a cluster as near-duplicate detection records it
        root, *copies = connection.execute(text("SELECT id FROM articles ORDER BY id LIMIT 3")).scalars()
        connection.execute(text("UPDATE articles SET duplicate_of = CASE WHEN id IN (:a, :b) THEN :root END"),
                           {"root": root, "a": copies[0], "b": copies[1]})
    shown = json.loads(newscrawl("show", str(copies[0]), "--json", "--db", db).stdout)
    assert set(shown) == {spec.name for spec in dataclasses.fields(StoredArticle)} | {"near_duplicates", "history"}
    assert (shown["id"], shown["duplicate_of"]) == (copies[0], root)
    assert [copy["id"] for copy in shown["near_duplicates"]] == [root, copies[1]]
    assert all(copy["site"] == "jfmi" and copy["url"].startswith("http://www.jfmi.com.cn/")
               for copy in shown["near_duplicates"])
    assert [(fetch["spider"], fetch["outcome"]) for fetch in shown["history"]] == [("jfmi", "new")]


@pytest.mark.parametrize("spelling", [
    SEED.replace("http:", "https:") + "?utm_source=weibo&from=timeline",  # as shared: https, tracking parameters
    SEED + ";jsessionid=A1B2C3", SEED.replace("http:", "HTTPS:")])
def test_show_finds_an_article_by_any_spelling_the_crawl_takes_for_it(db, spelling):
    result = newscrawl("show", spelling, "--db", db)
    assert result.returncode == 0, result.stderr
    assert f"url           {SEED}" in result.stdout.splitlines()


def test_show_finds_an_article_by_a_url_that_led_to_it(db):
    store = Store(db, create=False)  # a redirect's source, filed as a crawl files it
    store.add_aliases(SEED, ["http://www.jfmi.com.cn/old/104333.html"])
    store.close()
    result = newscrawl("show", "http://www.jfmi.com.cn/old/104333.html?utm_medium=rss", "--db", db)
    assert result.returncode == 0, result.stderr
    assert f"url           {SEED}" in result.stdout.splitlines()


@pytest.mark.parametrize("key", ["99999", "http://www.jfmi.com.cn/no/such/article.html",
                                 "99999999999999999999999", "²", "http://[jfmi/"])  # beyond any id column; a digit int() refuses
def test_show_an_unknown_article(db, key):
    assert_one_line_error(newscrawl("show", key, "--db", db), f"no article {key!r}")
