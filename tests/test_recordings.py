"""What replay serves from a recording folder: crawler/recordings.py's Recordings and load_replay."""

from __future__ import annotations

import io
import json
import os

import pytest
from scrapy.http import Headers
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.recordings import (RecordedResponse, RecordingError, RecordingWriter, Recordings, load_replay,
                                 recording_key)

PAGE = "https://news.example.org/a/1.html"


def _response(url: str, body_file: str, **fields) -> RecordedResponse:
    return RecordedResponse(url, fields.pop("status", 200), fields.pop("headers", {"Content-Type": "text/html"}),
                            body_file, **fields)


def test_recordings_answer_as_a_dict_would():
    first = _response(PAGE, "/r/1.html", headers={"Content-Type": "text/html", "ETag": '"a"'})
    post = _response("https://news.example.org/list", "/r/list.html", method="POST", request_body="page=2")
    other = _response("https://news.example.org/a/2.html", "/r/2.html", status=301,
                      headers={"Location": "https://news.example.org/a/1.html"})
    recordings = Recordings([first, post, other])

    assert len(recordings) == 3
    assert list(recordings) == [first.key, post.key, other.key]
    assert recordings[first.key] == first
    assert recordings[recording_key("POST", "https://news.example.org/list", b"page=2")] == post
    assert recordings[other.key].status == 301 and recordings[other.key].headers == other.headers
    assert recordings.get(recording_key("GET", "https://news.example.org/list")) is None
    with pytest.raises(KeyError):
        recordings["https://news.example.org/a/3.html"]


def test_a_later_recording_of_a_page_replaces_the_earlier_in_its_place():
    newer = _response(PAGE, "/r/1-new.html", headers={"Content-Type": "text/html; charset=gbk"})
    recordings = Recordings([_response(PAGE, "/r/1.html"), _response("https://news.example.org/a/2.html",
                                                                      "/r/2.html"), newer])

    assert len(recordings) == 2
    assert list(recordings)[0] == newer.key
    assert recordings[newer.key] == newer


def test_replay_loads_a_recording_once_while_its_manifest_is_unchanged(tmp_path):
    writer = RecordingWriter(tmp_path, "news")
    writer.add(PAGE, 200, Headers({"Content-Type": "text/html"}), b"<html>one</html>")

    first = load_replay(tmp_path)
    assert load_replay(tmp_path) is first
    assert first[recording_key("GET", PAGE)].read_body() == b"<html>one</html>"

    writer.add("https://news.example.org/a/2.html", 200, Headers({"Content-Type": "text/html"}), b"<html>two</html>")
    again = load_replay(tmp_path)
    assert again is not first
    assert len(again) == 2 and again[recording_key("GET", "https://news.example.org/a/2.html")].read_body() == \
        b"<html>two</html>"


def _keeping_times(path, change) -> None:
    """Applies change(path), then gives path back its modification time: as `cp -p`, `rsync -a`
    or `tar -x` do when they put another recording in place."""
    before = path.stat()
    change(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_replay_serves_a_rewritten_manifest_even_when_its_size_and_time_are_unchanged(tmp_path):
    writer = RecordingWriter(tmp_path, "news")
    writer.add(PAGE, 200, Headers({"Content-Type": "text/html"}), b"<html>one</html>")
    assert load_replay(tmp_path)[recording_key("GET", PAGE)].status == 200

    manifest = tmp_path / "manifest.json"
    size = manifest.stat().st_size
    _keeping_times(manifest, lambda path: path.write_text(path.read_text().replace("200", "404")))
    assert manifest.stat().st_size == size
    assert load_replay(tmp_path)[recording_key("GET", PAGE)].status == 404


def _warc(path, status: str, body: bytes) -> None:
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        headers = StatusAndHeaders(status, [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(PAGE, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))


def test_replay_serves_a_replaced_warc_file_even_when_its_size_and_time_are_unchanged(tmp_path):
    warc = tmp_path / "crawl.warc"
    _warc(warc, "200 OK", b"<html>one</html>")
    assert load_replay(warc)[recording_key("GET", PAGE)].read_body() == b"<html>one</html>"

    size = warc.stat().st_size
    _keeping_times(warc, lambda path: _warc(path, "404 NO", b"<html>two</html>"))  # a status line as long
    assert warc.stat().st_size == size
    assert load_replay(warc)[recording_key("GET", PAGE)].status == 404


@pytest.mark.parametrize("entry", [{"url": PAGE, "body": "pages/\udcff.html"},  # a file name that is not UTF-8
                                   {"url": "https://news.example.org/list", "method": "POST",
                                    "request_body": "page=\udcff", "body": "pages/list.html"}],
                         ids=["body file", "POST body"])
def test_a_manifest_with_text_that_is_not_utf8_is_a_recording_error(tmp_path, entry):
    # a lone surrogate, which JSON writes as the escape \udcff: Python keeps it in a str, SQLite takes no such text
    (tmp_path / "manifest.json").write_text(json.dumps({"site": "news", "responses": [entry]}))
    with pytest.raises(RecordingError, match=str(tmp_path)):
        load_replay(tmp_path)
