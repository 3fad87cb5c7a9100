"""A recorded site served over real HTTP on 127.0.0.1, for tests of the live path.

The server acts as an HTTP proxy: with http_proxy pointing at it, a crawl asks
for the real URLs (http://www.hnjgdj.gov.cn/...) and gets the recorded
responses, so spiders, allowed_domains and the Scrapy downloader all run as in
a live crawl while nothing leaves the machine. POST requests are answered from the recordings
of the same method, URL and body.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from crawler.recordings import load_recordings, recording_key


@contextmanager
def recorded_site_proxy(folder: Path, delay: float = 0.0):
    """Yields (proxy URL, the URLs asked for so far); each answer takes `delay` seconds more."""
    recorded = load_recordings(folder)
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.answer(b"")

        def do_POST(self):  # Hanweb's dataproxy.jsp paging, say: answered by method, URL and body
            self.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def answer(self, sent: bytes):
            url = self.path if self.path.startswith("http") else f"http://{self.headers['Host']}{self.path}"
            requests.append(url)
            time.sleep(delay)
            response = recorded.get(recording_key(self.command, url, sent))
            if response is None:
                self.send_error(404)
                return
            send(self, response.status, response.headers, response.read_body())

        def log_message(self, *args):
            pass

    with serving(Handler) as address:
        yield address, requests


def send(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    """Answers the handler's request: the status, the headers, the body's length and the body."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serving(handler):
    """An HTTP server on 127.0.0.1 answering with handler (a BaseHTTPRequestHandler class), in a
    thread of its own; yields its base URL, and stops it afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
