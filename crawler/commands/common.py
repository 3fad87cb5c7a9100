"""What several commands share: errors, common options, opening the store, tables."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

from scrapy.spiderloader import get_spider_loader

from crawler import runner
from storage import Store


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


def check_log_file(path: str | None) -> None:
    """A log file that cannot be written is bad input, said before the command starts."""
    if path is None:
        return
    try:
        open(path, "a", encoding="utf-8").close()
    except OSError as exc:
        raise CommandError(f"cannot write the log file {path}: {exc.strerror}") from None


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


def setting_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise CommandError(f"-s takes NAME=VALUE, not {pair!r}")
        overrides[name] = value
    return overrides


def known_sites(requested: list[str], settings) -> list[str]:
    """The requested spider names, checked; all of them when none is requested."""
    known = runner.site_names(settings)
    unknown = [site for site in requested if site not in known]
    if unknown:
        raise CommandError(f"unknown site {unknown[0]!r}; known sites: {', '.join(known)}")
    return requested or known


def check_stored_sites(store: Store, requested: list[str]) -> None:
    """Reading commands filter by site: a site the store has never seen is a typo, not an empty result."""
    stored = store.sites()
    unknown = [site for site in requested if site not in stored]
    if unknown:
        raise CommandError(f"no site {unknown[0]!r} in the store; it has: {', '.join(stored) or 'none'}")


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD date given on the command line."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} takes a date like 2024-05-31, not {value!r}") from None


def spider_class(name: str, settings):
    return get_spider_loader(settings).load(name)


def existing_store(db: str | None) -> Store:
    """The store for a reading command: never created by reading it."""
    return Store(runner.project_settings(db)["NEWSCRAWL_DB"], create=False)


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
