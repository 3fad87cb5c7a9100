"""The newscrawl command line: one module per command in crawler/commands/."""

from __future__ import annotations

import signal

# A Ctrl-C while the modules below load (a second or two: Scrapy, SQLAlchemy) ends the process as
# the signal does, quietly, instead of with a traceback of whatever was being imported.
_ON_CTRL_C = signal.getsignal(signal.SIGINT)
if _ON_CTRL_C is signal.default_int_handler:
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import argparse  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from importlib.metadata import version  # noqa: E402

from crawler.commands.common import CommandError, add_logging_options, check_log_file, log_level  # noqa: E402
from crawler.fetch import FetchError  # noqa: E402
from crawler.recordings import RecordingError  # noqa: E402
from crawler.sites import SitesFileError  # noqa: E402
from storage import StoreError  # noqa: E402

signal.signal(signal.SIGINT, _ON_CTRL_C)

COMMANDS = ["crawl", "record", "sites", "stats", "export", "search", "show", "re-extract", "browse", "schedule", "db",
            "extract", "check", "discover"]
USAGE_ERROR = 2
UNAVAILABLE = 1  # a page that could not be fetched: not the user's mistake
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # Scrapy's, as crawls log


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)  # imports every command's module
    except KeyboardInterrupt:
        return 130
    try:
        if hasattr(args, "log_file"):  # a command was named
            check_log_file(args.log_file)
            if not args.scrapy_logging:
                logging.basicConfig(level=log_level(args), filename=args.log_file, format=LOG_FORMAT)
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
