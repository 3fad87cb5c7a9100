"""What several commands share: errors, common options, opening the store, tables."""

from __future__ import annotations

import json
import sys

from scrapy.spiderloader import get_spider_loader

from crawler import runner
from storage import Store


class CommandError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


def add_db_option(parser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="SQLAlchemy database URL (default: $NEWSCRAWL_DB or sqlite:///data/articles.db)")


def add_settings_option(parser) -> None:
    parser.add_argument("-s", "--set", metavar="NAME=VALUE", action="append", default=[],
                        help="override a Scrapy setting (repeatable), e.g. -s DOWNLOAD_DELAY=5")


def add_json_option(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


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


def spider_class(name: str, settings):
    return get_spider_loader(settings).load(name)


def existing_store(db: str | None) -> Store:
    """The store for a reading command: never created by reading it."""
    return Store(runner.project_settings(db)["NEWSCRAWL_DB"], create=False)


def print_table(rows: list[tuple]) -> None:
    """Aligned columns: the first left-aligned, the rest right-aligned."""
    rows = [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())


def print_json(value) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
