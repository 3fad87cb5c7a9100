"""The Store API: everything the crawler and the CLI do with the database.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL when scaling out). The
schema is owned by Alembic: a new database is created at the latest revision,
an older one must be upgraded with ``newscrawl db upgrade`` before use, and one
written by a newer newscrawl is refused rather than touched.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import (Engine, column, create_engine, delete, event, func, inspect, literal_column, select, table,
                        update)
from sqlalchemy.engine import make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from storage import migrations, search_postgresql, search_text
from storage.locks import database_lock, lock_in_transaction, sqlite_writer_lock
from storage.models import Article, ArticleFetch, ArticlePage, CrawlRun, FailedPage, FailedPagePage, UrlAlias
from storage.near_duplicates import DEFAULT_THRESHOLD, Fingerprint, Keys, NearDuplicateIndex, bucket_locks
from storage.processes import is_gone, this_process


class StoreError(Exception):
    """The database cannot be used; the message says why in one line."""


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


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored, without its raw HTML."""

    id: int
    url: str
    site: str
    title: str
    published: date | None
    author: str | None
    source: str | None
    language: str | None
    text: str
    content_hash: str
    first_seen: datetime
    last_seen: datetime
    duplicate_of: int | None  # the cluster's root: the earliest copy of the story


@dataclass(frozen=True)
class FetchView:
    """One line of an article's crawl history."""

    fetched_at: datetime
    run_id: int | None
    spider: str | None
    outcome: str  # new, updated, unchanged


@dataclass(frozen=True)
class SearchHit:
    id: int
    url: str
    site: str
    published: date | None
    title: str  # with the matched words marked
    snippet: str  # the passage of the text that matches best, matches marked
    score: float  # bm25: the lower, the better the match


@dataclass
class RunCounts:
    pages: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    duplicates: int = 0
    empty_pages: int = 0
    errors: int = 0
    articles_skipped: int = 0  # not fetched: already stored, or listed before --since
    not_modified: int = 0  # pages the server answered 304 Not Modified


@dataclass(frozen=True)
class RecentRuns:
    """A site's last few crawl runs added up: how its crawling goes lately."""

    runs: int  # how many runs were added up (at most the window asked for)
    failed: int  # runs that ended other than "finished": failed, interrupted (runs still going are not failures)
    empty_pages: int  # article pages without extractable text
    errors: int
    errors_by_kind: dict[str, int] = field(default_factory=dict)  # errors, by kind


@dataclass(frozen=True)
class SiteSummary:
    site: str
    articles: int
    clusters: int  # stories: an article and its reprints (duplicate_of) count once
    latest_published: date | None
    last_run: CrawlRunView | None
    last_success: CrawlRunView | None  # the last run that finished
    recent_runs: RecentRuns
    failed_pages: int = 0  # pages extraction failed on, kept for `newscrawl re-extract`


@dataclass(frozen=True)
class StoreTotals:
    articles: int
    clusters: int  # a story reprinted on several sites counts once here


@dataclass(frozen=True)
class CrawlRunView:
    spider: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running, finished, failed, interrupted
    counts: RunCounts
    id: int
    error: str | None = None  # why a failed run failed
    warnings: tuple[str, ...] = ()  # what a finished run should tell
    errors_by_kind: dict[str, int] = field(default_factory=dict)  # counts.errors, by kind
    host: str | None = None  # the machine and process that ran it
    pid: int | None = None

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


# The SQLite FTS5 indexes of titles and texts, queried with their own functions: the one of
# migration 0002, and the one of 0006 that reads Chinese as pairs of characters
# (storage/search_text.py), for queries with Chinese in them.
_ARTICLES_FTS = table("articles_fts", column("rowid"))
_ARTICLES_FTS_CJK = table("articles_fts_cjk", column("rowid"))
# A query word in the headline says more about what the article is about than one in its body.
_TITLE_WEIGHT = 10.0
_SNIPPET_WORDS = 24
_SNIPPET_CJK_TOKENS = 64  # about a token per Chinese character: FTS5's longest snippet
# SQLite's messages for a query FTS5 cannot parse (others mean the database is unusable)
_FTS_QUERY_ERROR = re.compile(r"fts5: |unterminated string|no such column|unknown special query")


def text_hash(text: str) -> str:
    """Hash of the text with whitespace folded, so re-wrapped copies hash alike."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def database_file(url: str) -> Path | None:
    """The file of a SQLite store; None for an in-memory one or another database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if parsed.query.get("uri") == "true" and parsed.database.startswith("file:"):
            # SQLite's URI form, e.g. a store opened read-only: sqlite:///file:PATH?mode=ro&uri=true
            return Path(urlsplit(parsed.database).path)
        return Path(parsed.database)
    return None


# SQLite's words for a store that cannot be used, and what to do about it
_STORE_TROUBLE_HINTS = {
    "file is not a database": "it is not a newscrawl store, or it is damaged",
    "database disk image is malformed": "the file is damaged; restore it from a copy",
    "attempt to write a readonly database": "the file or its folder is read-only",
    "unable to open database file": "check that the file and its folder are readable and writable: "
                                    "SQLite keeps -wal and -shm files beside the store",
    "database or disk is full": "free some disk space",
}


def _unusable_store(url: str, context: ExceptionContext) -> None:
    """Every database error that says the store cannot be used becomes a one-line StoreError;
    those the Store API handles itself (a lost race, an FTS5 query it cannot parse) stay as they are."""
    error = context.sqlalchemy_exception
    if (error is None  # not the database's error (a KeyboardInterrupt): let it be
            or isinstance(error, IntegrityError) or _FTS_QUERY_ERROR.match(str(context.original_exception))):
        return
    reason = str(context.original_exception).strip().split("\n")[0]
    hint = next((hint for words, hint in _STORE_TROUBLE_HINTS.items() if words in reason), None)
    raise StoreError(f"cannot use the store at {url}: {reason}" + (f" ({hint})" if hint else ""))


def _create_engine(url: str, must_exist: bool = False) -> Engine:
    path = database_file(url)
    if path:
        if not path.parent.exists() and path.parent == Path("data"):
            path.parent.mkdir()  # the default location, created on first use
        if not path.parent.is_dir():
            raise StoreError(f"cannot open database {url}: folder {path.parent} does not exist")
        if path.is_dir():
            raise StoreError(f"cannot open database {url}: {path} is a folder, not a file")
        if must_exist and not path.exists():
            raise StoreError(f"{url} holds no newscrawl store yet; run a crawl first")
    try:
        engine = create_engine(url)
    except Exception as exc:  # missing driver, bad options...
        raise StoreError(f"cannot open database {url}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # the full-text index's triggers and view call it (migration 0006)
        event.listen(engine, "connect", search_text.register_sql_function)
    event.listen(engine, "handle_error", functools.partial(_unusable_store, url))
    return engine


# Where the store is when no URL is given (crawler/settings.py: NEWSCRAWL_DB).
DEFAULT_URL = "sqlite:///data/articles.db"


# The columns an article is read back with (the raw HTML stays in the store).
ARTICLE_FIELDS = ("url", "site", "title", "published", "author", "source", "language",
                  "text", "content_hash", "first_seen", "last_seen")
RECENT_RUNS = 5  # how many of a site's last crawl runs its summary adds up
# A run still "running" whose process gave no sign of life (a heartbeat) for this long is taken
# for dead, wherever it ran; crawls beat far more often (crawler/extensions.py).
DEAD_AFTER = timedelta(minutes=10)
GONE = "the crawl process ended without recording its end (killed, or it crashed)"
_URLS_PER_QUERY = 500  # URLs per IN (...): SQLite allows a few thousand parameters a statement


class Store:
    def __init__(self, url: str, *, create: bool = True,
                 near_duplicate_threshold: float = DEFAULT_THRESHOLD):
        self.url = url
        self._near_duplicates = NearDuplicateIndex(near_duplicate_threshold)
        self.engine = _create_engine(url, must_exist=not create)
        try:
            self._check_schema(create)
            if self.engine.dialect.name == "sqlite":
                # WAL lets readers (stats, export, a browser UI) work while a crawl writes.
                # It is stored in the file, so it is set only once the schema is known to be
                # ours: a refused store stays byte for byte as it was.
                with self.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open database {url}: {exc.orig}") from None
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._close_dead_runs()

    def _check_schema(self, create: bool) -> None:
        if migrations.current_revision(self.engine) == migrations.head_revision():
            return
        # Creating or migrating: one process at a time, and the others then see the result
        # (not a half-made schema, nor a race for alembic_version).
        with database_lock(self.engine, "schema"):
            self._check_schema_locked(create)

    def _check_schema_locked(self, create: bool) -> None:
        current, head = migrations.current_revision(self.engine), migrations.head_revision()
        if current == head:
            return
        if current is None and not inspect(self.engine).get_table_names():
            if not create:
                raise StoreError(f"{self.url} holds no newscrawl store yet; run a crawl first")
            migrations.upgrade(self.engine)
        elif migrations.is_known(current):
            raise StoreError(
                f"the store at {self.url} has an older schema ({current}); "
                "run `newscrawl db upgrade` first"
            )
        else:
            raise StoreError(
                f"the store at {self.url} was written by a newer newscrawl "
                f"(schema {current}); upgrade newscrawl to use it"
            )

    @staticmethod
    def upgrade(url: str) -> bool:
        """Bring the store at url to the current schema; False when it already was."""
        engine = _create_engine(url)
        try:
            with database_lock(engine, "schema"):
                return Store._upgrade_locked(url, engine)
        except OperationalError as exc:
            raise StoreError(f"cannot open database {url}: {exc.orig}") from None
        finally:
            engine.dispose()

    @staticmethod
    def _upgrade_locked(url: str, engine: Engine) -> bool:
        current = migrations.current_revision(engine)
        if current == migrations.head_revision():
            return False
        if current is not None and not migrations.is_known(current):
            raise StoreError(f"the store at {url} was written by a newer newscrawl "
                             f"(schema {current}); upgrade newscrawl to use it")
        migrations.upgrade(engine)
        return True

    def close(self) -> None:
        self.engine.dispose()

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
            # Another writer stored one of the URLs or texts between our read and our
            # write; reading again, one article at a time, gives the right outcomes.
            return [self._save_batch([record], run_id)[0] for record in records]

    def _save_batch(self, records: list[ArticleRecord], run_id: int | None) -> list[Saved]:
        """The records in order, as if saved one after the other, in one transaction and with a
        few statements for the whole batch: one read of its stored URLs, one of its stored texts,
        one INSERT of its new articles; then each new article's near-duplicate lookup in order."""
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
            outcomes: list[tuple[SaveOutcome, Article | None]] = []
            # articles whose near-duplicate index entry is to be written: new ones (True) or changed ones
            to_index: dict[Article, tuple[bool, Keys | None]] = {}
            for record in records:
                columns = _article_columns(record)
                stored = by_url.get(record.url)
                if stored is None:
                    if record.content_hash in texts:
                        outcomes.append((SaveOutcome.DUPLICATE, None))
                        continue
                    stored = by_url[record.url] = Article(**columns, first_seen=now, last_seen=now)
                    session.add(stored)
                    texts.add(record.content_hash)
                    to_index[stored] = (True, record.near_duplicate_keys)
                    outcome = SaveOutcome.NEW
                elif all(getattr(stored, name) == value for name, value in columns.items() if name != "raw_html"):
                    stored.last_seen = now
                    outcome = SaveOutcome.UNCHANGED
                else:
                    stored.last_seen = now
                    for name, value in columns.items():
                        setattr(stored, name, value)
                    texts.add(record.content_hash)
                    to_index[stored] = (to_index.get(stored, (False,))[0], record.near_duplicate_keys)
                    outcome = SaveOutcome.UPDATED
                outcomes.append((outcome, stored))
            session.flush()  # gives the new articles their ids
            _replace_further_pages(session, {article: record.more_pages for record, (_, article)
                                             in zip(records, outcomes) if article in to_index},
                                   stale=[article.id for article, (new, _) in to_index.items() if not new])
            _forget_failed_pages(session, [record.url for record in records])  # they extract now
            has_copies = {}
            for article, (new, keys) in to_index.items():  # in the records' order: later ones see earlier ones
                if new:
                    has_copies[article] = self._near_duplicates.add(session, article, keys)
                else:
                    self._near_duplicates.refresh(session, article, keys)
            session.add_all(ArticleFetch(article_id=article.id, run_id=run_id, fetched_at=now, outcome=outcome.value)
                            for outcome, article in outcomes if article is not None)
        return [Saved(outcome, has_copies.get(article, False) if outcome is SaveOutcome.NEW else False)
                for outcome, article in outcomes]

    def articles(self, *sites: str, since: date | None = None, until: date | None = None,
                 languages: Iterable[str] = (), unique: bool = False) -> Iterator[dict]:
        """Stored articles as plain dicts, by site and oldest first (undated last), without the raw HTML.

        ``since`` and ``until`` keep those published on or after, on or before that day (undated
        ones drop out); ``languages`` those in these languages (ISO 639-1 codes);
        ``unique`` keeps one copy of each story, the earliest, whose URL every other
        copy carries as ``duplicate_of``.
        """
        original = aliased(Article)
        query = (
            select(*(getattr(Article, name) for name in ARTICLE_FIELDS), original.url.label("duplicate_of"))
            .outerjoin(original, Article.duplicate_of == original.id)
            .order_by(Article.site, Article.published.asc().nulls_last(), Article.id)  # the same on every database
        )
        query = query.where(*_article_filters(sites=sites, since=since, until=until, languages=languages))
        if unique:
            query = query.where(Article.duplicate_of.is_(None))
        with self._session() as session:
            for row in session.execute(query.execution_options(yield_per=500)):
                yield row._asdict()

    def sites(self) -> list[str]:
        """Every site the store knows of: those with articles or crawl runs."""
        with self._session() as session:
            return sorted(set(session.scalars(select(Article.site).distinct()))
                          | set(session.scalars(select(CrawlRun.spider).distinct())))

    def totals(self) -> StoreTotals:
        with self._session() as session:
            articles, clusters = session.execute(select(func.count(), func.count(_cluster().distinct()))).one()
        return StoreTotals(articles, clusters)

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
        return _html(blob) if blob is not None else None

    def find_article(self, *, article_id: int | None = None, url: str | None = None) -> StoredArticle | None:
        """The article with this id, or with this canonical URL; None when there is none."""
        with self._session() as session:
            article = session.scalar(select(Article).where(
                Article.url == url if url is not None else Article.id == article_id))
            return _from_article(StoredArticle, article) if article else None

    def near_duplicates(self, article: StoredArticle) -> list[StoredArticle]:
        """The other articles of its near-duplicate cluster: the root and every copy of the root."""
        root = article.duplicate_of or article.id
        with self._session() as session:
            cluster = session.scalars(
                select(Article)
                .where((Article.id == root) | (Article.duplicate_of == root), Article.id != article.id)
                .order_by(Article.id)
            )
            return [_from_article(StoredArticle, copy) for copy in cluster]

    def fetch_history(self, article_id: int) -> list[FetchView]:
        """Every time a crawl saw the article, oldest first."""
        with self._session() as session:
            rows = session.execute(
                select(ArticleFetch.fetched_at, ArticleFetch.run_id, CrawlRun.spider, ArticleFetch.outcome)
                .join_from(ArticleFetch, CrawlRun, CrawlRun.id == ArticleFetch.run_id, isouter=True)
                .where(ArticleFetch.article_id == article_id)
                .order_by(ArticleFetch.fetched_at, ArticleFetch.id)
            )
            return [FetchView(*row) for row in rows]

    def search(self, query: str, *, site: str | None = None, since: date | None = None,
               until: date | None = None, language: str | None = None,
               limit: int = 20, marks: tuple[str, str] = ("[", "]")) -> list[SearchHit]:
        """Articles matching an FTS5 query (words, "phrases", prefix*, AND/OR/NOT, title:word),
        best first; marks go around the matched words in titles and snippets. A Chinese word of
        any length matches the articles that contain it (storage/search_text.py). site, since
        and until (publication dates, inclusive) and language narrow the results."""
        if self.engine.dialect.name == "postgresql":
            return self._search_postgresql(query, site=site, since=since, until=until, language=language,
                                           limit=limit, marks=marks)
        if self.engine.dialect.name != "sqlite":
            raise StoreError(f"full-text search needs a SQLite or PostgreSQL store; {self.url} is "
                             f"{self.engine.dialect.name}")
        chinese = search_text.has_cjk(query)
        fts = _ARTICLES_FTS_CJK if chinese else _ARTICLES_FTS
        index = literal_column(fts.name)
        matches = index.match(search_text.query_text(query) if chinese else query)
        score = func.bm25(index, _TITLE_WEIGHT, 1.0)
        # First the best `limit` ids and scores, ranked in the index alone: bm25 is computed once
        # per match, and ties go to the older article (the lower id).
        best = (select(fts.c.rowid, score.label("score")).where(matches)
                .order_by("score", fts.c.rowid).limit(limit))
        filters = _article_filters(sites=[site] if site else [], since=since, until=until,
                                   languages=[language] if language else [])
        if filters:
            # The filtered ids as a set the scan checks each match against, read from the indexes
            # of site, published and language (0010), rather than a lookup in the wide articles
            # table per match. "+ 0" keeps SQLite from handing the set to FTS5 as ids to look up
            # one by one.
            best = best.where((fts.c.rowid + 0).in_(select(Article.id).where(*filters)))
        # Then those rows' titles and snippets marked: FTS5 finds them by id. bm25 is not asked
        # again: each id looked up would start it anew, reading every match to count them.
        marked = (
            select(Article.id, Article.url, Article.site, Article.published,
                   func.highlight(index, 0, *marks),
                   func.snippet(index, 1, *marks, "…", _SNIPPET_CJK_TOKENS if chinese else _SNIPPET_WORDS))
            .join_from(fts, Article, Article.id == fts.c.rowid)
        )
        try:
            with self._session() as session:
                ranked = session.execute(best).all()
                rows = {row.id: row for row in session.execute(
                    marked.where(matches, fts.c.rowid.in_([id_ for id_, _ in ranked])))}
        except OperationalError as exc:
            reason = str(exc.orig)
            if not _FTS_QUERY_ERROR.match(reason):
                raise StoreError(f"cannot search {self.url}: {reason}") from None
            if reason.startswith("no such column"):  # FTS5 reads "covid-19" or "a:b" as a column filter
                reason += ' (put a word that holds "-" or ":" in double quotes)'
            raise StoreError(f"bad search query {query!r}: {reason}") from None
        # an article deleted (or no longer matching) between the two reads is left out
        hits = [SearchHit(*rows[id_], score) for id_, score in ranked if id_ in rows]
        if chinese:  # marked up on the text as indexed: shown as stored
            single = search_text.single_characters(query)
            hits = [replace(hit, title=search_text.shown_text(hit.title, marks, single),
                            snippet=search_text.shown_text(hit.snippet, marks, single)) for hit in hits]
        return hits

    def _search_postgresql(self, query: str, **options) -> list[SearchHit]:
        """The same search on PostgreSQL (storage/search_postgresql.py)."""
        try:
            with self._session() as session:
                return [SearchHit(*row) for row in search_postgresql.search(session, query, **options)]
        except search_postgresql.QueryError as exc:
            raise StoreError(f"bad search query {query!r}: {exc}") from None

    def stored_pages(self, site: str) -> Iterator[ArticleRecord]:
        """A site's articles as stored, each with the raw HTML of all its pages: what re-extraction reads."""
        with self._session() as session:
            articles = session.scalars(select(Article).where(Article.site == site).order_by(Article.id))
            for chunk in articles.yield_per(100).partitions():
                further = _further_pages(session, ArticlePage, ArticlePage.article_id,
                                         [article.id for article in chunk])
                for article in chunk:
                    yield _from_article(ArticleRecord, article, html=_html(article.raw_html), near_duplicate_keys=None,
                                        more_pages=further.get(article.id, ()))

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

    def failed_pages(self, site: str) -> Iterator[FailedPageRecord]:
        """The site's kept failed pages, with the HTML of all their pages, oldest failure first."""
        with self._session() as session:
            kept = session.scalars(select(FailedPage).where(FailedPage.site == site)
                                   .order_by(FailedPage.failed_at, FailedPage.id))
            for chunk in kept.yield_per(100).partitions():
                further = _further_pages(session, FailedPagePage, FailedPagePage.failed_page_id,
                                         [page.id for page in chunk])
                for page in chunk:
                    yield FailedPageRecord(page.url, page.site, (_html(page.raw_html), *further.get(page.id, ())),
                                           page.reason, page.run_id, page.failed_at)

    def forget_failed_page(self, url: str) -> bool:
        """Drop the failed page kept under this (canonical) URL; False when none is."""
        with sqlite_writer_lock(self.engine), self._session.begin() as session:
            return _forget_failed_pages(session, [url]) > 0

    def url_with_text(self, record: ArticleRecord) -> str | None:
        """The URL of another stored article with the record's text (a duplicate); None when there is none."""
        with self._session() as session:
            return _url_with_text(session, record)

    def failed_page_counts(self) -> dict[str, int]:
        """How many failed pages are kept, by site (sites with none left out)."""
        with self._session() as session:
            return dict(session.execute(select(FailedPage.site, func.count()).group_by(FailedPage.site)).all())

    # -- crawl runs ---------------------------------------------------------

    def check_writable(self) -> None:
        """Raise StoreError now if the store cannot be written (a read-only file or folder, a damaged
        file), rather than at the first article: a write that changes nothing is made and rolled back
        (SQLite refuses it on a store it may not write). A full disk shows only at a real write."""
        with self.engine.connect() as connection, connection.begin() as transaction:
            connection.execute(CrawlRun.__table__.update().where(CrawlRun.id == -1).values(status="probe"))
            transaction.rollback()

    def start_run(self, spider: str) -> int:
        """A new run of spider, "running" in this process (host and pid recorded)."""
        host, pid = this_process()
        now = utcnow()
        with self._session.begin() as session:
            run = CrawlRun(spider=spider, started_at=now, status="running", host=host, pid=pid, heartbeat_at=now)
            session.add(run)
            session.flush()
            return run.id

    def heartbeat(self, run_id: int, counts: RunCounts | None = None) -> None:
        """The run's process is alive; with counts, how far it got (what an interrupted run keeps)."""
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

    def _close_dead_runs(self) -> None:
        """Runs left "running" by a process that is gone (killed, crashed, its machine rebooted)
        become "interrupted". Best effort: a store that cannot be written is still read."""
        now = utcnow()
        try:
            with self._session.begin() as session:
                for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
                    last_sign = run.heartbeat_at or run.started_at
                    if is_gone(run.host, run.pid) or now - last_sign > DEAD_AFTER:
                        run.status = "interrupted"
                        run.finished_at = last_sign
                        run.error = GONE
        except StoreError:
            pass

    def add_to_run(self, run_id: int, counts: RunCounts, status: str | None = None) -> None:
        """Add one worker's counts to a crawl run several workers share (in one statement, so
        that workers ending at once all count); with status, also end the run."""
        values = {name: getattr(CrawlRun, name) + value for name, value in vars(counts).items()}
        if status is not None:
            values.update(status=status, finished_at=utcnow())
        with self._session.begin() as session:
            session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**values))

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

    def site_summaries(self, window: int = RECENT_RUNS) -> list[SiteSummary]:
        """Per site: articles, stories, latest date, and how its last `window` runs went."""
        with self._session() as session:
            articles = {site: (count, clusters, latest) for site, count, clusters, latest in session.execute(
                select(Article.site, func.count(), func.count(_cluster().distinct()), func.max(Article.published))
                .group_by(Article.site)
            )}
            recent = _latest_runs(session, window)
            successes = _latest_runs(session, 1, CrawlRun.status == "finished")
        failed_pages = self.failed_page_counts()
        summaries = []
        for site in sorted(articles.keys() | recent.keys() | failed_pages.keys()):
            count, clusters, latest = articles.get(site, (0, 0, None))
            runs, finished = recent[site], successes[site]
            summaries.append(SiteSummary(
                site, count, clusters, latest,
                last_run=runs[0] if runs else None,
                last_success=finished[0] if finished else None,
                recent_runs=RecentRuns(
                    runs=len(runs),
                    failed=sum(run.status not in ("finished", "running") for run in runs),
                    empty_pages=sum(run.counts.empty_pages for run in runs),
                    errors=sum(run.counts.errors for run in runs),
                    errors_by_kind=_added_up(run.errors_by_kind for run in runs),
                ),
                failed_pages=failed_pages.get(site, 0),
            ))
        return summaries

    def runs_by_site(self, per_site: int) -> dict[str, list[CrawlRunView]]:
        """Each site's latest `per_site` crawl runs, newest first."""
        with self._session() as session:
            return dict(_latest_runs(session, per_site))

    def recent_runs(self, limit: int = 20) -> list[CrawlRunView]:
        """The latest crawl runs of every site, newest first."""
        with self._session() as session:
            runs = session.scalars(
                select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
            )
            return [_run_view(run) for run in runs]


def _added_up(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total = Counter()
    for each in counts:
        total.update(each)
    return dict(sorted(total.items()))


def _write_locks(record: ArticleRecord) -> list[str]:
    """The locks a writer of this article takes: its URL, its text, the buckets of its text."""
    keys = record.near_duplicate_keys or Fingerprint.of(record.text).band_keys()
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


def _further_pages(session: Session, model, owner, owners: list[int]) -> dict[int, tuple[str, ...]]:
    """The HTML of the further pages (model: ArticlePage or FailedPagePage) of the rows whose ids
    (owner: the model's column naming them) are owners, by owner, in page order."""
    pages = defaultdict(list)
    for owner_id, blob in session.execute(select(owner, model.raw_html).where(owner.in_(owners))
                                          .order_by(owner, model.page)):
        pages[owner_id].append(_html(blob))
    return {owner_id: tuple(html) for owner_id, html in pages.items()}


def _article_filters(*, sites: Iterable[str], since: date | None, until: date | None,
                     languages: Iterable[str]) -> list:
    """Conditions on articles: of these sites, published between since and until (inclusive;
    undated ones drop out with either), in these languages. Empty filters are left out."""
    conditions = []
    if sites:
        conditions.append(Article.site.in_(sites))
    if since:
        conditions.append(Article.published >= since)
    if until:
        conditions.append(Article.published <= until)
    if languages:
        conditions.append(Article.language.in_(languages))
    return conditions


def _compressed(html: str) -> bytes:
    """How the store keeps raw HTML (articles.raw_html, article_pages, failed_pages): zlib over UTF-8."""
    return zlib.compress(html.encode("utf-8"))


def _html(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def _from_article(cls, article: Article, **given):
    """A cls dataclass filled from the article's columns of the same names, and given values."""
    return cls(**{spec.name: getattr(article, spec.name) for spec in fields(cls) if spec.name not in given},
               **given)


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


def _run_view(run: CrawlRun) -> CrawlRunView:
    counts = RunCounts(**{name: getattr(run, name) for name in vars(RunCounts())})
    return CrawlRunView(run.spider, run.started_at, run.finished_at, run.status, counts,
                        id=run.id, error=run.error, warnings=tuple(run.warnings or ()),
                        errors_by_kind=dict(run.errors_by_kind or {}), host=run.host, pid=run.pid)


def _latest_runs(session: Session, per_spider: int, *conditions) -> defaultdict[str, list[CrawlRunView]]:
    """Each spider's newest runs (those meeting the conditions), newest first, in one query."""
    rank = func.row_number().over(partition_by=CrawlRun.spider,
                                  order_by=(CrawlRun.started_at.desc(), CrawlRun.id.desc()))
    ranked = select(CrawlRun, rank.label("rank")).where(*conditions).subquery()
    run = aliased(CrawlRun, ranked)
    latest = defaultdict(list)
    for row in session.scalars(select(run).where(ranked.c.rank <= per_spider).order_by(ranked.c.rank)):
        latest[row.spider].append(_run_view(row))
    return latest


def _cluster():
    """The story an article belongs to: the id of its earliest copy."""
    return func.coalesce(Article.duplicate_of, Article.id)
