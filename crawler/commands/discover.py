"""newscrawl discover URL [--name NAME]"""

from __future__ import annotations

import json
import re
import sys
from urllib.parse import urljoin, urlsplit

from scrapy.http import TextResponse

from crawler import runner
from crawler.commands.common import CommandError, add_settings_option, setting_overrides
from crawler.discover import NewsList, feed_links, list_candidates, read_list
from crawler.fetch import FetchError, PoliteFetcher
from crawler.urls import is_http_url
from spiders.sources import feed_entries

HELP = "read a site's home page and robots.txt; print its feeds, sitemaps and news lists as a [sites.NAME] entry"


def add_arguments(parser) -> None:
    parser.add_argument("url", metavar="URL", help="the site's home page")
    parser.add_argument("--name", metavar="NAME", help="the entry's site name (default: the host, dots as dashes)")
    add_settings_option(parser)


def run(args) -> int:
    if not is_http_url(args.url):
        raise CommandError(f"discover takes the http(s) URL of a home page, not {args.url!r}")
    name = args.name or re.sub(r"^www-", "", urlsplit(args.url).hostname.replace(".", "-"))
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", name):
        raise CommandError(f"a site name is letters, digits, '_' and '-', not {name!r}")
    fetcher = PoliteFetcher(runner.project_settings(overrides=setting_overrides(args.set)))
    home = fetcher.fetch(args.url)  # FetchError: exit 1
    if home.status != 200:
        raise FetchError(f"{args.url} answered {home.status}")
    if not isinstance(home, TextResponse):
        raise FetchError(f"{args.url} is no HTML page")
    notes = [f"newscrawl discover {args.url}"]

    sitemaps = robots_sitemaps(home.url, fetcher, notes)
    home_list = read_list(home)
    notes.append(list_note(home_list))
    lists = [home_list] + [news_list for news_list in (read_list_at(url, fetcher, notes)
                                                       for url in list_candidates(home)[1:]) if news_list]
    best = max((news_list for news_list in lists if news_list.article_pattern), key=lambda n: len(n.articles),
               default=None)
    feeds = [url for url in feed_links(home) if readable_feed(url, fetcher, best, notes)]
    for url in sitemaps:
        notes.append(f"sitemap {url} (from robots.txt)")

    print("\n".join(f"# {note}" for note in notes))
    if not (best or feeds or sitemaps):
        print(f"newscrawl: found no feed, sitemap or news list on {args.url}", file=sys.stderr)
        return 1
    print(site_entry(name, best, feeds, sitemaps))
    return 0


def read_list_at(url: str, fetcher: PoliteFetcher, notes: list[str]) -> NewsList | None:
    try:
        response = fetcher.fetch(url)
    except FetchError as exc:
        notes.append(f"list {url}: {exc}")
        return None
    if response.status != 200 or not isinstance(response, TextResponse):
        notes.append(f"list {url}: {response.status}")
        return None
    news_list = read_list(response)
    notes.append(list_note(news_list))
    return news_list


def list_note(news_list: NewsList) -> str:
    return (f"list {news_list.url}: {len(news_list.articles)} article links"
            + (f" like {news_list.article_pattern}" if news_list.article_pattern else "")
            + (f", pager like {news_list.page_pattern}" if news_list.page_pattern else ""))


def robots_sitemaps(url: str, fetcher: PoliteFetcher, notes: list[str]) -> list[str]:
    """The sitemaps the robots.txt of url's host names (read once, by the fetcher)."""
    sitemaps = [urljoin(url, sitemap) for sitemap in fetcher.robots_txt_of(url).sitemaps]
    notes.append(f"robots.txt: {len(sitemaps)} sitemap(s)")
    return sitemaps


def readable_feed(url: str, fetcher: PoliteFetcher, best: NewsList | None, notes: list[str]) -> bool:
    try:
        response = fetcher.fetch(url)
    except FetchError as exc:
        notes.append(f"feed {url}: {exc}")
        return False
    entries = feed_entries(response.body) if response.status == 200 else None
    if entries is None:
        notes.append(f"feed {url}: {response.status}, not a feed")
        return False
    matching = f", {sum(bool(re.search(best.article_pattern, link)) for link, _ in entries)} match the article " \
               "pattern" if best else ""
    notes.append(f"feed {url}: {len(entries)} entries{matching}")
    return True


def site_entry(name: str, news_list: NewsList | None, feeds: list[str], sitemaps: list[str]) -> str:
    """A [sites.NAME] entry for sites.toml (patterns as TOML literal strings: backslashes kept)."""
    lines = [f"[sites.{name}]"]
    if news_list:
        lines += [f"start_url = {_toml(news_list.url)}", f"article_pattern = {_toml(news_list.article_pattern)}"]
        if news_list.page_pattern:
            lines.append(f"page_pattern = {_toml(news_list.page_pattern)}")
    if feeds:
        lines.append(f"feed_urls = [{', '.join(map(_toml, feeds))}]")
    if sitemaps:
        lines.append(f"sitemap_urls = [{', '.join(map(_toml, sitemaps))}]")
    return "\n".join(lines)


def _toml(text: str) -> str:
    """A TOML string: literal (backslashes kept as they are) unless it holds a quote."""
    return f"'{text}'" if "'" not in text and "\n" not in text else json.dumps(text, ensure_ascii=False)
