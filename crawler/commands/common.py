"""What several commands share: errors, common options, opening the store, tables."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

from storage import DEFAULT_URL, Store

# Scrapy (crawler.runner, the spider loader) is imported by the functions that need it:
# reading commands start without it.


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
    from crawler import runner

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
    from scrapy.spiderloader import get_spider_loader

    return get_spider_loader(settings).load(name)


def existing_store(db: str | None) -> Store:
    """The store for a reading command: never created by reading it."""
    return Store(store_url(db), create=False)


def store_url(db: str | None) -> str:
    """The store a command works on: --db, else $NEWSCRAWL_DB, else the default
    (what the project settings' NEWSCRAWL_DB says, read without loading Scrapy)."""
    return db or os.environ.get("NEWSCRAWL_DB") or DEFAULT_URL


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
