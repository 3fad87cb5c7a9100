"""Chinese (and Japanese) text for SQLite's FTS5 `unicode61` tokenizer, one character a token.

`unicode61` splits text at spaces and punctuation only, so a run of Han characters between
two punctuation marks is one token and no word inside it can be found. The index is
therefore fed the text with every CJK character set apart by zero-width spaces (a
separator to `unicode61`, invisible when shown): each character is a token, and a Chinese
term of any length is the phrase of its characters, which matches exactly where the term
occurs. Text without CJK characters is left as it is, so English is indexed as before.

Two CJK characters with only spaces or punctuation between them would be neighbours in
the index, so that "党。建" would match "党建": a boundary token (a private-use character,
which `unicode61` keeps as a token) is put between them.

The same functions serve the index (through an SQL function that the store's connections
register, used by the triggers and the view the index reads: migration 0006), queries, and
the marked titles and snippets shown to the user.
"""

from __future__ import annotations

import re

# Han ideographs (with extension A, compatibility ideographs and the supplementary planes),
# the iteration and zero marks 々〇, and Japanese kana: scripts written without spaces.
CJK = ("\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
       "\U00020000-\U0002ffff\U00030000-\U0003134f")
SEPARATOR = "\u200b"  # zero-width space: a separator to unicode61, nothing on screen
BOUNDARY = "\ue000"  # private use: a token to unicode61 that no text contains
SQL_FUNCTION = "newscrawl_search_text"  # the name the store's connections register index_text under

_CJK_CHARACTER = re.compile(f"[{CJK}]")
_CJK_RUN = re.compile(f"[{CJK}]+")
# spaces and punctuation (anything unicode61 does not keep in a token) between two CJK characters
_GAP_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}])((?:[\W_])+)(?=[{CJK}])")
_ADDED = re.compile(f"[{SEPARATOR}{BOUNDARY}]")


def index_text(text: str | None) -> str | None:
    """The text as the full-text index reads it: each CJK character a token of its own, and a
    boundary token wherever punctuation or spaces part two CJK characters. None stays None."""
    if text is None or not _CJK_CHARACTER.search(text):
        return text
    return query_text(_GAP_BETWEEN_CJK.sub(rf"{SEPARATOR}{BOUNDARY}{SEPARATOR}\1", text))


def query_text(query: str) -> str:
    """An FTS5 query with each CJK character set apart: a Chinese word (bare or quoted) becomes
    the phrase of its characters. The rest of the query syntax is left as it is."""
    return _CJK_RUN.sub(_set_apart, query)


def _set_apart(run: re.Match) -> str:
    return SEPARATOR + SEPARATOR.join(run[0]) + SEPARATOR  # a run at a time: one call, not one per character


def has_cjk(text: str) -> bool:
    return _CJK_CHARACTER.search(text) is not None


def shown_text(indexed: str) -> str:
    """Text read back from the index (a highlight, a snippet) without the characters index_text added."""
    return _ADDED.sub("", indexed)


def register_sql_function(dbapi_connection, _connection_record=None) -> None:
    """Make index_text available to SQL on a sqlite3 connection, as the index's triggers and view
    call it; also a SQLAlchemy "connect" event listener."""
    dbapi_connection.create_function(SQL_FUNCTION, 1, index_text, deterministic=True)
