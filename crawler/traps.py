"""Crawler traps: an endless calendar or pager cannot keep a crawl going.

StopListTraps (spider middleware) ends a walk through list pages
- after NEWSCRAWL_EMPTY_LIST_PAGES list pages in a row without an article link
  that no earlier list page had (an endless calendar shows months without news,
  forever; a pager past its last page shows that page again, forever), and
- after NEWSCRAWL_MAX_LIST_PAGES list pages in the run (0: no cap).
Scrapy's own settings cap the rest: CLOSESPIDER_PAGECOUNT (pages per run) and
DEPTH_LIMIT (links from a start page); `newscrawl crawl --max-pages,
--max-list-pages, --max-depth` set the three caps.
"""

from __future__ import annotations

import logging

from scrapy import Request

from crawler.outcomes import STOPPED_EARLY, add_warning
from spiders.base import ARTICLE, LIST, PAGE

logger = logging.getLogger(__name__)

# request meta: list pages without a new article link just before this one
EMPTY_IN_A_ROW = "newscrawl_empty_list_pages"


class StopListTraps:
    def __init__(self, crawler):
        self.stats = crawler.stats
        self.max_empty = crawler.settings.getint("NEWSCRAWL_EMPTY_LIST_PAGES")
        self.max_list_pages = crawler.settings.getint("NEWSCRAWL_MAX_LIST_PAGES")
        # the list pages let through in this run, by URL: a pager links each page from its
        # neighbours, and a page asked for again (which Scrapy's dupefilter then drops) counts once
        self.list_pages: set[str] = set()
        self.fingerprinter = crawler.request_fingerprinter
        # the fingerprints of the article requests list pages gave so far (Scrapy's dupefilter's, 20 bytes each)
        self.articles: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result):
        yield from self._limit(response, list(result))

    async def process_spider_output_async(self, response, result):
        for output in self._limit(response, [output async for output in result]):
            yield output

    def _limit(self, response, outputs: list) -> list:
        articles = {self.fingerprinter.fingerprint(o) for o in outputs
                    if isinstance(o, Request) and o.meta.get(PAGE) == ARTICLE}
        new_articles = articles - self.articles
        self.articles |= articles
        lists = [o for o in outputs if isinstance(o, Request) and o.meta.get(PAGE) == LIST]
        if not lists:
            return outputs
        empty = 0 if new_articles else response.meta.get(EMPTY_IN_A_ROW, 0) + 1
        if self.max_empty and empty >= self.max_empty:
            self._stop("newscrawl/list_walks_stopped", "%d list pages in a row without a new article link, "
                       "the last %s: not following their pagination", empty, response.url)
            return [o for o in outputs if not (isinstance(o, Request) and o.meta.get(PAGE) == LIST)]
        kept = []
        for output in outputs:
            if isinstance(output, Request) and output.meta.get(PAGE) == LIST:
                if (self.max_list_pages and output.url not in self.list_pages
                        and len(self.list_pages) >= self.max_list_pages):
                    if not self.stats.get_value("newscrawl/list_pages_capped"):
                        # the crawl did not see the whole site: a warning, and the next crawl walks every list page
                        add_warning(self.stats, f"{STOPPED_EARLY}the cap of {self.max_list_pages} list pages "
                                                "(NEWSCRAWL_MAX_LIST_PAGES)")
                    self._stop("newscrawl/list_pages_capped", "the cap of %d list pages is reached: "
                               "not following %s", self.max_list_pages, output.url)
                    continue
                self.list_pages.add(output.url)
                output.meta[EMPTY_IN_A_ROW] = empty
            kept.append(output)
        return kept

    def _stop(self, stat: str, message: str, *args) -> None:
        """Counts a stopped walk; the first of each kind is logged at WARNING, the rest at DEBUG."""
        level = logging.WARNING if not self.stats.get_value(stat) else logging.DEBUG
        self.stats.inc_value(stat)
        logger.log(level, message, *args)
