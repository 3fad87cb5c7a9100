"""Reading the recorded fixture sites in tests (format: tests/fixtures/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scrapy.http import Headers, HtmlResponse

from crawler.extract import Article, extract
from crawler.recordings import RecordedResponse, load_manifest
from crawler.runner import FIXTURES
from spiders.base import NewsSpider


@dataclass(frozen=True)
class ArticlePage:
    site: str
    recorded: RecordedResponse

    @property
    def id(self) -> str:
        return f"{self.site}/{self.recorded.body_path.name}"

    @property
    def golden_path(self) -> Path:
        return self.recorded.body_path.with_suffix(".json")

    def html(self) -> str:
        """The page decoded exactly as a crawl decodes it (headers, meta charset, BOM)."""
        return HtmlResponse(self.recorded.url, body=self.recorded.body_path.read_bytes(),
                            headers=Headers(self.recorded.headers)).text

    def extract(self) -> Article:
        return extract(self.html(), self.recorded.url, spider_class(self.site).extraction_rules)


def site_names() -> list[str]:
    return sorted(path.parent.name for path in FIXTURES.glob("*/manifest.json"))


def quality(site: str) -> dict:
    return json.loads((FIXTURES / site / "quality.json").read_text(encoding="utf-8"))


def article_pages(site: str | None = None) -> list[ArticlePage]:
    """Every recorded article page (those quality.json lists as articles)."""
    pages = []
    for name in [site] if site else site_names():
        articles = quality(name)["articles"]
        _, responses = load_manifest(FIXTURES / name / "manifest.json")
        pages += [ArticlePage(name, response) for response in responses if response.url in articles]
    return pages


def spider_class(site: str) -> type[NewsSpider]:
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    return SpiderLoader.from_settings(get_project_settings()).load(site)


def as_golden(article: Article, url: str) -> dict:
    """The golden form of an article: one list item per paragraph, for line-by-line review."""
    return {
        "url": url,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "author": article.author,
        "source": article.source,
        "language": article.language,
        "paragraphs": article.text.split("\n"),
    }
