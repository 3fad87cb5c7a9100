"""newscrawl browse [--host H] [--port P]: the store in Datasette"""

import socket
from pathlib import Path

from crawler import runner
from crawler.commands.common import CommandError, add_db_option, existing_store
from storage import database_file
from storage.reader import shown_url

HELP = "open the store in Datasette, read-only, to search and explore it in a browser"


def add_arguments(parser) -> None:
    add_db_option(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default: 8001; 0: any free port)")


def run(args) -> int:
    try:
        from crawler import browse
    except ModuleNotFoundError as exc:
        if exc.name != "datasette":
            raise
        raise CommandError("browse needs Datasette: pip install 'newscrawl[browse]'") from None
    url = runner.project_settings(args.db)["NEWSCRAWL_DB"]
    path = sqlite_file(url)
    existing_store(url).close()  # a missing store or an old schema is reported as by every command
    listener = listen(args.host, args.port)
    port = listener.getsockname()[1]
    print(f"newscrawl: serving {url} at http://{args.host}:{port}/{browse.DATABASE} (Ctrl-C stops)", flush=True)
    browse.serve(browse.datasette(path), listener)
    return 0


def sqlite_file(url: str) -> Path:
    """The store's file: Datasette reads SQLite files only."""
    path = database_file(url)
    if path is None:
        raise CommandError(f"browse reads SQLite store files only, not {shown_url(url)}: browse a snapshot, made "
                           f"with `newscrawl db copy --db {shown_url(url)} --to sqlite:///snapshot.db`, "
                           "as `newscrawl browse --db sqlite:///snapshot.db`")
    return path


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound here so that a busy port is reported in one line."""
    if not 0 <= port <= 65535:
        raise CommandError(f"--port takes 0 to 65535, not {port}")
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        raise CommandError(f"cannot listen: {exc.strerror}") from None  # it names the address
