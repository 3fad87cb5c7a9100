"""A one-line progress display for crawls on a terminal (silent when piped)."""

from __future__ import annotations

import sys
from typing import TextIO

from twisted.internet import task

from crawler.extensions import run_counts


class Progress:
    """Redraws "pages · articles · errors" for all running crawls every second."""

    def __init__(self, crawlers, stream: TextIO = sys.stderr):
        self.crawlers = crawlers
        self.stream = stream
        self.loop = task.LoopingCall(self.draw)

    def start(self) -> None:
        if self.stream.isatty():
            self.loop.start(1.0, now=False)

    def stop(self) -> None:
        if self.loop.running:
            self.loop.stop()
            self.stream.write("\r\033[K")
            self.stream.flush()

    def draw(self) -> None:
        counts = [run_counts(crawler.stats.get_stats()) for crawler in self.crawlers]
        running = [c.spidercls.name for c in self.crawlers if c.crawling]
        line = (f"pages {sum(c.pages for c in counts)} · "
                f"articles {sum(c.articles_new + c.articles_updated + c.articles_unchanged for c in counts)} · "
                f"errors {sum(c.errors for c in counts)} · running: {', '.join(running) or '-'}")
        self.stream.write("\r\033[K" + line)
        self.stream.flush()
