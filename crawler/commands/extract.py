"""newscrawl extract URL|FILE [--url URL] [--site NAME] [--json]"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from crawler import runner
from crawler.commands.common import (CommandError, add_settings_option, add_sites_file_option, known_sites,
                                     print_json, print_table, setting_overrides, spider_class, use_sites_file)
from crawler.extract import Article, SiteRules, extract
from crawler.fetch import PoliteFetcher, file_response
from crawler.middlewares import refusal_of_page
from crawler.urls import is_http_url

HELP = "extract the article of one page (a URL, fetched politely, or a saved file) and print it"


def add_arguments(parser) -> None:
    parser.add_argument("page", metavar="URL|FILE", help="an http(s) URL, or an HTML file")
    parser.add_argument("--url", metavar="URL", help="the URL a FILE was saved from (default: its file:// URL)")
    parser.add_argument("--site", metavar="NAME", help="extract with this site's rules (see `newscrawl sites`)")
    add_settings_option(parser)
    add_sites_file_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args) -> int:
    settings = runner.project_settings(overrides=setting_overrides(args.set))
    use_sites_file(settings, args.sites_file)
    rules = site_rules(args.site, settings)
    response = page_response(args.page, args.url, PoliteFetcher(settings))
    if response.status != 200:
        print(f"newscrawl: {response.url} answered {response.status}", file=sys.stderr)
        return 1
    refusal = refusal_of_page(response)
    if refusal:  # as a crawl refuses it: there is no text to read
        print(f"newscrawl: {response.url}: {refusal}", file=sys.stderr)
        return 1
    article = extract(response.text, response.url, rules)
    print_article(response.url, article, as_json=args.json)
    if not article.text or not article.title:
        print(f"newscrawl: no article {'text' if not article.text else 'title'} found in {response.url}",
              file=sys.stderr)
        return 1
    return 0


def site_rules(site: str | None, settings) -> SiteRules:
    """The named site's extraction rules (the generic rules when no site is named)."""
    if site is None:
        return SiteRules()
    known_sites([site], settings)
    return getattr(spider_class(site, settings), "extraction_rules", SiteRules())


def page_response(page: str, url: str | None, fetcher: PoliteFetcher):
    """The page as a Scrapy response: fetched when it is an http(s) URL (FetchError when it
    cannot be), read when it is a file (CommandError when it cannot be)."""
    if page.lower().startswith(("http://", "https://")):
        if url:
            raise CommandError("--url goes with a FILE; a URL is fetched from where it says")
        if not is_http_url(page):
            raise CommandError(f"{page!r} is not an http(s) URL")
        return fetcher.fetch(page)
    if url and not is_http_url(url):
        raise CommandError(f"--url takes the http(s) URL the file was saved from, not {url!r}")
    try:
        return file_response(Path(page), url)
    except OSError as exc:
        raise CommandError(f"cannot read {page}: {exc.strerror or exc}") from None


def print_article(url: str, article: Article, as_json: bool = False) -> None:
    if as_json:
        print_json({"url": url, **asdict(article)})
        return
    print_table([("url", url), ("title", article.title or "-"), ("date", article.published or "-"),
                 ("author", article.author or "-"), ("source", article.source or "-"),
                 ("language", article.language or "-")], left=(0, 1))
    print()
    print(article.text)
