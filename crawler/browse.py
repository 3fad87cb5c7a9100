"""The store in Datasette: our metadata, read-only, raw HTML out of the articles table view."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import uvicorn
from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm
from datasette.utils import escape_fts

from storage import search_text

# The name in Datasette's URLs (/newscrawl/articles), fixed whatever the file is called
# so that the metadata, which is keyed by database name, always applies.
DATABASE = "newscrawl"
METADATA = Path(__file__).with_name("datasette_metadata.json")
SETTINGS = {"truncate_cells_html": 200}  # article bodies would make every table row a page long
ARTICLES_TABLE = re.compile(rf"^/{DATABASE}/articles(\.\w+)?$")


def datasette(path: Path) -> Datasette:
    """Datasette over the SQLite store at path, reading only.

    The database is opened as a mutable file, so Datasette reads it through plain
    `mode=ro` connections. A crawl may be writing to the store: in WAL mode such
    a connection sees every committed transaction and never blocks the writer.
    Datasette's immutable mode (`-i`, `immutable=1`) would be wrong here: it
    skips locking and the WAL file, so it shows stale data (whatever is not yet
    checkpointed) and can read a page mid-checkpoint. Datasette only writes
    through canned queries marked `write`, and ours are all reads.
    """
    for plugin in (HideRawHtml, ChineseSearch):
        if not pm.is_registered(plugin):
            pm.register(plugin, name=f"newscrawl-{plugin.__name__}")
    instance = Datasette(metadata=json.loads(METADATA.read_text(encoding="utf-8")), settings=SETTINGS)
    instance.remove_database("_memory")  # added when no file is given, meaningless here
    instance.add_database(Database(instance, path=str(path), is_mutable=True), name=DATABASE)
    return instance


def serve(instance: Datasette, listener: socket.socket) -> None:
    """Serve until Ctrl-C or SIGTERM, with uvicorn (the server `datasette serve` runs)."""
    uvicorn.Server(uvicorn.Config(instance.app(), log_level="warning")).run(sockets=[listener])


class HideRawHtml:
    """A Datasette plugin: the articles table (page, JSON, CSV) leaves out the
    compressed raw_html blob unless the request picks its columns itself
    (`?_col=` / `?_nocol=`). Datasette has no metadata setting for this."""

    @staticmethod
    @hookimpl
    def asgi_wrapper(datasette):
        def wrap(app):
            async def without_raw_html(scope, receive, send):
                if scope["type"] == "http" and ARTICLES_TABLE.match(scope["path"]):
                    query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                    if not any(name in ("_col", "_nocol") for name, _ in query):
                        query.append(("_nocol", "raw_html"))
                        scope = dict(scope, query_string=urlencode(query).encode("latin-1"))
                await app(scope, receive, send)

            return without_raw_html

        return wrap


class ChineseSearch:
    """A Datasette plugin: the articles search box finds Chinese words of any length, as
    `newscrawl search` does. The full-text index reads Chinese as pairs of characters
    (storage/search_text.py), so what is searched for (`_search`, `_search_COLUMN`) is
    rewritten for it, as FTS5 syntax (`_searchmode=raw`, after Datasette's own escaping unless
    raw was asked for: a one-character term is a prefix query, which escaping would undo);
    and the index's view gets the SQL function it calls."""

    @staticmethod
    @hookimpl
    def prepare_connection(conn):
        search_text.register_sql_function(conn)

    @staticmethod
    @hookimpl
    def asgi_wrapper(datasette):
        def wrap(app):
            async def with_chinese_search(scope, receive, send):
                if scope["type"] == "http" and ARTICLES_TABLE.match(scope["path"]):
                    query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                    searches = {name for name, value in query
                                if name.startswith("_search") and name != "_searchmode" and search_text.has_cjk(value)}
                    if searches:
                        raw = ("_searchmode", "raw") in query
                        query = [(name, search_text.query_text(value if raw else escape_fts(value)))
                                 if name in searches else (name, value)
                                 for name, value in query if name != "_searchmode"] + [("_searchmode", "raw")]
                        scope = dict(scope, query_string=urlencode(query).encode("latin-1"))
                await app(scope, receive, send)

            return with_chinese_search

        return wrap
