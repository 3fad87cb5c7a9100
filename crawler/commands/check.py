"""newscrawl check SITE | check generic --start-url URL --article-pattern REGEX [--page-pattern REGEX]
                                       [--feed URL] [--sitemap URL]"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawler import runner
from crawler.commands.common import (CommandError, add_generic_site_options, add_settings_option,
                                     add_sites_file_option, describes_generic_site, generic_spider, known_sites,
                                     setting_overrides, spider_class, use_sites_file)
from crawler.extract import SiteRules, extract
from crawler.fetch import FetchError, PoliteFetcher
from crawler.middlewares import not_found_title
from crawler.sites import GENERIC
from crawler.urls import on_site
from spiders.base import ARTICLE, LINKS, LIST, LIST_MECHANISM, PAGE
from spiders.sources import feed_entries, is_robots_txt, sitemap_body, sitemap_entries

HELP = "fetch a site's start pages, feeds and sitemaps, count what its patterns match, extract its first article"
EXAMPLES = 3  # links shown per pattern
SITEMAPS_FOLLOWED = 5  # at most, from robots.txt and sitemap indexes, until one lists URLs


def add_arguments(parser) -> None:
    parser.add_argument("site", metavar="SITE", help=f"a site name (see `newscrawl sites`), or {GENERIC} with the "
                                                     "options below")
    add_settings_option(parser)
    add_sites_file_option(parser)
    add_generic_site_options(parser)


@dataclass
class ListFinding:
    """What one list mechanism of the spider found on a list page: the article and list-page
    requests it would make. "links" (the patterns matched against the page's links) is one;
    a request whose meta names another mechanism (LIST_MECHANISM) is counted under that one."""

    mechanism: str
    articles: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)


def list_findings(spider, response) -> list[ListFinding]:
    """The spider's own reading of a list page (its parse()), by mechanism; "links" always comes first."""
    findings = {LINKS: ListFinding(LINKS)}
    for output in spider.parse(response) or ():
        if isinstance(output, Request):
            mechanism = output.meta.get(LIST_MECHANISM, LINKS)
            finding = findings.setdefault(mechanism, ListFinding(mechanism))
            kind = output.meta.get(PAGE)
            (finding.articles if kind == ARTICLE else finding.pages if kind == LIST else []).append(output.url)
    return list(findings.values())


class Report:
    """The check's lines as it goes, and the problems that make it fail."""

    def __init__(self):
        self.problems: list[str] = []

    def line(self, text: str = "") -> None:
        print(text, flush=True)

    def field(self, label: str, value, note: str = "") -> None:
        self.line(f"  {label:<16}{value:>5}{note}" if isinstance(value, int) else f"  {label:<16}{value}{note}")

    def matched(self, label: str, urls: list[str]) -> None:
        shown = ", ".join(urls[:EXAMPLES]) + (", …" if len(urls) > EXAMPLES else "")
        self.field(label, len(urls), f"   e.g. {shown}" if urls else "")

    def problem(self, text: str) -> None:
        self.problems.append(text)
        self.line(f"  ! {text}")


def run(args) -> int:
    settings = runner.project_settings(overrides=setting_overrides(args.set))
    use_sites_file(settings, args.sites_file)
    spidercls = site_spider(args, settings)
    spider = spidercls()
    fetcher = PoliteFetcher(settings)
    report = Report()
    first_articles = []
    read = [check_list_page(url, spider, fetcher, report) for url in spidercls.start_urls]
    findings = [finding for page in read if page is not None for finding in page]
    first_articles += [article for finding in findings for article in finding.articles]
    if spidercls.list_links and any(page is not None for page in read) \
            and not any(finding.pages for finding in findings):
        report.problem("the page pattern matches no link on any start page")
    for url in spidercls.feed_urls:
        first_articles += check_feed(url, spider, fetcher, report)
    for url in spidercls.sitemap_urls:
        first_articles += check_sitemap(url, spider, fetcher, report)
    first_articles = followed(first_articles, spidercls.allowed_domains, report)
    if first_articles:
        check_article(first_articles[0], getattr(spidercls, "extraction_rules", SiteRules()), fetcher, report)
    elif not report.problems:
        report.problem("no article found to extract")
    report.line()
    if report.problems:
        print("newscrawl: check failed: " + "; ".join(report.problems), file=sys.stderr)
        return 1
    report.line(f"{spidercls.name}: ok")
    return 0


def followed(articles: list[str], domains: list[str], report: Report) -> list[str]:
    """The article links the crawl would follow: those on its allowed domains (a problem when
    links were found but none is)."""
    on_the_site = [url for url in articles if on_site(url, domains)]
    if articles and not on_the_site:
        hosts = ", ".join(dict.fromkeys(urlsplit(url).hostname or url for url in articles))
        report.problem(f"every article link found is off the site, which the crawl does not follow: {hosts}")
    return on_the_site


def site_spider(args, settings):
    if args.site == GENERIC:
        return generic_spider(args)
    if describes_generic_site(args):
        raise CommandError(f"--start-url and the other pattern options describe the site {GENERIC!r}: name it")
    known_sites([args.site], settings)
    return spider_class(args.site, settings)


def fetched(url: str, what: str, fetcher: PoliteFetcher, report: Report):
    """The 200 answer for url, its status reported; None (and a problem) for anything else."""
    report.line(f"{what}  {url}")
    try:
        response = fetcher.fetch(url)
    except FetchError as exc:
        report.problem(str(exc))
        return None
    report.field("status", response.status, f"   (redirected to {response.url})" if response.url != url else "")
    if response.status != 200:
        report.problem(f"{url} answered {response.status}")
        return None
    return response


def check_list_page(url: str, spider, fetcher: PoliteFetcher, report: Report) -> list[ListFinding] | None:
    """What the spider finds on a start page, reported; None when it could not be read."""
    response = fetched(url, "start page", fetcher, report)
    if response is None:
        return None
    findings = list_findings(spider, response)
    for finding in findings:
        report.field("list mechanism", finding.mechanism)
        report.matched("article links", finding.articles)
        if spider.list_links or finding.pages:
            report.matched("list-page links", finding.pages)
    if not any(finding.articles for finding in findings):
        report.problem(f"the article pattern matches no link on {url}")
    return findings


def check_feed(url: str, spider, fetcher: PoliteFetcher, report: Report) -> list[str]:
    response = fetched(url, "feed", fetcher, report)
    entries = feed_entries(response.body) if response is not None else None
    if response is not None and entries is None:
        report.problem(f"{url} is not an RSS or Atom feed")
    return report_entries(response, [url for url, _ in entries], spider, report) if entries is not None else []


def check_sitemap(url: str, spider, fetcher: PoliteFetcher, report: Report) -> list[str]:
    """A sitemap, followed through robots.txt and sitemap indexes until one lists URLs."""
    waiting, followed = [url], 0
    while waiting and followed < SITEMAPS_FOLLOWED:
        url = waiting.pop(0)
        followed += 1
        response = fetched(url, "sitemap", fetcher, report)
        if response is None:
            return []
        if is_robots_txt(url):
            waiting += list(sitemap_urls_from_robots(response.body, base_url=response.url))
            report.matched("sitemaps named", waiting)
            continue
        body = sitemap_body(response, fetcher.max_size)
        kind, entries = sitemap_entries(body) if body else ("", [])
        if kind == "sitemapindex":
            report.matched("sitemaps listed", [loc for loc, _ in entries])
            waiting += [response.urljoin(loc) for loc, _ in entries]
        elif kind == "urlset":
            return report_entries(response, [loc for loc, _ in entries], spider, report)
        else:
            report.problem(f"{url} is not a sitemap")
            return []
    report.problem(f"no sitemap listing URLs within {SITEMAPS_FOLLOWED} sitemaps from {url}")
    return []


def report_entries(response, entries: list[str], spider, report: Report) -> list[str]:
    """Reports a feed's or sitemap's entries and those the spider takes for articles; returns those."""
    report.matched("entries", entries)
    articles = [request.url for entry in entries for request in spider.article_request(response, entry, None)]
    if spider.article_links:
        report.matched("article entries", articles)
    if not articles:
        report.problem(f"no article among the entries of {response.url}")
    return articles


def check_article(url: str, rules: SiteRules, fetcher: PoliteFetcher, report: Report) -> None:
    response = fetched(url, "first article", fetcher, report)
    if response is None:
        return
    if (title := not_found_title(response.text)) is not None:  # a soft 404, as the crawl refuses it
        report.problem(f"{url} is a page-not-found page (its title: {title!r}), which the crawl counts as failed")
        return
    article = extract(response.text, response.url, rules)
    for label, value in (("title", article.title), ("date", article.published), ("author", article.author),
                         ("source", article.source), ("language", article.language)):
        report.field(label, value or "-")
    report.field("text", len(article.text), f" characters: {article.text[:60]}…" if article.text else " characters")
    if not article.title or not article.text:
        report.problem(f"no article {'text' if not article.text else 'title'} extracted from {url}")
