"""The Store API: everything the crawler and the CLI do with the database.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL when scaling out). The
schema is owned by Alembic: a new database is created at the latest revision,
an older one must be upgraded with ``newscrawl db upgrade`` before use, and one
written by a newer newscrawl is refused rather than touched.
"""

from __future__ import annotations

import enum
import hashlib
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, column, create_engine, event, func, inspect, literal_column, select, table, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from storage import migrations, search_postgresql
from storage.locks import database_lock, lock_in_transaction, sqlite_writer_lock
from storage.models import Article, ArticleFetch, CrawlRun
from storage.near_duplicates import DEFAULT_THRESHOLD, NearDuplicateIndex


class StoreError(Exception):
    """The database cannot be used; the message says why in one line."""


class SaveOutcome(enum.Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # same text already stored under another URL


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

    @property
    def content_hash(self) -> str:
        return text_hash(self.text)


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
    failed: int  # runs that ended other than "finished" (runs still going are not failures)
    empty_pages: int  # article pages without extractable text
    errors: int


@dataclass(frozen=True)
class SiteSummary:
    site: str
    articles: int
    clusters: int  # stories: an article and its reprints (duplicate_of) count once
    latest_published: date | None
    last_run: CrawlRunView | None
    last_success: CrawlRunView | None  # the last run that finished
    recent_runs: RecentRuns


@dataclass(frozen=True)
class StoreTotals:
    articles: int
    clusters: int  # a story reprinted on several sites counts once here


@dataclass(frozen=True)
class CrawlRunView:
    spider: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: RunCounts
    id: int
    error: str | None = None  # why a failed run failed

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


# The SQLite FTS5 index of titles and texts (migration 0002), queried with its own functions.
_ARTICLES_FTS = table("articles_fts", column("rowid"))
# A query word in the headline says more about what the article is about than one in its body.
_TITLE_WEIGHT = 10.0
_SNIPPET_WORDS = 24
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
        return Path(parsed.database)
    return None


def _create_engine(url: str, must_exist: bool = False) -> Engine:
    path = database_file(url)
    if path:
        if not path.parent.exists() and path.parent == Path("data"):
            path.parent.mkdir()  # the default location, created on first use
        if not path.parent.is_dir():
            raise StoreError(f"cannot open database {url}: folder {path.parent} does not exist")
        if must_exist and not path.exists():
            raise StoreError(f"{url} holds no newscrawl store yet; run a crawl first")
    try:
        engine = create_engine(url)
    except Exception as exc:  # missing driver, bad options...
        raise StoreError(f"cannot open database {url}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# The columns an article is read back with (the raw HTML stays in the store).
ARTICLE_FIELDS = ("url", "site", "title", "published", "author", "source", "language",
                  "text", "content_hash", "first_seen", "last_seen")
RECENT_RUNS = 5  # how many of a site's last crawl runs its summary adds up


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
        try:
            return self._save_article(record, run_id)
        except IntegrityError:
            # Another writer stored the same URL or text between our read and
            # our write; reading again gives the right outcome.
            return self._save_article(record, run_id)

    def _save_article(self, record: ArticleRecord, run_id: int | None) -> SaveOutcome:
        now = utcnow()
        with sqlite_writer_lock(self.engine), self._session.begin() as session:
            # Two writers of one URL or one text take turns, so each sees what the other stored
            # (near_duplicates.add does the same for the texts that could be copies).
            lock_in_transaction(session.connection(), [f"url:{record.url}", f"text:{record.content_hash}"])
            stored = session.scalar(select(Article).where(Article.url == record.url))
            columns = _article_columns(record)
            if stored is None:
                twin = session.scalar(
                    select(Article.id).where(Article.content_hash == record.content_hash)
                )
                if twin is not None:
                    return SaveOutcome.DUPLICATE
                stored = Article(**columns, first_seen=now, last_seen=now)
                session.add(stored)
                session.flush()  # gives the new article its id
                self._near_duplicates.add(session, stored)
                outcome = SaveOutcome.NEW
            elif all(getattr(stored, name) == value for name, value in columns.items()
                     if name != "raw_html"):
                stored.last_seen = now
                outcome = SaveOutcome.UNCHANGED
            else:
                stored.last_seen = now
                for name, value in columns.items():
                    setattr(stored, name, value)
                self._near_duplicates.refresh(session, stored)
                outcome = SaveOutcome.UPDATED
            session.add(ArticleFetch(article_id=stored.id, run_id=run_id, fetched_at=now,
                                     outcome=outcome.value))
            return outcome

    def articles(self, *sites: str, since: date | None = None, unique: bool = False) -> Iterator[dict]:
        """Stored articles as plain dicts, by site and oldest first (undated last), without the raw HTML.

        ``since`` keeps those published on or after that day (undated ones drop out);
        ``unique`` keeps one copy of each story, the earliest, whose URL every other
        copy carries as ``duplicate_of``.
        """
        original = aliased(Article)
        query = (
            select(*(getattr(Article, name) for name in ARTICLE_FIELDS), original.url.label("duplicate_of"))
            .outerjoin(original, Article.duplicate_of == original.id)
            .order_by(Article.site, Article.published.asc().nulls_last(), Article.id)  # the same on every database
        )
        if sites:
            query = query.where(Article.site.in_(sites))
        if since:
            query = query.where(Article.published >= since)
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
        """Those of the (canonical) URLs that are stored."""
        with self._session() as session:
            return set(session.scalars(select(Article.url).where(Article.url.in_(set(urls)))))

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
               limit: int = 20, marks: tuple[str, str] = ("[", "]")) -> list[SearchHit]:
        """Articles matching an FTS5 query (words, "phrases", prefix*, AND/OR/NOT, title:word),
        best first; marks go around the matched words in titles and snippets."""
        if self.engine.dialect.name == "postgresql":
            return self._search_postgresql(query, site=site, since=since, limit=limit, marks=marks)
        if self.engine.dialect.name != "sqlite":
            raise StoreError(f"full-text search needs a SQLite or PostgreSQL store; {self.url} is "
                             f"{self.engine.dialect.name}")
        index = literal_column(_ARTICLES_FTS.name)
        score = func.bm25(index, _TITLE_WEIGHT, 1.0)
        statement = (
            select(Article.id, Article.url, Article.site, Article.published,
                   func.highlight(index, 0, *marks),
                   func.snippet(index, 1, *marks, "…", _SNIPPET_WORDS), score)
            .join_from(_ARTICLES_FTS, Article, Article.id == _ARTICLES_FTS.c.rowid)
            .where(index.match(query))
            .order_by(score)
            .limit(limit)
        )
        if site:
            statement = statement.where(Article.site == site)
        if since:
            statement = statement.where(Article.published >= since)
        try:
            with self._session() as session:
                return [SearchHit(*row) for row in session.execute(statement)]
        except OperationalError as exc:
            reason = str(exc.orig)
            if not _FTS_QUERY_ERROR.match(reason):
                raise StoreError(f"cannot search {self.url}: {reason}") from None
            if reason.startswith("no such column"):  # FTS5 reads "covid-19" or "a:b" as a column filter
                reason += ' (put a word that holds "-" or ":" in double quotes)'
            raise StoreError(f"bad search query {query!r}: {reason}") from None

    def _search_postgresql(self, query: str, **options) -> list[SearchHit]:
        """The same search on PostgreSQL (storage/search_postgresql.py)."""
        try:
            with self._session() as session:
                return [SearchHit(*row) for row in search_postgresql.search(session, query, **options)]
        except search_postgresql.QueryError as exc:
            raise StoreError(f"bad search query {query!r}: {exc}") from None

    def stored_pages(self, site: str) -> Iterator[ArticleRecord]:
        """A site's articles as stored, each with its raw HTML: what re-extraction reads."""
        with self._session() as session:
            articles = session.scalars(select(Article).where(Article.site == site).order_by(Article.id))
            for article in articles.yield_per(100):
                yield _from_article(ArticleRecord, article, html=_html(article.raw_html))

    def update_extraction(self, record: ArticleRecord, *, dry_run: bool = False) -> str | None:
        """Overwrite what extraction yields (EXTRACTED_FIELDS) of the article stored at
        record.url, keeping its raw HTML and when it was seen. When another article
        already has this text, changes nothing and returns that article's URL; with
        dry_run, only checks that."""
        with self._session.begin() as session:
            twin = session.scalar(select(Article.url).where(Article.content_hash == record.content_hash,
                                                            Article.url != record.url))
            if twin is None and not dry_run:
                stored = session.scalar(select(Article).where(Article.url == record.url))
                for name in EXTRACTED_FIELDS:
                    setattr(stored, name, getattr(record, name))
                self._near_duplicates.refresh(session, stored)
            return twin

    # -- crawl runs ---------------------------------------------------------

    def start_run(self, spider: str) -> int:
        with self._session.begin() as session:
            run = CrawlRun(spider=spider, started_at=utcnow(), status="running")
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, status: str, counts: RunCounts) -> None:
        with self._session.begin() as session:
            run = session.get(CrawlRun, run_id)
            run.finished_at = utcnow()
            run.status = status
            for name, value in vars(counts).items():
                setattr(run, name, value)

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
        its run left "running" (the process died) becomes "failed", and a failed run is added when
        it recorded none. A run that recorded its own end is left as it is. True when recorded."""
        with self._session.begin() as session:
            runs = session.scalars(select(CrawlRun).where(CrawlRun.spider == spider,
                                                          CrawlRun.started_at >= started_at)).all()
            unfinished = [run for run in runs if run.status == "running"]
            if runs and not unfinished:
                return False
            for run in unfinished or [CrawlRun(spider=spider, started_at=started_at)]:
                run.finished_at = utcnow()
                run.status = "failed"
                run.error = error
                session.add(run)
            return True

    def last_run(self, spider: str) -> CrawlRunView | None:
        with self._session() as session:
            run = session.scalar(
                select(CrawlRun).where(CrawlRun.spider == spider)
                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1)
            )
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
        summaries = []
        for site in sorted(articles.keys() | recent.keys()):
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
                ),
            ))
        return summaries

    def recent_runs(self, limit: int = 20) -> list[CrawlRunView]:
        """The latest crawl runs of every site, newest first."""
        with self._session() as session:
            runs = session.scalars(
                select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
            )
            return [_run_view(run) for run in runs]


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
        "raw_html": zlib.compress(record.html.encode("utf-8")),
    }


def _run_view(run: CrawlRun) -> CrawlRunView:
    counts = RunCounts(**{name: getattr(run, name) for name in vars(RunCounts())})
    return CrawlRunView(run.spider, run.started_at, run.finished_at, run.status, counts,
                        id=run.id, error=run.error)


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
