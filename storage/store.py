"""The Store API: everything the crawler and the CLI do with the database.

Store is a StoreReader (storage/reader.py: opening the store, its schema, every read of the
reading commands) that also writes: articles, crawl runs and failed pages, through the ORM
classes of storage/models.py.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cached_property

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage import migrations
from storage.compression import DecompressionError, compressed, decompressed
from storage.locks import database_lock, lock_in_transaction, sqlite_writer_lock
from storage.models import Article, ArticleFetch, ArticlePage, CrawlRun, FailedPage, FailedPagePage, UrlAlias
from storage.near_duplicates import DEFAULT_THRESHOLD, Keys, NearDuplicateIndex, band_keys, bucket_locks
from storage.processes import this_process
from storage.reader import (GONE, CrawlRunView, RunCounts, StoreError, StoreReader, _added_up, _create_engine,
                            _run_view, check_no_other_tables, shown_url, utcnow)


class SaveOutcome(enum.Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # same text already stored under another URL


@dataclass(frozen=True)
class Saved:
    """What saving an article did."""

    outcome: SaveOutcome
    near_duplicate: bool = False  # a new article found to be a copy of stored ones (or they of it)


@dataclass(frozen=True)
class ArticleRecord:
    url: str
    site: str
    title: str
    text: str
    published: date | None = None
    author: str | None = None
    source: str | None = None
    language: str | None = None
    html: str = ""
    # the near-duplicate index's (band, bucket) keys of the text, when already computed (by an extraction worker)
    near_duplicate_keys: tuple[tuple[int, str], ...] | None = field(default=None, repr=False)
    # the HTML of the article's further pages, in order, when it is split over pages (html is page 1)
    more_pages: tuple[str, ...] = field(default=(), repr=False)

    @cached_property  # read several times when the record is saved
    def content_hash(self) -> str:
        return text_hash(self.text)


@dataclass(frozen=True)
class DamagedPages:
    """A stored article or failed page whose raw HTML cannot be read back (a disk fault, a hand
    edit): what stored_pages() and failed_pages() yield in its place, so that one of them does
    not stop a pass over the rest."""

    url: str
    reason: str  # StoreError's message, naming the URL


@dataclass(frozen=True)
class FailedPageRecord:
    """An article page extraction failed on, kept to be extracted again (`newscrawl re-extract`)."""

    url: str  # canonical
    site: str
    pages: tuple[str, ...] = field(repr=False)  # the HTML of the article's pages, page 1 first
    reason: str  # what extraction raised
    run_id: int | None = None  # the crawl run it failed in
    failed_at: datetime | None = None  # (naive UTC) when it last failed; set by the store


# What extraction yields for an article: the columns re-extraction may change.
EXTRACTED_FIELDS = ("title", "published", "author", "source", "language", "text", "content_hash")


def text_hash(text: str) -> str:
    """Hash of the text with whitespace folded, so re-wrapped copies hash alike."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


_URLS_PER_QUERY = 500  # URLs per IN (...): SQLite allows a few thousand parameters a statement
_ROWS_PER_INSERT = 128  # new articles per INSERT at most (_insert_new)


class Store(StoreReader):
    """A store to write to as well as read: created at the current schema unless create=False."""

    def __init__(self, url: str, *, create: bool = True,
                 near_duplicate_threshold: float = DEFAULT_THRESHOLD):
        super().__init__(url, create=create)
        self._near_duplicates = NearDuplicateIndex(near_duplicate_threshold)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @staticmethod
    def upgrade(url: str) -> bool:
        """Bring the store at url to the current schema; False when it already was. StoreError
        when url holds no store (a mistyped path is not made into a new one)."""
        engine = _create_engine(url, must_exist=True)
        try:
            with database_lock(engine, "schema"):
                return Store._upgrade_locked(url, engine)
        except OperationalError as exc:
            raise StoreError(f"cannot open database {shown_url(url)}: {exc.orig}") from None
        finally:
            engine.dispose()

    @staticmethod
    def _upgrade_locked(url: str, engine: Engine) -> bool:
        current = migrations.current_revision(engine)
        if current == migrations.head_revision():
            return False
        if current is None:
            check_no_other_tables(engine, url)
            raise StoreError(f"{shown_url(url)} holds no newscrawl store yet; run a crawl first")
        if not migrations.is_known(current):
            raise StoreError(f"the store at {shown_url(url)} was written by a newer newscrawl "
                             f"(schema {current}); upgrade newscrawl to use it")
        migrations.upgrade(engine)
        return True

    # -- articles -----------------------------------------------------------

    def save_article(self, record: ArticleRecord, run_id: int | None = None) -> SaveOutcome:
        """Insert or update one article; idempotent for an unchanged page. A stored
        article gets a line in its crawl history (article_fetches) for crawl run_id."""
        return self.save_articles([record], run_id)[0].outcome

    def save_articles(self, records: list[ArticleRecord], run_id: int | None = None) -> list[Saved]:
        """save_article() for each record, in one transaction: all are stored or, when the
        process dies before the commit, none. Returns what became of each, in order."""
        try:
            return self._save_batch(records, run_id)
        except IntegrityError:
            # Another writer stored one of the URLs or texts between our read and our write, or
            # the batch hands a text on from one stored article to another (the ORM updates them
            # in id order, not the records'); reading again, one article at a time, gives the
            # right outcomes.
            return [self._save_batch([record], run_id)[0] for record in records]

    def _save_batch(self, records: list[ArticleRecord], run_id: int | None) -> list[Saved]:
        """The records in order, as if saved one after the other, in one transaction and with a
        few statements for the whole batch: one read of its stored URLs, one of its stored texts,
        a few INSERTs of its new articles (_insert_new), one of their crawl history; then each new
        article's near-duplicate lookup in order."""
        now = utcnow()
        with sqlite_writer_lock(self.engine), self._session.begin() as session:
            # Every lock the batch needs, at once and in one order: writers of overlapping batches
            # then wait for each other in turn, never in a circle; and each sees what the other
            # stored of one URL, one text or texts that could be copies (near_duplicates.add).
            lock_in_transaction(session.connection(),
                                (name for record in records for name in _write_locks(record)))
            by_url = {article.url: article for article in _stored_where(session, Article, Article.url,
                                                                        [record.url for record in records])}
            texts = set(_stored_where(session, Article.content_hash, Article.content_hash,
                                      [record.content_hash for record in records]))
            outcomes: list[tuple[SaveOutcome, Article | _NewArticle | None]] = []
            # articles whose near-duplicate index entry is to be written: new ones (True) or changed ones
            to_index: dict[Article | _NewArticle, tuple[bool, Keys | None]] = {}
            for record in records:
                columns = _article_columns(record)
                stored = by_url.get(record.url)
                if stored is None:
                    if record.content_hash in texts:
                        outcomes.append((SaveOutcome.DUPLICATE, None))
                        continue
                    stored = by_url[record.url] = _NewArticle(**columns, first_seen=now, last_seen=now)
                    texts.add(record.content_hash)
                    to_index[stored] = (True, record.near_duplicate_keys)
                    outcome = SaveOutcome.NEW
                elif all(getattr(stored, name) == value for name, value in columns.items() if name != "raw_html"):
                    stored.last_seen = now
                    outcome = SaveOutcome.UNCHANGED
                elif record.content_hash != stored.content_hash and record.content_hash in texts:
                    # changed to a text stored under another URL: a duplicate, as if it were new
                    outcomes.append((SaveOutcome.DUPLICATE, None))
                    continue
                else:
                    stored.last_seen = now
                    texts.discard(stored.content_hash)  # its own (texts are unique): free for a later record
                    for name, value in columns.items():
                        setattr(stored, name, value)
                    texts.add(record.content_hash)
                    to_index[stored] = (to_index.get(stored, (False,))[0], record.near_duplicate_keys)
                    outcome = SaveOutcome.UPDATED
                outcomes.append((outcome, stored))
            session.flush()  # the stored articles that changed
            _insert_new(session, [article for article in by_url.values() if isinstance(article, _NewArticle)])
            # the further pages of each article's last record that stored it (an unchanged one keeps them)
            _replace_further_pages(session, {article: record.more_pages for record, (outcome, article)
                                             in zip(records, outcomes)
                                             if outcome in (SaveOutcome.NEW, SaveOutcome.UPDATED)},
                                   stale=[article.id for article, (new, _) in to_index.items() if not new])
            _forget_failed_pages(session, [record.url for record in records])  # they extract now
            has_copies = {}
            for article, (new, keys) in to_index.items():  # in the records' order: later ones see earlier ones
                if new:
                    has_copies[article] = self._near_duplicates.add(session, article, keys)
                else:
                    self._near_duplicates.refresh(session, article, keys)
            fetches = [{"article_id": article.id, "run_id": run_id, "fetched_at": now, "outcome": outcome.value}
                       for outcome, article in outcomes if article is not None]
            if fetches:
                session.execute(insert(ArticleFetch.__table__), fetches)
        return [Saved(outcome, has_copies.get(article, False) if outcome is SaveOutcome.NEW else False)
                for outcome, article in outcomes]

    def stored_urls(self, urls: Iterable[str]) -> set[str]:
        """Those of the (canonical) URLs that are stored: an article's URL, or an alias of one."""
        urls = list(urls)
        with self._session() as session:
            return (set(_stored_where(session, Article.url, Article.url, urls))
                    | set(_stored_where(session, UrlAlias.url, UrlAlias.url, urls)))

    def add_aliases(self, url: str, aliases: Iterable[str]) -> int:
        """File other (canonical) URLs that led to the article stored at url; an alias already
        filed under another article moves to this one. Returns how many were filed (0 when no
        article is stored at url)."""
        with self._session.begin() as session:
            article_id = session.scalar(select(Article.id).where(Article.url == url))
            if article_id is None:
                return 0
            aliases = set(aliases) - {url}
            for alias in aliases:
                session.merge(UrlAlias(url=alias, article_id=article_id))
            return len(aliases)

    def raw_html(self, url: str) -> str | None:
        with self._session() as session:
            blob = session.scalar(select(Article.raw_html).where(Article.url == url))
        return _html(blob, url) if blob is not None else None

    def stored_pages(self, site: str) -> Iterator[ArticleRecord | DamagedPages]:
        """A site's articles as stored, each with the raw HTML of all its pages: what re-extraction
        reads. An article whose HTML cannot be read comes as DamagedPages."""
        with self._session() as session:
            articles = session.scalars(select(Article).where(Article.site == site).order_by(Article.id))
            for chunk in articles.yield_per(100).partitions():
                further = _further_pages(session, ArticlePage, ArticlePage.article_id, [article.id for article in chunk])
                for article in chunk:
                    pages = _pages(article.url, article.raw_html, further.get(article.id, ()))
                    yield pages if isinstance(pages, DamagedPages) else _from_article(
                        ArticleRecord, article, html=pages[0], near_duplicate_keys=None, more_pages=pages[1:])

    def update_extraction(self, record: ArticleRecord, *, dry_run: bool = False) -> str | None:
        """Overwrite what extraction yields (EXTRACTED_FIELDS) of the article stored at
        record.url, keeping its raw HTML and when it was seen. When another article
        already has this text, changes nothing and returns that article's URL; with
        dry_run, only checks that."""
        with self._session.begin() as session:
            twin = _url_with_text(session, record)
            if twin is None and not dry_run:
                stored = session.scalar(select(Article).where(Article.url == record.url))
                for name in EXTRACTED_FIELDS:
                    setattr(stored, name, getattr(record, name))
                self._near_duplicates.refresh(session, stored)
            return twin

    # -- failed pages -------------------------------------------------------

    def keep_failed_pages(self, pages: list[FailedPageRecord], run_id: int | None = None) -> None:
        """Keep pages extraction failed on (in crawl run run_id), in one transaction; a page kept
        before is replaced (its newest failure). Storing its article later forgets it."""
        latest = {page.url: page for page in pages}  # a URL twice in the batch: its last failure
        if not latest:
            return
        now = utcnow()
        with sqlite_writer_lock(self.engine), self._session.begin() as session:
            lock_in_transaction(session.connection(), (f"url:{url}" for url in latest))  # as article writers
            _forget_failed_pages(session, list(latest))
            kept = {url: FailedPage(url=url, site=page.site, raw_html=_compressed(page.pages[0]), reason=page.reason,
                                    run_id=run_id, failed_at=now) for url, page in latest.items()}
            session.add_all(kept.values())
            session.flush()  # gives them their ids
            session.add_all(FailedPagePage(failed_page_id=kept[url].id, page=number, raw_html=_compressed(html))
                            for url, page in latest.items() for number, html in enumerate(page.pages[1:], start=2))

    def failed_pages(self, site: str) -> Iterator[FailedPageRecord | DamagedPages]:
        """The site's kept failed pages, with the HTML of all their pages, oldest failure first.
        One whose HTML cannot be read comes as DamagedPages."""
        with self._session() as session:
            kept = session.scalars(select(FailedPage).where(FailedPage.site == site)
                                   .order_by(FailedPage.failed_at, FailedPage.id))
            for chunk in kept.yield_per(100).partitions():
                further = _further_pages(session, FailedPagePage, FailedPagePage.failed_page_id,
                                         [page.id for page in chunk])
                for page in chunk:
                    pages = _pages(page.url, page.raw_html, further.get(page.id, ()))
                    yield pages if isinstance(pages, DamagedPages) else FailedPageRecord(
                        page.url, page.site, pages, page.reason, page.run_id, page.failed_at)

    def forget_failed_page(self, url: str) -> bool:
        """Drop the failed page kept under this (canonical) URL; False when none is."""
        with sqlite_writer_lock(self.engine), self._session.begin() as session:
            return _forget_failed_pages(session, [url]) > 0

    def url_with_text(self, record: ArticleRecord) -> str | None:
        """The URL of another stored article with the record's text (a duplicate); None when there is none."""
        with self._session() as session:
            return _url_with_text(session, record)

    # -- crawl runs ---------------------------------------------------------

    def check_writable(self) -> None:
        """Raise StoreError now if the store cannot be written (a read-only file or folder, a damaged
        file), rather than at the first article: a write that changes nothing is made and rolled back
        (SQLite refuses it on a store it may not write). A full disk shows only at a real write."""
        with self.engine.connect() as connection, connection.begin() as transaction:
            connection.execute(CrawlRun.__table__.update().where(CrawlRun.id == -1).values(status="probe"))
            transaction.rollback()

    def start_run(self, spider: str, *, shared: bool = False) -> int:
        """A new run of spider, "running" in this process (host and pid recorded); shared, a run
        that several processes (a frontier's workers) take part in and heartbeat, none of whose
        ends is the run's: it is taken for dead only once silent for DEAD_AFTER."""
        host, pid = (None, None) if shared else this_process()
        now = utcnow()
        with self._session.begin() as session:
            run = CrawlRun(spider=spider, started_at=now, status="running", host=host, pid=pid, heartbeat_at=now)
            session.add(run)
            session.flush()
            return run.id

    def heartbeat(self, run_id: int, counts: RunCounts | None = None) -> None:
        """The run's process (or one of a shared run's) is alive; with counts, how far it got
        (what an interrupted run keeps)."""
        with self._session.begin() as session:
            run = session.get(CrawlRun, run_id)
            run.heartbeat_at = utcnow()
            for name, value in (vars(counts) if counts else {}).items():
                setattr(run, name, value)

    def finish_run(self, run_id: int, status: str, counts: RunCounts, *, error: str | None = None,
                   warnings: Iterable[str] = (), errors_by_kind: dict[str, int] | None = None) -> None:
        """Record how run_id ended: status finished, failed or interrupted, its counts, why it failed
        (error), what it should tell (warnings) and its errors by kind ({"timeout": 2})."""
        with self._session.begin() as session:
            run = session.get(CrawlRun, run_id)
            run.finished_at = utcnow()
            run.heartbeat_at = run.finished_at
            run.status = status
            run.error = error
            run.warnings = list(warnings) or None
            run.errors_by_kind = dict(errors_by_kind or {}) or None
            for name, value in vars(counts).items():
                setattr(run, name, value)

    def add_to_run(self, run_id: int, counts: RunCounts, *, errors_by_kind: dict[str, int] | None = None,
                   warnings: Iterable[str] = (), status: str | None = None, error: str | None = None) -> None:
        """Add one worker's counts, errors by kind ({"timeout": 2}) and warnings to a crawl run
        several workers share; with status (and error, why), also end the run. The run's row is
        locked while it is added to, so that workers ending at once all count."""
        with sqlite_writer_lock(self.engine), self._session.begin() as session:
            run = session.get(CrawlRun, run_id, with_for_update=True)
            for name, value in vars(counts).items():
                setattr(run, name, (getattr(run, name) or 0) + value)
            run.errors_by_kind = _added_up([run.errors_by_kind, errors_by_kind or {}]) or None
            run.warnings = [*(run.warnings or []), *warnings] or None
            if status is not None:
                run.status, run.error, run.finished_at = status, error, utcnow()
                run.heartbeat_at = run.finished_at

    def record_failed_run(self, spider: str, started_at: datetime, error: str) -> bool:
        """Record that the crawl of spider started at started_at failed, where the crawl could not:
        its run left "running" (the process died; or found so and marked "interrupted" when the store
        was opened) becomes "failed" with this error, and a failed run is added when it recorded none.
        A run that recorded its own end is left as it is. True when recorded."""
        with self._session.begin() as session:
            runs = session.scalars(select(CrawlRun).where(CrawlRun.spider == spider,
                                                          CrawlRun.started_at >= started_at)).all()
            unfinished = [run for run in runs if run.status == "running" or run.error == GONE]
            if runs and not unfinished:
                return False
            for run in unfinished or [CrawlRun(spider=spider, started_at=started_at)]:
                run.finished_at = utcnow()
                run.status = "failed"
                run.error = error
                session.add(run)
            return True

    def last_run(self, spider: str, *, before: int | None = None) -> CrawlRunView | None:
        """The spider's latest run; with before, the latest that started before run `before`."""
        query = select(CrawlRun).where(CrawlRun.spider == spider)
        if before is not None:
            query = query.where(CrawlRun.id < before)
        with self._session() as session:
            run = session.scalar(query.order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1))
            return _run_view(run) if run else None


def _write_locks(record: ArticleRecord) -> list[str]:
    """The locks a writer of this article takes: its URL, its text, the buckets of its text."""
    keys = record.near_duplicate_keys or band_keys(record.text)
    return [f"url:{record.url}", f"text:{record.content_hash}", *bucket_locks(keys)]


def _stored_where(session: Session, selected, column, values: list) -> list:
    """selected (a model or a column) of the stored rows whose column is one of values,
    asked _URLS_PER_QUERY values at a time."""
    values, found = sorted(set(values)), []
    for start in range(0, len(values), _URLS_PER_QUERY):
        found += session.scalars(select(selected).where(column.in_(values[start:start + _URLS_PER_QUERY])))
    return found


def _url_with_text(session: Session, record: ArticleRecord) -> str | None:
    return session.scalar(select(Article.url).where(Article.content_hash == record.content_hash,
                                                    Article.url != record.url))


def _replace_further_pages(session: Session, pages_of: dict[Article, tuple[str, ...]], stale: list[int]) -> None:
    """Store each article's further pages (page 2 on) in article_pages, instead of the ones stored
    before for the articles whose ids are stale (those updated)."""
    for start in range(0, len(stale), _URLS_PER_QUERY):
        session.execute(delete(ArticlePage).where(ArticlePage.article_id.in_(stale[start:start + _URLS_PER_QUERY])))
    session.add_all(ArticlePage(article_id=article.id, page=number, raw_html=_compressed(html))
                    for article, pages in pages_of.items() for number, html in enumerate(pages, start=2))


def _forget_failed_pages(session: Session, urls: list[str]) -> int:
    """Delete the failed pages kept under these URLs (their further pages go with them); how many were."""
    forgotten = 0
    for start in range(0, len(urls), _URLS_PER_QUERY):
        result = session.execute(delete(FailedPage).where(FailedPage.url.in_(urls[start:start + _URLS_PER_QUERY]))
                                 .execution_options(synchronize_session=False))
        forgotten += result.rowcount
    return forgotten


def _further_pages(session: Session, model, owner, owner_ids: list[int]) -> dict[int, list[bytes]]:
    """The stored (compressed) HTML of the further pages (model: ArticlePage or FailedPagePage)
    of the rows with these ids (owner: the model's column naming them), by owner, in page order."""
    pages = defaultdict(list)
    for owner_id, blob in session.execute(select(owner, model.raw_html).where(owner.in_(owner_ids))
                                          .order_by(owner, model.page)):
        pages[owner_id].append(blob)
    return pages


def _compressed(html: str) -> bytes:
    """How the store keeps raw HTML (articles.raw_html, article_pages, failed_pages): compressed
    UTF-8 (storage/compression.py)."""
    return compressed(html.encode("utf-8"))


def _pages(url: str, first: bytes, further: list[bytes]) -> tuple[str, ...] | DamagedPages:
    """The HTML of a stored article's (or failed page's) pages, page 1 first, from their blobs;
    DamagedPages when one cannot be read."""
    try:
        return tuple(_html(blob, url) for blob in (first, *further))
    except StoreError as exc:
        return DamagedPages(url, str(exc))


def _html(blob: bytes, url: str) -> str:
    """The HTML _compressed() made blob of; StoreError naming url (whose page it is) when the
    blob is damaged (a disk fault, a hand edit), rather than the codec's traceback."""
    try:
        return decompressed(blob).decode("utf-8")
    except (*DecompressionError, UnicodeDecodeError) as exc:
        raise StoreError(f"the raw HTML stored for {url} is damaged ({exc})") from None


def _from_article(cls, article: Article, **given):
    """A cls dataclass filled from the article's columns of the same names, and given values."""
    return cls(**{spec.name: getattr(article, spec.name) for spec in fields(cls) if spec.name not in given},
               **given)


class _NewArticle:
    """An article of a batch that was not stored: its columns (attributes named as Article's),
    and its id once inserted. The ORM inserts its objects one statement each on SQLite, to learn
    their ids; these go in a few statements for the batch (a quarter less CPU for the writer)."""

    def __init__(self, **columns):
        self.__dict__.update(columns)
        self.id: int | None = None


def _insert_new(session: Session, articles: list[_NewArticle]) -> None:
    """Inserts the articles, in order, and gives each its id (matched by URL: RETURNING promises no
    order). They go in statements of a power of two rows, 128 at most (a batch of 200: 128, 64 and 8):
    SQLite keeps the last 128 statements it prepared, a quarter of a megabyte each at 100 rows, and
    batches of every size from 1 to 200 grew the writer by 30 MB; eight sizes serve them all."""
    ids = {}
    while len(ids) < len(articles):
        done = len(ids)
        size = min(1 << (len(articles) - done).bit_length() - 1, _ROWS_PER_INSERT)
        rows = [{name: value for name, value in vars(article).items() if name != "id"}
                for article in articles[done:done + size]]
        ids.update(session.execute(insert(Article.__table__).returning(Article.url, Article.id), rows).all())
    for article in articles:
        article.id = ids[article.url]


def _article_columns(record: ArticleRecord) -> dict:
    return {
        "url": record.url,
        "site": record.site,
        "title": record.title,
        "published": record.published,
        "author": record.author,
        "source": record.source,
        "language": record.language,
        "text": record.text,
        "content_hash": record.content_hash,
        "raw_html": _compressed(record.html),
    }
