"""What several commands share: errors, common options, opening the store, tables."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from storage.reader import StoreReader

# Scrapy (crawler.runner, the spider loader, the spiders) and the store (SQLAlchemy) are imported
# by the functions that need them: reading commands start without Scrapy, `sites` without either.


class CommandError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


def add_db_option(parser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="SQLAlchemy database URL (default: $NEWSCRAWL_DB or sqlite:///data/articles.db)")


def add_logging_options(parser) -> None:
    """-v/-q and --log-file, which every command takes (crawler/cli.py adds them)."""
    group = parser.add_argument_group("logging")
    loudness = group.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="count", default=0,
                          help="log more: -v informational messages, -vv debugging ones too")
    loudness.add_argument("-q", "--quiet", action="store_true", help="log errors only, and draw no progress line")
    group.add_argument("--log-file", metavar="PATH", help="append log messages to PATH instead of standard error")


def log_level(args, default: int = logging.WARNING) -> int:
    """The level -v/-q ask for: each -v one step below the command's default, -q errors only."""
    if args.quiet:
        return logging.ERROR
    return max(logging.DEBUG, default - 10 * args.verbose)


def check_log_file(path: str | None, db: str | None) -> None:
    """A log file that cannot be written, or is the store (of --db), is bad input, said before the
    command starts."""
    if path is None:
        return
    check_not_the_store(path, db, "--log-file")
    try:
        open(path, "a", encoding="utf-8").close()
    except OSError as exc:
        raise CommandError(f"cannot write the log file {path}: {exc.strerror}") from None


def check_not_the_store(path: str, db: str | None, option: str) -> None:
    """A file a command writes (export -o, --log-file, crawl --warc) must not be the SQLite store
    of --db (or the default) nor its write-ahead log: writing it would destroy what is stored."""
    from storage import database_file

    store = database_file(store_url(db))
    if store is None or not Path(path).exists():
        return
    for kept in (store, store.with_name(f"{store.name}-wal"), store.with_name(f"{store.name}-shm")):
        if kept.exists() and os.path.samefile(path, kept):
            raise CommandError(f"{option} {path} is the store {store_url(db)} (or its -wal, -shm file): "
                               "writing it would destroy the store; name another file")


def scrapy_log_settings(args) -> dict[str, str]:
    """The Scrapy settings (LOG_LEVEL, LOG_FILE) that log a crawl as -v/-q/--log-file ask."""
    settings = {"LOG_LEVEL": logging.getLevelName(log_level(args))}
    if args.log_file:
        settings["LOG_FILE"] = args.log_file
    return settings


def add_until_option(parser, what: str) -> None:
    parser.add_argument("--until", metavar="DATE", help=f"only {what} on or before DATE (YYYY-MM-DD)")


def date_range(args) -> tuple[date | None, date | None]:
    """--since and --until, checked: dates, in order."""
    since = parse_date(args.since, "--since") if args.since else None
    until = parse_date(args.until, "--until") if args.until else None
    if since and until and until < since:
        raise CommandError(f"--until {until} is before --since {since}")
    return since, until


def add_settings_option(parser) -> None:
    parser.add_argument("-s", "--set", metavar="NAME=VALUE", action="append", default=[],
                        help="override a Scrapy setting (repeatable), e.g. -s DOWNLOAD_DELAY=5")


def add_json_option(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_sites_file_option(parser) -> None:
    parser.add_argument("--sites-file", metavar="PATH",
                        help="TOML file of [sites.NAME] entries, sites crawled without a spider module "
                             "(default: sites.toml in the working directory, if there is one)")


def use_sites_file(settings, path: str | None) -> None:
    if path is None:
        return
    if not Path(path).is_file():
        raise CommandError(f"no sites file at {path}")
    settings.set("NEWSCRAWL_SITES_FILE", path, priority="cmdline")


def add_generic_site_options(parser) -> None:
    """The options describing `generic`, a site without a spider module (crawl, check)."""
    from crawler.sites import GENERIC

    generic = parser.add_argument_group(
        f"a site without a spider module, named `{GENERIC}` and stored under the host of its first URL")
    generic.add_argument("--start-url", metavar="URL", help="the first page of its news list")
    generic.add_argument("--article-pattern", metavar="REGEX", help="regex the URLs of its articles match")
    generic.add_argument("--page-pattern", metavar="REGEX", help="regex the URLs of its further list pages match")
    generic.add_argument("--allowed-domain", metavar="DOMAIN",
                         help="the domain it stays in (default: the start URL's host)")
    generic.add_argument("--feed", metavar="URL", action="append", default=[],
                         help="an RSS or Atom feed of its articles (repeatable); no --start-url needed")
    generic.add_argument("--sitemap", metavar="URL", action="append", default=[],
                         help="a sitemap, sitemap index, or robots.txt naming its sitemaps (repeatable); "
                              "every entry is an article unless --article-pattern is given")


def describes_generic_site(args) -> bool:
    return any(option is not None for option in (args.start_url, args.article_pattern, args.page_pattern,
                                                 args.allowed_domain)) or bool(args.feed or args.sitemap)


def generic_spider(args):
    """The spider class of the site the generic options describe, named after its first URL's host."""
    from crawler.sites import GENERIC
    from crawler.urls import is_http_url
    from spiders.generic import GenericSpider

    if not (args.start_url and args.article_pattern) and not (args.feed or args.sitemap):
        raise CommandError(f"{GENERIC} needs --start-url URL and --article-pattern REGEX, "
                           "or --feed URL or --sitemap URL")
    start_urls = [args.start_url] if args.start_url else []
    first = (start_urls + args.feed + args.sitemap)[0]
    name = urlsplit(first).hostname if is_http_url(first) else first  # not a URL: for_site says so
    try:
        return GenericSpider.for_site(name, start_urls,
                                      args.article_pattern or "", args.page_pattern or "",
                                      [args.allowed_domain] if args.allowed_domain else None,
                                      args.feed, args.sitemap)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def setting_overrides(pairs: list[str]) -> dict[str, str]:
    """-s NAME=VALUE pairs as settings, each value checked against the kind of the setting's default."""
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise CommandError(f"-s takes NAME=VALUE, not {pair!r}")
        overrides[name] = value
    if overrides:
        _check_kinds(overrides)
    return overrides


def _check_kinds(overrides: dict[str, str]) -> None:
    """A number or a True/False setting given something else is bad input, said before the crawl:
    Scrapy would raise on it as the crawl starts, or (a setting read only when a page fails) in
    the middle of it. Whole-number settings take any number: some are read as one (DOWNLOAD_DELAY
    is 0 by default, and 0.5 is meant)."""
    from scrapy.settings import BaseSettings

    from crawler import runner

    defaults = runner.project_settings()
    for name, value in overrides.items():
        default = defaults.get(name)
        try:
            if isinstance(default, bool):
                BaseSettings({name: value}).getbool(name)
            elif isinstance(default, (int, float)):
                float(value)
        except ValueError:
            kind = "True or False" if isinstance(default, bool) else "a number"
            raise CommandError(f"-s {name} takes {kind} (default: {default}), not {value!r}") from None


def known_sites(requested: list[str], settings) -> list[str]:
    """The requested spider names, checked, each once (a site named twice is not crawled twice at
    once); all of them when none is requested."""
    from crawler import runner

    known = runner.site_names(settings)
    unknown = [site for site in requested if site not in known]
    if unknown:
        raise CommandError(f"unknown site {unknown[0]!r}; known sites: {', '.join(known)}")
    return list(dict.fromkeys(requested)) or known


def check_stored_sites(store: StoreReader, requested: list[str]) -> None:
    """Reading commands filter by site: a site the store has never seen is a typo, not an empty result."""
    stored = store.sites()
    unknown = [site for site in requested if site not in stored]
    if unknown:
        raise CommandError(f"no site {unknown[0]!r} in the store; it has: {', '.join(stored) or 'none'}")


def check_stored_languages(store: StoreReader, requested: list[str]) -> None:
    """A language no stored article is in is a typo (cn for zh), not an empty result."""
    if not requested:
        return
    stored = store.languages()
    unknown = [language for language in requested if language not in stored]
    if unknown:
        raise CommandError(f"no article in language {unknown[0]!r} in the store; "
                           f"it has: {', '.join(stored) or 'none'}")


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD date given on the command line."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} takes a date like 2024-05-31, not {value!r}") from None


def spider_class(name: str, settings):
    from scrapy.spiderloader import get_spider_loader

    return get_spider_loader(settings).load(name)


def existing_store(db: str | None) -> StoreReader:
    """The store for a reading command: never created by reading it, read without the ORM."""
    from storage.reader import StoreReader

    return StoreReader(store_url(db))


def store_url(db: str | None) -> str:
    """The store a command works on: --db, else $NEWSCRAWL_DB, else the default
    (what the project settings' NEWSCRAWL_DB says, read without loading Scrapy)."""
    from storage.reader import DEFAULT_URL

    return db or os.environ.get("NEWSCRAWL_DB") or DEFAULT_URL


def table_key(header: str) -> str:
    """A table column's key in the --json output of the same command: its header, "_" for " "."""
    return header.replace(" ", "_")


def shown_time(moment: datetime | None, *, as_json: bool = False) -> str | None:
    """A time as shown by every command: in this machine's zone, which is named ("2026-11-30 17:22 CET");
    for --json in ISO 8601 with its offset. The store keeps naive UTC times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone()
    return local.isoformat(timespec="seconds") if as_json else local.strftime("%Y-%m-%d %H:%M %Z")


def report_outcomes(results) -> None:
    """On stderr, one line each: why a crawl failed or was interrupted, and its warnings. A store
    that could not be written is told once, however many crawls it stopped."""
    told = set()
    for result in results:
        outcome = result.outcome
        if result.store_error:
            if result.store_error not in told:
                print(f"newscrawl: {result.store_error}", file=sys.stderr)
                told.add(result.store_error)
            continue
        if outcome.status != "finished":
            print(f"newscrawl: {result.site} {outcome.status}: {outcome.error}", file=sys.stderr)
        for warning in outcome.warnings:
            print(f"newscrawl: {result.site} warning: {warning}", file=sys.stderr)


def crawl_exit_code(results) -> int:
    """0 when every crawl finished (warnings or not); 2 when the store could not be written;
    128 + the signal's number when a signal interrupted a crawl (130 for Ctrl-C); otherwise 1."""
    if any(result.store_error for result in results):
        return 2
    signals = [result.interrupted_by for result in results if result.outcome.status == "interrupted"]
    if signals:
        return 128 + signal.Signals[signals[0] or "SIGINT"].value
    return 0 if all(result.outcome.status == "finished" for result in results) else 1


def print_table(rows: list[tuple], left: tuple[int, ...] = (0,)) -> None:
    """Aligned columns: those numbered in `left` left-aligned (text), the rest right-aligned."""
    rows = [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) if i in left else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())


def print_json(value) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
