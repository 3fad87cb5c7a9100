"""Tables of the store. Changing them means adding an Alembic revision."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"
    # what search filters on, read without the wide rows (revision 0010)
    __table_args__ = (Index("ix_articles_language_site_published", "language", "site", "published"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)  # canonical form
    site: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    published: Mapped[date | None] = mapped_column(Date, index=True)
    author: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # sha256 of the normalised text: the same text under a second URL is not stored twice.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # zlib-compressed HTML as decoded at crawl time, so articles can be re-extracted offline.
    raw_html: Mapped[bytes] = mapped_column(LargeBinary)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    # the earliest copy of the same story reprinted elsewhere (the first published, then the
    # first stored: storage/near_duplicates.py); None for that earliest copy itself
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # running, then finished, failed or interrupted (older runs may hold a Scrapy close reason: shutdown)
    status: Mapped[str] = mapped_column(String(32))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    empty_pages: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    # not fetched: already stored, or listed before --since (0003)
    articles_skipped: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)  # pages the server answered 304
    error: Mapped[str | None] = mapped_column(Text)  # why a failed run failed
    # (0004) what a finished run should tell (["the article pattern matched no link on …"]), and its
    # failed pages by kind ({"timeout": 2, "http_status": 1}): the newscrawl/errors/<kind> stats
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    errors_by_kind: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # (0004) the process that runs the crawl, and when it last said it is alive: a run left
    # "running" by a process that is gone is marked "interrupted"
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


class ArticleFetch(Base):
    """One row each time a crawl saw an article: its crawl history."""

    __tablename__ = "article_fetches"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # new, updated, unchanged


class NearDuplicateBand(Base):
    """Locality-sensitive hash buckets of an article's text: articles that share a
    bucket in any band are near-duplicate candidates, found by index, not by scan."""

    __tablename__ = "near_duplicate_bands"

    band: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


class UrlAlias(Base):
    """Another URL that led to a stored article (a redirect source, a meta-refresh page, the
    fetched URL of a page naming another as canonical): known as stored by incremental crawls (0005)."""

    __tablename__ = "url_aliases"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)  # canonical form
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)


class ArticlePage(Base):
    """The HTML of an article's further pages, when it is split over pages (0009): page 1 is the
    article's raw_html. Re-extraction reads them all; replaced with the article's raw_html."""

    __tablename__ = "article_pages"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)  # 2, 3, ...: the article's own page numbers
    raw_html: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed, as articles.raw_html


class FailedPage(Base):
    """An article page extraction failed on (0009), kept so that `newscrawl re-extract` can read it
    again once the rules are fixed; gone once the article is stored. Failing again replaces it."""

    __tablename__ = "failed_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)  # canonical form
    site: Mapped[str] = mapped_column(String(64), index=True)
    raw_html: Mapped[bytes] = mapped_column(LargeBinary)  # page 1, zlib-compressed, as articles.raw_html
    reason: Mapped[str] = mapped_column(Text)  # what extraction raised
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    failed_at: Mapped[datetime] = mapped_column(DateTime)


class FailedPagePage(Base):
    """The HTML of a failed page's further pages, when its article is split over pages (0009)."""

    __tablename__ = "failed_page_pages"

    failed_page_id: Mapped[int] = mapped_column(ForeignKey("failed_pages.id", ondelete="CASCADE"), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)  # 2, 3, ...
    raw_html: Mapped[bytes] = mapped_column(LargeBinary)
