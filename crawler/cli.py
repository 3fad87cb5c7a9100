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

from crawler import __version__  # noqa: E402
from crawler.literals import NOT_LITERAL, module_literals  # noqa: E402

signal.signal(signal.SIGINT, _ON_CTRL_C)

COMMANDS = ["crawl", "record", "sites", "stats", "export", "search", "show", "re-extract", "browse", "schedule", "db",
            "extract", "check", "discover"]
USAGE_ERROR = 2
UNAVAILABLE = 1  # a page that could not be fetched: not the user's mistake
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # Scrapy's, as crawls log
# The errors that are one line on stderr, by module, with their exit code. Looked up among the
# modules the command imported (an error class whose module was not imported cannot have been
# raised), so that the CLI itself imports neither Scrapy nor the store.
_ONE_LINE_ERRORS = {("crawler.commands.common", "CommandError"): USAGE_ERROR, ("storage.reader", "StoreError"): USAGE_ERROR,
                    ("crawler.recordings", "RecordingError"): USAGE_ERROR, ("crawler.sites", "SitesFileError"): USAGE_ERROR,
                    ("crawler.fetch", "FetchError"): UNAVAILABLE}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser(argv).parse_args(argv)  # imports the given command's module
    except KeyboardInterrupt:
        return 130
    try:
        if hasattr(args, "log_file"):  # a command was named, and its module (with common's) imported
            from crawler.commands.common import check_log_file, log_level

            check_log_file(args.log_file, getattr(args, "db", None))
            if not args.scrapy_logging:
                logging.basicConfig(level=log_level(args), filename=args.log_file, format=LOG_FORMAT)
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`newscrawl export | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        code = _one_line_error(exc)
        if code is None:
            raise
        print(f"newscrawl: {exc}", file=sys.stderr)
        return code


def _one_line_error(exc: Exception) -> int | None:
    for (module, name), code in _ONE_LINE_ERRORS.items():
        if module in sys.modules and isinstance(exc, getattr(sys.modules[module], name)):
            return code
    return None


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line on stderr like any other bad input's
    (argparse prints the whole usage before them)."""

    def error(self, message: str, prog: str | None = None):
        self.exit(USAGE_ERROR, f"newscrawl: {message} (see `{prog or self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):
        """argparse's, but arguments the command does not take name its --help, not the list of commands'."""
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}", getattr(parsed, "command_prog", None))
        return parsed


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of every command; only the module of the command given is imported (a command
    starts without importing what the others need). The others' help lines are read from their
    source when the list of commands may be shown: no command given, an unknown one, or -h before it."""
    parser = _Parser(prog="newscrawl", description="Collect news from institutional sites.")
    parser.add_argument("--version", action="version", version=f"newscrawl {__version__}")
    parser.set_defaults(run=lambda _args: parser.print_help() or 0)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    given = next((arg for arg in argv if not arg.startswith("-")), None)
    lists_commands = given not in COMMANDS or any(arg in ("-h", "--help") for arg in argv[:argv.index(given)])
    for name in COMMANDS:
        module = f"crawler.commands.{name.replace('-', '_')}"  # a module name holds no hyphen
        if name != given:
            summary = _help_of(module) if lists_commands else None  # reading each takes 2 ms
            subparsers.add_parser(name, help=summary, description=summary)
            continue
        command = importlib.import_module(module)
        from crawler.commands.common import add_logging_options

        sub = subparsers.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        add_logging_options(sub)
        # crawls log through Scrapy, which -v/-q/--log-file reach as settings (scrapy_log_settings)
        sub.set_defaults(run=command.run, scrapy_logging=getattr(command, "LOGS_THROUGH_SCRAPY", False),
                         command_prog=sub.prog)
    return parser


def _help_of(module: str) -> str:
    """The HELP line of a command module, read from its source without running it (unless it is
    not a literal)."""
    help_line = module_literals(module).get("HELP", NOT_LITERAL)
    return importlib.import_module(module).HELP if help_line is NOT_LITERAL else help_line


if __name__ == "__main__":
    sys.exit(main())
