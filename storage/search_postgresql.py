"""Full-text search on a PostgreSQL store, with the query language and meaning of the SQLite one.

A query is words (all must occur), "phrases", prefix*, OR, NOT and title:word, as FTS5 reads
them (NOT binds closest, then AND, then OR). On PostgreSQL:
- a term in a language with spaces goes through the `english` text-search configuration
  (stemmed, as words): a GIN index over the title (weight A) and the text (weight B), a stored
  column since migration 0011, finds it, ts_rank ranks it with a title match worth TITLE_WEIGHT
  body ones;
- a Chinese term, of any length, matches exactly the articles that contain it as it is
  written (Chinese has no spaces to make words of): a substring match, which pg_trgm's
  GIN indexes answer for terms of 3 characters and more.
Scores are negated ranks, so that, as with SQLite's bm25, the lower the better.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Connection, and_, case, func, literal, literal_column, not_, or_, select, true

from storage.tables import articles

TITLE_WEIGHT = 10.0
SNIPPET_WORDS = 24
SNIPPET_CHARACTERS = 40  # either side of a Chinese match
# ts_rank's weights, {D, C, B, A}: the text is B, the title A
_RANK_WEIGHTS = literal_column(f"'{{0, 0, {1 / TITLE_WEIGHT}, 1}}'::float4[]")
# The weighted title and text as a tsvector: a column PostgreSQL generates and keeps (migration
# 0011), GIN-indexed, so that neither ts_rank nor a phrase's recheck parses a text again.
DOCUMENT = literal_column("articles.search_document")
_CONFIG = literal_column("'english'::regconfig")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r'\s*(?:"(?P<phrase>[^"]*)"|(?P<open>")|(?P<bare>[^\s"]+))')
_WORD = re.compile(r"\w+\*?")
# Sentinels ts_headline puts around matches, replaced by the caller's marks afterwards.
_START, _STOP = "\u27e6", "\u27e7"


class QueryError(ValueError):
    """The query cannot be read; the message says why."""


@dataclass(frozen=True)
class Term:
    text: str
    kind: str  # word, prefix, phrase
    title_only: bool
    negated: bool

    @property
    def chinese(self) -> bool:
        return bool(_CJK.search(self.text))

    def tsquery(self):
        if self.kind == "prefix":
            return func.to_tsquery(_CONFIG, self.text + ":*")
        if self.kind == "phrase":
            return func.phraseto_tsquery(_CONFIG, self.text)
        return func.plainto_tsquery(_CONFIG, self.text)

    def condition(self) -> ColumnElement:
        if self.chinese:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", self.text) + "%"
            found = articles.c.title.like(pattern) if self.title_only else or_(articles.c.title.like(pattern),
                                                                              articles.c.text.like(pattern))
        elif self.title_only:
            found = func.to_tsvector(_CONFIG, articles.c.title).op("@@")(self.tsquery())
        else:
            found = DOCUMENT.op("@@")(self.tsquery())
        return not_(found) if self.negated else found


def parse(query: str) -> list[list[Term]]:
    """The query as alternatives (OR) of terms that must all hold (AND, NOT)."""
    alternatives: list[list[Term]] = [[]]
    negate = expect_term = False
    position = 0
    query = query.strip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        position = match.end()
        if match["open"]:
            raise QueryError("unterminated string")
        if match["bare"] in ("OR", "AND", "NOT"):
            if not alternatives[-1] or expect_term:
                raise QueryError(f'syntax error near "{match["bare"]}"')
            if match["bare"] == "OR":
                alternatives.append([])
            negate = match["bare"] == "NOT"
            expect_term = True
            continue
        title_only = False
        if match["phrase"] is not None:
            text, kind = match["phrase"], "phrase"
        else:
            text = match["bare"]
            column, colon, rest = text.partition(":")
            if colon:
                if column not in ("title", "text"):
                    raise QueryError(f"no such column: {column} "
                                     '(put a word that holds "-" or ":" in double quotes)')
                if not rest:
                    raise QueryError(f'syntax error near "{text}"')
                title_only, text = column == "title", rest.strip('"')
            if not _WORD.fullmatch(text) and not _CJK.search(text):
                raise QueryError(f'syntax error near "{text}" (put a word that holds "-" or ":" in double quotes)')
            kind = "prefix" if text.endswith("*") else "word"
            text = text.rstrip("*")
        alternatives[-1].append(Term(text, kind, title_only, negate))
        negate = expect_term = False
    if expect_term or not any(alternatives) or not all(alternatives):
        raise QueryError("syntax error: an operator without a term")
    if any(all(term.negated for term in terms) for terms in alternatives):
        raise QueryError("syntax error: NOT needs a term before it")
    return alternatives


def search(connection: Connection, query: str, *, site: str | None, since: date | None, until: date | None,
           language: str | None, limit: int, marks: tuple[str, str]) -> list[tuple]:
    """Rows of (id, url, site, published, marked title, snippet, score), best first; QueryError on a bad query."""
    alternatives = parse(query)
    positive = [term for terms in alternatives for term in terms if not term.negated]
    words = [term for term in positive if not term.chinese and not term.title_only]
    chinese = [term for term in positive if term.chinese]
    tsquery = None
    for term in words:
        tsquery = term.tsquery() if tsquery is None else tsquery.op("||" if len(alternatives) > 1 else "&&")(
            term.tsquery())
    # term by term: ts_rank of a query of several words rewards their count more than a title match
    rank = literal(0.0)
    for term in words:
        rank = rank + func.ts_rank(_RANK_WEIGHTS, DOCUMENT, term.tsquery())
    for term in chinese:
        rank = rank + case((articles.c.title.contains(term.text, autoescape=True), 1.0), else_=0.0) \
            + (func.length(articles.c.text) - func.length(func.replace(articles.c.text, term.text, ""))) \
            / func.greatest(func.length(term.text), 1) / TITLE_WEIGHT
    options = f"StartSel={_START}, StopSel={_STOP}"
    title = func.ts_headline(_CONFIG, articles.c.title, tsquery, options + ", HighlightAll=true") \
        if tsquery is not None else articles.c.title
    snippet = case(  # a text no longer than a snippet is shown whole, as SQLite's snippet() does
        (func.array_length(func.regexp_split_to_array(articles.c.text, r"\s+"), 1) <= SNIPPET_WORDS,
         func.ts_headline(_CONFIG, articles.c.text, tsquery, options + ", HighlightAll=true")),
        else_=func.ts_headline(_CONFIG, articles.c.text, tsquery,
                               f"{options}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, "
                               "MaxFragments=1, FragmentDelimiter=\" … \""),
    ) if tsquery is not None else articles.c.text
    statement = (
        select(articles.c.id, articles.c.url, articles.c.site, articles.c.published, title, snippet,
               (-rank).label("score"))
        .where(or_(*(and_(true(), *(term.condition() for term in terms)) for terms in alternatives)))
        .order_by("score", articles.c.id)
        .limit(limit)
    )
    if site:
        statement = statement.where(articles.c.site == site)
    if since:
        statement = statement.where(articles.c.published >= since)
    if until:
        statement = statement.where(articles.c.published <= until)
    if language:
        statement = statement.where(articles.c.language == language)
    hits = []
    for id_, url, site_, published, marked_title, marked_text, score in connection.execute(statement):
        if tsquery is None:
            marked_text = _chinese_snippet(marked_text, chinese)
        marked_title = _mark_chinese(marked_title, chinese)
        if tsquery is not None:
            marked_text = _mark_chinese(marked_text, chinese)
        hits.append((id_, url, site_, published, _marked(marked_title, marks), _marked(marked_text, marks),
                     float(score)))
    return hits


def _chinese_snippet(text: str, terms: list[Term]) -> str:
    """The text around the first Chinese term it holds, every term marked."""
    found = [text.find(term.text) for term in terms if term.text in text]
    at = min(found) if found else 0
    start, end = max(at - SNIPPET_CHARACTERS, 0), at + SNIPPET_CHARACTERS
    snippet = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return _mark_chinese(snippet, terms)


def _mark_chinese(text: str, terms: list[Term]) -> str:
    """The text with every stretch the terms cover marked once: overlapping matches
    ("党建工" and "建工作" in "党建工作") are one stretch, as SQLite's search marks them."""
    stretches = sorted((match.start(), match.end()) for term in terms if term.text
                       for match in re.finditer(re.escape(term.text), text))
    merged: list[list[int]] = []
    for start, end in stretches:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + _START + text[start:end] + _STOP + text[end:]
    return text


def _marked(text: str, marks: tuple[str, str]) -> str:
    return text.replace(_START, marks[0]).replace(_STOP, marks[1])
