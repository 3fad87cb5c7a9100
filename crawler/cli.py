"""The newscrawl command line: crawl, record, sites, stats, export, db."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

from scrapy.spiderloader import get_spider_loader

from crawler import runner
from crawler.recordings import RecordingError, load_recordings
from storage import Store, StoreError
from storage.migrations import upgrade

USAGE_ERROR = 2
EXPORT_FIELDS = ["url", "site", "title", "published", "author", "source", "language",
                 "text", "content_hash", "first_seen", "last_seen"]


class CommandError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args) or 0
    except (CommandError, StoreError, RecordingError) as exc:
        print(f"newscrawl: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`newscrawl export | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscrawl", description=__doc__.splitlines()[0])
    parser.set_defaults(command=lambda _args: parser.print_help())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name, function, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(command=function)
        return sub

    def with_db(sub):
        sub.add_argument("--db", metavar="URL",
                         help="SQLAlchemy database URL (default: $NEWSCRAWL_DB or sqlite:///data/articles.db)")

    def with_settings(sub):
        sub.add_argument("-s", "--set", metavar="NAME=VALUE", action="append", default=[],
                         help="override a Scrapy setting (repeatable), e.g. -s DOWNLOAD_DELAY=5")

    crawl = command("crawl", cmd_crawl, "crawl sites (all when none is named) into the store")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="spider names, see `newscrawl sites`")
    crawl.add_argument("--replay", nargs="?", const=str(runner.FIXTURES), metavar="DIR",
                       help="serve responses from recordings instead of the network "
                            "(default DIR: the bundled fixtures)")
    with_db(crawl)
    with_settings(crawl)

    record = command("record", cmd_record, "crawl one site live and save every response as a recording")
    record.add_argument("site", metavar="SITE")
    record.add_argument("--out", metavar="DIR", help="recording folder (default: recordings/SITE)")
    with_settings(record)

    command("sites", cmd_sites, "list the sites (spiders) and their start URLs")

    stats = command("stats", cmd_stats, "articles per site and each site's last crawl")
    with_db(stats)

    export = command("export", cmd_export, "write the stored articles as JSON Lines or CSV")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output)")
    with_db(export)

    db = command("db", lambda _args: db.print_help(), "manage the store's schema")
    db_commands = db.add_subparsers(title="commands", metavar="COMMAND")
    db_upgrade = db_commands.add_parser("upgrade", help="bring an older store up to the current schema")
    db_upgrade.set_defaults(command=cmd_db_upgrade)
    with_db(db_upgrade)
    return parser


# -- commands ----------------------------------------------------------------


def cmd_crawl(args) -> int:
    settings = runner.project_settings(args.db, _overrides(args.set))
    sites = _known_sites(args.sites, settings)
    if args.replay:
        folder = Path(args.replay)
        load_recordings(folder)  # fails early, in one line, on a missing folder or a bad manifest
        runner.use_replay(settings, folder)
    Store(settings["NEWSCRAWL_DB"]).close()  # an unusable store is reported before crawling
    results = runner.run_crawls(sites, settings)
    _print_summary(results, Store(settings["NEWSCRAWL_DB"], create=False))
    return 0 if all(result.outcome == "finished" for result in results) else 1


def cmd_record(args) -> int:
    settings = runner.project_settings(overrides=_overrides(args.set))
    [site] = _known_sites([args.site], settings)
    folder = Path(args.out or f"recordings/{site}")
    runner.use_recording(settings, folder)
    [result] = runner.run_crawls([site], settings)
    print(f"recorded {result.counts.pages} responses of {site} into {folder} "
          f"({result.counts.errors} errors, {result.outcome})")
    return 0 if result.outcome == "finished" else 1


def cmd_sites(args) -> int:
    settings = runner.project_settings()
    loader = get_spider_loader(settings)
    for name in runner.site_names(settings):
        print(f"{name:<10} {' '.join(loader.load(name).start_urls)}")
    return 0


def cmd_stats(args) -> int:
    store = _existing_store(args.db)
    rows = [("site", "articles", "latest", "last run", "outcome", "pages", "new", "updated", "errors")]
    for summary in store.site_summaries():
        run = summary.last_run
        rows.append((
            summary.site, str(summary.articles), str(summary.latest_published or "-"),
            run.started_at.strftime("%Y-%m-%d %H:%M") if run else "-",
            run.status if run else "-",
            *(str(n) for n in ((run.counts.pages, run.counts.articles_new, run.counts.articles_updated,
                                run.counts.errors) if run else ("-",) * 4)),
        ))
    _print_table(rows)
    return 0


def cmd_export(args) -> int:
    store = _existing_store(args.db)
    try:
        output = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    with output if args.output else _nullcontext(output):
        if args.format == "jsonl":
            for article in store.articles():
                output.write(json.dumps(article, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(output, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            writer.writerows(store.articles())
    return 0


def cmd_db_upgrade(args) -> int:
    settings = runner.project_settings(args.db)
    store_url = settings["NEWSCRAWL_DB"]
    try:
        Store(store_url).close()
        print(f"{store_url} is up to date")
    except StoreError as exc:
        if "older schema" not in str(exc):
            raise
        from storage.store import _create_engine
        engine = _create_engine(store_url)
        upgrade(engine)
        engine.dispose()
        print(f"upgraded {store_url}")
    return 0


# -- helpers -----------------------------------------------------------------


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise CommandError(f"-s takes NAME=VALUE, not {pair!r}")
        overrides[name] = value
    return overrides


def _known_sites(requested: list[str], settings) -> list[str]:
    known = runner.site_names(settings)
    unknown = [site for site in requested if site not in known]
    if unknown:
        raise CommandError(f"unknown site {unknown[0]!r}; known sites: {', '.join(known)}")
    return requested or known


def _existing_store(db: str | None) -> Store:
    return Store(runner.project_settings(db)["NEWSCRAWL_DB"], create=False)


def _print_summary(results, store: Store) -> None:
    stored = {summary.site: summary.articles for summary in store.site_summaries()}
    rows = [("site", "outcome", "pages", "new", "updated", "unchanged", "duplicates", "no body", "errors", "stored")]
    for result in results:
        c = result.counts
        rows.append((result.site, result.outcome, *map(str, (
            c.pages, c.articles_new, c.articles_updated, c.articles_unchanged,
            c.duplicates, c.empty_pages, c.errors, stored.get(result.site, 0)))))
    _print_table(rows)


def _print_table(rows) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())


class _nullcontext:
    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
