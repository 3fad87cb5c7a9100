"""The Store API: idempotent saves, text dedup, crawl runs, schema checks."""

import dataclasses
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from storage import ArticleRecord, RunCounts, SaveOutcome, Store, StoreError

ARTICLE = ArticleRecord(url="https://example.org/news/1.html", site="example", title="A meeting",
                        text="First paragraph.\nSecond paragraph.", published=date(2022, 1, 25),
                        source="ChemChina", language="en", html="<p>First paragraph.</p>")


def test_saving_the_same_page_twice_keeps_one_copy_and_touches_last_seen(store):
    assert store.save_article(ARTICLE) is SaveOutcome.NEW
    [before] = store.articles()
    assert store.save_article(ARTICLE) is SaveOutcome.UNCHANGED
    [after] = store.articles()
    assert after["first_seen"] == before["first_seen"] and after["last_seen"] > before["last_seen"]


def test_a_changed_page_is_updated_in_place(store):
    store.save_article(ARTICLE)
    changed = dataclasses.replace(ARTICLE, text="First paragraph, corrected.\nSecond paragraph.")
    assert store.save_article(changed) is SaveOutcome.UPDATED
    [article] = store.articles()
    assert article["text"].startswith("First paragraph, corrected.")
    assert article["content_hash"] == changed.content_hash


def test_only_the_raw_html_changing_is_not_an_update(store):
    store.save_article(ARTICLE)
    assert store.save_article(dataclasses.replace(ARTICLE, html="<p>new footer</p>")) is SaveOutcome.UNCHANGED


def test_the_same_text_under_another_url_is_a_duplicate(store):
    store.save_article(ARTICLE)
    rewrapped = dataclasses.replace(ARTICLE, url="https://mirror.example.org/1.html",
                                    text="First   paragraph.\n\nSecond paragraph.")
    assert store.save_article(rewrapped) is SaveOutcome.DUPLICATE
    assert [a["url"] for a in store.articles()] == [ARTICLE.url]


def test_raw_html_is_kept_for_re_extraction(store):
    store.save_article(ARTICLE)
    assert store.raw_html(ARTICLE.url) == ARTICLE.html


def test_crawl_runs_are_recorded_with_their_counts(store):
    run_id = store.start_run("example")
    assert store.last_run("example").status == "running"
    store.finish_run(run_id, "finished", RunCounts(pages=12, articles_new=7, errors=1))
    run = store.last_run("example")
    assert (run.status, run.counts.pages, run.counts.articles_new, run.counts.errors) == ("finished", 12, 7, 1)
    assert run.finished_at >= run.started_at


def test_site_summaries_count_articles_and_show_the_last_run(store):
    store.save_article(ARTICLE)
    store.finish_run(store.start_run("empty-site"), "finished", RunCounts(pages=3))
    summaries = {s.site: s for s in store.site_summaries()}
    assert summaries["example"].articles == 1 and summaries["example"].latest_published == date(2022, 1, 25)
    assert summaries["empty-site"].articles == 0 and summaries["empty-site"].last_run.counts.pages == 3


def test_sqlite_store_uses_wal(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_store_from_a_newer_newscrawl_is_refused_untouched(tmp_path):
    path = tmp_path / "future.db"
    Store(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer newscrawl"):
        Store(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_missing_folder_and_bad_url_are_store_errors(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")
    with pytest.raises(StoreError, match="not a database URL"):
        Store("not a url")


def test_reading_commands_do_not_create_a_store(tmp_path):
    with pytest.raises(StoreError, match="no newscrawl store"):
        Store(f"sqlite:///{tmp_path / 'new.db'}", create=False)
    assert not (tmp_path / "new.db").exists()


def test_articles_come_by_site_then_date_with_undated_ones_last(store):
    for number, published in enumerate([None, date(2023, 5, 1), date(2021, 1, 1), None]):
        store.save_article(dataclasses.replace(ARTICLE, url=f"https://example.org/{number}",
                                               text=f"Story number {number}.", published=published))
    store.save_article(dataclasses.replace(ARTICLE, site="aaa", url="https://aaa.org/1", text="Another site."))
    order = [(a["site"], a["published"], a["url"][-1]) for a in store.articles()]
    assert order == [("aaa", date(2022, 1, 25), "1"), ("example", date(2021, 1, 1), "2"),
                     ("example", date(2023, 5, 1), "1"), ("example", None, "0"), ("example", None, "3")]


def test_a_batch_saves_as_its_articles_one_after_the_other(store, tmp_path):
    """One transaction for the batch, yet each article sees those before it: a URL saved twice,
    a text seen twice, a reprint of an article earlier in the batch."""
    story = " ".join(f"The plant in district {n} opened its line for {n} workers and trained its staff."
                     for n in range(40))
    reprint = dataclasses.replace(ARTICLE, url="https://mirror.example.org/9.html", text="Reprinted.\n" + story,
                                  published=date(2022, 1, 26))
    batch = [
        dataclasses.replace(ARTICLE, text=story),
        dataclasses.replace(ARTICLE, url="https://example.org/news/2.html", title="Another"),
        dataclasses.replace(ARTICLE, url="https://example.org/news/3.html"),  # the same text as the one before
        reprint,
        dataclasses.replace(ARTICLE, url="https://example.org/news/2.html", title="Another, retitled"),
    ]
    one_by_one = Store(f"sqlite:///{tmp_path / 'one_by_one.db'}")
    expected = [one_by_one.save_articles([record])[0] for record in batch]
    assert [saved.outcome for saved in expected] == [SaveOutcome.NEW, SaveOutcome.NEW, SaveOutcome.DUPLICATE,
                                                     SaveOutcome.NEW, SaveOutcome.UPDATED]
    assert store.save_articles(batch) == expected

    def stored(of: Store) -> list[tuple]:
        return [(a["url"], a["title"], a["text"], a["duplicate_of"]) for a in of.articles()]

    assert stored(store) == stored(one_by_one)
    assert dict((a["url"], a["duplicate_of"]) for a in store.articles())[reprint.url] == ARTICLE.url
    one_by_one.close()
