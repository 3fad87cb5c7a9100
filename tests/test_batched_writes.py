"""Articles are written in batches: a crawl killed outright loses only its unwritten batch,
and the next crawl fetches those articles again."""

import json
import sqlite3
from contextlib import closing

import pytest

from tests.cli_runner import newscrawl

KILL_SWITCH = {"crawler.pipelines.ExtractArticle": 100, "crawler.pipelines.DropEmptyArticles": 200,
               "crawler.pipelines.StoreArticles": 300, "tests.kill_switch.KillAfterItems": 900}


def stored_articles(db) -> list[tuple]:
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute("SELECT url, title, published, text, duplicate_of IS NULL FROM articles "
                                  "ORDER BY url").fetchall()


@pytest.mark.slow
def test_a_crawl_killed_mid_batch_loses_that_batch_and_the_next_crawl_fetches_it(tmp_path):
    whole, killed = tmp_path / "whole" / "articles.db", tmp_path / "killed" / "articles.db"
    whole.parent.mkdir(), killed.parent.mkdir()
    assert newscrawl("crawl", "4ll", "--replay", "--db", f"sqlite:///{whole}").returncode == 0

    interrupted = newscrawl("crawl", "4ll", "--replay", "--db", f"sqlite:///{killed}",
                            "-s", "NEWSCRAWL_WRITE_BATCH_SIZE=3", "-s", "NEWSCRAWL_WRITE_BATCH_SECONDS=600",
                            "-s", "KILL_AFTER_ITEMS=5", "-s", f"ITEM_PIPELINES={json.dumps(KILL_SWITCH)}")
    assert interrupted.returncode == -9, interrupted.stderr
    written = len(stored_articles(killed))
    # whole batches only: at least the first, and not the one the last articles were waiting in
    assert written % 3 == 0 and 3 <= written < len(stored_articles(whole))

    rerun = newscrawl("crawl", "4ll", "--replay", "--db", f"sqlite:///{killed}")
    assert rerun.returncode == 0, rerun.stderr
    assert stored_articles(killed) == stored_articles(whole)


def test_articles_are_written_in_batches_of_the_set_size(tmp_path):
    db = tmp_path / "articles.db"
    result = newscrawl("crawl", "4ll", "--replay", "--db", f"sqlite:///{db}", "--json",
                       "-s", "NEWSCRAWL_WRITE_BATCH_SIZE=4", "-s", "NEWSCRAWL_WRITE_BATCH_SECONDS=600")
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(db)) as connection:
        # one fetch time per transaction: articles written together share nothing else than their batch
        batches = connection.execute("SELECT COUNT(*) FROM article_fetches GROUP BY fetched_at").fetchall()
    new = json.loads(result.stdout)[0]["new"]
    assert sum(count for count, in batches) == new
