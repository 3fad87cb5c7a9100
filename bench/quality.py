"""Extraction quality on real pages: newscrawl's generic extract() and plain trafilatura side by side.

Usage: make quality DIR=/path/to/set   (or .venv/bin/python bench/quality.py DIR [DIR ...])

Each DIR is one test set, one pair of files per page:

    NAME.html   the page, byte for byte as served
    NAME.json   {"url": "https://...", "title": "...", "published": "YYYY-MM-DD", "body": "...",
                 "authors": ["First Author", "Second Author"]}

url may be null; a null or missing title, published, body or authors is not scored for that page
(authors [] is scored: the page names no author, and none is right). Both extractors get the same
bytes and URL: extract(html, url) (no site rules) and trafilatura.bare_extraction(html, url=url,
with_metadata=True). Printed per set and extractor: exceptions (a page that raises scores as empty),
body precision / recall / F1 in the style of the Article Extraction Benchmark (4-token shingles of
the NFC text, each CJK character a token; per page normalised, averaged over pages, F1 of the
averages), the share of exact titles, publication dates and authors, and pages/s.

Authors are compared as sets of names. Both extractors give one string ("A; B", trafilatura's
form), the truth a list; both sides are joined and cut into names alike, at ";", ",", "&", "|" and
the word "and", and each name is compared in NFKC, case-folded, with its spaces collapsed and the
dots, dashes and spaces at its ends dropped: "Jane Doe; John Roe", "jane doe, John Roe" and
["Jane Doe", "John Roe"] are the same authors, "By Jane Doe" or "Jane Doe, Staff Writer" are not.
A page scores 1 when the two sets are equal (none found where none is named included), else 0.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.extract import extract  # noqa: E402

_TOKENS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]|\w+")
SHINGLE = 4


def newscrawl(html: bytes, url: str | None) -> dict:
    article = extract(html, url or "")
    return {"body": article.text, "title": article.title,
            "published": article.published.isoformat() if article.published else None, "author": article.author}


def plain_trafilatura(html: bytes, url: str | None) -> dict:
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if document is None:
        return {"body": "", "title": None, "published": None, "author": None}
    return {"body": document.text or "", "title": document.title, "published": (document.date or "")[:10] or None,
            "author": document.author}


EXTRACTORS = {"newscrawl": newscrawl, "trafilatura": plain_trafilatura}


def shingles(text: str) -> Counter:
    tokens = _TOKENS.findall(unicodedata.normalize("NFC", text or ""))  # "ü" is "ü", composed or not
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens[i:i + 1])


def body_match(truth: str, found: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over the two texts' shingles, normalised to sum 1 (AEB's string_shingle_matching)."""
    true, predicted = shingles(truth), shingles(found)
    tp = sum((true & predicted).values())
    fp = sum((predicted - true).values())
    fn = sum((true - predicted).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision_recall_f1(matches: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    precision = statistics.mean([1.0 if fp == fn == 0 else tp / (tp + fp) if tp + fp else 0.0
                                 for tp, fp, fn in matches if tp + fp > 0] or [0.0])
    recall = statistics.mean([1.0 if fp == fn == 0 else tp / (tp + fn) if tp + fn else 0.0
                              for tp, fp, fn in matches if tp + fn > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


_NAME_SEPARATORS = re.compile(r"[;,&|]|\band\b", re.IGNORECASE)


def author_names(authors: str | None) -> frozenset[str]:
    """The names in an author string ("A; B", "A and B"), normalised as the docstring says."""
    names = (" ".join(unicodedata.normalize("NFKC", name).casefold().split()).strip(" .-–—")
             for name in _NAME_SEPARATORS.split(authors or ""))
    return frozenset(name for name in names if name)


def load_set(folder: Path) -> list[tuple[str, bytes, dict]]:
    pages = []
    for truth_path in sorted(folder.glob("*.json")):
        page_path = truth_path.with_suffix(".html")
        if page_path.exists():
            pages.append((truth_path.stem, page_path.read_bytes(), json.loads(truth_path.read_text(encoding="utf-8"))))
    return pages


def score(pages: list[tuple[str, bytes, dict]], extractor) -> dict:
    matches, titles, dates, authors, errors, seconds = [], [], [], [], [], 0.0
    for name, html, truth in pages:
        started = time.perf_counter()
        try:
            found = extractor(html, truth.get("url"))
        except Exception as error:  # noqa: BLE001 - counted and shown, the page scores as empty
            errors.append(f"{name}: {type(error).__name__}: {error}")
            found = {"body": "", "title": None, "published": None, "author": None}
        seconds += time.perf_counter() - started
        if truth.get("body"):
            matches.append(body_match(truth["body"], found["body"]))
        if truth.get("title"):
            titles.append(_same(truth["title"], found["title"]))
        if truth.get("published"):
            dates.append(truth["published"] == found["published"])
        if truth.get("authors") is not None:
            authors.append(author_names("; ".join(truth["authors"])) == author_names(found["author"]))
    precision, recall, f1 = precision_recall_f1(matches) if matches else (None, None, None)
    return {"exceptions": errors, "precision": precision, "recall": recall, "f1": f1,
            "title": statistics.mean(titles) if titles else None, "date": statistics.mean(dates) if dates else None,
            "author": statistics.mean(authors) if authors else None,
            "titles": len(titles), "dates": len(dates), "authors": len(authors), "pages_per_s": len(pages) / seconds if seconds else 0.0}


def _cell(value) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def main(folders: list[str]) -> int:
    if not folders:
        print("usage: bench/quality.py DIR [DIR ...]  (see the docstring for the folder format)", file=sys.stderr)
        return 2
    print(f"{'set':<14} {'extractor':<12} {'pages':>5} {'exc':>4} {'body P':>7} {'body R':>7} {'body F1':>7} "
          f"{'title':>6} {'date':>6} {'author':>6} {'pages/s':>8}")
    for folder in map(Path, folders):
        pages = load_set(folder)
        if not pages:
            print(f"{folder}: no NAME.html + NAME.json pairs", file=sys.stderr)
            return 2
        for name, extractor in EXTRACTORS.items():
            result = score(pages, extractor)
            print(f"{folder.name:<14} {name:<12} {len(pages):>5} {len(result['exceptions']):>4} "
                  f"{_cell(result['precision']):>7} {_cell(result['recall']):>7} {_cell(result['f1']):>7} "
                  f"{_cell(result['title']):>6} {_cell(result['date']):>6} {_cell(result['author']):>6} "
                  f"{result['pages_per_s']:>8.1f}")
            for error in result["exceptions"][:5]:
                print(f"    exception {error}")
        print(f"{'':<14} (titles scored on {result['titles']} pages, dates on {result['dates']}, "
              f"authors on {result['authors']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
