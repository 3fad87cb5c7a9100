"""`newscrawl browse`: the store in Datasette with our metadata, through Datasette's
test client and once in a real headless Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from crawler import browse
from storage.models import Base
from tests.cli_runner import ROOT, newscrawl
from tests.fixture_sites import quality, site_names
from tests.test_cli import assert_one_line_error

METADATA = json.loads(browse.METADATA.read_text(encoding="utf-8"))["databases"][browse.DATABASE]
# Only one stored article says "condolence": Bluestar's leaders visiting workers at Spring Festival.
SEARCHED_WORD = "condolence"
SEARCHED_URL = "http://www.chinabluestar.com/lanxingen/xwymt/hhxw/webinfo/2022/02/1644887556214736.htm"
# The story that one rocar article is marked a reprint of, as near-duplicate detection marks them.
ORIGINAL_URL = "http://www.jfmi.com.cn/en_/NewsInformation/PartyBuildingTrends/201610/t20161010_104333.html"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "test-artifacts" / "browse-search.png"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A replayed crawl of every fixture site, with one duplicate cluster."""
    path = tmp_path_factory.mktemp("browse") / "articles.db"
    result = newscrawl("crawl", "--replay", "--db", f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as connection:
        connection.execute("update articles set duplicate_of = (select id from articles where url = ?) "
                           "where id = (select min(id) from articles where site = 'rocar')", (ORIGINAL_URL,))
    return path


@pytest.fixture(scope="module")
def articles(store) -> list[dict]:
    """What is stored, read without Datasette."""
    with sqlite3.connect(store) as connection:
        connection.row_factory = sqlite3.Row
        query = "select id, url, site, title, published, duplicate_of from articles"
        return [dict(row) for row in connection.execute(query)]


@pytest.fixture(scope="module")
def datasette(store):
    return browse.datasette(store)


def get(datasette, path: str, status: int = 200):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == status, response.text
    return response


def rows(datasette, path: str) -> list[dict]:
    separator = "&" if "?" in path else "?"
    return get(datasette, f"/{browse.DATABASE}/{path}{separator}_shape=objects").json()["rows"]


def test_every_column_of_the_store_is_described():
    for name in ("articles", "crawl_runs", "article_fetches", "near_duplicate_bands"):
        table = METADATA["tables"][name]
        assert table["description"]
        assert set(table["columns"]) == set(Base.metadata.tables[name].columns.keys()), name


def test_the_articles_page_shows_our_title_and_descriptions(datasette):
    page = lxml.html.fromstring(get(datasette, f"/{browse.DATABASE}/articles").text)
    text = page.text_content()
    assert METADATA["tables"]["articles"]["description"] in text
    assert METADATA["tables"]["articles"]["columns"]["content_hash"] in text
    home = lxml.html.fromstring(get(datasette, "/").text)
    assert home.findtext(".//h1") == "newscrawl"


def test_raw_html_is_left_out_of_the_articles_table_but_still_reachable(datasette):
    table = get(datasette, f"/{browse.DATABASE}/articles.json").json()
    assert "raw_html" not in table["columns"] and "text" in table["columns"]
    asked = get(datasette, f"/{browse.DATABASE}/articles.json?_col=title&_col=raw_html").json()
    assert "raw_html" in asked["columns"]
    row_page = get(datasette, f"/{browse.DATABASE}/articles/1").text
    assert "articles/1.blob?_blob_column=raw_html" in row_page


def test_search_finds_the_article_that_says_the_word(datasette):
    found = rows(datasette, f"articles.json?_search={SEARCHED_WORD}")
    assert [row["url"] for row in found] == [SEARCHED_URL]
    assert rows(datasette, "articles.json?_search=nosuchwordanywhere") == []


def test_articles_are_faceted_by_site_and_date(datasette, articles):
    facets = get(datasette, f"/{browse.DATABASE}/articles.json").json()["facet_results"]
    assert {value["value"]: value["count"] for value in facets["site"]["results"]} == {
        site: len(quality(site)["articles"]) for site in site_names()}
    assert facets["published"]["type"] == "date"
    per_day = Counter(article["published"] for article in articles)
    assert facets["published"]["results"]
    for day in facets["published"]["results"]:
        assert day["count"] == per_day[day["value"]]


def test_latest_articles(datasette, articles):
    newest_first = sorted((a["published"] for a in articles if a["published"]), reverse=True)
    undated = [None] * sum(1 for a in articles if not a["published"])
    assert [row["published"] for row in rows(datasette, "latest_articles.json")] == (newest_first + undated)[:100]


def test_articles_per_site_per_month(datasette, articles):
    counted = {(row["site"], row["month"]): row["articles"]
               for row in rows(datasette, "articles_per_site_per_month.json")}
    assert counted == Counter((a["site"], a["published"] and a["published"][:7]) for a in articles)


def test_duplicate_clusters(datasette, articles):
    clusters = {c["cluster"]: c for c in rows(datasette, "duplicate_clusters.json")}
    sizes = Counter(a["duplicate_of"] or a["id"] for a in articles)
    assert {cluster: c["articles"] for cluster, c in clusters.items()} == {
        cluster: size for cluster, size in sizes.items() if size > 1}
    original = next(a for a in articles if a["url"] == ORIGINAL_URL)
    marked = clusters[original["id"]]
    assert (marked["title"], marked["articles"], set(marked["sites"].split(","))) == (
        original["title"], 2, {"jfmi", "rocar"})


def test_pages_with_no_body(datasette):
    empty = {row["site"]: (row["in_last_run"], row["in_all_runs"], row["runs"])
             for row in rows(datasette, "pages_with_no_body.json")}
    expected = {site: len(quality(site)["empty_pages"]) for site in site_names()}
    assert empty == {site: (count, count, 1) for site, count in expected.items() if count}


def test_recent_crawl_runs(datasette):
    runs = rows(datasette, "recent_crawl_runs.json")
    assert sorted(run["spider"] for run in runs) == site_names()
    assert all(run["status"] == "finished" for run in runs)
    assert [run["started_at"] for run in runs] == sorted((run["started_at"] for run in runs), reverse=True)


def test_writes_are_refused(datasette, articles):
    path = f"/{browse.DATABASE}.json?_shape=objects&sql="
    # Datasette lets a WITH statement through its SELECT-only check; the read-only connection stops it.
    sneaked = get(datasette, path + "with a as (select 1) delete from articles", status=400)
    assert "attempt to write a readonly database" in sneaked.json()["error"]
    assert "must be a SELECT" in get(datasette, path + "delete from articles", status=400).json()["error"]
    assert get(datasette, path + "select count(*) as n from articles").json()["rows"] == [{"n": len(articles)}]


def test_browse_refuses_what_it_cannot_serve(store, tmp_path):
    assert_one_line_error(newscrawl("browse", "--db", "postgresql://news@localhost/news"), "SQLite",
                          "newscrawl db copy --db postgresql://news@localhost/news --to sqlite:///snapshot.db")
    assert_one_line_error(newscrawl("browse", "--db", f"sqlite:///{tmp_path}/none.db"), "no newscrawl store")
    without_datasette = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['datasette'] = None; from crawler.cli import main; "
                               "sys.exit(main(sys.argv[1:]))", "browse", "--db", f"sqlite:///{store}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert_one_line_error(without_datasette, "pip install 'newscrawl[browse]'")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = newscrawl("browse", "--db", f"sqlite:///{store}", "--port", str(taken.getsockname()[1]))
    assert_one_line_error(busy, "cannot listen", "in use")


@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                    reason="needs Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)")
def test_a_search_in_a_real_browser(store, tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "browse", "--db", f"sqlite:///{store}", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the socket listens before this line is printed, so the browser can connect right away
        announced = server.stdout.readline()
        assert "serving" in announced, server.stderr.read()
        page = announced.split(" at ")[1].split()[0] + f"/articles?_search={SEARCHED_WORD}"
        browser = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={tmp_path / 'chromium'}"]
        dom = subprocess.run([*browser, "--dump-dom", page], capture_output=True, text=True, timeout=120, check=True)
        shown = lxml.html.fromstring(dom.stdout)
        assert f'1 row where search matches "{SEARCHED_WORD}"' in " ".join(shown.find(".//h3").text_content().split())
        assert [link.get("href") for link in shown.cssselect("table.rows-and-columns td.col-url a")] == [SEARCHED_URL]
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.unlink(missing_ok=True)
        # tall enough to show the first results under the column descriptions and facets
        subprocess.run([*browser, f"--screenshot={SCREENSHOT}", "--window-size=1280,1800", page],
                       capture_output=True, timeout=120, check=True)
        assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")
    finally:
        server.terminate()
        server.wait(timeout=30)
