"""The one item newscrawl's spiders yield."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class ArticleItem:
    """An article page: the spider fills url, site and html; ExtractPipeline the rest."""

    url: str
    site: str
    html: str = field(repr=False)  # kept out of log lines
    title: str | None = None
    published: date | None = None
    author: str | None = None
    source: str | None = None
    language: str | None = None
    text: str | None = None
    # the other URLs that led to this page: redirect sources, the fetched URL when the page
    # names another as canonical (crawler/aliases.py)
    aliases: list[str] = field(default_factory=list)
    # the HTML of an article's further pages, in order, when it is split over pages (html is page 1)
    more_pages: list[str] = field(default_factory=list, repr=False)
    # the near-duplicate index's (band, bucket) keys of the text, computed with the extraction
    near_duplicate_keys: tuple[tuple[int, str], ...] | None = field(default=None, repr=False)
