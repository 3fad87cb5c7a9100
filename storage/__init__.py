"""The article store: SQLAlchemy models, the Store API and its migrations.

Nothing here knows about Scrapy; the crawler's pipelines and the CLI's read-only
commands both talk to the store through :class:`storage.store.Store`.
"""

from storage.store import (
    ArticleRecord,
    RunCounts,
    SaveOutcome,
    SiteSummary,
    Store,
    StoreError,
)

__all__ = ["ArticleRecord", "RunCounts", "SaveOutcome", "SiteSummary", "Store", "StoreError"]
