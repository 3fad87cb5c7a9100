"""The newscrawl command line: one module per command in crawler/commands/."""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import os
import sys

COMMANDS = ["crawl", "record", "sites", "stats", "export", "search", "show", "re-extract", "browse", "schedule", "db"]
USAGE_ERROR = 2
# The errors that are bad input, by module: one line on stderr, exit 2. Looked up among the modules
# the command imported (an error class whose module was not imported cannot have been raised), so
# that the CLI itself imports neither Scrapy nor the store.
_USAGE_ERRORS = {"crawler.commands.common": "CommandError", "storage.store": "StoreError",
                 "crawler.recordings": "RecordingError", "crawler.sites": "SitesFileError"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(argv).parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`newscrawl export | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if not _is_usage_error(exc):
            raise
        print(f"newscrawl: {exc}", file=sys.stderr)
        return USAGE_ERROR


def _is_usage_error(exc: Exception) -> bool:
    return any(isinstance(exc, getattr(sys.modules[module], name))
               for module, name in _USAGE_ERRORS.items() if module in sys.modules)


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of every command; only the module of the command given is imported (a command
    starts without importing what the others need), the others' help is read from their source."""
    parser = argparse.ArgumentParser(prog="newscrawl", description="Collect news from institutional sites.")
    parser.set_defaults(run=lambda _args: parser.print_help() or 0)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    given = next((arg for arg in argv if not arg.startswith("-")), None)
    for name in COMMANDS:
        module = f"crawler.commands.{name.replace('-', '_')}"  # a module name holds no hyphen
        if name != given:
            summary = _help_of(module)
            subparsers.add_parser(name, help=summary, description=summary)
            continue
        command = importlib.import_module(module)
        sub = subparsers.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def _help_of(module: str) -> str:
    """The HELP line of a command module, read from its source without running it."""
    source = importlib.util.find_spec(module).loader.get_source(module)
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and [target.id for target in statement.targets
                                                  if isinstance(target, ast.Name)] == ["HELP"]:
            return ast.literal_eval(statement.value)
    return importlib.import_module(module).HELP


if __name__ == "__main__":
    sys.exit(main())
