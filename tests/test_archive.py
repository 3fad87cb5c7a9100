"""`crawl --warc`: every response fetched written as WARC records, read back with warcio's
own reader, and replayed (`crawl --replay FILE.warc.gz`) into the same articles."""

import gzip

import pytest
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator

from storage import Store
from tests import source_site as site
from tests.cli_runner import newscrawl
from tests.loopback import recorded_site_proxy

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture(scope="module")
def live_crawl(tmp_path_factory):
    """The invented site's news list crawled through the real downloader with --warc: (WARC path, store, requests)."""
    folder = tmp_path_factory.mktemp("warc")
    recording = site.write_recording(folder / "site")
    warc = folder / "crawl.warc.gz"
    with recorded_site_proxy(recording) as (proxy, requests):
        result = newscrawl("crawl", "generic", "--start-url", f"{site.ROOT}/news/index.html",
                           "--article-pattern", site.ARTICLE_PATTERN, "--warc", str(warc),
                           "--db", f"sqlite:///{folder / 'live.db'}", *FAST,
                           env={"http_proxy": proxy, "no_proxy": ""}, cwd=folder)
    assert result.returncode == 0, result.stderr
    store = Store(f"sqlite:///{folder / 'live.db'}", create=False)
    yield warc, store, requests
    store.close()


def records(warc):
    with open(warc, "rb") as stream:
        for record in ArchiveIterator(stream):
            yield record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read()


def test_every_response_fetched_is_a_request_and_a_response_record(live_crawl):
    warc, _, requests = live_crawl
    written = list(records(warc))
    assert written[0][0] == "warcinfo"
    pairs = written[1:]
    responses = [r for r in pairs if r[0] == "response"]
    assert sorted(canonicalize_url(headers.get_header("WARC-Target-URI")) for _, headers, _, _ in responses) \
        == sorted(canonicalize_url(url) for url in requests)
    # warcio links each request record to its response record
    response_ids = {headers.get_header("WARC-Record-ID"): headers for _, headers, _, _ in responses}
    linked = [(headers, response_ids[headers.get_header("WARC-Concurrent-To")])
              for kind, headers, _, _ in pairs if kind == "request"]
    assert len(linked) == len(responses) == len(pairs) / 2
    assert all(request.get_header("WARC-Target-URI") == response.get_header("WARC-Target-URI")
               for request, response in linked)
    for _, headers, http, body in responses:
        assert http.get_statuscode() == "200"
        served = site.pages()[headers.get_header("WARC-Target-URI")][1].encode("utf-8")
        assert body == served
    assert all(http.get_header("User-Agent", "").startswith("newscrawl/")
               for kind, _, http, _ in pairs if kind == "request")


def test_each_record_is_its_own_gzip_member(live_crawl):
    warc, _, _ = live_crawl
    with gzip.open(warc) as whole:  # concatenated members read as one stream
        assert whole.read().count(b"WARC/1.") == 1 + 2 * sum(1 for r in records(warc) if r[0] == "response")
    with open(warc, "rb") as stream:
        offsets = [iterator.get_record_offset() for iterator in [ArchiveIterator(stream)] for _ in iterator]
    data = warc.read_bytes()
    assert all(data[offset:offset + 2] == b"\x1f\x8b" for offset in offsets)


def test_replay_from_the_warc_file_stores_the_same_articles_offline(live_crawl, tmp_path):
    warc, live, _ = live_crawl
    db = f"sqlite:///{tmp_path / 'replayed.db'}"
    result = newscrawl("crawl", "generic", "--start-url", f"{site.ROOT}/news/index.html",
                       "--article-pattern", site.ARTICLE_PATTERN, "--replay", str(warc), "--db", db,
                       env={"http_proxy": "http://127.0.0.1:9"}, cwd=tmp_path)  # a proxy that answers nothing
    assert result.returncode == 0, result.stderr
    replayed = Store(db, create=False)
    fields = ("url", "title", "published", "text")
    assert sorted(tuple(a[f] for f in fields) for a in replayed.articles()) \
        == sorted(tuple(a[f] for f in fields) for a in live.articles())
    assert len(list(replayed.articles())) == len(site.ARTICLES)
    replayed.close()


def test_a_replayed_crawl_with_warc_archives_what_replay_answered(tmp_path):
    warc = tmp_path / "rocar.warc.gz"
    result = newscrawl("crawl", "rocar", "--replay", "--warc", str(warc), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    store = Store(f"sqlite:///{tmp_path / 'a.db'}", create=False)
    responses = [r for r in records(warc) if r[0] == "response"]
    assert len(responses) == store.last_run("rocar").counts.pages
    store.close()


@pytest.mark.parametrize("make, message", [
    (lambda path: path.write_bytes(b"not a warc file\n"), "unreadable WARC file"),
    (lambda path: path.write_bytes(b""), "no response records in WARC file"),
])
def test_a_file_that_is_no_warc_is_refused_in_one_line(tmp_path, make, message):
    make(tmp_path / "bad.warc")
    result = newscrawl("crawl", "rocar", "--replay", str(tmp_path / "bad.warc"), "--db",
                       f"sqlite:///{tmp_path / 'a.db'}", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_unwritable_warc_file_is_refused_before_crawling(tmp_path):
    result = newscrawl("crawl", "rocar", "--replay", "--warc", str(tmp_path / "no" / "such" / "dir.warc.gz"),
                       "--db", f"sqlite:///{tmp_path / 'a.db'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("newscrawl: cannot write to") and not (tmp_path / "a.db").exists()


def test_replay_reads_a_compressed_body_and_a_later_304_leaves_the_full_answer(tmp_path):
    """A response kept as sent with Content-Encoding: gzip (as WriteWarc keeps it) replays as plain bytes."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from crawler.archive import load_warc

    page = "<html><body><p>正文</p></body></html>".encode("utf-8")
    url = "http://a.example/n/1.html"
    with open(tmp_path / "a.warc.gz", "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for status, headers, body in (
                ("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
                            ("ETag", '"v1"')], gzip.compress(page)),
                ("304 Not Modified", [("ETag", '"v1"')], b"")):
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body),
                                                          http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1")))
    [archived] = load_warc(tmp_path / "a.warc.gz").values()
    assert (archived.url, archived.status) == (url, 200)
    assert archived.read_body() == page
    assert archived.headers == {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}
