"""newscrawl db upgrade | newscrawl db copy (--to URL | --from URL)"""

import sys

from crawler import runner
from crawler.commands.common import CommandError, add_db_option, print_table
from storage import Store
from storage.copy import copy_store
from storage.reader import shown_url

HELP = "manage the store's schema, copy the store to another database"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="action", required=True)
    upgrade = actions.add_parser("upgrade", help="bring an older store up to the current schema",
                                 description="bring an older store up to the current schema")
    add_db_option(upgrade)
    copy = actions.add_parser(
        "copy", help="copy the whole store (articles, runs, history) to or from another database",
        description="copy the whole store, crawl runs and history included, between SQLite and PostgreSQL; "
                    "an interrupted copy goes on where it stopped when run again; both stores are compared "
                    "table by table (rows and hashes) at the end")
    direction = copy.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to", metavar="URL", help="copy the store (--db) into the database at URL")
    direction.add_argument("--from", dest="source", metavar="URL", help="copy the store at URL into the store (--db)")
    add_db_option(copy)


def run(args) -> int:
    url = runner.project_settings(args.db)["NEWSCRAWL_DB"]
    if args.action == "copy":
        return copy(args.source or url, args.to or url)
    upgraded = Store.upgrade(url)
    print(f"upgraded {shown_url(url)}" if upgraded else f"{shown_url(url)} is up to date")
    return 0


def copy(source: str, target: str) -> int:
    if source == target:
        raise CommandError("copy needs another database than the store itself: give --to URL or --from URL")

    def progress(table: str, rows: int) -> None:
        if sys.stderr.isatty():
            print(f"\rcopying {table}: {rows} rows", end="", file=sys.stderr, flush=True)

    try:
        checks = copy_store(source, target, progress)
    except KeyboardInterrupt:
        print("\nnewscrawl: copy interrupted; run the same command again to go on where it stopped",
              file=sys.stderr)
        return 130
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print_table([("table", "rows", "copied", "sha256", "same")]
                + [(check.table, check.source_rows, check.target_rows, check.source_hash[:16],
                    "yes" if check.equal else "NO") for check in checks])
    different = [check.table for check in checks if not check.equal]
    if different:
        print(f"newscrawl: the copy differs from {shown_url(source)} in {', '.join(different)} "
              "(was it written to while copying? copy it again into an empty database)", file=sys.stderr)
        return 1
    print(f"copied {shown_url(source)} to {shown_url(target)}")
    return 0
