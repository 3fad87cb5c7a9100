"""The newscrawl command line: one module per command in crawler/commands/."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from crawler.commands.common import CommandError
from crawler.fetch import FetchError
from crawler.recordings import RecordingError
from crawler.sites import SitesFileError
from storage import StoreError

COMMANDS = ["crawl", "record", "sites", "stats", "export", "search", "show", "re-extract", "browse", "schedule", "db",
            "extract", "check", "discover"]
USAGE_ERROR = 2
UNAVAILABLE = 1  # a page that could not be fetched: not the user's mistake


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, StoreError, RecordingError, SitesFileError) as exc:
        print(f"newscrawl: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except FetchError as exc:
        print(f"newscrawl: {exc}", file=sys.stderr)
        return UNAVAILABLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`newscrawl export | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscrawl", description="Collect news from institutional sites.")
    parser.set_defaults(run=lambda _args: parser.print_help() or 0)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        command = importlib.import_module(f"crawler.commands.{name.replace('-', '_')}")  # a module name holds no hyphen
        sub = subparsers.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
