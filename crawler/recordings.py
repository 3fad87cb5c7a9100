"""Recorded sites: the manifest format, replay (a download handler) and record (a middleware).

A recording is a folder with ``manifest.json`` (URL, status, headers and body
file of every response) and the body files; see tests/fixtures/README.md.
Replay serves a request from the recordings found under NEWSCRAWL_REPLAY_DIR
(or from the WARC file it names) without touching the network, answering conditional requests as the site's
server would (304 when the recorded ETag or Last-Modified says the client's copy
is current), and lists every answer in NEWSCRAWL_REPLAY_LOG when that is set;
record saves every response a live crawl gets into NEWSCRAWL_RECORD_DIR. A POST (Hanweb's
dataproxy.jsp paging, say) is recorded and replayed by its method, URL and body together.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url

MANIFEST = "manifest.json"
# Headers worth keeping: what decoding, caching and redirects depend on.
RECORDED_HEADERS = ("Content-Type", "Last-Modified", "ETag", "Location", "Content-Language")


class RecordingError(Exception):
    """A recording folder is missing or malformed; the message says which."""


@dataclass(frozen=True, slots=True)  # a replay holds one per recorded page: slots and a plain str keep it small
class RecordedResponse:
    url: str
    status: int
    headers: dict[str, str]
    body_file: str  # the body's file
    method: str = "GET"
    request_body: str = ""  # what a POST sent (form data), as text

    @property
    def key(self) -> str:
        return recording_key(self.method, self.url, self.request_body)

    @property
    def body_path(self) -> Path:
        return Path(self.body_file)

    def read_body(self) -> bytes:
        with open(self.body_file, "rb") as body:
            return body.read()


def recording_key(method: str, url: str, body: bytes | str = b"") -> str:
    """What identifies a recorded answer: the canonical URL of a GET; the method, canonical URL
    and body (form fields in sorted order) of any other request."""
    if method.upper() == "GET":
        return canonicalize_url(url)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        text = urlencode(sorted(parse_qsl(text, keep_blank_values=True, strict_parsing=True)))
    except ValueError:  # not form data: the body as it is
        pass
    return f"{method.upper()} {canonicalize_url(url)} {text}"


def manifest_paths(folder: Path) -> list[Path]:
    """The manifests in a site folder, or in the site folders of a folder of sites."""
    if not folder.is_dir():
        raise RecordingError(f"no recordings folder at {folder}")
    paths = [folder / MANIFEST] if (folder / MANIFEST).is_file() else sorted(folder.glob(f"*/{MANIFEST}"))
    if not paths:
        raise RecordingError(f"no {MANIFEST} in {folder} or its subfolders")
    return paths


def load_manifest(path: Path) -> tuple[str, list[RecordedResponse]]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        responses = [
            RecordedResponse(entry["url"], int(entry.get("status", 200)),
                             dict(entry.get("headers", {})), os.path.join(path.parent, entry["body"]),
                             entry.get("method", "GET"), entry.get("request_body", ""))
            for entry in manifest["responses"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"unreadable recording manifest {path}: {exc}") from None
    return manifest.get("site", path.parent.name), responses


class Recordings(Mapping[str, RecordedResponse]):
    """Recorded responses by recording_key(), a later one of a key replacing an earlier one.

    They are kept in an in-memory SQLite table, not as a dict of objects: a replay of 50,000
    pages holds about 20 MB this way against 75 MB as a dict (measured with bench/crawl.py),
    which the crawl's extraction and writer processes, forked from it, would count too."""

    def __init__(self, responses: Iterable[RecordedResponse]):
        self._table = sqlite3.connect(":memory:", check_same_thread=False)  # tests/loopback.py serves from threads
        self._table.execute("CREATE TABLE recorded (key TEXT PRIMARY KEY, position INTEGER, url TEXT, status INTEGER, "
                            "headers TEXT, body_file TEXT, method TEXT, request_body TEXT) WITHOUT ROWID")
        self._table.executemany(
            "INSERT INTO recorded VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET url = excluded.url, "
            "status = excluded.status, headers = excluded.headers, body_file = excluded.body_file, "
            "method = excluded.method, request_body = excluded.request_body",
            ((response.key, position, response.url, response.status, json.dumps(response.headers),
              response.body_file, response.method, response.request_body)
             for position, response in enumerate(responses)))

    def __getitem__(self, key: str) -> RecordedResponse:
        row = self._table.execute("SELECT url, status, headers, body_file, method, request_body FROM recorded "
                                  "WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        url, status, headers, body_file, method, request_body = row
        return RecordedResponse(url, status, json.loads(headers), body_file, method, request_body)

    def __iter__(self) -> Iterator[str]:  # in the order they were first recorded, as a dict's keys
        return (key for (key,) in self._table.execute("SELECT key FROM recorded ORDER BY position"))

    def __len__(self) -> int:
        return self._table.execute("SELECT count(*) FROM recorded").fetchone()[0]


def load_recordings(folder: Path) -> Recordings:
    """Every recorded response under folder, by recording_key (a GET's: its canonical URL).
    RecordingError when a manifest is unreadable or has text that is not UTF-8."""
    try:
        return Recordings(response for path in manifest_paths(folder) for response in load_manifest(path)[1])
    except UnicodeEncodeError as exc:  # a lone surrogate (JSON's \udcff escape): SQLite takes UTF-8 text only
        raise RecordingError(f"unreadable recording in {folder}: text that is not UTF-8 ({exc})") from None


def load_replay(path: Path) -> Mapping:
    """What replay serves, by recording_key(): the responses of a recording folder (a folder),
    or of a WARC file (a file; crawler/archive.py). RecordingError when it is neither.

    The last one loaded is kept while its files are unchanged (_version): the crawl command
    checks a recording before it crawls, and its download handler then takes that copy, not
    a second one (a recording of 50,000 pages takes 0.8 s to load)."""
    path = path.resolve()
    read = [path] if path.is_file() else manifest_paths(path)
    return _load_replay(path, tuple((file, _version(file)) for file in read))


def _version(file: Path) -> bytes | tuple[int, int, int, int]:
    """What tells two versions of a file apart: a manifest's SHA-1 (exact, and cheap: 15 ms for
    the 13 MB of a 50,000-page recording against 0.8 s to load it); for a WARC file, which may
    be gigabytes, its inode, size, modification and change times (`cp -p`, `rsync -a` and
    `tar -x` give a new file its old modification time, but never its inode or change time)."""
    if file.name == MANIFEST:
        with open(file, "rb") as manifest:
            return hashlib.file_digest(manifest, "sha1").digest()
    status = file.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


@lru_cache(maxsize=1)
def _load_replay(path: Path, files: tuple) -> Mapping:
    if path.is_file():
        from crawler.archive import load_warc  # archive.py builds on this module

        return load_warc(path)
    return load_recordings(path)


class ReplayDownloadHandler(BaseDownloadHandler):
    """Answers http(s) requests from recordings: the spiders run unchanged, offline."""

    def __init__(self, crawler):
        super().__init__(crawler)
        folder = crawler.settings.get("NEWSCRAWL_REPLAY_DIR")
        if not folder:
            raise NotConfigured("NEWSCRAWL_REPLAY_DIR is not set")
        self.recorded = load_replay(Path(folder))
        self.log = crawler.settings.get("NEWSCRAWL_REPLAY_LOG")

    async def download_request(self, request: Request) -> Response:
        response = self._answer(request)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as log:
                method = "" if request.method == "GET" else f"{request.method} "
                log.write(f"{response.status} {method}{request.url}\n")
        return response

    def _answer(self, request: Request) -> Response:
        recorded = self.recorded.get(recording_key(request.method, request.url, request.body))
        if recorded is None:
            self.crawler.stats.inc_value("newscrawl/replay_unrecorded")
            return Response(request.url, status=404, request=request,
                            headers={"Content-Type": "text/plain"}, body=b"not recorded")
        headers = Headers(recorded.headers)
        if recorded.status == 200 and _not_modified(request.headers, headers):
            validators = {name: headers[name] for name in ("ETag", "Last-Modified") if name in headers}
            return Response(request.url, status=304, headers=validators, request=request)
        body = recorded.read_body()
        response_class = responsetypes.from_args(headers=headers, url=recorded.url, body=body)
        return response_class(url=request.url, status=recorded.status, headers=headers,
                              body=body, request=request)


def _not_modified(asked: Headers, recorded: Headers) -> bool:
    """Whether the client's copy is current (RFC 9110, 13.1.2-3): If-None-Match, when
    sent, decides (weak comparison); otherwise If-Modified-Since against Last-Modified."""
    if b"If-None-Match" in asked:
        etag = recorded.get("ETag")
        tags = {tag.strip().removeprefix(b"W/") for tag in asked[b"If-None-Match"].split(b",")}
        return b"*" in tags or (etag is not None and etag.removeprefix(b"W/") in tags)
    since, modified = asked.get("If-Modified-Since"), recorded.get("Last-Modified")
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified.decode("latin-1")) <= parsedate_to_datetime(since.decode("latin-1"))
    except (TypeError, ValueError):  # an unreadable date: send the page
        return False


class RecordResponses:
    """Downloader middleware: saves every response of a live crawl as a recording.

    It sits below RedirectMiddleware, so redirects are recorded as the 3xx
    responses they are; the record command turns HTTP compression off so the
    bodies are stored as plain bytes.
    """

    def __init__(self, folder: Path, site: str):
        self.recording = RecordingWriter(folder, site)

    @classmethod
    def from_crawler(cls, crawler):
        folder = crawler.settings.get("NEWSCRAWL_RECORD_DIR")
        if not folder:
            raise NotConfigured("NEWSCRAWL_RECORD_DIR is not set")
        return cls(Path(folder), crawler.spidercls.name)

    def process_response(self, request: Request, response: Response) -> Response:
        self.recording.add(request.url, response.status, response.headers, response.body,
                           method=request.method, request_body=request.body)
        return response


def check_recording_folder(folder: Path) -> None:
    """The folder `newscrawl record` writes into, checked before anything is fetched (the writer
    is made once the crawl runs, too late for a one-line refusal): RecordingError when it cannot
    be made or written, or holds a manifest that cannot be read and added to."""
    if folder.exists() and not folder.is_dir():
        raise RecordingError(f"cannot record into {folder}: it is not a folder")
    try:
        (folder / "pages").mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise RecordingError(f"cannot write the recording folder {folder}: {exc.strerror or exc}") from None
    if (folder / MANIFEST).is_file():
        load_manifest(folder / MANIFEST)


class RecordingWriter:
    """Writes body files and keeps manifest.json current after every response,
    so a recording interrupted half-way is still a valid (smaller) recording."""

    def __init__(self, folder: Path, site: str):
        self.folder = folder
        self.site = site
        self.entries: dict[str, dict] = {}
        (folder / "pages").mkdir(parents=True, exist_ok=True)
        if (folder / MANIFEST).is_file():  # recording again adds to what is there
            _, responses = load_manifest(folder / MANIFEST)
            for old in responses:
                self.entries[old.key] = {"url": old.url, **_request_fields(old.method, old.request_body),
                                         "status": old.status, "headers": old.headers,
                                         "body": old.body_path.relative_to(folder).as_posix()}

    def add(self, url: str, status: int, headers: Headers, body: bytes, *, method: str = "GET",
            request_body: bytes = b"") -> None:
        sent = request_body.decode("utf-8", "replace")
        body_name = f"pages/{_file_name(url, '' if method == 'GET' else f'{method} {sent}')}"
        (self.folder / body_name).write_bytes(body)
        kept = {name: headers.get(name).decode("latin-1") for name in RECORDED_HEADERS if headers.get(name)}
        self.entries[recording_key(method, url, sent)] = {"url": url, **_request_fields(method, sent),
                                                          "status": status, "headers": kept, "body": body_name}
        self._write_manifest()

    def _write_manifest(self) -> None:
        manifest = {"site": self.site, "responses": sorted(self.entries.values(),
                                                           key=lambda e: (e["url"], e.get("request_body", "")))}
        partial = self.folder / (MANIFEST + ".part")
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, self.folder / MANIFEST)


def _request_fields(method: str, request_body: str) -> dict:
    """A manifest entry's request besides its URL: nothing for a GET (manifests stay as they were)."""
    return {} if method == "GET" else {"method": method, "request_body": request_body}


def _file_name(url: str, request: str = "") -> str:
    """A readable, unique file name for a URL's body: its path plus a short hash (of the URL, and of
    the method and body of a request other than GET)."""
    parts = urlsplit(url)
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", parts.path.strip("/"))[-80:].strip("-.") or "index"
    digest = hashlib.sha1((url + request).encode("utf-8")).hexdigest()[:8]
    stem, dot, suffix = readable.rpartition(".")
    return f"{stem}-{digest}.{suffix}" if dot and len(suffix) <= 5 else f"{readable}-{digest}"
