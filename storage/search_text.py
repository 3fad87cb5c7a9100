"""Chinese (and Japanese) text for SQLite's FTS5 `unicode61` tokenizer: overlapping bigrams.

`unicode61` splits text at spaces and punctuation only, so a run of Han characters between
two punctuation marks is one token and no word inside it can be found. The index is
therefore fed each run of CJK characters as its overlapping pairs followed by its last
character, set apart by zero-width spaces (a separator to `unicode61`, invisible on screen):
"党建工作" is indexed as the tokens 党建 建工 工作 作. Text without CJK characters is left as
it is, so English is indexed as before.

A query term of two characters or more is the phrase of its pairs (党建工作: "党建 建工 工作"),
which matches exactly where the term occurs; one character is a prefix query (党*: every pair
it starts, and a run's last character). A term followed by more in its phrase also takes its
last character (the run must end there). Pairs, rather than single characters, keep the
lists FTS5 reads short: a character such as 工 is in most Chinese articles, 工作 in fewer.

The same module serves the index (through an SQL function that the store's connections
register, used by the triggers and the view the index reads: migration 0006), queries, and
the marked titles and snippets shown to the user, which it turns back into the stored text.
"""

from __future__ import annotations

import operator
import re

# Han ideographs (with extension A, compatibility ideographs and the supplementary planes),
# the iteration and zero marks 々〇, and Japanese kana: scripts written without spaces.
CJK = ("\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
       "\U00020000-\U0002ffff\U00030000-\U0003134f")
SEPARATOR = "\u200b"  # zero-width space: a separator to unicode61, nothing on screen
SQL_FUNCTION = "newscrawl_search_text"  # the name the store's connections register index_text under

_CJK_CHARACTER = re.compile(f"[{CJK}]")
_CJK_RUN = re.compile(f"[{CJK}]+")
# What FTS5's query syntax reads as one phrase: a "string" ("" is a quote inside it) or a bareword.
_PHRASE = re.compile(r'"((?:[^"]|"")*)("?)|((?:[^\x00-\x7f]|[A-Za-z0-9_\x1a])+)')
_TOKEN_CHARACTER = re.compile(r"[^\W_]")  # what unicode61 keeps in a token (letters, digits)


def index_text(text: str | None) -> str | None:
    """The text as the full-text index reads it: each CJK run as its pairs and its last
    character, set apart. None stays None."""
    if text is None or not _CJK_CHARACTER.search(text):
        return text
    return _CJK_RUN.sub(_indexed_run, text)


def _indexed_run(run: re.Match) -> str:
    characters = run[0]
    if len(characters) == 1:
        return SEPARATOR + characters + SEPARATOR
    # each character with the next (zipped: a third quicker than slicing, for every Chinese
    # article written and every search result marked up), then the last alone
    pairs = map(operator.add, characters, characters[1:])
    return SEPARATOR + SEPARATOR.join(pairs) + SEPARATOR + characters[-1] + SEPARATOR


def has_cjk(text: str) -> bool:
    return _CJK_CHARACTER.search(text) is not None


def query_text(query: str) -> str:
    """An FTS5 query whose Chinese terms (bare or quoted, alone or inside a phrase) ask the
    index for the articles that contain them; the rest of the syntax is left as it is."""
    parts, done = [], 0
    for phrase in _PHRASE.finditer(query):
        quoted = phrase[3] is None
        words = phrase[1] if quoted else phrase[3]
        if not has_cjk(words):
            continue
        words, prefix = _query_words(words)
        if prefix and query[phrase.end():phrase.end() + 1] == "*":
            prefix = False  # already a prefix query
        rewritten = f'"{words}{phrase[2]}' if quoted else words
        parts += [query[done:phrase.start()], rewritten + ("*" if prefix else "")]
        done = phrase.end()
    return "".join(parts) + query[done:]


def _query_words(words: str) -> tuple[str, bool]:
    """A phrase's words with each CJK run as the index has it; True when the phrase must
    become a prefix query (it ends in a run of one character)."""
    prefix = False

    def rewrite(run: re.Match) -> str:
        nonlocal prefix
        characters = run[0]
        more = _TOKEN_CHARACTER.search(words, run.end()) is not None  # more tokens follow in the phrase
        tokens = [characters[i:i + 2] for i in range(len(characters) - 1)]
        if more or len(characters) == 1:
            tokens.append(characters[-1])
        prefix = prefix or (len(characters) == 1 and not more)
        return SEPARATOR + SEPARATOR.join(tokens) + SEPARATOR

    return _CJK_RUN.sub(rewrite, words), prefix


def single_characters(query: str) -> frozenset[str]:
    """The one-character Chinese terms of a query (shown_text marks them alone)."""
    return frozenset(run for run in _CJK_RUN.findall(query) if len(run) == 1)


def shown_text(indexed: str, marks: tuple[str, str], single: frozenset[str] = frozenset()) -> str:
    """A title or snippet that FTS5 marked up (highlight, snippet) on the indexed text, as
    the stored text with the same words marked. A mark closing after a pair goes after its
    second character (after its first when the pair was found for a one-character term of
    `single`); two marked stretches that share a character become one."""
    opening, closing = marks
    pieces = re.split(f"({re.escape(SEPARATOR)}|{re.escape(opening)}|{re.escape(closing)}|[{CJK}]+)", indexed)
    shown = []
    carried = held = ""  # a pair's second character not shown yet; a closing mark waiting for it
    pair, stretch = "", 0  # the last token if a pair; tokens since the last opening mark
    for piece in pieces:
        if not piece or piece == SEPARATOR:
            continue
        if piece == closing and carried and not (stretch == 1 and pair[:1] in single):
            held = closing
        elif piece == opening and held:
            held = ""  # overlaps the stretch before: one stretch
        elif piece in (opening, closing):
            shown.append(piece)
            stretch = 0
        elif _CJK_CHARACTER.match(piece):  # a token: a pair or a run's last character
            shown.append(piece[0] + held)
            held, carried, pair = "", piece[1:], piece if len(piece) == 2 else ""
            stretch += 1
        else:  # other text: a run (perhaps cut short by a snippet) ended
            shown.append(carried + held + piece)
            carried = held = ""
    return "".join(shown) + carried + held


def register_sql_function(dbapi_connection, _connection_record=None) -> None:
    """Make index_text available to SQL on a sqlite3 connection, as the index's triggers and view
    call it; also a SQLAlchemy "connect" event listener."""
    dbapi_connection.create_function(SQL_FUNCTION, 1, index_text, deterministic=True)
