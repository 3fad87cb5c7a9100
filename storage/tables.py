"""Tables of the store, as SQLAlchemy Core tables. Changing them means adding an Alembic revision.

Reading (storage/reader.py) queries these tables with Core alone; the ORM classes of the write
path (storage/models.py) are mapped onto them. Reading commands thus start without importing
the ORM and building its mappings, which take about a tenth of a second.
"""

from __future__ import annotations

from sqlalchemy import (JSON, Column, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table,
                        Text)

metadata = MetaData()

articles = Table(
    "articles", metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), unique=True, nullable=False),  # canonical form
    Column("site", String(64), index=True, nullable=False),
    Column("title", Text, nullable=False),
    Column("published", Date, index=True),
    Column("author", Text),
    Column("source", Text),
    Column("language", String(16)),
    Column("text", Text, nullable=False),
    # sha256 of the normalised text: the same text under a second URL is not stored twice.
    Column("content_hash", String(64), unique=True, nullable=False),
    # HTML as decoded at crawl time, compressed (storage/compression.py: Zstandard; zlib in rows an
    # older newscrawl wrote), so articles can be re-extracted offline.
    Column("raw_html", LargeBinary, nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    # the earliest copy of the same story reprinted elsewhere (the first published, then the
    # first stored: storage/near_duplicates.py); None for that earliest copy itself
    Column("duplicate_of", Integer, ForeignKey("articles.id"), index=True),
    # what search filters on, read without the wide rows (revision 0010)
    Index("ix_articles_language_site_published", "language", "site", "published"),
)

crawl_runs = Table(
    "crawl_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("spider", String(64), index=True, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    # running, then finished, failed or interrupted (older runs may hold a Scrapy close reason: shutdown)
    Column("status", String(32), nullable=False),
    Column("pages", Integer, default=0, nullable=False),
    Column("articles_new", Integer, default=0, nullable=False),
    Column("articles_updated", Integer, default=0, nullable=False),
    Column("articles_unchanged", Integer, default=0, nullable=False),
    Column("duplicates", Integer, default=0, nullable=False),
    Column("empty_pages", Integer, default=0, nullable=False),
    Column("errors", Integer, default=0, nullable=False),
    # not fetched: already stored, or listed before --since (0003)
    Column("articles_skipped", Integer, default=0, nullable=False),
    Column("not_modified", Integer, default=0, nullable=False),  # pages the server answered 304
    Column("error", Text),  # why a failed run failed
    # (0004) what a finished run should tell (["the article pattern matched no link on …"]), and its
    # failed pages by kind ({"timeout": 2, "http_status": 1}): the newscrawl/errors/<kind> stats
    Column("warnings", JSON),
    Column("errors_by_kind", JSON),
    # (0004) the process that runs the crawl, and when it last said it is alive: a run left
    # "running" by a process that is gone is marked "interrupted"
    Column("host", String(255)),
    Column("pid", Integer),
    Column("heartbeat_at", DateTime),
)

# One row each time a crawl saw an article: its crawl history.
article_fetches = Table(
    "article_fetches", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), index=True, nullable=False),
    Column("run_id", Integer, ForeignKey("crawl_runs.id")),
    Column("fetched_at", DateTime, nullable=False),
    Column("outcome", String(16), nullable=False),  # new, updated, unchanged
)

# Locality-sensitive hash buckets of an article's text: articles that share a bucket in any
# band are near-duplicate candidates, found by index, not by scan.
near_duplicate_bands = Table(
    "near_duplicate_bands", metadata,
    Column("band", Integer, primary_key=True),
    Column("bucket", String(32), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# Another URL that led to a stored article (a redirect source, a meta-refresh page, the fetched
# URL of a page naming another as canonical): known as stored by incremental crawls (0005).
url_aliases = Table(
    "url_aliases", metadata,
    Column("url", String(2048), primary_key=True),  # canonical form
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), index=True, nullable=False),
)

# The HTML of an article's further pages, when it is split over pages (0009): page 1 is the
# article's raw_html. Re-extraction reads them all; replaced with the article's raw_html.
article_pages = Table(
    "article_pages", metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("page", Integer, primary_key=True),  # 2, 3, ...: the article's own page numbers
    Column("raw_html", LargeBinary, nullable=False),  # compressed, as articles.raw_html
)

# An article page extraction failed on (0009), kept so that `newscrawl re-extract` can read it
# again once the rules are fixed; gone once the article is stored. Failing again replaces it.
failed_pages = Table(
    "failed_pages", metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), unique=True, nullable=False),  # canonical form
    Column("site", String(64), index=True, nullable=False),
    Column("raw_html", LargeBinary, nullable=False),  # page 1, compressed as articles.raw_html
    Column("reason", Text, nullable=False),  # what extraction raised
    Column("run_id", Integer, ForeignKey("crawl_runs.id")),
    Column("failed_at", DateTime, nullable=False),
)

# The HTML of a failed page's further pages, when its article is split over pages (0009).
failed_page_pages = Table(
    "failed_page_pages", metadata,
    Column("failed_page_id", Integer, ForeignKey("failed_pages.id", ondelete="CASCADE"), primary_key=True),
    Column("page", Integer, primary_key=True),  # 2, 3, ...
    Column("raw_html", LargeBinary, nullable=False),
)
