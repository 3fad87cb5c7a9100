"""The newscrawl command line: one module per command in crawler/commands/."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from importlib.metadata import version

from crawler.commands.common import CommandError, add_logging_options, check_log_file, log_level
from crawler.recordings import RecordingError
from crawler.sites import SitesFileError
from storage import StoreError

COMMANDS = ["crawl", "record", "sites", "stats", "export", "search", "show", "re-extract", "browse", "schedule", "db"]
USAGE_ERROR = 2
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # Scrapy's, as crawls log


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if hasattr(args, "log_file"):  # a command was named
            check_log_file(args.log_file)
            if not args.scrapy_logging:
                logging.basicConfig(level=log_level(args), filename=args.log_file, format=LOG_FORMAT)
        return args.run(args)
    except (CommandError, StoreError, RecordingError, SitesFileError) as exc:
        print(f"newscrawl: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`newscrawl export | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscrawl", description="Collect news from institutional sites.")
    parser.add_argument("--version", action="version", version=f"newscrawl {version('newscrawl')}")
    parser.set_defaults(run=lambda _args: parser.print_help() or 0)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        command = importlib.import_module(f"crawler.commands.{name.replace('-', '_')}")  # a module name holds no hyphen
        sub = subparsers.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        add_logging_options(sub)
        # crawls log through Scrapy, which -v/-q/--log-file reach as settings (scrapy_log_settings)
        sub.set_defaults(run=command.run, scrapy_logging=getattr(command, "LOGS_THROUGH_SCRAPY", False))
    return parser


if __name__ == "__main__":
    sys.exit(main())
