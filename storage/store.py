"""The Store API: everything the crawler and the CLI do with the database.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL when scaling out). The
schema is owned by Alembic: a new database is created at the latest revision,
an older one must be upgraded with ``newscrawl db upgrade`` before use, and one
written by a newer newscrawl is refused rather than touched.
"""

from __future__ import annotations

import enum
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage import migrations
from storage.models import Article, CrawlRun


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


@dataclass
class RunCounts:
    pages: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    duplicates: int = 0
    empty_pages: int = 0
    errors: int = 0


@dataclass(frozen=True)
class SiteSummary:
    site: str
    articles: int
    latest_published: date | None
    last_run: CrawlRunView | None = field(default=None)


@dataclass(frozen=True)
class CrawlRunView:
    spider: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: RunCounts


def text_hash(text: str) -> str:
    """Hash of the text with whitespace folded, so re-wrapped copies hash alike."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (stats, export, a browser UI) work while a crawl writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _create_engine(url: str, must_exist: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
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


class Store:
    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self.engine = _create_engine(url, must_exist=not create)
        try:
            self._check_schema(create)
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open database {url}: {exc.orig}") from None
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def _check_schema(self, create: bool) -> None:
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
            current = migrations.current_revision(engine)
            if current == migrations.head_revision():
                return False
            if current is not None and not migrations.is_known(current):
                raise StoreError(f"the store at {url} was written by a newer newscrawl "
                                 f"(schema {current}); upgrade newscrawl to use it")
            migrations.upgrade(engine)
            return True
        except OperationalError as exc:
            raise StoreError(f"cannot open database {url}: {exc.orig}") from None
        finally:
            engine.dispose()

    def close(self) -> None:
        self.engine.dispose()

    # -- articles -----------------------------------------------------------

    def save_article(self, record: ArticleRecord) -> SaveOutcome:
        """Insert or update one article; idempotent for an unchanged page."""
        try:
            return self._save_article(record)
        except IntegrityError:
            # Another writer stored the same URL or text between our read and
            # our write; reading again gives the right outcome.
            return self._save_article(record)

    def _save_article(self, record: ArticleRecord) -> SaveOutcome:
        now = utcnow()
        with self._session.begin() as session:
            stored = session.scalar(select(Article).where(Article.url == record.url))
            if stored is None:
                twin = session.scalar(
                    select(Article.id).where(Article.content_hash == record.content_hash)
                )
                if twin is not None:
                    return SaveOutcome.DUPLICATE
                session.add(Article(**_article_columns(record), first_seen=now, last_seen=now))
                return SaveOutcome.NEW
            stored.last_seen = now
            columns = _article_columns(record)
            if all(getattr(stored, name) == value for name, value in columns.items()
                   if name != "raw_html"):
                return SaveOutcome.UNCHANGED
            for name, value in columns.items():
                setattr(stored, name, value)
            return SaveOutcome.UPDATED

    def articles(self, site: str | None = None) -> Iterator[dict]:
        """Stored articles as plain dicts, oldest first, without the raw HTML."""
        query = select(Article).order_by(Article.site, Article.published, Article.id)
        if site:
            query = query.where(Article.site == site)
        with self._session() as session:
            for article in session.scalars(query).yield_per(500):
                yield {
                    "url": article.url,
                    "site": article.site,
                    "title": article.title,
                    "published": article.published.isoformat() if article.published else None,
                    "author": article.author,
                    "source": article.source,
                    "language": article.language,
                    "text": article.text,
                    "content_hash": article.content_hash,
                    "first_seen": article.first_seen.isoformat(),
                    "last_seen": article.last_seen.isoformat(),
                }

    def raw_html(self, url: str) -> str | None:
        with self._session() as session:
            blob = session.scalar(select(Article.raw_html).where(Article.url == url))
        return zlib.decompress(blob).decode("utf-8") if blob is not None else None

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

    def last_run(self, spider: str) -> CrawlRunView | None:
        with self._session() as session:
            run = session.scalar(
                select(CrawlRun).where(CrawlRun.spider == spider)
                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1)
            )
            return _run_view(run) if run else None

    def site_summaries(self) -> list[SiteSummary]:
        with self._session() as session:
            rows = session.execute(
                select(Article.site, func.count(), func.max(Article.published))
                .group_by(Article.site).order_by(Article.site)
            ).all()
            sites = {site: (count, latest) for site, count, latest in rows}
            sites.update({spider: sites.get(spider, (0, None))
                          for spider in session.scalars(select(CrawlRun.spider).distinct())})
        return [SiteSummary(site, count, latest, self.last_run(site))
                for site, (count, latest) in sorted(sites.items())]


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
    return CrawlRunView(run.spider, run.started_at, run.finished_at, run.status, counts)
