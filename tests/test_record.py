"""`newscrawl record`: a live crawl through the real Scrapy downloader, against a
recorded site served on 127.0.0.1, saved in the format replay reads back."""

import json

import pytest

from crawler.runner import FIXTURES
from storage import Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality
from tests.loopback import recorded_site_proxy
from tests.test_cli import assert_one_line_error

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def test_record_then_replay_gives_the_same_articles(tmp_path):
    out = tmp_path / "henan"
    with recorded_site_proxy(FIXTURES / "henan") as (proxy, requests):
        result = newscrawl("record", "henan", "--out", str(out), *FAST,
                           env={"http_proxy": proxy, "no_proxy": ""})
    assert result.returncode == 0, result.stderr
    assert "http://www.hnjgdj.gov.cn/robots.txt" in requests  # robots.txt is obeyed live

    original = json.loads((FIXTURES / "henan" / "manifest.json").read_text())
    recorded = json.loads((out / "manifest.json").read_text())
    assert {e["url"] for e in recorded["responses"]} == {e["url"] for e in original["responses"]}
    seed = next(e for e in recorded["responses"] if e["url"].endswith("225453.html"))
    assert seed["headers"]["Content-Type"] == "text/html"  # charset only in the meta tag, as served
    assert (out / seed["body"]).read_bytes() == (FIXTURES / "henan" / "pages" / "2023-11-22-225453.html").read_bytes()

    db = f"sqlite:///{tmp_path / 'replayed.db'}"
    assert newscrawl("crawl", "henan", "--replay", str(out), "--db", db).returncode == 0
    urls = {article["url"] for article in Store(db, create=False).articles()}
    assert urls == set(quality("henan")["articles"])


def test_record_stores_nothing_and_reports_what_it_saved(tmp_path):
    with recorded_site_proxy(FIXTURES / "jfmi") as (proxy, _):
        result = newscrawl("record", "jfmi", "--out", str(tmp_path / "jfmi"), *FAST,
                           env={"http_proxy": proxy, "no_proxy": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    recorded = json.loads((FIXTURES / "jfmi" / "manifest.json").read_text())["responses"]
    assert result.stdout.startswith(f"recorded {len(recorded)} responses of jfmi")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("out, message", [
    ("a-file", "is not a folder"),
    ("a-file/jfmi", "cannot write the recording folder"),
    ("broken", "unreadable recording manifest"),
])
def test_a_recording_folder_that_cannot_be_used_is_refused_before_any_fetch(tmp_path, out, message):
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("garbage")
    with recorded_site_proxy(FIXTURES / "jfmi") as (proxy, requests):
        result = newscrawl("record", "jfmi", "--out", str(tmp_path / out), *FAST,
                           env={"http_proxy": proxy, "no_proxy": ""}, cwd=tmp_path)
    assert_one_line_error(result, str(tmp_path / out), message)
    assert not requests and result.stdout == ""
