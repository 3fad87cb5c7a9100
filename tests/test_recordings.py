"""What replay serves from a recording folder: crawler/recordings.py's Recordings and load_replay."""

from __future__ import annotations

import pytest
from scrapy.http import Headers

from crawler.recordings import RecordedResponse, RecordingWriter, Recordings, load_replay, recording_key

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
