"""The HTTP cache: one SQLite file per store, shared safely by crawls running at once."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from tests.cli_runner import ROOT, newscrawl


def cached_urls(cache) -> set[str]:
    with closing(sqlite3.connect(cache)) as connection:
        return {url for url, in connection.execute("SELECT url FROM responses")}


def test_each_store_has_its_own_cache_file(tmp_path):
    for name, site in (("first", "rocar"), ("second", "jfmi")):
        result = newscrawl("crawl", site, "--replay", "--db", f"sqlite:///{tmp_path / name}.db")
        assert result.returncode == 0, result.stderr
    caches = tmp_path / "httpcache"
    assert sorted(path.name for path in caches.iterdir() if path.suffix == ".sqlite") == ["first.sqlite",
                                                                                       "second.sqlite"]
    assert cached_urls(caches / "first.sqlite") and all("rocar" in url for url in cached_urls(caches / "first.sqlite"))
    assert all("jfmi" in url for url in cached_urls(caches / "second.sqlite"))


@pytest.mark.slow
def test_crawls_running_at_once_share_a_store_and_its_cache(tmp_path):
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    assert newscrawl("crawl", "rocar", "--replay", "--db", db).returncode == 0  # the store exists
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    crawls = [subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", site, "--replay", "--full",
                                "--db", db], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
              for site in ("4ll", "bluestar", "henan", "rocar")]
    for crawl in crawls:
        out, err = crawl.communicate(timeout=300)
        assert crawl.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err
    urls = cached_urls(tmp_path / "httpcache" / "articles.sqlite")
    assert {site for site in ("4ll", "bluestar", "hnjgdj", "rocar") if any(site in url for url in urls)} == {
        "4ll", "bluestar", "hnjgdj", "rocar"}
