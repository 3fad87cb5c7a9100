"""The progress line: drawn on a terminal, silent when piped."""

import io

from crawler.progress import Progress


class FakeCrawler:
    def __init__(self, name, stats, crawling=True):
        self.spidercls = type("Spider", (), {"name": name})
        self.stats = type("Stats", (), {"get_stats": lambda _self: stats})()
        self.crawling = crawling


class Terminal(io.StringIO):
    def isatty(self):
        return True


CRAWLERS = [
    FakeCrawler("rocar", {"response_received_count": 5, "newscrawl/articles_new": 3, "newscrawl/errors/timeout": 1,
                          "log_count/ERROR": 4}),  # errors are failed pages, not error log lines
    FakeCrawler("jfmi", {"response_received_count": 7, "newscrawl/articles_unchanged": 4}, crawling=False),
]


def test_progress_line_sums_all_crawls():
    terminal = Terminal()
    Progress(CRAWLERS, terminal).draw()
    assert terminal.getvalue().endswith("pages 12 · articles 7 · errors 1 · running: rocar")


def test_progress_stays_quiet_when_piped():
    pipe = io.StringIO()
    progress = Progress(CRAWLERS, pipe)
    progress.start()
    assert not progress.loop.running
    progress.stop()
    assert pipe.getvalue() == ""
