"""The article store: its tables, the Store API and its migrations.

Nothing here knows about Scrapy; the crawler's pipelines write through
:class:`storage.store.Store`, the CLI's reading commands read through
:class:`storage.reader.StoreReader`, which needs no ORM.

The names below are imported from their modules when first used (PEP 562), so that
``from storage import DEFAULT_URL`` does not import the write path's ORM.
"""

import importlib

_MODULE_OF = {
    **dict.fromkeys(["DEFAULT_URL", "RunCounts", "SiteSummary", "StoreError", "StoreReader", "database_file"],
                    "storage.reader"),
    **dict.fromkeys(["EXTRACTED_FIELDS", "ArticleRecord", "DamagedPages", "FailedPageRecord", "SaveOutcome", "Saved", "Store"],
                    "storage.store"),
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)
