"""Opening a store and reading it: what `stats`, `search`, `show` and `export` do with the database.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL when scaling out). The
schema is owned by Alembic: a new database is created at the latest revision,
an older one must be upgraded with ``newscrawl db upgrade`` before use, and one
written by a newer newscrawl is refused rather than touched.

Everything here is SQLAlchemy Core over storage/tables.py, without the ORM: a reading command
starts without importing it and mapping its classes (about a tenth of a second). The write
path, storage/store.py's Store, is a StoreReader that also writes, through the ORM.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import (Connection, Engine, Select, TableClause, and_, column, create_engine, event, func, inspect,
                        literal_column, select, table, update)
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

from storage import migrations, search_text
from storage.locks import database_lock
from storage.processes import is_gone
from storage.tables import article_fetches, articles, crawl_runs, failed_pages, url_aliases


class StoreError(Exception):
    """The database cannot be used; the message says why in one line."""


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
# Stretches of ids a search ranks at once (StoreReader._rank_in_parts): one a core, as ranking is
# all CPU. Each stretch counts every match of each query term again for bm25's statistics (about
# 2 ms for a word in half of 100,000 articles, 15 ms for a phrase), so more would gain little.
_RANKING_PARTS = min(os.cpu_count() or 1, 4)
# ... and ids a stretch holds at least: in a smaller store the threads, connections and that
# second count cost more than they save (measured at 12,000 articles: 8.4 ms against 6.7 at p50).
_STRETCH_IDS = 25_000
# Search filters that keep at least this share of the articles are checked on the best unfiltered
# matches first (StoreReader._best), _SPARE times as many as the filtered share should hold `limit`.
_BROAD_FILTER = 0.5
_SPARE = 2
# A limit on rows read (search results, crawl runs) above this is none: no store holds as many, and
# SQLite and PostgreSQL take no LIMIT beyond 64 bits (nor _SPARE / _BROAD_FILTER times this one).
MOST_ROWS = 2**31 - 1
# A search's time grows with the square of its query's words (200 words took 2.9 s, 400 took 10.7 s,
# on a store of 42 articles); no one searches with more than this.
MAX_QUERY_WORDS = 64
# SQLite's messages for a query FTS5 cannot parse (others mean the database is unusable)
_FTS_QUERY_ERROR = re.compile(r"fts5: |unterminated string|no such column|unknown special query")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def check_no_other_tables(engine: Engine, url: str) -> None:
    """A database without a newscrawl schema version must be empty to become a store: one with
    tables is another application's (or a damaged store), never written to."""
    tables = inspect(engine).get_table_names()
    if tables:
        raise StoreError(f"{shown_url(url)} is not a newscrawl store: it holds other tables "
                         f"({', '.join(sorted(tables)[:5])}) and no newscrawl schema version")


def shown_url(url: str) -> str:
    """A database (or Redis) URL as messages show it, its password masked: messages go to logs
    and to cron's mails."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    return parsed.render_as_string(hide_password=True) if parsed.password else url


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
            or context.is_pre_ping  # a pooled connection found dead: the pool takes a new one
            or isinstance(error, IntegrityError) or _FTS_QUERY_ERROR.match(str(context.original_exception))):
        return
    reason = str(context.original_exception).strip().split("\n")[0]
    hint = next((hint for words, hint in _STORE_TROUBLE_HINTS.items() if words in reason), None)
    raise StoreError(f"cannot use the store at {shown_url(url)}: {reason}" + (f" ({hint})" if hint else ""))


def _create_engine(url: str, must_exist: bool = False) -> Engine:
    path = database_file(url)
    if path:
        if not path.parent.exists() and path.parent == Path("data"):
            path.parent.mkdir()  # the default location, created on first use
        if not path.parent.is_dir():
            raise StoreError(f"cannot open database {shown_url(url)}: folder {path.parent} does not exist")
        if path.is_dir():
            raise StoreError(f"cannot open database {shown_url(url)}: {path} is a folder, not a file")
        if must_exist and not path.exists():
            raise StoreError(f"{shown_url(url)} holds no newscrawl store yet; run a crawl first")
    try:
        # A database server's connections die with it (a restart, a failover) while the pool keeps
        # them: each is tried when taken from the pool (SQLAlchemy's "pessimistic" disconnect
        # handling), so a crawl or a scheduled command outlives a restart between two statements.
        engine = create_engine(url, pool_pre_ping=path is None)
    except Exception as exc:  # missing driver, bad options...
        raise StoreError(f"cannot open database {shown_url(url)}: {exc}") from None
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
# A StoredArticle's columns, in its fields' order
_STORED_ARTICLE = [articles.c[spec.name] for spec in fields(StoredArticle)]
RECENT_RUNS = 5  # how many of a site's last crawl runs its summary adds up
# A run still "running" whose process gave no sign of life (a heartbeat) for this long is taken
# for dead, wherever it ran; crawls beat far more often (crawler/extensions.py).
DEAD_AFTER = timedelta(minutes=10)
GONE = "the crawl process ended without recording its end (killed, or it crashed)"


class StoreReader:
    """A store opened to be read: never created by it (create=False), refused with a StoreError
    when it is missing, of another schema, or unusable. Opening it also marks the runs left
    "running" by a process that is gone as interrupted, when the store can be written."""

    def __init__(self, url: str, *, create: bool = False):
        self.url = url
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
            raise StoreError(f"cannot open database {shown_url(url)}: {exc.orig}") from None
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
        if current is None:
            check_no_other_tables(self.engine, self.url)
            if not create:
                raise StoreError(f"{shown_url(self.url)} holds no newscrawl store yet; run a crawl first")
            migrations.upgrade(self.engine)
        elif migrations.is_known(current):
            raise StoreError(
                f"the store at {shown_url(self.url)} has an older schema ({current}); "
                "run `newscrawl db upgrade` first"
            )
        else:
            raise StoreError(
                f"the store at {shown_url(self.url)} was written by a newer newscrawl "
                f"(schema {current}); upgrade newscrawl to use it"
            )

    def _close_dead_runs(self) -> None:
        """Runs left "running" by a process that is gone (killed, crashed, its machine rebooted)
        become "interrupted", a single process's with counts no lower than what it stored
        (_stored_counts). Best effort: a store that cannot be written is still read."""
        now = utcnow()
        runs = crawl_runs.c
        try:
            with self.engine.begin() as connection:
                for run in connection.execute(select(crawl_runs).where(runs.status == "running")).all():
                    last_sign = run.heartbeat_at or run.started_at
                    if is_gone(run.host, run.pid) or now - last_sign > DEAD_AFTER:
                        # a shared run's workers add their own counts as they end (crawler/frontier.py)
                        counts = _stored_counts(connection, run) if run.host else {}
                        connection.execute(update(crawl_runs).where(runs.id == run.id).values(
                            status="interrupted", finished_at=last_sign, error=GONE, **counts))
        except StoreError:
            pass

    def close(self) -> None:
        self.engine.dispose()

    # -- articles -----------------------------------------------------------

    def articles(self, *sites: str, since: date | None = None, until: date | None = None,
                 languages: Iterable[str] = (), unique: bool = False) -> Iterator[dict]:
        """Stored articles as plain dicts, by site and oldest first (undated last), without the raw HTML.

        ``since`` and ``until`` keep those published on or after, on or before that day (undated
        ones drop out); ``languages`` those in these languages (ISO 639-1 codes);
        ``unique`` keeps one copy of each story, the earliest, whose URL every other
        copy carries as ``duplicate_of``.
        """
        article, original = articles.c, articles.alias("original")
        query = (
            select(*(article[name] for name in ARTICLE_FIELDS), original.c.url.label("duplicate_of"))
            .outerjoin_from(articles, original, article.duplicate_of == original.c.id)
            .order_by(article.site, article.published.asc().nulls_last(), article.id)  # the same on every database
        )
        query = query.where(*_article_filters(sites=sites, since=since, until=until, languages=languages))
        if unique:
            query = query.where(article.duplicate_of.is_(None))
        with self.engine.connect() as connection:
            for row in connection.execute(query.execution_options(yield_per=500)):
                yield row._asdict()

    def sites(self) -> list[str]:
        """Every site the store knows of: those with articles or crawl runs."""
        with self.engine.connect() as connection:
            return sorted(set(connection.scalars(select(articles.c.site).distinct()))
                          | set(connection.scalars(select(crawl_runs.c.spider).distinct())))

    def languages(self) -> list[str]:
        """The languages of the stored articles (codes: en, zh), in order."""
        with self.engine.connect() as connection:
            return list(connection.scalars(select(articles.c.language).distinct()
                                           .where(articles.c.language.is_not(None)).order_by(articles.c.language)))

    def totals(self) -> StoreTotals:
        with self.engine.connect() as connection:
            count, clusters = connection.execute(select(func.count(), func.count(_cluster().distinct()))).one()
        return StoreTotals(count, clusters)

    def find_article(self, *, article_id: int | None = None, url: str | None = None) -> StoredArticle | None:
        """The article with this id, or with this canonical URL; None when there is none."""
        if url is None and not 0 < article_id <= self._largest_id():
            return None  # no row can have it; the driver would refuse it as a parameter (overflow)
        with self.engine.connect() as connection:
            row = connection.execute(select(*_STORED_ARTICLE).where(
                articles.c.url == url if url is not None else articles.c.id == article_id)).first()
        return StoredArticle(*row) if row else None

    def article_known_as(self, urls: Iterable[str]) -> StoredArticle | None:
        """The article stored under one of these canonical URLs, or that one of them led to (an
        alias: a redirect's source, say); None when there is none."""
        urls = list(urls)
        with self.engine.connect() as connection:
            row = connection.execute(select(*_STORED_ARTICLE).where(articles.c.url.in_(urls))).first() \
                or connection.execute(select(*_STORED_ARTICLE).join_from(
                    url_aliases, articles, articles.c.id == url_aliases.c.article_id).where(
                    url_aliases.c.url.in_(urls))).first()
        return StoredArticle(*row) if row else None

    def _largest_id(self) -> int:
        """The largest value of an id column (tables.py's Integer): PostgreSQL's INTEGER is 32 bits,
        SQLite's 64."""
        return 2**31 - 1 if self.engine.dialect.name == "postgresql" else 2**63 - 1

    def near_duplicates(self, article: StoredArticle) -> list[StoredArticle]:
        """The other articles of its near-duplicate cluster: the root and every copy of the root."""
        root = article.duplicate_of or article.id
        with self.engine.connect() as connection:
            cluster = connection.execute(
                select(*_STORED_ARTICLE)
                .where((articles.c.id == root) | (articles.c.duplicate_of == root), articles.c.id != article.id)
                .order_by(articles.c.id)
            )
            return [StoredArticle(*row) for row in cluster]

    def fetch_history(self, article_id: int) -> list[FetchView]:
        """Every time a crawl saw the article, oldest first."""
        fetch = article_fetches.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(fetch.fetched_at, fetch.run_id, crawl_runs.c.spider, fetch.outcome)
                .join_from(article_fetches, crawl_runs, crawl_runs.c.id == fetch.run_id, isouter=True)
                .where(fetch.article_id == article_id)
                .order_by(fetch.fetched_at, fetch.id)
            )
            return [FetchView(*row) for row in rows]

    def search(self, query: str, *, site: str | None = None, since: date | None = None,
               until: date | None = None, language: str | None = None,
               limit: int = 20, marks: tuple[str, str] = ("[", "]")) -> list[SearchHit]:
        """Articles matching an FTS5 query (words, "phrases", prefix*, AND/OR/NOT, title:word),
        best first; marks go around the matched words in titles and snippets. A Chinese word of
        any length matches the articles that contain it (storage/search_text.py). site, since
        and until (publication dates, inclusive) and language narrow the results."""
        limit = min(limit, MOST_ROWS)
        if len(query.split()) > MAX_QUERY_WORDS:
            raise StoreError(f"bad search query: {len(query.split())} words, more than {MAX_QUERY_WORDS}")
        if self.engine.dialect.name == "postgresql":
            return self._search_postgresql(query, site=site, since=since, until=until, language=language,
                                           limit=limit, marks=marks)
        if self.engine.dialect.name != "sqlite":
            raise StoreError(f"full-text search needs a SQLite or PostgreSQL store; {shown_url(self.url)} is "
                             f"{self.engine.dialect.name}")
        chinese = search_text.has_cjk(query)
        fts = _ARTICLES_FTS_CJK if chinese else _ARTICLES_FTS
        index = literal_column(fts.name)
        matches = index.match(search_text.query_text(query) if chinese else query)
        score = func.bm25(index, _TITLE_WEIGHT, 1.0)
        # First the best `limit` ids and scores, ranked in the index alone: bm25 is computed once
        # per match, and ties go to the older article (the lower id).
        ranking = select(fts.c.rowid, score.label("score")).where(matches).order_by("score", fts.c.rowid)
        filters = _article_filters(sites=[site] if site else [], since=since, until=until,
                                   languages=[language] if language else [])
        # Then those rows' titles and snippets marked: FTS5 finds them by id. bm25 is not asked
        # again: each id looked up would start it anew, reading every match to count them.
        article = articles.c
        marked = (
            select(article.id, article.url, article.site, article.published,
                   func.highlight(index, 0, *marks),
                   func.snippet(index, 1, *marks, "…", _SNIPPET_CJK_TOKENS if chinese else _SNIPPET_WORDS))
            .join_from(fts, articles, article.id == fts.c.rowid)
        )
        try:
            ranked = self._best(ranking, fts, filters, limit)
            ids = [id_ for id_, _ in ranked]
            # FTS5 evaluates the query anew for each id it looks up. For a prefix query (word*)
            # that means merging the lists of every word with that prefix each time (23 ms for the
            # 20 ids of `inspect*` at 100,000 articles), where one pass over its matches, checking
            # each id ("+ 0" keeps the ids from being looked up), takes 3 ms; a word or a phrase
            # is quicker to look up by id (2-4 ms against 6-24).
            wanted = (fts.c.rowid + 0).in_(ids) if "*" in query else fts.c.rowid.in_(ids)
            with self.engine.connect() as connection:
                rows = {row.id: row for row in connection.execute(marked.where(matches, wanted))}
        except OperationalError as exc:
            reason = str(exc.orig)
            if not _FTS_QUERY_ERROR.match(reason):
                raise StoreError(f"cannot search {shown_url(self.url)}: {reason}") from None
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

    def _best(self, ranking: Select, fts: TableClause, filters: list, limit: int) -> list[tuple[int, float]]:
        """The (id, score) of the best `limit` matches that pass `filters`, best first, as `ranking`
        (matches ordered best first) ranks them.

        Checking a match against the filtered ids costs about half what scoring it does, so filters
        that keep at least half the articles are first checked on the best unfiltered matches
        only: when `limit` of those pass, they are the best that pass (any other match that passes
        ranks below all of them). Otherwise, or for narrower filters, every match is checked
        before it is scored."""
        if filters:
            with self.engine.connect() as connection:  # (counted in the indexes the filters read)
                all_articles, kept = connection.execute(select(
                    select(func.count()).select_from(articles).scalar_subquery(),
                    select(func.count()).select_from(articles).where(*filters).scalar_subquery())).one()
            if kept and kept >= _BROAD_FILTER * all_articles:
                wanted = math.ceil(_SPARE * limit * all_articles / kept)
                unfiltered = self._rank_in_parts(ranking, fts, [], wanted)
                with self.engine.connect() as connection:
                    # the filters as a result column, not a condition, or SQLite would scan the
                    # filtered ids in their index for these few rather than look these up by id
                    passing = {id_ for id_, passes in connection.execute(select(articles.c.id, and_(*filters)).where(
                        articles.c.id.in_([id_ for id_, _ in unfiltered]))) if passes}
                best = [row for row in unfiltered if row[0] in passing]
                if len(best) >= limit or len(unfiltered) < wanted:  # (or every match was seen)
                    return best[:limit]
        return self._rank_in_parts(ranking, fts, filters, limit)

    def _rank_in_parts(self, ranking: Select, fts: TableClause, filters: list, limit: int) -> list[tuple[int, float]]:
        """The (id, score) of the best `limit` matches, best first, as `ranking` ranks them over
        every match that passes `filters`. bm25 has no shortcut: it scores every match, so a term
        found in half the store spends nearly all of a search's time here. The store's ids are
        cut into stretches ranked at once, each on its own connection (sqlite3 lets go of the GIL
        while a statement runs); FTS5 reads only the matches of a stretch (a rowid range in its
        plan), while bm25 takes its statistics (article count, lengths, how many articles hold
        each term) from the whole index, so a stretch's scores are those of a ranking of every
        match, and the best of each stretch merged are the best of all. (A crawl writing meanwhile
        may store an article between two stretches' reads: that search then mixes the two.)"""

        def rank(stretch: tuple[int, int]) -> list[tuple[int, float]]:
            in_stretch = ranking.where(fts.c.rowid.between(*stretch))
            if filters:
                # The stretch's filtered ids as a set the scan checks each match against, read from
                # the indexes of site, published and language (0010) rather than looked up in the
                # wide articles table per match. "+ 0" keeps SQLite from handing the set to FTS5 as
                # ids to look up one by one, and from reading the set off the table by id range.
                in_stretch = in_stretch.where((fts.c.rowid + 0).in_(
                    select(articles.c.id).where(*filters, (articles.c.id + 0).between(*stretch))))
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(in_stretch.limit(limit))]

        # An in-memory store is one connection's own: it is ranked in one stretch, on this thread.
        stretches = self._id_stretches(_RANKING_PARTS if database_file(self.url) else 1)
        if len(stretches) <= 1:
            return rank(stretches[0]) if stretches else []
        with ThreadPoolExecutor(len(stretches)) as pool:
            ranked = [row for rows in pool.map(rank, stretches) for row in rows]
        return sorted(ranked, key=lambda row: (row[1], row[0]))[:limit]

    def _id_stretches(self, count: int) -> list[tuple[int, int]]:
        """The articles' ids cut into `count` stretches of about as many ids (fewer when a stretch
        would hold under _STRETCH_IDS), as (first, last) inclusive, lowest first; [] for an empty
        store."""
        with self.engine.connect() as connection:  # one min or max a query: SQLite reads either at an end of the table
            first, last = connection.execute(select(select(func.min(articles.c.id)).scalar_subquery(),
                                                    select(func.max(articles.c.id)).scalar_subquery())).one()
        if first is None:
            return []
        count = max(1, min(count, (last - first + 1) // _STRETCH_IDS))
        size = (last - first) // count + 1
        return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]

    def _search_postgresql(self, query: str, **options) -> list[SearchHit]:
        """The same search on PostgreSQL (storage/search_postgresql.py)."""
        from storage import search_postgresql  # only PostgreSQL stores need its query translation

        try:
            with self.engine.connect() as connection:
                return [SearchHit(*row) for row in search_postgresql.search(connection, query, **options)]
        except search_postgresql.QueryError as exc:
            raise StoreError(f"bad search query {query!r}: {exc}") from None

    def failed_page_counts(self) -> dict[str, int]:
        """How many failed pages are kept, by site (sites with none left out)."""
        with self.engine.connect() as connection:
            return dict(connection.execute(select(failed_pages.c.site, func.count())
                                           .group_by(failed_pages.c.site)).all())

    # -- crawl runs ---------------------------------------------------------

    def site_summaries(self, window: int = RECENT_RUNS) -> list[SiteSummary]:
        """Per site: articles, stories, latest date, and how its last `window` runs went."""
        article = articles.c
        with self.engine.connect() as connection:
            by_site = {site: (count, clusters, latest) for site, count, clusters, latest in connection.execute(
                select(article.site, func.count(), func.count(_cluster().distinct()), func.max(article.published))
                .group_by(article.site)
            )}
            recent = _latest_runs(connection, window)
            successes = _latest_runs(connection, 1, crawl_runs.c.status == "finished")
        failed = self.failed_page_counts()
        summaries = []
        for site in sorted(by_site.keys() | recent.keys() | failed.keys()):
            count, clusters, latest = by_site.get(site, (0, 0, None))
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
                failed_pages=failed.get(site, 0),
            ))
        return summaries

    def runs_by_site(self, per_site: int) -> dict[str, list[CrawlRunView]]:
        """Each site's latest `per_site` crawl runs, newest first."""
        with self.engine.connect() as connection:
            return dict(_latest_runs(connection, per_site))

    def recent_runs(self, limit: int = 20) -> list[CrawlRunView]:
        """The latest crawl runs of every site, newest first."""
        with self.engine.connect() as connection:
            runs = connection.execute(
                select(crawl_runs).order_by(crawl_runs.c.started_at.desc(), crawl_runs.c.id.desc())
                .limit(min(limit, MOST_ROWS))
            )
            return [_run_view(run) for run in runs]


def _stored_counts(connection: Connection, run) -> dict[str, int]:
    """The new, updated and unchanged articles and the pages of a run (a crawl_runs row) as its
    stored articles' history (article_fetches) shows them, where that is more than its counts
    say: counts are written at the end and at each heartbeat, so a crawl killed before its first
    one had none, though every batch it committed is stored."""
    fetches = article_fetches.c
    stored = dict(connection.execute(select(fetches.outcome, func.count()).where(fetches.run_id == run.id)
                                     .group_by(fetches.outcome)).all())
    counts = {f"articles_{outcome}": max(getattr(run, f"articles_{outcome}"), stored.get(outcome, 0))
              for outcome in ("new", "updated", "unchanged")}
    counts["pages"] = max(run.pages, sum(stored.values()))  # each of those articles was a page fetched
    return counts


def _added_up(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total = Counter()
    for each in counts:
        total.update(each)
    return dict(sorted(total.items()))


def _article_filters(*, sites: Iterable[str], since: date | None, until: date | None,
                     languages: Iterable[str]) -> list:
    """Conditions on articles: of these sites, published between since and until (inclusive;
    undated ones drop out with either), in these languages. Empty filters are left out."""
    article = articles.c
    conditions = []
    if sites:
        conditions.append(article.site.in_(sites))
    if since:
        conditions.append(article.published >= since)
    if until:
        conditions.append(article.published <= until)
    if languages:
        conditions.append(article.language.in_(languages))
    return conditions


def _run_view(run) -> CrawlRunView:
    """The view of a crawl_runs row (a CrawlRun of the ORM too: both have the columns as attributes)."""
    counts = RunCounts(**{name: getattr(run, name) for name in vars(RunCounts())})
    return CrawlRunView(run.spider, run.started_at, run.finished_at, run.status, counts,
                        id=run.id, error=run.error, warnings=tuple(run.warnings or ()),
                        errors_by_kind=dict(run.errors_by_kind or {}), host=run.host, pid=run.pid)


def _latest_runs(connection: Connection, per_spider: int, *conditions) -> defaultdict[str, list[CrawlRunView]]:
    """Each spider's newest runs (those meeting the conditions), newest first, in one query."""
    runs = crawl_runs.c
    rank = func.row_number().over(partition_by=runs.spider, order_by=(runs.started_at.desc(), runs.id.desc()))
    ranked = select(crawl_runs, rank.label("rank")).where(*conditions).subquery()
    latest = defaultdict(list)
    for row in connection.execute(select(ranked).where(ranked.c.rank <= per_spider).order_by(ranked.c.rank)):
        latest[row.spider].append(_run_view(row))
    return latest


def _cluster():
    """The story an article belongs to: the id of its earliest copy."""
    return func.coalesce(articles.c.duplicate_of, articles.c.id)
