"""The article store: SQLAlchemy models, the Store API and its migrations.

Nothing here knows about Scrapy; the crawler's pipelines and the CLI's read-only
commands both talk to the store through :class:`storage.store.Store`.
"""

from storage.store import (
    DEFAULT_URL,
    EXTRACTED_FIELDS,
    ArticleRecord,
    FailedPageRecord,
    RunCounts,
    Saved,
    SaveOutcome,
    SiteSummary,
    Store,
    StoreError,
    database_file,
)

__all__ = ["DEFAULT_URL", "EXTRACTED_FIELDS", "ArticleRecord", "FailedPageRecord", "RunCounts", "Saved", "SaveOutcome", "SiteSummary", "Store", "StoreError",
           "database_file"]
