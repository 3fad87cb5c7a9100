"""Search latency on a generated store of 100,000 articles, half English, half Chinese.

The articles are made of sentences that Markov chains (words for English, characters for
Chinese) learnt from the recorded fixture articles spin, so that word frequencies, article
lengths and Chinese character runs look like the sites'. The store lives in a temporary
folder. A mix of queries (English words, phrases and prefixes, Chinese terms of 1, 2 and 4
characters, with and without --site/--since/--language filters) is run through
Store.search, interleaved with the query newscrawl ran before (which marked every match
before keeping the best 20), and p50/p95 are printed for both, with their ratio.
Target: p95 < 50 ms at 100,000 articles.
Usage: make bench  (or .venv/bin/python bench/search.py [--n ARTICLES] [--rounds N])
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, literal_column, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.runner import FIXTURES  # noqa: E402
from storage import Store  # noqa: E402
from storage.models import Article  # noqa: E402
from storage.search_text import CJK  # noqa: E402
from storage.store import _ARTICLES_FTS, _SNIPPET_WORDS, _TITLE_WEIGHT  # noqa: E402

SITES = ["rocar", "jfmi", "4ll", "bluestar", "henan", "sasac", "cnpc", "sinopec"]
SENTENCES_PER_LANGUAGE = 5000
BATCH = 2000
QUERIES = [  # (query, filters)
    ("party", {}), ("safety", {}), ("development", {}), ("knowledge contest", {}),
    ('"party building"', {}), ("inspect*", {}), ("party NOT meeting", {}), ("title:company", {}),
    ("party", {"site": "jfmi"}), ("work", {"since": date(2023, 1, 1)}),
    ("党", {}), ("建", {}), ("党建", {}), ("工作", {}), ("干部", {}), ("培训", {}),
    ("党建工作", {}), ("学习教育", {}), ("党建", {"site": "henan"}), ("工作", {"language": "zh"}),
    ("会议", {"since": date(2023, 1, 1)}), ("党建 学习", {}),
]
CHINESE_RUN = re.compile(f"[{CJK}，、；：]+[。！？]")
ENGLISH_SENTENCE = re.compile(r"[A-Z][^.!?]{20,}[.!?]")


def fixture_texts() -> dict[str, list[str]]:
    """The text of every recorded article (golden files), by language."""
    texts = defaultdict(list)
    for golden in FIXTURES.glob("*/pages/*.json"):
        page = json.loads(golden.read_text(encoding="utf-8"))
        texts[page.get("language") or "en"].append(page["title"] + "。\n" + "\n".join(page["paragraphs"]))
    return texts


class Chain:
    """A first-order Markov chain over tokens, spinning sentences of them."""

    def __init__(self, sentences: list[list[str]]):
        self.next = defaultdict(list)
        for tokens in sentences:
            for current, following in zip(["^"] + tokens, tokens + ["$"]):
                self.next[current].append(following)

    def sentence(self, rng: random.Random, longest: int) -> list[str]:
        tokens, current = [], "^"
        while len(tokens) < longest and (current := rng.choice(self.next[current])) != "$":
            tokens.append(current)
        return tokens


def sentence_pools(rng: random.Random) -> dict[str, list[str]]:
    texts = fixture_texts()
    english = Chain([sentence.split() for text in texts["en"] for sentence in ENGLISH_SENTENCE.findall(text)])
    chinese = Chain([list(sentence) for text in texts["zh"] for sentence in CHINESE_RUN.findall(text)])
    return {
        "en": [" ".join(english.sentence(rng, 40)) for _ in range(SENTENCES_PER_LANGUAGE)],
        "zh": ["".join(chinese.sentence(rng, 80)) for _ in range(SENTENCES_PER_LANGUAGE)],
    }


def generate(store: Store, count: int, rng: random.Random) -> None:
    pools = sentence_pools(rng)
    now = datetime(2026, 11, 30)
    with store.engine.begin() as connection:
        for start in range(0, count, BATCH):
            rows = []
            for number in range(start, min(start + BATCH, count)):
                language = "zh" if number % 2 else "en"
                site = SITES[(number // 2) % 4 + (4 if language == "zh" else 0)]
                sentences = rng.choices(pools[language], k=rng.randint(6, 30))
                joiner = "" if language == "zh" else " "
                paragraphs = [joiner.join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
                text = "\n".join(paragraphs)
                rows.append({
                    "url": f"https://{site}.example/{number}.html", "site": site,
                    "title": rng.choice(pools[language])[:60], "text": text, "language": language,
                    "published": date(2015, 1, 1) + timedelta(days=rng.randrange(4000)),
                    "content_hash": f"{number:064x}", "raw_html": zlib.compress(b""),
                    "first_seen": now, "last_seen": now,
                })
            connection.execute(insert(Article), rows)


def query_before(store: Store, query: str, limit: int = 20, **filters):
    """Store.search as it was before: highlight and snippet computed for every match, then sorted."""
    index = literal_column(_ARTICLES_FTS.name)
    score = func.bm25(index, _TITLE_WEIGHT, 1.0)
    statement = (
        select(Article.id, Article.url, Article.site, Article.published,
               func.highlight(index, 0, "[", "]"), func.snippet(index, 1, "[", "]", "…", _SNIPPET_WORDS), score)
        .join_from(_ARTICLES_FTS, Article, Article.id == _ARTICLES_FTS.c.rowid)
        .where(index.match(query)).order_by(score).limit(limit))
    if filters.get("site"):
        statement = statement.where(Article.site == filters["site"])
    if filters.get("since"):
        statement = statement.where(Article.published >= filters["since"])
    with store.engine.connect() as connection:
        return connection.execute(statement).all()


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles in the generated store (default 100000)")
    parser.add_argument("--rounds", type=int, default=10, help="times each query is run (default 10)")
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="newscrawl-bench-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'articles.db'}")
        started = time.perf_counter()
        generate(store, args.n, rng)
        print(f"generated {args.n} articles in {time.perf_counter() - started:.0f} s "
              f"({Path(folder, 'articles.db').stat().st_size / 2**20:.0f} MB)")
        now, before, english_now = [], [], []
        hits = {}
        for _ in range(args.rounds):
            for query, filters in QUERIES:
                started = time.perf_counter()
                hits[query, str(filters)] = len(store.search(query, **filters))
                elapsed = time.perf_counter() - started
                now.append(elapsed)
                if not re.search(f"[{CJK}]", query) and "language" not in filters:
                    english_now.append(elapsed)
                    started = time.perf_counter()
                    query_before(store, query, **filters)
                    before.append(time.perf_counter() - started)
        store.close()
    assert all(hits.values()), [key for key, count in hits.items() if not count]
    p50, p95 = percentiles(now)
    print(f"{len(QUERIES)} queries x {args.rounds} rounds, limit 20, {args.n} articles")
    print(f"{'':28}{'p50 ms':>8}{'p95 ms':>8}")
    print(f"{'search, all queries':28}{p50:8.1f}{p95:8.1f}")
    english_p50, english_p95 = percentiles(english_now)
    before_p50, before_p95 = percentiles(before)
    print(f"{'search, English queries':28}{english_p50:8.1f}{english_p95:8.1f}")
    print(f"{'before, English queries':28}{before_p50:8.1f}{before_p95:8.1f}")
    print(f"p95 ratio (before / now, English): {before_p95 / english_p95:.1f}x; "
          f"target p95 < 50 ms: {'met' if p95 < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
