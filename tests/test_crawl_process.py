"""The crawl's own process: its garbage collector tuned for a crawl, and as it was afterwards."""

import gc
import os

import pytest

from crawler.runner import CRAWL_GC_THRESHOLD, young_collections_every
from tests.cli_runner import newscrawl
from tests.fixture_sites import write_recording

HOST = "https://gc.example"
SITE = f'''
import gc

from spiders.base import NewsSpider


class ThresholdSpider(NewsSpider):
    name = "gc"
    start_urls = ["{HOST}/news/"]
    article_links = r"/news/a\\d+\\.html$"

    def parse(self, response):
        self.logger.warning("young generation collected every %d allocations", gc.get_threshold()[0])
        yield from super().parse(response)
'''


def test_a_crawl_collects_its_young_objects_less_often(tmp_path):
    write_recording(tmp_path / "site", "gc", {
        f"{HOST}/robots.txt": ("robots.txt", "User-agent: *\nAllow: /\n", "text/plain"),
        f"{HOST}/news/": ("list.html", "<html><body><p>No news yet.</p></body></html>", "text/html"),
    })
    (tmp_path / "gc_site.py").write_text(SITE)
    result = newscrawl("crawl", "gc", "--replay", str(tmp_path / "site"), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       "-s", "SPIDER_MODULES=gc_site", env={"PYTHONPATH": str(tmp_path)})
    assert f"young generation collected every {CRAWL_GC_THRESHOLD} allocations" in result.stderr, result.stderr
    assert CRAWL_GC_THRESHOLD > gc.get_threshold()[0]  # Python's default here: the crawl's is not


def test_the_collector_is_as_it_was_after_the_block_even_when_it_raised():
    before = gc.get_threshold()
    with pytest.raises(KeyError), young_collections_every(before[0] * 10):
        assert gc.get_threshold() == (before[0] * 10, *before[1:])
        raise KeyError
    assert gc.get_threshold() == before


def test_a_process_forked_within_the_block_collects_as_before():
    before = gc.get_threshold()
    with young_collections_every(before[0] * 10):
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # an extraction worker or the store's writer
            os.write(writer, repr(gc.get_threshold()).encode())
            os._exit(0)
        os.waitpid(child, 0)
        seen_in_child = os.read(reader, 100).decode()
        os.close(reader)
        os.close(writer)
        assert gc.get_threshold()[0] == before[0] * 10
    assert seen_in_child == repr(before)
