"""newscrawl's Scrapy wiring: settings, items, extraction, pipelines, replay, CLI."""

__version__ = "0.1.0"
