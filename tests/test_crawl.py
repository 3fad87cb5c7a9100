"""Whole replayed crawls through the real command: URLs, idempotence, counts, encodings."""

import json
import shutil

import pytest
from w3lib.url import canonicalize_url

from crawler.runner import FIXTURES
from storage import Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality, site_names


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The bundled fixtures replayed twice into one store, the second time fetching
    every stored article again (--refresh): (store, first run, second run)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('crawl') / 'articles.db'}"
    first = newscrawl("crawl", "--replay", "--db", db)
    second = newscrawl("crawl", "--replay", "--refresh", "--db", db)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    store = Store(db, create=False)
    yield store, first, second
    store.close()


def stored(store, site):
    return {article["url"]: article for article in store.articles(site)}


@pytest.mark.parametrize("site", site_names())
def test_replayed_crawl_stores_exactly_the_sites_articles(crawled, site):
    store, _, _ = crawled
    expected = {canonicalize_url(url) for url in quality(site)["articles"]}
    assert set(stored(store, site)) == expected


@pytest.mark.parametrize("site", site_names())
def test_no_boilerplate_string_reaches_the_store(crawled, site):
    store, _, _ = crawled
    for article in stored(store, site).values():
        text = " ".join(article["text"].split())
        for chrome in quality(site)["boilerplate"]:
            assert " ".join(chrome.split()) not in text, (article["url"], chrome)


def test_second_replay_adds_nothing_and_counts_unchanged(crawled):
    store, _, second = crawled
    total = sum(len(quality(site)["articles"]) for site in site_names())
    assert len(list(store.articles())) == total
    for site in site_names():
        run = store.last_run(site)
        assert run.status == "finished"
        assert (run.counts.articles_new, run.counts.articles_updated) == (0, 0)
        assert run.counts.articles_unchanged == len(quality(site)["articles"])
    assert "unchanged" in second.stdout  # the summary table


def test_summary_table_names_every_site(crawled):
    _, first, _ = crawled
    lines = first.stdout.splitlines()
    assert lines[0].split()[:4] == ["site", "outcome", "pages", "new"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(site_names())
    assert all(row[1] == "finished" for row in rows.values())
    assert rows["rocar"][3] == str(len(quality("rocar")["articles"]))


def test_page_without_body_is_counted_not_stored(crawled):
    store, _, _ = crawled
    [video_page] = quality("bluestar")["empty_pages"]
    assert canonicalize_url(video_page) not in stored(store, "bluestar")
    assert store.last_run("bluestar").counts.empty_pages == 1


def test_gbk_pages_declared_only_in_meta_decode_correctly(crawled):
    store, _, _ = crawled
    texts = [article["text"] for article in stored(store, "henan").values()]
    assert any("王喆" in text for text in texts)  # 喆 exists in GBK, not in GB2312
    assert not any("\ufffd" in text for text in texts)
    titles = {article["title"] for article in stored(store, "henan").values()}
    assert "郑州市直机关举办2023年党务干部培训班" in titles


def test_a_crawl_opens_no_remote_control_server(tmp_path):
    jobs = tmp_path / "jobs"  # where Scrapy's remote control would write the port and token of its server
    db = f"sqlite:///{tmp_path / 'a.db'}"
    result = newscrawl("crawl", "rocar", "--replay", "--db", db, "-s", f"REMOTE_CONTROL_JOBS_DIR={jobs}", "-v")
    assert result.returncode == 0, result.stderr
    assert not jobs.exists()
    assert "Remote control" not in result.stderr


def test_unrecorded_url_is_a_counted_404_not_a_crash(tmp_path):
    site = shutil.copytree(FIXTURES / "rocar", tmp_path / "rocar")
    manifest = json.loads((site / "manifest.json").read_text())
    missing = "https://www.rocar.net/en/menu139/newsDetail/455.html"
    manifest["responses"] = [entry for entry in manifest["responses"] if entry["url"] != missing]
    (site / "manifest.json").write_text(json.dumps(manifest))
    db = f"sqlite:///{tmp_path / 'a.db'}"
    result = newscrawl("crawl", "rocar", "--replay", str(site), "--db", db)
    assert result.returncode == 0, result.stderr
    store = Store(db, create=False)
    run = store.last_run("rocar")
    assert run.status == "finished"  # one page of many failed: the crawl did its work
    assert (run.counts.errors, run.errors_by_kind) == (1, {"http_status": 1})  # the page, once
    assert f"failed page (http_status): {missing}: HTTP 404" in result.stderr
    assert len(stored(store, "rocar")) == len(quality("rocar")["articles"]) - 1


def test_changed_page_is_updated_in_place(tmp_path):
    site = shutil.copytree(FIXTURES / "rocar", tmp_path / "rocar")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert newscrawl("crawl", "rocar", "--replay", str(site), "--db", db).returncode == 0
    page = site / "pages" / "en-menu139-newsDetail-497.html"
    page.write_bytes(page.read_bytes().replace(b"over 60 people", b"over 70 people"))
    manifest = json.loads((site / "manifest.json").read_text())
    [entry] = [entry for entry in manifest["responses"] if entry["body"] == "pages/en-menu139-newsDetail-497.html"]
    entry["headers"]["ETag"] = '"edited"'  # as the server would: the cached copy is no longer current
    (site / "manifest.json").write_text(json.dumps(manifest))
    assert newscrawl("crawl", "rocar", "--replay", str(site), "--refresh", "--db", db).returncode == 0
    store = Store(db, create=False)
    run = store.last_run("rocar")
    assert (run.counts.articles_new, run.counts.articles_updated, run.counts.articles_unchanged) == (0, 1, 6)
    articles = stored(store, "rocar")
    assert len(articles) == 7
    assert "over 70 people" in articles["https://www.rocar.net/en/menu139/newsDetail/497.html"]["text"]
