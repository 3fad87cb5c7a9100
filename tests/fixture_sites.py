"""Reading the recorded fixture sites in tests (format: tests/fixtures/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scrapy.http import Headers, HtmlResponse

from crawler.extract import Article, SiteRules, extract
from crawler.recordings import RecordedResponse, load_manifest
from crawler.runner import FIXTURES
from spiders.base import NewsSpider

# Sites crawled without a spider module (generic extraction, no site rules), one folder each.
GENERIC_FIXTURES = FIXTURES / "generic"


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

    def extract(self, rules: SiteRules | None = None) -> Article:
        """The page's article, extracted with its spider's rules unless others are given."""
        if rules is None:
            rules = SiteRules() if self.site in generic_site_names() else spider_class(self.site).extraction_rules
        return extract(self.html(), self.recorded.url, rules)


def write_recording(folder: Path, site: str, pages: dict[str, tuple[str, str, str]]) -> None:
    """A recording in folder (manifest.json, pages/): pages maps each URL to (file name, body,
    content type), answered 200 in UTF-8."""
    (folder / "pages").mkdir(parents=True)
    responses = []
    for url, (name, body, kind) in pages.items():
        (folder / "pages" / name).write_text(body, encoding="utf-8")
        responses.append({"url": url, "status": 200, "headers": {"Content-Type": f"{kind}; charset=utf-8"},
                          "body": f"pages/{name}"})
    (folder / "manifest.json").write_text(json.dumps({"site": site, "responses": responses}), encoding="utf-8")


def site_names() -> list[str]:
    """The sites with a spider module."""
    return sorted(path.parent.name for path in FIXTURES.glob("*/manifest.json"))


def generic_site_names() -> list[str]:
    return sorted(path.parent.name for path in GENERIC_FIXTURES.glob("*/manifest.json"))


def site_folder(site: str) -> Path:
    return GENERIC_FIXTURES / site if site in generic_site_names() else FIXTURES / site


def quality(site: str) -> dict:
    return json.loads((site_folder(site) / "quality.json").read_text(encoding="utf-8"))


def article_pages(*sites: str) -> list[ArticlePage]:
    """Every recorded article page (those quality.json lists as articles) of the sites,
    or of every site with a spider module."""
    pages = []
    for name in sites or site_names():
        articles = quality(name)["articles"]
        _, responses = load_manifest(site_folder(name) / "manifest.json")
        pages += [ArticlePage(name, response) for response in responses if response.url in articles]
    return pages


@dataclass(frozen=True)
class GateCounts:
    """The quality gate's strings over some pages: wanted ones found and missed, unwanted ones found."""

    found: int
    missed: int
    leaked: int

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.leaked)

    @property
    def recall(self) -> float:
        return self.found / (self.found + self.missed)

    def __str__(self) -> str:
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f} ({self.found} wanted found, "
                f"{self.missed} missed, {self.leaked} unwanted found)")


def _folded(text: str) -> str:
    return " ".join(text.split())


def quality_gate(sites: list[str], rules: SiteRules | None = None) -> GateCounts:
    """Every article page of the sites against its quality.json strings, extracted with
    its spider's rules unless others are given."""
    found = missed = leaked = 0
    for site in sites:
        gate = quality(site)
        for page in article_pages(site):
            text = _folded(page.extract(rules).text)
            expected = gate["articles"][page.recorded.url]
            hits = [_folded(wanted) in text for wanted in expected["must_include"]]
            found, missed = found + hits.count(True), missed + hits.count(False)
            leaked += sum(_folded(unwanted) in text for unwanted in expected["must_exclude"] + gate["boilerplate"])
    return GateCounts(found, missed, leaked)


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
