"""The crawl cases of ../shared/cases/real-world (a mini-site, the headers its server sends, the
articles the store must hold: tests/real_world/NN-name/ and NN-name.json beside it), each crawled
with the generic spider from a server on 127.0.0.1, plus variations of the same kinds of fault."""

from __future__ import annotations

import codecs
import json
import shutil
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cli_runner import newscrawl
from tests.loopback import send, serving

CASES = Path(__file__).parent / "real_world"
CRAWL_CASES = ["10-gbk-malformed-meta", "11-bom-vs-header", "15-base-href-links"]


@contextmanager
def serve(root: Path, headers_by_path: dict[str, dict]):
    """The files under root over HTTP on 127.0.0.1, with the headers given by path (UTF-8 HTML by default)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            path = urlsplit(self.path).path
            file = root / path.lstrip("/")
            if not file.is_file():
                self.send_error(404)
                return
            send(self, 200, {"Content-Type": "text/html; charset=utf-8", **headers_by_path.get(path, {})},
                 file.read_bytes())

        def log_message(self, *args):
            pass

    with serving(Handler) as base:
        yield base


def crawled(root: Path, case: dict, tmp_path) -> dict[str, dict]:
    """The articles a generic crawl of the served site stored, by path."""
    db = f"sqlite:///{tmp_path / 'articles.db'}"
    with serve(root, case.get("headers", {})) as base:
        result = newscrawl("crawl", "generic", "--start-url", base + case["start_path"],
                           "--article-pattern", case["article_pattern"], "--db", db,
                           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0")
    assert result.returncode == 0, result.stderr
    exported = newscrawl("export", "--db", db).stdout.splitlines()
    return {urlsplit(row["url"]).path: row for row in map(json.loads, exported)}


def assert_expected(stored: dict[str, dict], expect: dict) -> None:
    assert len(stored) == expect["articles"], sorted(stored)
    for path, wanted in expect["by_path"].items():
        article = stored[path]
        for field in ("title", "published", "source", "language"):
            if field in wanted:
                assert article[field] == wanted[field], (path, field)
        for needle in wanted.get("body_contains", []):
            assert needle in article["text"], (path, needle)


@pytest.mark.parametrize("name", CRAWL_CASES)
def test_a_real_world_crawl_case_stores_its_right_values(name, tmp_path):
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    assert_expected(crawled(CASES / case["site_dir"], case, tmp_path), case["expect"])


def _variation(name: str, tmp_path, rewrite) -> tuple[Path, dict]:
    """A copy of a case's site and description, changed by rewrite(site folder, case)."""
    site = shutil.copytree(CASES / name, tmp_path / "site")
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    rewrite(site, case)
    return site, case


def test_gbk_pages_declared_only_in_a_header_that_names_another_charset(tmp_path):
    """Case 10's kind: the declared charset (here a wrong latin-1 header) does not decode the
    bytes cleanly, GBK does: the clean one wins, whatever the page's meta says."""
    def rewrite(site, case):
        case["headers"] = {path: {"Content-Type": "text/html; charset=iso-8859-1"} for path in case["headers"]}
    site, case = _variation("10-gbk-malformed-meta", tmp_path, rewrite)
    assert_expected(crawled(site, case, tmp_path), case["expect"])


def test_a_utf8_bom_wins_over_a_header_naming_gb2312(tmp_path):
    """Case 11's kind with a Chinese header charset: the byte-order mark still decides."""
    def rewrite(site, case):
        case["headers"] = {path: {"Content-Type": "text/html; charset=gb2312"} for path in case["headers"]}
    site, case = _variation("11-bom-vs-header", tmp_path, rewrite)
    page = site / "news" / "501.html"
    assert page.read_bytes().startswith(codecs.BOM_UTF8)
    assert_expected(crawled(site, case, tmp_path), case["expect"])


def test_an_absolute_base_href_on_the_same_site_resolves_the_links(tmp_path):
    """Case 15's kind with a base given as a full URL path and a trailing index page."""
    def rewrite(site, case):
        listing = site / "list" / "index.html"
        listing.write_text(listing.read_text(encoding="utf-8").replace('href="/news/2023/"', 'href="/news/2023/index.html"'),
                           encoding="utf-8")
    site, case = _variation("15-base-href-links", tmp_path, rewrite)
    assert 'href="/news/2023/index.html"' in (site / "list" / "index.html").read_text(encoding="utf-8")
    assert_expected(crawled(site, case, tmp_path), case["expect"])
