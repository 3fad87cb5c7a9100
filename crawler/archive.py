"""WARC archives (ISO 28500), through warcio: what a crawl fetched, readable by any WARC tool.

WriteWarc, a downloader middleware enabled by the NEWSCRAWL_WARC setting (`crawl
--warc FILE`), appends every response the crawl gets from the network to FILE as a
`request` and a `response` record (linked by WARC-Concurrent-To), each record its
own gzip member, after one `warcinfo` record per crawl. It sits below the HTTP cache
(900), so it sees the answers as the server sent them: 304s as 304s, and bodies
still in their Content-Encoding.

load_warc() reads such a file (or any WARC's response records) for replay
(crawler/recordings.py: `crawl --replay FILE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.recordings import RecordingError

# Headers that no longer describe the body as Scrapy holds it (Twisted has undone the chunking),
# or, on replay, as warcio gives it back (chunking and Content-Encoding undone).
_TRANSFER_HEADERS = {"transfer-encoding"}
_DECODED_HEADERS = {"transfer-encoding", "content-encoding", "content-length"}


class WriteWarc:
    """Downloader middleware: every response fetched, with its request, appended to NEWSCRAWL_WARC."""

    def __init__(self, path: Path, site: str):
        self.file = open(path, "ab")  # added to: a WARC file is a series of records
        self.writer = WARCWriter(self.file, gzip=True)
        self.writer.write_record(self.writer.create_warcinfo_record(
            path.name, {"software": f"newscrawl/{__version__} (Scrapy)", "isPartOf": site,
                        "format": "WARC File Format 1.1"}))
        self.file.flush()

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("NEWSCRAWL_WARC")
        if not path:
            raise NotConfigured  # without a message: Scrapy logs none (the usual case, not a fault)
        middleware = cls(Path(path), crawler.spidercls.name)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = StatusAndHeaders(f"{request.method} {target} HTTP/1.1",
                                           [("Host", parts.netloc), *_header_list(request.headers)],
                                           is_http_request=True)
        response_headers = StatusAndHeaders(f"{response.status} {_reason(response.status)}",
                                            _header_list(response.headers, drop=_TRANSFER_HEADERS),
                                            protocol=response.protocol or "HTTP/1.1")
        self.writer.write_request_response_pair(
            self.writer.create_warc_record(request.url, "request", payload=BytesIO(request.body),
                                           http_headers=request_headers),
            self.writer.create_warc_record(request.url, "response", payload=BytesIO(response.body),
                                           http_headers=response_headers))
        # the crawls of one process may share the file: each pair reaches it whole
        self.file.flush()
        return response

    def close(self) -> None:
        self.file.close()


def _header_list(headers: Headers, drop: set[str] = frozenset()) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() if name.decode("latin-1").lower() not in drop
            for value in values]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass(frozen=True)
class ArchivedResponse:
    """A response record of a WARC file, its body read when replay serves it."""

    url: str
    status: int
    headers: dict[str, str]
    warc: Path
    offset: int  # of the record in the file

    def read_body(self) -> bytes:
        """The payload, without transfer and content encoding (so headers say neither)."""
        with open(self.warc, "rb") as stream:
            stream.seek(self.offset)
            return next(iter(ArchiveIterator(stream))).content_stream().read()


def load_warc(path: Path) -> dict[str, ArchivedResponse]:
    """Every response record of a WARC file (gzipped or not), by canonical URL; a later record of a
    URL replaces an earlier one, except a 304 (it has no body: the full answer stands).
    RecordingError when the file is no WARC."""
    archived = {}
    try:
        with open(path, "rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                status = int(record.http_headers.get_statuscode())
                url = record.rec_headers.get_header("WARC-Target-URI")
                if status == 304 or not url:
                    continue
                headers = {name: value for name, value in record.http_headers.headers
                           if name.lower() not in _DECODED_HEADERS}
                archived[canonicalize_url(url)] = ArchivedResponse(url, status, headers, path,
                                                                   records.get_record_offset())
    except (OSError, ArchiveLoadFailed, ValueError) as exc:
        raise RecordingError(f"unreadable WARC file {path}: {exc}") from None
    if not archived:
        raise RecordingError(f"no response records in WARC file {path}")
    return archived
