"""The Store API: idempotent saves, text dedup, crawl runs, schema checks."""

import dataclasses
import zlib
from datetime import date

import pytest
from sqlalchemy import create_engine, event, select, text, update

from storage import ArticleRecord, FailedPageRecord, RunCounts, SaveOutcome, Store, StoreError, tables
from storage.compression import ZSTD_FRAME
from storage.reader import utcnow

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


def test_raw_html_is_kept_as_zstandard_frames(store):
    store.save_article(dataclasses.replace(ARTICLE, more_pages=("<p>Page two.</p>",)))
    store.keep_failed_pages([FailedPageRecord("https://example.org/news/2.html", "example",
                                              ("<p>Broken</p>", "<p>Broken too</p>"), "extraction")])
    with store.engine.connect() as connection:
        blobs = [bytes(blob) for table in (tables.articles, tables.article_pages, tables.failed_pages,
                                           tables.failed_page_pages)
                 for blob in connection.execute(select(table.c.raw_html)).scalars()]
    assert len(blobs) == 4 and all(blob.startswith(ZSTD_FRAME) for blob in blobs)
    assert [(record.html, record.more_pages) for record in store.stored_pages("example")] == [
        (ARTICLE.html, ("<p>Page two.</p>",))]
    [failed] = store.failed_pages("example")
    assert failed.pages == ("<p>Broken</p>", "<p>Broken too</p>")


def test_raw_html_an_older_newscrawl_compressed_with_zlib_is_still_read(store):
    store.save_article(ARTICLE)
    with store.engine.begin() as connection:
        connection.execute(update(tables.articles).values(raw_html=zlib.compress("<p>旧页面</p>".encode())))
    assert store.raw_html(ARTICLE.url) == "<p>旧页面</p>"


def test_crawl_runs_are_recorded_with_their_counts(store):
    run_id = store.start_run("example")
    assert store.last_run("example").status == "running"
    store.finish_run(run_id, "finished", RunCounts(pages=12, articles_new=7, errors=1))
    run = store.last_run("example")
    assert (run.status, run.counts.pages, run.counts.articles_new, run.counts.errors) == ("finished", 12, 7, 1)
    assert run.finished_at >= run.started_at


def test_a_shared_run_adds_up_what_its_workers_add_to_it(store):
    run_id = store.start_run("example", shared=True)
    store.add_to_run(run_id, RunCounts(pages=5, articles_new=3, errors=2), errors_by_kind={"timeout": 2},
                     warnings=["stopped early: closespider_pagecount"])
    store.add_to_run(run_id, RunCounts(pages=4, articles_new=2, errors=2), errors_by_kind={"http": 1, "timeout": 1})
    assert store.last_run("example").status == "running"
    store.add_to_run(run_id, RunCounts(), status="interrupted", error="stopped by SIGTERM")
    run = store.last_run("example")
    assert (run.status, run.error, run.counts.pages, run.counts.articles_new, run.counts.errors) == (
        "interrupted", "stopped by SIGTERM", 9, 5, 4)
    assert run.errors_by_kind == {"http": 1, "timeout": 3}
    assert run.warnings == ("stopped early: closespider_pagecount",) and (run.host, run.pid) == (None, None)


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


# A story long enough for its reprints (a line added) to be near-duplicates of it, and another.
STORY = " ".join(f"The plant in district {n} opened its line for {n} workers and trained its staff."
                 for n in range(40))
OTHER_STORY = " ".join(f"The river near town {n} flooded {n} fields after the storm of {n} days."
                       for n in range(40))


def page(number: int, body: str, published: date | None = date(2022, 1, 25), **changes) -> ArticleRecord:
    return dataclasses.replace(ARTICLE, url=f"https://example.org/{number}", text=body, published=published,
                               **changes)


def written(store: Store) -> dict[str, list[tuple]]:
    """Every row saving articles writes, ids replaced by URLs: articles in id order (so ids count
    too), their crawl history, near-duplicate buckets and further pages."""
    articles, fetches, bands, pages = (tables.articles, tables.article_fetches, tables.near_duplicate_bands,
                                       tables.article_pages)
    with store.engine.connect() as connection:  # typed columns: dates are dates on SQLite too
        url_of = dict(connection.execute(select(articles.c.id, articles.c.url)).all())
        rows = {"articles": connection.execute(select(articles.c.url, articles.c.title, articles.c.text,
                                                      articles.c.raw_html, articles.c.published,
                                                      articles.c.duplicate_of).order_by(articles.c.id)).all(),
                "article_fetches": connection.execute(select(fetches.c.article_id, fetches.c.outcome,
                                                             fetches.c.run_id).order_by(fetches.c.id)).all(),
                "near_duplicate_bands": connection.execute(select(bands)).all(),
                "article_pages": connection.execute(select(pages)).all()}
    return {
        "articles": [(url, title, body, bytes(html), published, url_of.get(original))
                     for url, title, body, html, published, original in rows["articles"]],
        "article_fetches": [(url_of[article], outcome, run) for article, outcome, run in rows["article_fetches"]],
        "near_duplicate_bands": sorted((url_of[article], band, bucket)
                                       for band, bucket, article in rows["near_duplicate_bands"]),
        "article_pages": sorted((url_of[article], number, bytes(html))
                                for article, number, html in rows["article_pages"]),
    }


def assert_saved_as_one_by_one(store: Store, tmp_path, batch: list[ArticleRecord],
                               stored: list[ArticleRecord] = ()) -> list:
    """Save batch in store (after stored, one by one), and the same records one per batch in a
    second store: the outcomes and every row written must be the same. Returns the outcomes."""
    one_by_one = Store(f"sqlite:///{tmp_path / 'one_by_one.db'}")
    try:
        runs = [one_by_one.start_run("example"), store.start_run("example")]
        assert runs[0] == runs[1]
        for of in (one_by_one, store):
            for record in stored:
                of.save_articles([record], runs[0])
        expected = [one_by_one.save_articles([record], runs[0])[0] for record in batch]
        assert store.save_articles(batch, runs[0]) == expected
        assert written(store) == written(one_by_one)
        return expected
    finally:
        one_by_one.close()


def test_a_batch_saves_as_its_articles_one_after_the_other(store, tmp_path):
    """One transaction for the batch, yet each article sees those before it: a URL saved twice,
    a text seen twice, a reprint of an article earlier in the batch."""
    reprint = dataclasses.replace(ARTICLE, url="https://mirror.example.org/9.html", text="Reprinted.\n" + STORY,
                                  published=date(2022, 1, 26))
    batch = [
        dataclasses.replace(ARTICLE, text=STORY),
        dataclasses.replace(ARTICLE, url="https://example.org/news/2.html", title="Another"),
        dataclasses.replace(ARTICLE, url="https://example.org/news/3.html"),  # the same text as the one before
        reprint,
        dataclasses.replace(ARTICLE, url="https://example.org/news/2.html", title="Another, retitled"),
    ]
    expected = assert_saved_as_one_by_one(store, tmp_path, batch)
    assert [saved.outcome for saved in expected] == [SaveOutcome.NEW, SaveOutcome.NEW, SaveOutcome.DUPLICATE,
                                                     SaveOutcome.NEW, SaveOutcome.UPDATED]
    assert dict((a["url"], a["duplicate_of"]) for a in store.articles())[reprint.url] == ARTICLE.url


# (articles stored before, the batch): what a batch must save as its records one by one would
BATCHES = {
    "a reprint older than its original earlier in the batch becomes the root": (
        [], [page(1, STORY, date(2022, 1, 26)), page(2, "Reprinted.\n" + STORY, date(2022, 1, 20)),
             page(3, "Reprinted again.\n" + STORY, date(2022, 1, 22))]),
    "a reprint older than a stored root, the root updated in the batch": (
        [page(1, STORY, date(2022, 1, 26)), page(2, "Copied.\n" + STORY, date(2022, 1, 27))],
        [page(3, "Reprinted.\n" + STORY, date(2022, 1, 20)), page(1, STORY + " Corrected.", date(2022, 1, 26)),
         page(4, "Reprinted again.\n" + STORY, date(2022, 1, 22))]),
    "undated copies count as the latest": (
        [], [page(1, STORY, None), page(2, "Reprinted.\n" + STORY, None),
             page(3, "Reprinted again.\n" + STORY, date(2023, 1, 1)), page(4, "Copied.\n" + STORY, None)]),
    "copies of one date: the first saved is the root": (
        [], [page(1, STORY), page(2, "Reprinted.\n" + STORY), page(3, "Reprinted again.\n" + STORY)]),
    "texts without words have no buckets": ([], [page(1, ""), page(2, "!!!"), page(3, "…"), page(4, "A word.")]),
    "further pages of new and updated articles": (
        [page(1, "Stored.", more_pages=("<p>old 2</p>", "<p>old 3</p>"))],
        [page(2, OTHER_STORY, more_pages=("<p>2.2</p>",)), page(1, STORY, more_pages=("<p>new 2</p>",)),
         page(3, "Third.", more_pages=("<p>3.2</p>", "<p>3.3</p>"))]),
    "an unchanged page keeps the further pages saved before it in the batch": (
        [page(1, "Stored.", more_pages=("<p>old 2</p>",))],
        [page(2, STORY, more_pages=("<p>2</p>",)), page(2, STORY, html="<p>again</p>", more_pages=("<p>2b</p>",)),
         page(1, OTHER_STORY, more_pages=("<p>new 2</p>",)), page(1, OTHER_STORY, more_pages=())]),
    "a text an update replaced is new under another URL": (
        [page(1, STORY)], [page(1, OTHER_STORY), page(2, STORY), page(3, "Third."), page(3, "Fourth."),
                           page(4, "Third.")]),
    "a text handed on between stored articles": (
        [page(1, STORY), page(2, OTHER_STORY)], [page(2, "Third."), page(1, OTHER_STORY)]),
}


@pytest.mark.parametrize("stored, batch", BATCHES.values(), ids=BATCHES)
def test_a_batch_writes_what_its_articles_saved_one_by_one_write(store, tmp_path, stored, batch):
    assert_saved_as_one_by_one(store, tmp_path, batch, stored)


def test_a_page_changed_to_the_text_of_another_url_is_a_duplicate_and_stays_as_it_was(store):
    store.save_articles([page(1, STORY), page(2, OTHER_STORY)])
    assert store.save_article(page(1, OTHER_STORY, title="Retitled")) is SaveOutcome.DUPLICATE
    assert [(a["url"], a["title"], a["text"]) for a in store.articles()] == [
        (page(1, "").url, ARTICLE.title, STORY), (page(2, "").url, ARTICLE.title, OTHER_STORY)]


def test_a_url_another_writer_stored_meanwhile_is_saved_again_one_by_one(store):
    """A writer that took no locks stores a URL of the batch between its read and its write: the
    batch's INSERT fails on the URL, and its records are saved again, one at a time."""
    batch = [page(1, "First text."), page(2, STORY), page(3, "Third text.")]
    meanwhile, stored_meanwhile = batch[1], []

    def store_meanwhile(connection, cursor, statement, *_):
        if statement.startswith("INSERT INTO articles") and not stored_meanwhile:
            stored_meanwhile.append(meanwhile.url)
            with store.engine.begin() as other:
                other.execute(tables.articles.insert().values(
                    url=meanwhile.url, site=meanwhile.site, title=meanwhile.title, text=meanwhile.text,
                    published=meanwhile.published, source=meanwhile.source, language=meanwhile.language,
                    content_hash=meanwhile.content_hash, raw_html=b"", first_seen=utcnow(), last_seen=utcnow()))

    event.listen(store.engine, "before_cursor_execute", store_meanwhile)
    assert [saved.outcome for saved in store.save_articles(batch)] == [SaveOutcome.NEW, SaveOutcome.UNCHANGED,
                                                                      SaveOutcome.NEW]
    event.remove(store.engine, "before_cursor_execute", store_meanwhile)
    rows = written(store)
    assert [article[0] for article in rows["articles"]] == [meanwhile.url, batch[0].url, batch[2].url]
    assert rows["article_fetches"] == [(batch[0].url, "new", None), (meanwhile.url, "unchanged", None),
                                       (batch[2].url, "new", None)]
    assert {url for url, *_ in rows["near_duplicate_bands"]} == {record.url for record in batch} - {meanwhile.url}


def test_batches_of_every_size_insert_their_articles_with_a_few_statement_shapes(tmp_path):
    # SQLite keeps every statement it prepared (the last 128): one INSERT shape per batch size
    # grew a long crawl's writer by 30 MB
    store = Store(f"sqlite:///{tmp_path / 'articles.db'}")
    inserts = set()

    @event.listens_for(store.engine, "before_cursor_execute")
    def seen(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO articles "):
            inserts.add(statement)

    number = 0
    for size in range(1, 41):
        batch = [dataclasses.replace(ARTICLE, url=f"https://example.org/news/{number + i}.html",
                                     text=f"Article {number + i}.") for i in range(size)]
        assert [saved.outcome for saved in store.save_articles(batch)] == [SaveOutcome.NEW] * size
        number += size
    assert len(inserts) <= 6  # 1, 2, 4, 8, 16 and 32 rows
    assert store.totals().articles == number
    store.close()
