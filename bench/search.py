"""Search latency on a generated store of 100,000 articles, half English, half Chinese.

The articles are made of sentences that Markov chains (words for English, characters for
Chinese) learnt from the recorded fixture articles spin, so that word frequencies, article
lengths and Chinese character runs look like the sites'. The store lives in a temporary
folder. A mix of queries (English words, phrases and prefixes, Chinese terms of 1, 2 and 4
characters, with and without --site/--since/--language filters) is run through
Store.search, interleaved with the same search ranked on one core (its ids in one stretch) and
with the query newscrawl ran before (which asked bm25 again while marking the best 20 up, and
looked every match up in the articles table to filter it), whose results and scores must be
the same; p50/p95 are printed for all three, with their ratios, and what the machine's cores
gave just before and after (bench/machine.py).
Target: p95 < 50 ms at 100,000 articles.
With --postgresql, the store is then copied (`newscrawl db copy`) into a PostgreSQL server of
its own (tests/servers.py) and the same queries are timed there too (no target: it ranks
every match with ts_rank, and reads Chinese terms in the texts).
Usage: make bench  (or .venv/bin/python bench/search.py [--n ARTICLES] [--rounds N] [--postgresql])
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, literal_column, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.runner import FIXTURES  # noqa: E402
from machine import capacity_line, parallel_capacity  # noqa: E402  (bench/, this script's folder)
from storage import Store, reader  # noqa: E402
from storage.compression import compressed  # noqa: E402
from storage.reader import (  # noqa: E402
    _ARTICLES_FTS, _ARTICLES_FTS_CJK, _SNIPPET_CJK_TOKENS, _SNIPPET_WORDS, _TITLE_WEIGHT, _article_filters)
from storage.search_text import CJK, query_text  # noqa: E402
from storage.tables import articles  # noqa: E402

SITES = ["rocar", "jfmi", "4ll", "bluestar", "henan", "sasac", "cnpc", "sinopec"]
SENTENCES_PER_LANGUAGE = 5000
LONG_TAIL_WORDS = 20_000  # per language
TAIL_WORDS_PER_ARTICLE = 8
BATCH = 2000
# (query, filters): words and phrases of the sites' own text, a few words of the long tail
# (by frequency rank) and filters; the broadest ("party", "党建") match half the store or more.
QUERIES = [
    ("party", {}), ("safety", {}), ("condolence", {}), ("knowledge contest", {}), ('"party building"', {}),
    ("inspect*", {}), ("party NOT meeting", {}), ("title:company", {}), ("party", {"site": "jfmi"}),
    ("work", {"since": date(2023, 1, 1), "until": date(2023, 12, 31)}),
    ("党", {}), ("党建", {}), ("工作", {}), ("培训", {}), ("党建工作", {}), ("学习教育", {}),
    ("党建", {"site": "henan"}), ("工作", {"language": "zh"}), ("会议", {"since": date(2023, 1, 1)}),
    ("党建 学习", {}),
]
TAIL_RANKS = [1, 10, 100, 1000]  # long-tail words searched for, in each language

RUN_OF_HAN = re.compile(f"[{CJK}]")
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


def long_tail(rng: random.Random, pools: dict[str, list[str]]) -> dict[str, list[str]]:
    """Words only some articles use (names, places, projects), most frequent first: a few
    common, most rare, as in news (Zipf). English ones made of syllables, Chinese ones of
    two or three characters the fixtures use."""
    syllables = [c + v for c in "bdfghjklmnprstvz" for v in "aeiou"]
    characters = sorted({c for sentence in pools["zh"] for c in RUN_OF_HAN.findall(sentence)})
    return {
        "en": ["".join(rng.choices(syllables, k=3)).capitalize() for _ in range(LONG_TAIL_WORDS)],
        "zh": ["".join(rng.choices(characters, k=rng.choice((2, 3)))) for _ in range(LONG_TAIL_WORDS)],
    }


def generate(store: Store, count: int, rng: random.Random) -> dict[str, list[str]]:
    """Fill the store; returns the long-tail words of each language, most frequent first."""
    pools = sentence_pools(rng)
    tails = long_tail(rng, pools)
    weights = [1 / rank for rank in range(1, LONG_TAIL_WORDS + 1)]
    now = datetime(2026, 11, 30)
    for start in range(0, count, BATCH):
        rows = []
        for number in range(start, min(start + BATCH, count)):
            language = "zh" if number % 2 else "en"
            site = SITES[(number // 2) % 4 + (4 if language == "zh" else 0)]
            joiner = "" if language == "zh" else " "
            sentences = rng.choices(pools[language], k=rng.randint(6, 30))
            for word in rng.choices(tails[language], weights, k=TAIL_WORDS_PER_ARTICLE):
                where = rng.randrange(len(sentences))
                sentences[where] = joiner.join((word, sentences[where]))
            paragraphs = [joiner.join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
            rows.append({
                "url": f"https://{site}.example/{number}.html", "site": site,
                "title": rng.choice(sentences)[:60], "text": "\n".join(paragraphs), "language": language,
                "published": date(2015, 1, 1) + timedelta(days=rng.randrange(4000)),
                "content_hash": f"{number:064x}", "raw_html": compressed(b""),
                "first_seen": now, "last_seen": now,
            })
        with store.engine.begin() as connection:
            connection.execute(insert(articles), rows)
    return tails


def query_before(store: Store, query: str, limit: int = 20, **filters) -> list[float]:
    """The scores Store.search found before, best first: it ranked the best ids in the index, then
    marked them up in a second pass over the index that asked bm25 again (each id looked up made
    it read every match anew), and filtered by looking every match up in the articles table."""
    chinese = bool(re.search(f"[{CJK}]", query))
    fts = _ARTICLES_FTS_CJK if chinese else _ARTICLES_FTS
    index = literal_column(fts.name)
    matches = index.match(query_text(query) if chinese else query)
    score = func.bm25(index, _TITLE_WEIGHT, 1.0)
    best = select(fts.c.rowid).where(matches)
    site, language = filters.get("site"), filters.get("language")
    conditions = _article_filters(sites=[site] if site else [], since=filters.get("since"),
                                  until=filters.get("until"), languages=[language] if language else [])
    if conditions:
        best = best.join(articles, articles.c.id == fts.c.rowid).where(*conditions)
    statement = (
        select(articles.c.id, func.highlight(index, 0, "[", "]"),
               func.snippet(index, 1, "[", "]", "…", _SNIPPET_CJK_TOKENS if chinese else _SNIPPET_WORDS), score)
        .join_from(fts, articles, articles.c.id == fts.c.rowid)
        .where(matches, fts.c.rowid.in_(best.order_by(score).limit(limit)))
        .order_by(score))
    with store.engine.connect() as connection:
        return [row[-1] for row in connection.execute(statement)]


def search_in_one_stretch(store: Store, query: str, **filters) -> list:
    """Store.search with the ranking left to one core (its ids in one stretch), as before it cut them."""
    parts, reader._RANKING_PARTS = reader._RANKING_PARTS, 1
    try:
        return store.search(query, **filters)
    finally:
        reader._RANKING_PARTS = parts


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles in the generated store (default 100000)")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is run (default 5)")
    parser.add_argument("--postgresql", action="store_true", help="time the same queries on a PostgreSQL copy too")
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="newscrawl-bench-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'articles.db'}")
        seconds, tails = timed(lambda: generate(store, args.n, rng))
        print(f"generated {args.n} articles in {seconds:.0f} s "
              f"({Path(folder, 'articles.db').stat().st_size / 2**20:.0f} MB)")
        queries = QUERIES + [(tails[language][rank - 1], {}) for language in ("en", "zh") for rank in TAIL_RANKS]
        capacity = {"before the searches": parallel_capacity()}
        now, one_stretch, before = [], [], []
        found_nothing = set()
        per_query = defaultdict(list)
        for _ in range(args.rounds):  # interleaved, so that machine noise hits every query alike
            for query, filters in queries:
                seconds, hits = timed(lambda: store.search(query, **filters))
                if not hits:  # (a rare word a small store never drew: a search still, timed as one)
                    found_nothing.add((query, str(filters)))
                now.append(seconds)
                per_query[query, str(filters)].append(seconds)
                seconds, alone = timed(lambda: search_in_one_stretch(store, query, **filters))
                one_stretch.append(seconds)
                assert alone == hits, ("one stretch ranks otherwise", query, filters)
                seconds, scores = timed(lambda: query_before(store, query, **filters))
                before.append(seconds)
                assert [hit.score for hit in hits] == scores, ("ranking changed", query, filters)
        capacity["after"] = parallel_capacity()
        matches = {(query, str(filters)): count_matches(store, query) for query, filters in queries}
        store.close()
        if args.postgresql:
            on_postgresql = time_on_postgresql(store.url, queries, args.rounds)
    print(f"\n{'query':32}{'filters':28}{'matches':>8}{'median ms':>10}")
    for (query, filters), times in per_query.items():
        print(f"{query:32}{filters.replace('datetime.', ''):28}{matches[query, filters]:8}"
              f"{statistics.median(times) * 1000:10.1f}")
    print(f"\n{len(queries)} queries x {args.rounds} rounds, limit 20, {args.n} articles"
          + (f"; {len(found_nothing)} of them found nothing in a store this size" if found_nothing else ""))
    print(f"{'':32}{'p50 ms':>8}{'p95 ms':>8}")
    for name, times in (("search now", now), ("search now, in one stretch", one_stretch),
                        ("search before", before)):
        p50, p95 = percentiles(times)
        print(f"{name:32}{p50:8.1f}{p95:8.1f}")
    if args.postgresql:
        print(f"{'search on PostgreSQL':32}" + "".join(f"{cut:8.1f}" for cut in percentiles(on_postgresql)))
    p95 = percentiles(now)[1]
    print(f"p50, p95 before / now: {percentiles(before)[0] / percentiles(now)[0]:.1f}x, "
          f"{percentiles(before)[1] / p95:.1f}x; in one stretch / now: "
          f"{percentiles(one_stretch)[0] / percentiles(now)[0]:.1f}x, {percentiles(one_stretch)[1] / p95:.1f}x; "
          f"target p95 < 50 ms: {'met' if p95 < 50 else 'NOT met'}")
    # search uses every core (StoreReader._rank_in_parts): other jobs on the machine slow it down
    print(f"{os.cpu_count()} cores, load average over the last 1/5/15 minutes: "
          + ", ".join(f"{load:.1f}" for load in os.getloadavg()))
    print(capacity_line(capacity))


def time_on_postgresql(source: str, queries: list, rounds: int) -> list[float]:
    """The seconds of each search of the queries, `rounds` times, on a PostgreSQL copy of the store."""
    from tests.servers import PostgresServer

    server = PostgresServer().start()
    try:
        target = server.new_database()
        seconds, _ = timed(lambda: subprocess.run(
            [sys.executable, "-m", "crawler.cli", "db", "copy", "--db", source, "--to", target], check=True,
            stdout=subprocess.DEVNULL))
        print(f"copied into PostgreSQL in {seconds:.0f} s")
        store = Store(target, create=False)
        times = [timed(lambda: store.search(query, **filters))[0]
                 for _ in range(rounds) for query, filters in queries]
        store.close()
        return times
    finally:
        server.stop()


def count_matches(store: Store, query: str) -> int:
    """How many articles match, whatever the filters: what a ranked search has to score."""
    index = "articles_fts_cjk" if re.search(f"[{CJK}]", query) else "articles_fts"
    with store.engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT count(*) FROM {index} WHERE {index} MATCH ?",
                                          (query_text(query),)).scalar()


if __name__ == "__main__":
    main()
