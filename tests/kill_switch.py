"""An item pipeline for tests, after StoreArticles: kill -9 the crawl's own process once
KILL_AFTER_ITEMS articles have been through the store's pipeline, as a power cut or the
OOM killer would, leaving no time to clean up."""

import os
import signal


class KillAfterItems:
    def __init__(self, limit: int):
        self.limit = limit
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("KILL_AFTER_ITEMS"))

    def process_item(self, item):
        self.seen += 1
        if self.seen == self.limit:
            os.kill(os.getpid(), signal.SIGKILL)
        return item
