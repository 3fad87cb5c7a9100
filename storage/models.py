"""The ORM classes of the write path, mapped onto the store's tables (storage/tables.py): each
class has the attributes of its table's columns, of the same names and types."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from storage import tables


class Base(DeclarativeBase):
    metadata = tables.metadata


class Article(Base):
    __table__ = tables.articles


class CrawlRun(Base):
    __table__ = tables.crawl_runs


class ArticleFetch(Base):
    """One row each time a crawl saw an article: its crawl history."""

    __table__ = tables.article_fetches


class NearDuplicateBand(Base):
    """One of an article's near-duplicate index buckets (storage/near_duplicates.py)."""

    __table__ = tables.near_duplicate_bands


class UrlAlias(Base):
    """Another URL that led to a stored article."""

    __table__ = tables.url_aliases


class ArticlePage(Base):
    """The HTML of one of an article's further pages (page 2 on)."""

    __table__ = tables.article_pages


class FailedPage(Base):
    """An article page extraction failed on, kept for `newscrawl re-extract`."""

    __table__ = tables.failed_pages


class FailedPagePage(Base):
    """The HTML of one of a failed page's further pages."""

    __table__ = tables.failed_page_pages
